"""Time the disclosure control on a delivery: the linked protection in the build and the audit.

    python bench/bench_disclosure.py [RAW] [PROCESSED] [--workers N] [--force]

Builds the processed tables (or reuses them; the build manifest keeps the protection's time from
when they were built; ``--force`` rebuilds) with the linked protection in ``--workers``
processes (default 2, as ``analyse build``/``run``), then runs the LP audit (`analyse audit
--quick`) on them. Prints figures; not a test. Target (issue #14): protection + audit add at
most 30 s to the full default on 2 cores.
"""

import argparse
import time
from pathlib import Path

from analyse.cube import build
from analyse.publish import audit


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("raw", nargs="?", default="data/raw")
    parser.add_argument("processed", nargs="?", default="data/processed")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--force", action="store_true")
    args = parser.parse_args()
    processed = Path(args.processed)
    result = build.build_processed(
        Path(args.raw), processed, workers=args.workers, force=args.force
    )
    record = result.manifest.get("protection", {})
    seconds = result.manifest.get("timings", {}).get("protection")
    print(f"cells {record.get('cells')}, relations {record.get('relations')}")
    print(
        f"primary {record.get('primary')}, hidden by the per-table rules "
        f"{record.get('hidden_by_table_rules')}, added by the linked protection "
        f"{record.get('hidden_by_linked_protection')}, exposed {record.get('exposed')}"
    )
    print(
        f"protection in the build: {seconds} s with {record.get('workers')} worker(s) "
        f"(reused: {result.reused})"
    )
    start = time.perf_counter()
    report = audit.audit(processed, families=False)
    print(f"audit (LP over all relations): {time.perf_counter() - start:.1f} s")
    print(report.text())


if __name__ == "__main__":
    main()
