"""The ``analyse`` command.

Subcommands print what they did in plain words and exit non-zero when something failed.
Errors raised deliberately by the library (:class:`~analyse.errors.AnalyseError`) are shown as
one readable line, not as a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from analyse import __version__
from analyse.errors import AnalyseError, ParameterError
from analyse.reference.catalogue import DEFAULT_AGREEMENT

# Many small matrix products (thousands of small model fits): BLAS threads cost more than they
# give on two cores, so use one unless the user says otherwise. Set before numpy is imported.
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

DEFAULT_RAW = Path("data/raw")
DEFAULT_PROCESSED = Path("data/processed")
DEFAULT_REPORTS = Path("reports")


def _cmd_areas(args: argparse.Namespace) -> int:
    from analyse.reference import geography

    levels = geography.LEVELS if args.level == "all" else (args.level,)
    for level in levels:
        table = geography.areas(level)
        for row in table.itertuples(index=False):
            print(f"{row.area_level:<15} {row.area_code:<40} {row.area_name}")
    return 0


def _cmd_catalogue(args: argparse.Namespace) -> int:
    from analyse.reference.catalogue import list_agreements, load_agreement

    if args.list:
        for agreement_id in list_agreements():
            print(agreement_id)
        return 0
    agreement = load_agreement(args.agreement)
    print(
        f"{agreement.title} — {agreement.parties} ({agreement.scope.name}, "
        f"{agreement.period_start}-{agreement.period_end}, baseline {agreement.baseline_wave})"
    )
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
    from analyse.data import synth

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


def _cmd_build(args: argparse.Namespace) -> int:
    from analyse.cube import build as cube_build
    from analyse.stats.disclosure import Rules

    print(f"Building the processed data from {args.raw} into {args.processed} ...")
    result = cube_build.build_processed(
        args.raw,
        args.processed,
        agreements=cube_build.build_agreements(args.agreement),
        rules=Rules(min_n=args.min_n),
        codebook=args.codebook,
        force=args.force,
        progress=print,
        workers=args.workers,
    )
    rows = result.manifest.get("rows", {})
    print(f"Done: {', '.join(f'{k} {v:,} rækker' for k, v in rows.items())}".replace(",", "."))
    return 0


def _notebook_arguments(args: argparse.Namespace, agreement: str | None) -> tuple:
    """The agreement and the notebook arguments of ``run_agreements`` for ``--notebook`` or
    ``--notebooks MANIFEST``: an analysis notebook belongs to its agreement (its parameter
    ``agreement_id``) unless ``--agreement`` is given; a manifest's entries must then share one.
    The manifest is loaded (and every entry checked) here, before anything is built."""
    from analyse.run import batch

    if args.notebooks:
        from analyse.run.notebook_manifest import load_manifest

        entries = load_manifest(args.notebooks)
        if not args.agreement:
            owners: dict[str, list[str]] = {}
            for number, entry in enumerate(entries, start=1):
                owner = batch.notebook_parameter(entry.notebook, "agreement_id")
                if owner:
                    owners.setdefault(owner, []).append(str(number))
            if len(owners) > 1:
                detail = "; ".join(f"{a}: entry {', '.join(n)}" for a, n in owners.items())
                raise ParameterError(
                    f"notebook manifest {args.notebooks}: the entries' notebooks belong to "
                    f"different agreements ({detail}); give --agreement or split the manifest"
                )
            agreement = next(iter(owners), None) or agreement
        return agreement, {"notebooks": entries}
    suffix = batch.page_suffix(Path(args.notebook))
    if suffix and not args.agreement:  # an analysis notebook belongs to its agreement
        agreement = batch.notebook_parameter(Path(args.notebook), "agreement_id") or agreement
    return agreement, {"notebook": args.notebook, "notebook_suffix": suffix}


def _cmd_briefs(args: argparse.Namespace) -> int:
    from analyse.run import batch
    from analyse.stats.disclosure import Rules

    # Areas by code belong to one agreement: the one given, else the default (Syddanmark's).
    agreement = args.agreement or (DEFAULT_AGREEMENT if args.area else None)
    agreement, notebook_arguments = _notebook_arguments(args, agreement)
    results = batch.run_agreements(
        [agreement] if agreement else None,
        level=args.level,
        areas=args.area,
        workers=args.workers,
        out=args.out,
        processed=args.processed,
        raw=args.raw,
        **notebook_arguments,
        force=args.force,
        rules=Rules(min_n=args.min_n),
        pdf=args.pdf,
        codebook=args.codebook,
    )
    print(f"Index: {(Path(args.out) / 'index.html').resolve()}")
    return 0 if all(r.ok for r in results) else 1


def _cmd_notebooks(args: argparse.Namespace) -> int:
    from analyse.run import notebooks

    for path in notebooks.write_notebooks(args.agreement, args.out):
        print(f"{path} (+ {path.with_suffix('.py').name})")
    return 0


def _raw_is_empty(raw: Path) -> bool:
    return not raw.exists() or not any(
        p for p in raw.iterdir() if p.name != "README.md" and not p.name.startswith(".")
    )


def _cmd_run(args: argparse.Namespace) -> int:
    """The main job: default data if data/raw is empty, the processed data, all briefs."""
    from analyse.data import synth
    from analyse.run import batch
    from analyse.stats.disclosure import Rules

    raw = Path(args.raw)
    agreement, notebook_arguments = _notebook_arguments(args, args.agreement)  # checked first
    if _raw_is_empty(raw):
        print(
            f"{raw} is empty: writing the synthetic default delivery (seed {synth.DEFAULT_SEED}) ..."
        )
        synth.write_delivery(out=raw, seed=synth.DEFAULT_SEED, scale=1.0, progress=True)
    else:
        print(f"Using the raw delivery in {raw}.")
    results = batch.run_agreements(
        [agreement] if agreement else None,
        level="all",
        workers=args.workers,
        out=args.out,
        processed=args.processed,
        raw=raw,
        **notebook_arguments,
        rules=Rules(min_n=args.min_n),
        codebook=args.codebook,
    )
    print(f"Open the briefs: {(Path(args.out) / 'index.html').resolve()}")
    return 0 if all(r.ok for r in results) else 1


def _cmd_agreement_new(args: argparse.Namespace) -> int:
    from analyse.run import agreements

    path = agreements.write_skeleton(
        args.out, scope=args.scope, areas=args.area, agreement_id=args.id, force=args.force
    )
    print(f"Wrote {path}: fill in the målsætninger, then `analyse agreement check {path}`.")
    return 0


def _cmd_agreement_check(args: argparse.Namespace) -> int:
    from analyse.run import agreements

    report = agreements.check_agreement(args.path, processed=args.processed, raw=args.raw)
    print(report.text())
    return 0 if report.ok else 2


def _cmd_check(args: argparse.Namespace) -> int:
    """Read, clean and validate a survey delivery and print the data-quality summary.

    A fatal problem raises DataValidationError, which main() prints as one line (exit code 2).
    """
    from analyse.data.clean import load_survey

    respondents, report = load_survey(
        args.path, args.codebook, encoding=args.encoding, sep=args.sep, decimal=args.decimal
    )
    print(report.summary())
    print("")
    print(_coverage_text(respondents))
    files = len(report.files)
    warnings = report.weight_warnings()
    print(
        f"\nOK: {len(respondents):,} respondents in {files} file(s), no fatal problems"
        + (f"; {len(warnings)} wave(s) with weight warnings (see above)." if warnings else ".")
    )
    if args.html:
        from analyse.run import batch
        from analyse.run.paths import project_path

        out = batch.render_notebook(
            project_path("notebooks/00_datakvalitet.ipynb"),
            {
                "raw_path": str(Path(args.path).resolve()),
                "codebook_path": str(Path(args.codebook).resolve()) if args.codebook else "",
            },
            Path(args.html),
            title="Datakvalitet",
        )
        print(f"Data-quality report: {out.resolve()}")
    return 0


def _coverage_text(respondents) -> str:
    """Per wave and region: kommuner in the delivery, and which areas can be estimated."""
    from analyse.cube import coverage

    national = respondents["stratum"].str.endswith("-DK")
    table = coverage.coverage_table(
        respondents, national_years=set(respondents.loc[national, "year"].astype(int))
    )
    summary = coverage.region_summary(table)
    lines = ["Coverage (estimates are made only for areas whose kommuner are all delivered):"]
    for year, rows in summary.groupby("year"):
        if int(year) in set(respondents.loc[national, "year"]):
            land = "Denmark covered" if rows["land_covered"].any() else "NOT all of Denmark"
            lines.append(f"  {year} (national sample): {land}")
            continue
        parts = [
            f"{r.region} {r.kommuner_present}/{r.kommuner_total}"
            + ("" if r.covered else " (partial)" if r.kommuner_present else "")
            for r in rows.itertuples(index=False)
        ]
        land = "Denmark covered" if rows["land_covered"].any() else "Denmark NOT covered"
        lines.append(f"  {year}: {'; '.join(parts)} — {land}")
    covered = coverage.covered_areas(table)
    counts = covered.groupby("area_level").size()
    lines.append(
        "  Briefs can be made for: "
        + ", ".join(
            f"{int(counts.get(level, 0))} {name}"
            for level, name in (
                ("land", "land"),
                ("region", "regions"),
                ("sundhedsklynge", "sundhedsklynger"),
                ("kommune", "kommuner"),
            )
        )
    )
    return "\n".join(lines)


def _cmd_codebook_init(args: argparse.Namespace) -> int:
    from analyse.data.codebook_draft import draft_codebook

    out = Path(args.out)
    if out.exists() and not args.force:
        raise ParameterError(f"{out} exists; choose another --out or add --force to replace it")
    draft = draft_codebook(args.path, encoding=args.encoding, sep=args.sep, decimal=args.decimal)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(draft.text, encoding="utf-8")
    print(f"Wrote a starting codebook to {out}:")
    print(f"  columns under the codebook's names: {len(draft.matched)}")
    for column, target in draft.guessed.items():
        print(f"  guessed: {column} → {target} (check)")
    for name in draft.not_found:
        print(f"  NOT FOUND (required): {name}")
    if draft.unknown:
        print(f"  not in the codebook (ignored): {', '.join(draft.unknown)}")
    for name in draft.recoded:
        print(f"  {name}: the file's value labels give other codes; written under variables")
    print(f"Read it, correct it, then: analyse check {args.path} --codebook {out}")
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    from analyse.publish import export

    written = export.export_areas(
        args.processed,
        args.out,
        agreement_id=args.agreement,
        level=args.level,
        areas=args.area,
        formats=[args.format] if args.format != "both" else ["csv", "xlsx"],
        confidence_level=args.confidence_level,
    )
    for path in written:
        print(path)
    print(f"Done: {len(written)} file(s) in {args.out}.")
    return 0


def _cmd_audit(args: argparse.Namespace) -> int:
    from analyse.publish import audit

    report = audit.audit(args.path, processed=args.processed, families=not args.quick)
    print(report.text())
    examples = report.details.get("exposed_examples")
    if examples is not None:
        print("Afslørede celler (de første):")
        print(examples.to_string(index=False))
    return 0 if report.ok else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="analyse",
        description="Follow-up of the Sundhedsaftale: Sundhedsprofil estimates and HTML briefs.",
    )
    parser.add_argument("--version", action="version", version=f"analyse {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def common(p, out=True):
        p.add_argument(
            "--agreement",
            default=None,
            help="a shipped agreement id or the path of your own agreement .yml "
            "(default: every shipped agreement)",
        )
        p.add_argument("--raw", default=str(DEFAULT_RAW), help="raw delivery (default: data/raw)")
        p.add_argument(
            "--processed", default=str(DEFAULT_PROCESSED), help="processed data (the cube)"
        )
        p.add_argument(
            "--min-n", type=int, default=20, help="fewest respondents behind a shown number"
        )
        p.add_argument(
            "--codebook",
            default=None,
            help="your codebook YAML (default: the shipped one; see `analyse codebook init`)",
        )
        if out:
            p.add_argument(
                "--out", default=str(DEFAULT_REPORTS), help="reports folder (default: reports)"
            )
            p.add_argument("--workers", type=int, default=2, help="parallel notebook workers")

    def notebook_options(p):
        group = p.add_mutually_exclusive_group()
        group.add_argument(
            "--notebook",
            default="notebooks/brief.ipynb",
            help="the notebook to render per area (default: the brief; another, e.g. "
            "notebooks/maal_alkohol.ipynb, gives <area>--<name>.html in the same index)",
        )
        group.add_argument(
            "--notebooks",
            default=None,
            metavar="MANIFEST",
            help="a YAML manifest of notebook x parameter sets, each rendered per area as "
            "<area>--<name>.html in the same index (see notebooks/eksempel_manifest.yml)",
        )

    p = sub.add_parser(
        "run", help="the main job: default data if data/raw is empty, cube, all briefs"
    )
    common(p)
    notebook_options(p)
    p.set_defaults(func=_cmd_run)

    p = sub.add_parser("build", help="clean the raw delivery and build the cube in data/processed")
    common(p, out=False)
    p.add_argument(
        "--force", action="store_true", help="rebuild even if inputs and code are unchanged"
    )
    p.add_argument(
        "--workers", type=int, default=2, help="processes for the linked protection's LPs"
    )
    p.set_defaults(func=_cmd_build)

    p = sub.add_parser("briefs", help="render the HTML briefs (builds or reuses the cube)")
    common(p)
    p.add_argument(
        "--level", default="all", choices=("all", "land", "region", "sundhedsklynge", "kommune")
    )
    p.add_argument("--area", nargs="*", help="only these area codes (of --level)")
    notebook_options(p)
    p.add_argument("--force", action="store_true", help="re-render briefs even if unchanged")
    p.add_argument(
        "--pdf",
        action="store_true",
        help="also print an A4 PDF beside each page (needs Chromium; $CHROMIUM or on the PATH)",
    )
    p.set_defaults(func=_cmd_briefs)

    p = sub.add_parser(
        "notebooks", help="write the analysis notebooks (one per målsætning, and udforsk)"
    )
    p.add_argument("--agreement", default="syddanmark-2024-2027", help="agreement id or YAML")
    p.add_argument("--out", default="notebooks", help="folder (default: notebooks)")
    p.set_defaults(func=_cmd_notebooks)

    p = sub.add_parser("data", help="data utilities (the synthetic default delivery)")
    data_sub = p.add_subparsers(dest="data_command", metavar="DATA_COMMAND", required=True)
    from analyse.data.synth import DEFAULT_FORMAT, DEFAULT_SEED, FORMATS

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

    p = sub.add_parser("codebook", help="codebook utilities (a starting codebook for a delivery)")
    codebook_sub = p.add_subparsers(
        dest="codebook_command", metavar="CODEBOOK_COMMAND", required=True
    )
    p = codebook_sub.add_parser(
        "init", help="write a starting codebook from a delivery's column names and value labels"
    )
    p.add_argument("path", help="a survey file or a folder with one file per wave")
    p.add_argument(
        "--out", default="codebook.yml", help="where to write it (default: codebook.yml)"
    )
    p.add_argument("--force", action="store_true", help="replace an existing file")
    p.add_argument("--encoding", default=None, help="CSV encoding (default: detected)")
    p.add_argument("--sep", default=None, help="CSV separator (default: detected)")
    p.add_argument("--decimal", default=None, help="CSV decimal mark (default: detected)")
    p.set_defaults(func=_cmd_codebook_init)

    p = sub.add_parser(
        "export", help="the numbers of the briefs as CSV (';', decimal comma) and/or Excel"
    )
    p.add_argument("--agreement", default="syddanmark-2024-2027", help="agreement id")
    p.add_argument("--processed", default=str(DEFAULT_PROCESSED), help="processed data (the cube)")
    p.add_argument(
        "--out",
        default=str(Path(DEFAULT_REPORTS) / "export"),
        help="folder (default: reports/export)",
    )
    p.add_argument(
        "--level", default="all", choices=("all", "land", "region", "sundhedsklynge", "kommune")
    )
    p.add_argument("--area", nargs="*", help="only these area codes (of --level)")
    p.add_argument("--format", default="both", choices=("csv", "xlsx", "both"))
    p.add_argument(
        "--confidence-level", type=float, default=0.95, help="level of the shares' intervals"
    )
    p.set_defaults(func=_cmd_export)

    p = sub.add_parser(
        "audit",
        help="attack what a run published (LP over all relations, rounding, counts); "
        "non-zero exit if a suppressed cell can be narrowed",
    )
    p.add_argument("path", help="a run folder (reports/) or a processed folder")
    p.add_argument(
        "--processed",
        default=None,
        help="the run's processed data (default: PATH if it is one, else data/processed)",
    )
    p.add_argument(
        "--quick", action="store_true", help="attack all relations together only, not per family"
    )
    p.set_defaults(func=_cmd_audit)

    p = sub.add_parser("areas", help="list the areas a brief can be made for")
    p.add_argument(
        "level",
        nargs="?",
        default="all",
        choices=("all", "land", "region", "sundhedsklynge", "kommune"),
    )
    p.set_defaults(func=_cmd_areas)

    p = sub.add_parser("catalogue", help="show an agreement's visions, målsætninger and indicators")
    p.add_argument(
        "--agreement", default="syddanmark-2024-2027", help="a shipped id or a path to a .yml"
    )
    p.add_argument("--list", action="store_true", help="list the agreements that ship")
    p.set_defaults(func=_cmd_catalogue)

    p = sub.add_parser("agreement", help="your own agreement: a skeleton, and its check")
    agreement_sub = p.add_subparsers(
        dest="agreement_command", metavar="AGREEMENT_COMMAND", required=True
    )
    p = agreement_sub.add_parser(
        "new", help="write a commented skeleton listing the available indicators"
    )
    p.add_argument(
        "--scope",
        required=True,
        choices=("land", "region", "sundhedsklynge", "kommune"),
        help="what the agreement covers",
    )
    p.add_argument(
        "--area", nargs="+", required=True, help="area code(s) of the scope (see `analyse areas`)"
    )
    p.add_argument("--out", required=True, help="the .yml file to write")
    p.add_argument("--id", default=None, help="the agreement's id (default: from the file name)")
    p.add_argument("--force", action="store_true", help="overwrite an existing file")
    p.set_defaults(func=_cmd_agreement_new)
    p = agreement_sub.add_parser(
        "check", help="validate an agreement file (and, if built, against the data)"
    )
    p.add_argument("path", help="the agreement .yml")
    p.add_argument(
        "--processed",
        default=str(DEFAULT_PROCESSED),
        help="processed data to check the waves against (skipped if absent)",
    )
    p.add_argument(
        "--raw",
        default=str(DEFAULT_RAW),
        help="raw delivery to check the register indicators against (skipped if absent)",
    )
    p.set_defaults(func=_cmd_agreement_check)

    p = sub.add_parser(
        "check", help="check a survey delivery: data-quality summary per wave and kommune"
    )
    p.add_argument("path", help="a survey file or a folder with one file per wave")
    p.add_argument("--codebook", default=None, help="your codebook YAML (default: the shipped one)")
    p.add_argument("--encoding", default=None, help="CSV encoding (default: detected)")
    p.add_argument("--sep", default=None, help="CSV separator (default: detected)")
    p.add_argument("--decimal", default=None, help="CSV decimal mark (default: detected)")
    p.add_argument(
        "--html", default=None, help="also render the data-quality notebook to this HTML file"
    )
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
    except KeyboardInterrupt as exc:  # Ctrl-C, or SIGTERM during a run (errors.Interrupted)
        print(
            "analyse: afbrudt — det færdige er gemt; kør kommandoen igen for resten "
            "(interrupted: finished work is kept, run the command again for the rest)",
            file=sys.stderr,
        )
        return getattr(exc, "exit_code", 130)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
