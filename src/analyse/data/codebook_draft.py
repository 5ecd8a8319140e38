"""A starting codebook for a delivery in another layout (``analyse codebook init DIR``).

:func:`draft_codebook` reads the column names, variable labels and value labels of every survey
file of a delivery and writes a codebook that ``extends:`` the shipped one, with comments on
what it matched and what it could not:

- a column whose name is a codebook variable (ignoring case) needs nothing;
- a column whose name or variable label resembles a codebook variable gets a ``rename:`` entry
  marked *guessed* (names compared without case, æ/ø/å and punctuation, by a similarity ratio,
  one name containing the other, and a short list of common Danish and English names);
- a required variable that nothing matched is listed as *not found*;
- for coded variables with value labels (SPSS, Stata), the file's codes are written under
  ``variables:`` when its labels give the codebook's labels to other codes (e.g. sex coded
  1 = Kvinde), and labels such as "Ved ikke" become ``missing`` codes; CSV files carry no
  labels, so their codes must be checked by hand (the comment says so).

The draft is a suggestion to read and correct, never used without the user's review: the
cleaning still validates every file against it.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from analyse.data import io as raw_io
from analyse.data.codebook import DEFAULT_CODEBOOK, Codebook, load_codebook

# A name or variable label this similar to a codebook variable's (difflib ratio) is a guess.
SIMILAR = 0.8
# Common names of the design variables in other extracts (normalised: lower case, ASCII, no
# punctuation), beyond what the similarity finds.
KNOWN_NAMES = {
    "lbnr": ("id", "pnr", "loebenr", "lobenr", "respondentid", "respid", "cprnr", "personid"),
    "aar": ("year", "survey_year", "undersoegelsesaar", "bolge", "boelge", "wave"),
    "kom": ("kommune", "komkode", "kommunekode", "bopkom", "bopaelskommune", "municipality"),
    "vaegt_kal": ("vaegt", "weight", "wgt", "kalibreringsvaegt", "calweight", "vaegtkalib"),
    "koen": ("kon", "sex", "gender", "kn"),
    "alder": ("age", "aldersaar"),
    "udd": ("uddannelse", "education", "hfaudd", "udd_niveau"),
    "beskaeft": ("beskaeftigelse", "socio", "erhverv", "arbejdsmarked"),
}
# Value labels that mean "no answer" in Danish extracts.
MISSING_WORDS = ("ved ikke", "uoplyst", "mangler", "ikke besvaret", "nægter", "ønsker ikke")
_ASCII = str.maketrans({"æ": "ae", "ø": "oe", "å": "aa"})


def _key(name: str) -> str:
    """A name compared without case, æ/ø/å and punctuation: "Vægt_Kalib" → "vaegtkalib"."""
    return re.sub(r"[^a-z0-9]", "", str(name).casefold().translate(_ASCII))


def _label_key(label: str) -> str:
    return " ".join(str(label).split()).casefold()


@dataclass
class _Column:
    name: str
    files: list[str] = field(default_factory=list)
    label: str | None = None
    value_labels: dict[float, str] = field(default_factory=dict)


@dataclass
class DraftResult:
    """What :func:`draft_codebook` found (the YAML text and its parts, for printing)."""

    text: str
    matched: dict[str, str]
    guessed: dict[str, str]
    not_found: list[str]
    unknown: list[str]
    recoded: list[str]


def _columns(path: Path, codebook: Codebook, **csv_options) -> tuple[list[_Column], list[Path]]:
    # Survey files are found by name or by an id column (not register tables with a kommune).
    ids = codebook.id_columns() | set(KNOWN_NAMES["lbnr"]) | {"LOEBENR", "PNR", "ID"}
    files = raw_io.survey_files(path, ids)
    columns: dict[str, _Column] = {}
    for file_path in files:
        table = raw_io.read_table(file_path, **csv_options)
        for name in table.data.columns:
            column = columns.setdefault(str(name), _Column(str(name)))
            column.files.append(file_path.name)
            column.label = column.label or table.column_labels.get(name)
            column.value_labels.update(table.value_labels.get(name, {}))
    return list(columns.values()), files


def _guess(column: _Column, candidates: Iterable[str], codebook: Codebook) -> tuple[str, str]:
    """The best codebook variable for a column and why ('' if none is close enough)."""
    key = _key(column.name)
    best, why, score = "", "", 0.0
    for name in candidates:
        var = codebook.variables[name]
        target = _key(name)
        tries = [(difflib.SequenceMatcher(None, key, target).ratio(), "name resembles")]
        if len(target) >= 3 and len(key) >= 3 and (target in key or key in target):
            tries.append((0.85, "name contains"))
        if key in KNOWN_NAMES.get(name, ()):
            tries.append((0.95, "a common name of"))
        if column.label:
            ratio = difflib.SequenceMatcher(
                None, _label_key(column.label), _label_key(var.label)
            ).ratio()
            tries.append((ratio, "variable label resembles that of"))
        value, reason = max(tries)
        if value > score:
            best, why, score = name, reason, value
    return (best, why) if score >= SIMILAR else ("", "")


def draft_codebook(
    path: str | Path,
    *,
    base: str = DEFAULT_CODEBOOK,
    encoding: str | None = None,
    sep: str | None = None,
    decimal: str | None = None,
) -> DraftResult:
    """A starting codebook (YAML text) for the delivery at ``path``, extending ``base``.

    Parameters
    ----------
    path : a survey file or a folder of them (files are only read).
    base : the shipped codebook to extend.
    encoding, sep, decimal : override the CSV detection, as in :func:`analyse.data.io.read_table`.

    Raises
    ------
    DataValidationError
        When the path holds no survey file or a file cannot be read.
    """
    codebook = load_codebook(None if base == DEFAULT_CODEBOOK else base)
    columns, files = _columns(Path(path), codebook, encoding=encoding, sep=sep, decimal=decimal)
    folded = {name.casefold(): name for name in codebook.variables}
    matched, guessed, reasons, unknown = {}, {}, {}, []
    for column in columns:
        if column.name.casefold() in folded:
            matched[column.name] = folded[column.name.casefold()]
    taken = set(matched.values())
    # Required variables first, so a design variable is not taken by a look-alike item.
    order = sorted(codebook.variables, key=lambda n: not codebook.variables[n].required)
    for column in columns:
        if column.name in matched:
            continue
        target, why = _guess(column, [n for n in order if n not in taken], codebook)
        if target:
            guessed[column.name] = target
            reasons[column.name] = why
            taken.add(target)
        else:
            unknown.append(column.name)
    not_found = [name for name in codebook.required if name not in taken]

    by_target = {
        target: column
        for column in columns
        for target in [matched.get(column.name) or guessed.get(column.name)]
        if target
    }
    variables: dict[str, dict] = {}
    notes: dict[str, str] = {}
    recoded = []
    has_labels = False
    for target, column in by_target.items():
        var = codebook.variables[target]
        if var.type != "code" or not column.value_labels:
            continue
        has_labels = True
        own = {_label_key(label): code for code, label in var.codes.items()}
        file_codes, missing, strangers = {}, [], []
        for code, label in sorted(column.value_labels.items()):
            key = _label_key(label)
            if key in own:
                file_codes[int(code)] = var.codes[own[key]]
            elif any(word in key for word in MISSING_WORDS) or float(code) in var.missing:
                missing.append(int(code) if float(code).is_integer() else code)
            else:
                strangers.append(f"{_number(code)} = {label}")
        differs = any(var.codes.get(code) != label for code, label in file_codes.items())
        spec = {}
        if differs:
            spec["codes"] = file_codes
            recoded.append(target)
        if missing and sorted(missing) != sorted(var.missing):
            spec["missing"] = sorted(missing)
        if spec:
            variables[target] = spec
        note = []
        if differs:
            note.append("the file's value labels give other codes than the shipped codebook")
        if strangers:
            note.append(
                f"labels that match no label of the shipped codebook: {'; '.join(strangers)} "
                "(check by hand)"
            )
        if note:
            notes[target] = "; ".join(note)

    text = _yaml_text(
        Path(path), files, base, matched, guessed, reasons, not_found, unknown, variables,
        notes, codebook, has_labels,
    )  # fmt: skip
    return DraftResult(text, matched, guessed, not_found, unknown, recoded)


def _number(code) -> str:
    return str(int(code)) if float(code).is_integer() else str(code)


def _flow(value) -> str:
    """A value as YAML flow text; strings plain where YAML reads them back as the same string."""
    if isinstance(value, str):
        plain = re.fullmatch(r"[^\W\d][\w-]*", value) and yaml.safe_load(value) == value
        return value if plain else json.dumps(value, ensure_ascii=False)
    return yaml.safe_dump(value, default_flow_style=True, allow_unicode=True, width=1000).strip()


def _yaml_text(
    path, files, base, matched, guessed, reasons, not_found, unknown, variables, notes, codebook,
    has_labels,
) -> str:  # fmt: skip
    lines = [
        f"# Starting codebook for the delivery in {path} (written by `analyse codebook init`).",
        f"# It extends the shipped codebook '{base}' and states only what differs. Read every",
        "# comment, correct what is wrong, then check the delivery with it:",
        "#   analyse check DIR --codebook THIS_FILE",
        f"# Files read: {', '.join(f.name for f in files)}",
        f"# Columns found under the codebook's own names: {len(matched)}"
        + (f" ({', '.join(sorted(matched.values()))})" if matched else ""),
        f"extends: {base}",
        "name: mit-udtraek",
        "description: Eget udtræk (ret beskrivelsen)",
        "",
        "# Name in your file → name in the codebook.",
    ]
    if guessed:
        lines.append("rename:")
        for column, target in guessed.items():
            lines.append(
                f"  {_flow(column)}: {target}  # guessed ({reasons[column]} {target}: "
                f"{codebook.variables[target].label}); check"
            )
    else:
        lines.append("rename: {}")
    for name in not_found:
        lines.append(
            f"# NOT FOUND: {name} ({codebook.variables[name].label}) is required; add "
            f"'your_column: {name}' under rename"
        )
    if unknown:
        lines.append(f"# Not in the codebook (ignored by the cleaning): {', '.join(unknown)}")
    lines.append("")
    if not has_labels:
        lines.append(
            "# The files carry no value labels (CSV, Parquet): compare the codes of the coded "
            "variables"
        )
        lines.append(
            "# (koen 1 = Mand, 2 = Kvinde; udd; beskaeft; the questionnaire items) with "
            "docs/raw_format.md,"
        )
        lines.append("# and state your file's codes here, e.g. koen: {codes: {1: Kvinde, 2: Mand}}")
    described = sorted(set(variables) | set(notes))
    if variables:
        lines.append("# Your file's codes (code → the shipped codebook's label) and missing codes.")
        lines.append("variables:")
        for name in described:
            if name in notes:
                lines.append(f"  # {name}: {notes[name]}")
            if name in variables:
                fields = ", ".join(f"{k}: {_flow(v)}" for k, v in variables[name].items())
                lines.append(f"  {name}: {{{fields}}}")
    else:
        for name in described:
            lines.append(f"# {name}: {notes[name]}")
        if has_labels:
            lines.append("# The value labels agree with the shipped codebook's codes.")
    return "\n".join(lines) + "\n"
