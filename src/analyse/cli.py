"""The ``analyse`` command.

Subcommands print what they did in plain words and exit non-zero when something failed.
Errors raised deliberately by the library (:class:`~analyse.errors.AnalyseError`) are shown as
one readable line, not as a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from analyse import __version__
from analyse.errors import AnalyseError

DEFAULT_RAW = Path("data/raw")
DEFAULT_PROCESSED = Path("data/processed")
DEFAULT_REPORTS = Path("reports")


def _cmd_areas(args: argparse.Namespace) -> int:
    from analyse import geography

    levels = geography.LEVELS if args.level == "all" else (args.level,)
    for level in levels:
        table = geography.areas(level)
        for row in table.itertuples(index=False):
            print(f"{row.area_level:<15} {row.area_code:<40} {row.area_name}")
    return 0


def _cmd_catalogue(args: argparse.Namespace) -> int:
    from analyse.catalogue import list_agreements, load_agreement

    if args.list:
        for agreement_id in list_agreements():
            print(agreement_id)
        return 0
    agreement = load_agreement(args.agreement)
    print(f"{agreement.title} — {agreement.parties} (baseline {agreement.baseline_wave})")
    for vision in agreement.visions:
        print(f"\n* {vision.title}")
        for obj in vision.objectives:
            print(f"  - {obj.text}")
            for ind_id in obj.indicators:
                ind = agreement.indicator(ind_id)
                arrow = "↑" if ind.direction == "increase" else "↓"
                print(f"      {arrow} {ind_id:<24} {ind.source:<9} {ind.label}")
            if obj.status_question:
                print("      ◆ klyngestatus (årligt spørgsmål)")
    return 0


def _cmd_data_synth(args: argparse.Namespace) -> int:
    from analyse import synth

    print(
        f"Writing a synthetic Sundhedsprofil delivery to {args.out} "
        f"(seed {args.seed}, scale {args.scale}, format {args.format}) ..."
    )
    written = synth.write_delivery(
        out=args.out,
        seed=args.seed,
        scale=args.scale,
        fmt=args.format,
        force=args.force,
        progress=True,
    )
    print(f"Done: {len(written)} files in {args.out}. These are synthetic data, not real people.")
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    """The main job: everything that exists so far, in order, saying what was done."""
    steps_done = []
    raw = Path(args.raw)
    synth = _optional("analyse.synth")
    if synth is not None:
        if not raw.exists() or not any(p for p in raw.iterdir() if p.name != "README.md"):
            print(f"data/raw is empty: writing the synthetic default delivery to {raw} ...")
            synth.write_delivery(out=raw, seed=synth.DEFAULT_SEED, scale=1.0, progress=True)
            steps_done.append("wrote the synthetic default delivery")
        else:
            print(f"Using the existing raw delivery in {raw}.")
    estimates = _optional("analyse.estimates")
    if estimates is not None and hasattr(estimates, "build_from_raw"):
        estimates.build_from_raw(raw=raw, processed=Path(args.processed), progress=True)
        steps_done.append("built the estimates cube")
    batch = _optional("analyse.batch")
    if batch is not None and hasattr(batch, "run_briefs"):
        result = batch.run_briefs(out=Path(args.out))
        steps_done.append("rendered the briefs")
        if result.failed:
            return 1
    if not steps_done:
        print("Nothing to do yet: only the package, the geography and the catalogue exist.")
    from analyse.catalogue import load_agreement

    agreement = load_agreement()
    print(
        f"Catalogue loaded: {agreement.title}, {len(agreement.objectives)} målsætninger, "
        f"{len(agreement.indicators)} indicators."
    )
    for step in steps_done:
        print(f"- {step}")
    return 0


def _optional(module: str):
    """Import a module that a later stage of the project adds; None while it does not exist."""
    import importlib

    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name == module:
            return None
        raise


def _cmd_check(args: argparse.Namespace) -> int:
    """Read, clean and validate a survey delivery and print the data-quality summary.

    A fatal problem raises DataValidationError, which main() prints as one line (exit code 2).
    """
    from analyse.clean import load_survey

    respondents, report = load_survey(
        args.path, args.codebook, encoding=args.encoding, sep=args.sep, decimal=args.decimal
    )
    print(report.summary())
    files = len(report.files)
    print(f"\nOK: {len(respondents):,} respondents in {files} file(s), no fatal problems.")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="analyse",
        description="Follow-up of the Sundhedsaftale: Sundhedsprofil estimates and HTML briefs.",
    )
    parser.add_argument("--version", action="version", version=f"analyse {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("run", help="the main job: default data if needed, cube, briefs")
    p.add_argument("--raw", default=str(DEFAULT_RAW), help="raw delivery (default: data/raw)")
    p.add_argument("--processed", default=str(DEFAULT_PROCESSED), help="cube directory")
    p.add_argument("--out", default=str(DEFAULT_REPORTS), help="reports directory")
    p.set_defaults(func=_cmd_run)

    p = sub.add_parser("data", help="data utilities (the synthetic default delivery)")
    data_sub = p.add_subparsers(dest="data_command", metavar="DATA_COMMAND", required=True)
    from analyse.synth import DEFAULT_FORMAT, DEFAULT_SEED, FORMATS

    p = data_sub.add_parser("synth", help="write the seeded synthetic raw delivery")
    p.add_argument("--out", default=str(DEFAULT_RAW), help="output folder (default: data/raw)")
    p.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"seed (default: {DEFAULT_SEED})")
    p.add_argument(
        "--scale",
        type=float,
        default=1.0,
        help="fraction of the real sample sizes (0.05 for tests)",
    )
    p.add_argument(
        "--format",
        choices=FORMATS,
        default=DEFAULT_FORMAT,
        help=f"file format (default: {DEFAULT_FORMAT})",
    )
    p.add_argument(
        "--force", action="store_true", help="replace an earlier synthetic delivery in --out"
    )
    p.set_defaults(func=_cmd_data_synth)

    p = sub.add_parser("areas", help="list the areas a brief can be made for")
    p.add_argument(
        "level",
        nargs="?",
        default="all",
        choices=("all", "land", "region", "sundhedsklynge", "kommune"),
    )
    p.set_defaults(func=_cmd_areas)

    p = sub.add_parser("catalogue", help="show an agreement's visions, målsætninger and indicators")
    p.add_argument("--agreement", default="syddanmark-2024-2027")
    p.add_argument("--list", action="store_true", help="list the agreements that ship")
    p.set_defaults(func=_cmd_catalogue)

    p = sub.add_parser(
        "check", help="check a survey delivery: data-quality summary per wave and kommune"
    )
    p.add_argument("path", help="a survey file or a folder with one file per wave")
    p.add_argument("--codebook", default=None, help="your codebook YAML (default: the shipped one)")
    p.add_argument("--encoding", default=None, help="CSV encoding (default: detected)")
    p.add_argument("--sep", default=None, help="CSV separator (default: detected)")
    p.add_argument("--decimal", default=None, help="CSV decimal mark (default: detected)")
    p.set_defaults(func=_cmd_check)

    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    try:
        return int(args.func(args) or 0)
    except AnalyseError as exc:
        print(f"analyse: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # output piped into `head` and the like
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        print("analyse: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
