"""Codebooks: the raw layout of a Sundhedsprofil delivery as data.

A codebook maps raw variable names to canonical ones, numeric codes to Danish labels, lists
missing codes and valid ranges, and says in which waves an item was asked. The shipped codebook
(``codebooks/sundhedsprofil.yml``) describes the standard extract that the synthetic generator
writes.

A user with another layout writes a small codebook that ``extends:`` the shipped one and states
only what differs: ``rename:`` (name in the file → name in the codebook), and per variable the
file's ``codes`` (code → label), ``missing`` codes, ``range``, ``required`` and ``trust_codes``.
The ``codes`` of an extending codebook say which of the extended codebook's labels each code in
the file means (``koen: {codes: {1: Kvinde, 2: Mand}}``); the cleaning translates the file's
codes to the extended codebook's codes by label, so recodes and derivations, which are written
on those codes, need no edit, and swapping two codes is one edit that cannot disagree with
itself. A label that is not a label of the extended codebook is an error.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from analyse.errors import DataValidationError

TYPES = ("id", "integer", "number", "code", "text")
OUT_OF_RANGE = ("implausible", "invalid")
DEFAULT_CODEBOOK = "sundhedsprofil"

_VARIABLE_KEYS = {
    "label",
    "canonical",
    "type",
    "codes",
    "missing",
    "range",
    "out_of_range",
    "first_wave",
    "required",
    "trust_codes",
}
# What a variable of an extending codebook may change (its type and canonical name stay).
_OVERRIDE_KEYS = _VARIABLE_KEYS - {"type", "canonical"}
# The parameters each derivation reads from the codebook (see analyse.data.clean and docs/methods.md §2).
DERIVATION_PARAMETERS = {
    "poor_mental_health": ("item", "mcs_below"),
    "high_stress": ("items", "reverse_items", "max_missing_items", "cutoff"),
    "loneliness": ("items", "cutoff"),
    "severe_obesity": ("height", "weight", "bmi_cutoff", "bmi_range"),
    "alcohol_over_10": ("items", "units_above"),
    "daily_smoking": ("item", "daily_code"),
    "other_nicotine_use": ("items", "use_codes"),
    "physically_active": ("moderate", "vigorous", "minutes", "vigorous_factor"),
    "unhealthy_diet": ("item", "unhealthy_codes"),
    "good_self_rated_health": ("item", "good_codes"),
    "low_social_support": ("item", "low_codes"),
    "long_term_illness": ("item", "yes_codes"),
    "depressive_symptoms": ("item", "bothered_codes"),
}
# Derivation parameters that name codebook variables.
ITEM_KEYS = {"item", "items", "reverse_items", "height", "weight", "moderate", "vigorous"}
_TOP_KEYS = {
    "extends",
    "name",
    "description",
    "waves",
    "rename",
    "missing_labels",
    "variables",
    "recodes",
    "derivations",
}


@dataclass(frozen=True)
class Variable:
    """One raw variable: name, Danish label, type, codes and validity rules."""

    name: str
    label: str
    type: str
    canonical: str | None = None
    codes: dict[int, str] = field(default_factory=dict)
    missing: tuple[float, ...] = ()
    range: tuple[float, float] | None = None
    out_of_range: str = "implausible"
    first_wave: int | None = None
    required: bool = False
    #: The file's coding (code → label) where it differs from ``codes`` (an extending
    #: codebook's ``codes``); empty when the file uses ``codes`` itself.
    file_codes: dict[int, str] = field(default_factory=dict)
    #: Trust the codes over contradicting value labels in the file (see
    #: :func:`analyse.data.validate.check_value_labels`).
    trust_codes: bool = False

    @property
    def file_coding(self) -> dict[int, str]:
        """Code → label as the codes appear in the delivery."""
        return self.file_codes or self.codes

    def to_codebook_codes(self) -> dict[int, int]:
        """File code → the codebook's code with the same label (identity without ``file_codes``)."""
        if not self.file_codes:
            return {code: code for code in self.codes}
        by_label = {_norm(label): code for code, label in self.codes.items()}
        return {code: by_label[_norm(label)] for code, label in self.file_codes.items()}

    def asked_in(self, year: int) -> bool:
        """Whether the item was part of the questionnaire in that wave."""
        return self.first_wave is None or year >= self.first_wave


@dataclass(frozen=True)
class Recode:
    """Raw codes grouped into ordered canonical categories."""

    name: str
    source: str
    labels: tuple[str, ...]
    code_to_label: dict[int, str]
    min_age: int | None = None


@dataclass(frozen=True)
class Codebook:
    name: str
    description: str
    path: str
    waves: tuple[int, ...]
    rename: dict[str, str]
    variables: dict[str, Variable]
    recodes: dict[str, Recode]
    derivations: dict[str, dict[str, Any]]
    missing_labels: dict[int, str] = field(default_factory=dict)
    #: The YAML files this codebook was read from: the file itself, then what it extends.
    sources: tuple[str, ...] = ()
    #: SHA-256 over the bytes of every source file (the cache key of the processed data).
    sha256: str = ""

    def variable(self, name: str) -> Variable:
        return self.variables[name]

    def asked(self, year: int) -> list[str]:
        """Raw variable names present in a wave's file."""
        return [name for name, var in self.variables.items() if var.asked_in(year)]

    @property
    def canonical_names(self) -> dict[str, str]:
        """Raw name → canonical name for the variables that have one."""
        return {name: var.canonical for name, var in self.variables.items() if var.canonical}

    def raw_name(self, canonical: str) -> str:
        """The codebook's raw variable name for a canonical column (``"weight"`` → ``"vaegt_kal"``).

        Raises
        ------
        DataValidationError
            When no variable of the codebook has that canonical name.
        """
        for name, var in self.variables.items():
            if var.canonical == canonical:
                return name
        raise DataValidationError(
            f"no variable has canonical name {canonical!r}; the cleaning needs one",
            file=self.path,
        )

    @property
    def required(self) -> list[str]:
        """Raw names that every survey file must contain."""
        return [name for name, var in self.variables.items() if var.required]

    def id_columns(self) -> set[str]:
        """Names under which a file may hold the respondent id (read as text, never as numbers)."""
        ids = {name for name, var in self.variables.items() if var.type == "id"}
        return ids | {source for source, target in self.rename.items() if target in ids}

    def match_columns(self, columns: Iterable[str], file: str | None = None) -> ColumnMatch:
        """Match a file's column names to the codebook's variables.

        A column matches, in this order: a codebook name exactly; a ``rename:`` entry exactly; a
        codebook name or ``rename:`` entry ignoring upper/lower case (SAS exports often
        upper-case names). Columns that match nothing are listed as unknown (reported, not fatal).

        Raises
        ------
        DataValidationError
            When two columns of the file match the same codebook variable.
        """
        exact = {name: name for name in self.variables}
        exact.update(self.rename)
        folded = {key.casefold(): target for key, target in exact.items()}
        mapping: dict[str, str] = {}
        unknown: list[str] = []
        for column in columns:
            target = exact.get(column) or folded.get(str(column).casefold())
            if target is None:
                unknown.append(str(column))
            else:
                mapping[column] = target
        seen: dict[str, str] = {}
        for column, target in mapping.items():
            if target in seen:
                raise DataValidationError(
                    f"both {seen[target]!r} and {column!r} match the codebook variable "
                    f"{target!r}; keep one of them or correct the codebook's rename section",
                    file=file,
                    column=column,
                )
            seen[target] = column
        renamed = {col: target for col, target in mapping.items() if col != target}
        return ColumnMatch(mapping=mapping, unknown=unknown, renamed=renamed)

    def availability(self, waves: Iterable[int] | None = None) -> pd.DataFrame:
        """Which variables were asked in which wave (True/False), one row per variable."""
        years = list(waves) if waves is not None else list(self.waves)
        rows = {year: [var.asked_in(year) for var in self.variables.values()] for year in years}
        table = pd.DataFrame(rows, index=pd.Index(list(self.variables), name="variable"))
        table.columns.name = "year"
        return table


@dataclass(frozen=True)
class ColumnMatch:
    """How a file's columns map onto the codebook (see :meth:`Codebook.match_columns`)."""

    mapping: dict[str, str]
    unknown: list[str]
    renamed: dict[str, str]


def codebook_path(name: str = DEFAULT_CODEBOOK) -> Path:
    return Path(str(files("analyse.data") / "codebooks" / f"{name}.yml"))


def shipped_codebooks() -> list[str]:
    """Names of the codebooks that ship with the package (``extends:`` may name them)."""
    folder = Path(str(files("analyse.data") / "codebooks"))
    return sorted(p.stem for p in folder.glob("*.yml"))


def load_codebook(path: str | Path | None = None) -> Codebook:
    """Load and validate a codebook: the shipped one (default) or a YAML file of the user's.

    A user's codebook may start with ``extends: sundhedsprofil`` (a shipped codebook's name) or
    ``extends: other.yml`` (a path relative to the file) and then state only what differs; see
    the module docstring.

    Raises
    ------
    DataValidationError
        Naming the file and the place when the YAML breaks the codebook schema, when what it
        extends cannot be found, or when a code's label is not one of the extended codebook's.
    """
    resolved = codebook_path() if path is None else Path(path)
    resolved = resolved.resolve()
    try:
        stamp = resolved.stat().st_mtime_ns
    except OSError:
        stamp = 0
    # The modification time is part of the cache key: an edited codebook is read again.
    return _load(str(resolved), stamp)


def _norm(label: str) -> str:
    """A label compared without case and extra white space."""
    return " ".join(str(label).split()).casefold()


def _read_yaml(path: str) -> tuple[dict, bytes]:
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        raise DataValidationError(f"cannot open the codebook: {exc.strerror}", file=path) from exc
    try:
        raw = yaml.safe_load(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise DataValidationError(
            f"the codebook is not UTF-8 text ({exc.reason} at byte {exc.start}); save it as UTF-8",
            file=path,
        ) from exc
    except yaml.YAMLError as exc:
        raise DataValidationError(f"the codebook is not valid YAML: {exc}", file=path) from exc
    if not isinstance(raw, dict):
        raise DataValidationError("codebook: expected a mapping at the top level", file=path)
    return raw, data


def _resolve(path: str, chain: tuple[str, ...] = ()) -> tuple[dict, list[str], list[bytes]]:
    """The codebook's YAML with everything it extends merged in, and the files read."""
    if path in chain:
        raise DataValidationError(
            f"extends: the codebooks extend each other in a circle ({' → '.join(chain + (path,))})",
            file=chain[0],
        )
    raw, data = _read_yaml(path)
    base_name = raw.get("extends")
    if base_name is None:
        return raw, [path], [data]
    if not isinstance(base_name, str) or not base_name.strip():
        raise DataValidationError(
            "extends: expected the name of a shipped codebook "
            f"({', '.join(shipped_codebooks())}) or the path of a codebook YAML",
            file=path,
        )
    candidate = Path(path).parent / base_name
    if base_name in shipped_codebooks():
        base_path = str(codebook_path(base_name).resolve())
    elif candidate.is_file():
        base_path = str(candidate.resolve())
    else:
        raise DataValidationError(
            f"extends: {base_name!r} is neither a shipped codebook "
            f"({', '.join(shipped_codebooks())}) nor a file next to this one",
            file=path,
        )
    base, sources, blobs = _resolve(base_path, chain + (path,))
    return _merge(base, raw, path, base_path), [path, *sources], [data, *blobs]


def _merge(base: dict, extension: dict, path: str, base_path: str) -> dict:
    """The extended codebook with the extension's differences applied (see the module docstring)."""

    def fail(where: str, rule: str) -> None:
        raise DataValidationError(f"{where}: {rule}", file=path)

    unknown = sorted(set(extension) - _TOP_KEYS)
    if unknown:
        fail(
            "codebook",
            f"unknown field(s) {', '.join(unknown)}; allowed: {', '.join(sorted(_TOP_KEYS))}",
        )
    if extension.get("recodes"):
        fail(
            "recodes",
            "an extending codebook cannot change the recodes: they are written on the extended "
            "codebook's labels. State your file's codes under variables.<name>.codes instead, "
            "e.g. variables: {koen: {codes: {1: Kvinde, 2: Mand}}}",
        )
    merged = {key: value for key, value in base.items() if key != "extends"}
    for key in ("name", "description", "waves"):
        if key in extension:
            merged[key] = extension[key]
    for key in ("rename", "missing_labels"):
        addition = extension.get(key) or {}
        if not isinstance(addition, dict):
            fail(key, "expected a mapping")
        merged[key] = {**(base.get(key) or {}), **addition}
    derivations = {k: dict(v) for k, v in (base.get("derivations") or {}).items()}
    for indicator, spec in (extension.get("derivations") or {}).items():
        if not isinstance(spec, dict):
            fail(f"derivations.{indicator}", "expected a mapping of parameters")
        derivations[indicator] = {**derivations.get(indicator, {}), **spec}
    merged["derivations"] = derivations
    variables = {name: dict(spec) for name, spec in (base.get("variables") or {}).items()}
    changes = extension.get("variables") or {}
    if not isinstance(changes, dict):
        fail("variables", "expected a mapping: variable → what differs")
    for name, change in changes.items():
        where = f"variables.{name}"
        if not isinstance(change, dict):
            fail(where, "expected a mapping of fields")
        if name not in variables:  # a variable of the user's own: a complete definition
            variables[name] = dict(change)
            continue
        fixed = sorted(set(change) - _OVERRIDE_KEYS)
        if fixed:
            fail(
                where,
                f"an extending codebook cannot change {', '.join(fixed)}; it may change "
                f"{', '.join(sorted(_OVERRIDE_KEYS))}",
            )
        spec = variables[name]
        for key, value in change.items():
            if key == "codes":
                spec["_file_codes"] = _file_codes(value, spec, where, fail, base_path)
            else:
                spec[key] = value
    merged["variables"] = variables
    return merged


def _file_codes(codes, base_spec: dict, where: str, fail, base_path: str) -> dict[int, str]:
    """An extension's codes for a variable: each label must be one of the extended codebook's."""
    if not isinstance(codes, dict) or not codes:
        fail(f"{where}.codes", "expected a mapping code → label, e.g. {1: Kvinde, 2: Mand}")
    known = {_norm(label): str(label) for label in (base_spec.get("codes") or {}).values()}
    if not known:
        fail(f"{where}.codes", "the extended codebook has no codes for this variable")
    out: dict[int, str] = {}
    used: dict[str, int] = {}
    for code, label in codes.items():
        if not isinstance(code, int) or isinstance(code, bool):
            fail(f"{where}.codes", f"code {code!r} is not a whole number")
        key = _norm(label)
        if key not in known:
            fail(
                f"{where}.codes",
                f"label {label!r} of code {code} is not a label of this variable in "
                f"{Path(base_path).name} ({', '.join(known.values())}); the codes of an "
                "extending codebook say which of those labels each code in your file means",
            )
        if key in used:
            fail(f"{where}.codes", f"codes {used[key]} and {code} both mean {label!r}")
        used[key] = code
        out[int(code)] = known[key]
    return out


@lru_cache(maxsize=16)
def _load(path: str, stamp: int = 0) -> Codebook:
    raw, sources, blobs = _resolve(path)
    digest = hashlib.sha256()
    for source, blob in zip(sources, blobs, strict=True):
        digest.update(Path(source).name.encode() + b"\0" + hashlib.sha256(blob).digest())

    def fail(where: str, rule: str) -> None:
        raise DataValidationError(f"{where}: {rule}", file=path)

    unknown = sorted(set(raw) - _TOP_KEYS)
    if unknown:
        fail(
            "codebook",
            f"unknown field(s) {', '.join(unknown)}; allowed: {', '.join(sorted(_TOP_KEYS))}",
        )
    if not isinstance(raw.get("variables"), dict) or not raw["variables"]:
        fail(
            "variables",
            "the codebook defines no variables; to state only what differs from the shipped "
            f"codebook, start the file with `extends: {DEFAULT_CODEBOOK}`",
        )

    variables: dict[str, Variable] = {}
    for name, spec in raw["variables"].items():
        where = f"variables.{name}"
        if not isinstance(spec, dict):
            fail(where, "expected a mapping of fields")
        extra = sorted(set(spec) - _VARIABLE_KEYS - {"_file_codes"})
        if extra:
            fail(where, f"unknown field(s) {', '.join(extra)}")
        if spec.get("type") not in TYPES:
            fail(where, f"type {spec.get('type')!r} is not one of {', '.join(TYPES)}")
        if not isinstance(spec.get("label"), str) or not spec["label"].strip():
            fail(where, "missing Danish label")
        codes = spec.get("codes") or {}
        if spec["type"] == "code" and not codes:
            fail(where, "a code variable needs `codes`")
        if any(not isinstance(k, int) for k in codes):
            fail(where, "codes must be whole numbers")
        rng = spec.get("range")
        if rng is not None and (not isinstance(rng, list) or len(rng) != 2 or rng[0] > rng[1]):
            fail(where, "range must be [low, high]")
        oor = spec.get("out_of_range", "implausible")
        if oor not in OUT_OF_RANGE:
            fail(where, f"out_of_range {oor!r} is not one of {', '.join(OUT_OF_RANGE)}")
        if spec.get("canonical") and not spec.get("required", False):
            fail(
                where,
                f"a design variable (canonical name {spec['canonical']!r}) must be required: "
                "the cleaning cannot work without it",
            )
        missing = spec.get("missing") or []
        if not isinstance(missing, list) or any(
            isinstance(m, bool) or not isinstance(m, int | float) for m in missing
        ):
            fail(where, "missing must be a list of numbers, e.g. [8, 9]")
        variables[name] = Variable(
            name=name,
            label=spec["label"],
            type=spec["type"],
            canonical=spec.get("canonical"),
            codes={int(k): str(v) for k, v in codes.items()},
            missing=tuple(spec.get("missing") or ()),
            range=tuple(rng) if rng is not None else None,
            out_of_range=oor,
            first_wave=spec.get("first_wave"),
            required=bool(spec.get("required", False)),
            file_codes=dict(spec.get("_file_codes") or {}),
            trust_codes=bool(spec.get("trust_codes", False)),
        )

    recodes: dict[str, Recode] = {}
    for name, spec in (raw.get("recodes") or {}).items():
        where = f"recodes.{name}"
        source = spec.get("from")
        if source not in variables:
            fail(where, f"recodes from {source!r}, which is not a variable of the codebook")
        labels, mapping = [], {}
        for group in spec.get("groups") or []:
            labels.append(group["label"])
            for code in group["codes"]:
                if code not in variables[source].codes:
                    fail(where, f"code {code} is not a code of {source}")
                mapping[int(code)] = group["label"]
        missing_codes = sorted(set(variables[source].codes) - set(mapping))
        if missing_codes:
            fail(where, f"codes {missing_codes} of {source} are not placed in any group")
        recodes[name] = Recode(name, source, tuple(labels), mapping, spec.get("min_age"))

    rename = raw.get("rename") or {}
    if not isinstance(rename, dict):
        fail("rename", "expected a mapping: name in your file → name in this codebook")
    for target in rename.values():
        if target not in variables:
            fail("rename", f"renames to {target!r}, which is not a variable of the codebook")

    derivations = raw.get("derivations") or {}
    if not isinstance(derivations, dict):
        fail("derivations", "expected a mapping: indicator → parameters")
    for indicator, keys in DERIVATION_PARAMETERS.items():
        where = f"derivations.{indicator}"
        spec = derivations.get(indicator)
        if not isinstance(spec, dict):
            fail(where, "missing; the cleaning derives this indicator from the items it names")
        absent = [key for key in keys if key not in spec]
        if absent:
            fail(where, f"missing parameter(s) {', '.join(absent)}")
        for key in ITEM_KEYS & set(spec):
            items = spec[key] if isinstance(spec[key], list) else [spec[key]]
            strangers = [item for item in items if item not in variables]
            if strangers:
                fail(where, f"{key} names {strangers}, which are not variables of the codebook")

    return Codebook(
        name=str(raw.get("name", Path(path).stem)),
        description=str(raw.get("description", "")),
        path=path,
        waves=tuple(raw.get("waves") or ()),
        rename={str(k): str(v) for k, v in rename.items()},
        variables=variables,
        recodes=recodes,
        derivations=dict(derivations),
        missing_labels={int(k): str(v) for k, v in (raw.get("missing_labels") or {}).items()},
        sources=tuple(sources),
        sha256=digest.hexdigest(),
    )
