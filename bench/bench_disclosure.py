"""Time the disclosure control on a delivery: the linked protection in the build and the audit.

    python bench/bench_disclosure.py [RAW] [PROCESSED]

Builds the processed tables (or reuses them; the build manifest keeps the protection's time from
when they were built) and runs the LP audit (`analyse audit --quick`) on them. Prints figures;
not a test. Target (issue #14): protection + audit add at most 30 s to the full default on
2 cores.
"""

import sys
import time
from pathlib import Path

from analyse.cube import build
from analyse.publish import audit


def main() -> None:
    raw = Path(sys.argv[1] if len(sys.argv) > 1 else "data/raw")
    processed = Path(sys.argv[2] if len(sys.argv) > 2 else "data/processed")
    result = build.build_processed(raw, processed)
    record = result.manifest.get("protection", {})
    seconds = result.manifest.get("timings", {}).get("protection")
    print(f"cells {record.get('cells')}, relations {record.get('relations')}")
    print(
        f"primary {record.get('primary')}, hidden by the per-table rules "
        f"{record.get('hidden_by_table_rules')}, added by the linked protection "
        f"{record.get('hidden_by_linked_protection')}, exposed {record.get('exposed')}"
    )
    print(f"protection in the build: {seconds} s (reused: {result.reused})")
    start = time.perf_counter()
    report = audit.audit(processed, families=False)
    print(f"audit (LP over all relations): {time.perf_counter() - start:.1f} s")
    print(report.text())


if __name__ == "__main__":
    main()
