"""Time every cell of an analysis notebook on the full synthetic default, as JupyterLab runs it.

Runs ``notebooks/<name>.ipynb`` with papermill's parameterisation and nbclient in a fresh
kernel (kernel start not counted) for a kommune, the region and Denmark, first with the
defaults, then with one changed parameter per step (crossed breakdown from the microdata,
another trend formula, labour-market attachment), and prints each code cell's wall time.

    .venv/bin/python bench/bench_notebooks.py                      # data/raw, data/processed
    .venv/bin/python bench/bench_notebooks.py --name udforsk

Needs the processed tables of the delivery (``analyse build``). Asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
AREAS = (("kommune", "461"), ("region", "1083"), ("land", "DK"))
CHANGED = {
    "breakdown": "sex,education",
    "trend_formula": "year + C(sex) + C(age_group) + C(education)",
    "dimension": "labour_market",
}


def _seconds(cell) -> float:
    timing = cell.get("metadata", {}).get("execution", {})
    start = datetime.fromisoformat(timing["iopub.execute_input"].replace("Z", "+00:00"))
    end = datetime.fromisoformat(timing["shell.execute_reply"].replace("Z", "+00:00"))
    return (end - start).total_seconds()


def main() -> None:
    from nbclient import NotebookClient
    from papermill.iorw import load_notebook_node
    from papermill.parameterize import parameterize_notebook

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--name", default="maal_tobak_nikotin")
    parser.add_argument("--raw", default=str(ROOT / "data" / "raw"))
    parser.add_argument("--processed", default=str(ROOT / "data" / "processed"))
    args = parser.parse_args()
    path = ROOT / "notebooks" / f"{args.name}.ipynb"
    print(f"{args.name}: load average {os.getloadavg()[0]:.2f} at start")
    for level, code in AREAS:
        for label, changed in (("defaults", {}), ("changed", CHANGED)):
            parameters = {
                "area_level": level,
                "area_code": code,
                "raw_dir": args.raw,
                "processed_dir": args.processed,
                **changed,
            }
            nb = parameterize_notebook(load_notebook_node(str(path)), parameters)
            client = NotebookClient(
                nb, timeout=600, kernel_name="python3", record_timing=True,
                resources={"metadata": {"path": str(path.parent)}},
            )  # fmt: skip
            start = time.perf_counter()
            client.execute()
            total = time.perf_counter() - start
            code_cells = [c for c in nb.cells if c.cell_type == "code"]
            times = [_seconds(c) for c in code_cells]
            setup = times[2]  # parameters, injected parameters, then the setup cell
            steps = times[3:]
            print(
                f"  {level:<8} {label:<8} total {total:5.1f} s (kernel start included); "
                f"setup cell {setup:4.1f} s (imports + reading the delivery); "
                f"other cells max {max(steps):4.2f} s, sum {sum(steps):4.1f} s"
            )
    print(f"load average {os.getloadavg()[0]:.2f} at end")


if __name__ == "__main__":
    main()
