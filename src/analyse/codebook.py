"""Codebooks: the raw layout of a Sundhedsprofil delivery as data.

A codebook maps raw variable names to canonical ones, numeric codes to Danish labels, lists
missing codes and valid ranges, and says in which waves an item was asked. The shipped codebook
(``codebooks/sundhedsprofil.yml``) describes the standard extract that the synthetic generator
writes; a user with another layout copies it and adds a ``rename:`` section.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from typing import Any

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
}
_TOP_KEYS = {"name", "description", "waves", "rename", "variables", "recodes", "derivations"}


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

    def variable(self, name: str) -> Variable:
        return self.variables[name]

    def asked(self, year: int) -> list[str]:
        """Raw variable names present in a wave's file."""
        return [name for name, var in self.variables.items() if var.asked_in(year)]

    @property
    def canonical_names(self) -> dict[str, str]:
        """Raw name → canonical name for the variables that have one."""
        return {name: var.canonical for name, var in self.variables.items() if var.canonical}


def codebook_path(name: str = DEFAULT_CODEBOOK) -> Path:
    return Path(str(files("analyse") / "codebooks" / f"{name}.yml"))


def load_codebook(path: str | Path | None = None) -> Codebook:
    """Load and validate a codebook: the shipped one (default) or a YAML file of the user's.

    Raises
    ------
    DataValidationError
        Naming the file and the place when the YAML breaks the codebook schema.
    """
    resolved = codebook_path() if path is None else Path(path)
    return _load(str(resolved.resolve()))


@lru_cache(maxsize=8)
def _load(path: str) -> Codebook:
    try:
        with open(path, encoding="utf-8") as handle:
            raw = yaml.safe_load(handle)
    except OSError as exc:
        raise DataValidationError(f"cannot open the codebook: {exc.strerror}", file=path) from exc
    except yaml.YAMLError as exc:
        raise DataValidationError(f"the codebook is not valid YAML: {exc}", file=path) from exc

    def fail(where: str, rule: str) -> None:
        raise DataValidationError(f"{where}: {rule}", file=path)

    if not isinstance(raw, dict):
        fail("codebook", "expected a mapping at the top level")
    unknown = sorted(set(raw) - _TOP_KEYS)
    if unknown:
        fail(
            "codebook",
            f"unknown field(s) {', '.join(unknown)}; allowed: {', '.join(sorted(_TOP_KEYS))}",
        )
    if not isinstance(raw.get("variables"), dict) or not raw["variables"]:
        fail("variables", "the codebook defines no variables")

    variables: dict[str, Variable] = {}
    for name, spec in raw["variables"].items():
        where = f"variables.{name}"
        if not isinstance(spec, dict):
            fail(where, "expected a mapping of fields")
        extra = sorted(set(spec) - _VARIABLE_KEYS)
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

    return Codebook(
        name=str(raw.get("name", Path(path).stem)),
        description=str(raw.get("description", "")),
        path=path,
        waves=tuple(raw.get("waves") or ()),
        rename={str(k): str(v) for k, v in rename.items()},
        variables=variables,
        recodes=recodes,
        derivations=dict(raw.get("derivations") or {}),
    )
