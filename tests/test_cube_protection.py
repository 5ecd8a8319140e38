"""Linked protection of the cube (analyse.cube.protection) and the audit (analyse.publish.audit).

The constructed cases are small enough to check by hand; the LP attacker itself is tested in
tests/test_protection.py.
"""

import numpy as np
import pandas as pd
import pytest

from analyse.cube import protection
from analyse.stats import disclosure

#: Region R with kommuner k1..k4; klynge A = k1 + k2 + k3, klynge B = k3 + k4 (k3 in both, as
#: Vejen and København are).
HIERARCHY = pd.DataFrame(
    {
        "parent_level": ["sundhedsklynge"] * 5 + ["region"] * 4,
        "parent_code": ["A", "A", "A", "B", "B", "R", "R", "R", "R"],
        "child_level": ["kommune"] * 9,
        "child_code": ["k1", "k2", "k3", "k3", "k4", "k1", "k2", "k3", "k4"],
    }
)


def _cells(values: dict[str, float], weights: dict[str, float], primary=()) -> pd.DataFrame:
    """Total cells of one indicator × wave: kommuner, klynger and the region (weighted sums)."""
    rows = []
    for code, value in values.items():
        rows.append((code, "kommune", value, weights[code]))
    for parent, kids in (("A", ["k1", "k2", "k3"]), ("B", ["k3", "k4"]), ("R", list(values))):
        w = sum(weights[k] for k in kids)
        p = sum(weights[k] * values[k] for k in kids) / w
        rows.append((parent, "region" if parent == "R" else "sundhedsklynge", p, w))
    frame = pd.DataFrame(rows, columns=["area_code", "area_level", "value", "weight"])
    return frame.assign(
        indicator="x",
        year=2021,
        breakdown="total",
        group="I alt",
        source="survey",
        primary=frame["area_code"].isin(primary),
        protect=0.05,
        remainder=False,
    )


VALUES = {"k1": 0.20, "k2": 0.30, "k3": 0.12, "k4": 0.40}
WEIGHTS = {"k1": 1000.0, "k2": 1500.0, "k3": 300.0, "k4": 900.0}


def test_area_relations_hold_for_the_true_values_with_a_kommune_in_two_klynger():
    problem = protection.relations(_cells(VALUES, WEIGHTS), HIERARCHY)
    # Three area relations: A, B and R, each parent minus its weighted kommuner.
    assert list(problem.families) == ["areas"] * 3
    value = problem.frame["value"].to_numpy()
    assert np.abs(problem.relations @ value).max() < 1e-12
    # Relation of klynge B, scaled by its weight 1200: p_B − (300 p_k3 + 900 p_k4) / 1200 = 0.
    frame = problem.frame.reset_index(drop=True)
    b = frame.index[frame["area_code"] == "B"][0]
    row = problem.relations[[r for r in range(3) if problem.relations[r, b] != 0][0]].toarray()[0]
    k3 = frame.index[frame["area_code"] == "k3"][0]
    k4 = frame.index[frame["area_code"] == "k4"][0]
    assert row[b] == 1.0
    assert row[k3] == pytest.approx(-300 / 1200)
    assert row[k4] == pytest.approx(-900 / 1200)


@pytest.mark.linked_protection
def test_the_per_table_rule_leaves_k3_exposed_and_the_linked_protection_does_not():
    """k3 (primary) hidden with k4 in klynge B and k2 in klynge A, as the per-relation rule does
    (each relation has two hidden cells). But R − A = k4 (shown region and klynge give k4), then
    B gives k3 exactly: the LP attacker pins k3. The linked protection hides more."""
    from analyse.stats import protection as lp

    cells = _cells(VALUES, WEIGHTS, primary=("k3",))
    problem = protection.relations(cells, HIERARCHY)
    frame = problem.frame
    hidden = frame["area_code"].isin(["k3", "k4", "k2"]).to_numpy()
    true = frame["value"].to_numpy()
    shown = np.round(true, 3)
    lower, upper = lp.bounds(
        hidden, shown - 0.0005, shown + 0.0005, np.zeros(len(true)), np.ones(len(true))
    )
    need = np.where(frame["primary"], 0.05, 0.0)
    before = lp.audit(
        true,
        lower,
        upper,
        problem.relations,
        hidden,
        need,
        need,
        np.zeros(len(true)),
        np.ones(len(true)),
    )
    assert before["exposed"].sum() == 1
    after = protection.protect_cube(
        cells, hidden[: len(cells)], rules=disclosure.Rules(), hierarchy=HIERARCHY
    )
    assert after.summary["exposed"] == 0
    assert after.added.any()


def test_groups_without_every_respondent_get_an_unpublished_remainder():
    # Total of 100 (weight) with 30 % ; groups "a" (40, 25 %) and "b" (50, 30 %): 10 respondents
    # (weight) in no shown group with share (30 − 10 − 15) / 10 = 50 %.
    frame = pd.DataFrame(
        {
            "indicator": "x",
            "year": 2021,
            "area_level": "kommune",
            "area_code": "k1",
            "breakdown": ["total", "education", "education"],
            "group": ["I alt", "a", "b"],
            "source": "survey",
            "value": [0.30, 0.25, 0.30],
            "weight": [100.0, 40.0, 50.0],
            "primary": False,
            "protect": 0.05,
            "remainder": False,
        }
    )
    problem = protection.relations(frame, HIERARCHY.iloc[:0])
    assert problem.frame["remainder"].sum() == 1
    value = protection.remainder_values(problem)
    assert value[-1] == pytest.approx(0.5)
    assert np.abs(problem.relations @ value).max() < 1e-12


def test_twin_cells_are_linked_by_an_equality():
    """Two indicators on the same outcome variable with the same respondents (the 16–24
    indicator and the all-ages one in a kommune of only 16–24-year-olds, say) are twins; an
    unrelated indicator with the same value and weight is not."""
    base = _cells(VALUES, WEIGHTS).query("area_code == 'k1'").assign(variable="smoke")
    twin = base.assign(indicator="x_16_24")
    other = base.assign(indicator="diet", variable="diet")
    cells = pd.concat([base, twin, other], ignore_index=True)
    problem = protection.relations(cells, HIERARCHY.iloc[:0])
    assert list(problem.families) == ["twins"]
    row = problem.relations.toarray()[0]
    assert sorted(row) == [-1.0, 0.0, 1.0] and row[2] == 0.0


def test_inequality_is_withheld_where_a_group_is_hidden():
    estimates = pd.DataFrame(
        {
            "indicator": "x",
            "year": 2021,
            "area_level": "kommune",
            "area_code": ["k1", "k1", "k2", "k2"],
            "breakdown": "education",
            "group": ["a", "b", "a", "b"],
            "suppressed": [False, True, False, False],
        }
    )
    inequality = pd.DataFrame(
        {
            "indicator": "x",
            "year": 2021,
            "area_level": "kommune",
            "area_code": ["k1", "k2"],
            "dimension": "education",
            "n": [400, 500],
            "d": [0.1, 0.2],
            "sii": [0.15, 0.25],
            "reason": ["", ""],
        }
    )
    out = protection.withhold_inequality(inequality, estimates)
    assert np.isnan(out.loc[0, "d"]) and np.isnan(out.loc[0, "sii"])
    assert out.loc[0, "reason"].startswith("vises ikke")
    assert out.loc[1, "d"] == 0.2 and out.loc[1, "reason"] == ""


def test_round_published_rounds_shares_and_counts():
    table = pd.DataFrame(
        {
            "estimate": [0.123449, 0.12351],
            "se": [0.0123456, 0.01],
            "n": [1234, 25],
            "year": [2021, 2021],
        }
    )
    out = protection.round_published(table)
    assert out["estimate"].tolist() == [0.123, 0.124]
    assert out["se"].tolist() == [0.0123, 0.01]
    assert out["n"].tolist() == [1230, 30]  # half up: 25 → 30
    assert out["year"].tolist() == [2021, 2021]


def _published_folder(tmp_path, cells, hidden):
    """A minimal processed folder: the survey cells as published (hidden ones empty), no
    register cells, the internal cell table and a manifest."""
    import json

    from analyse.cube import build as cube_build

    folder = tmp_path / "processed"
    (folder / cube_build.INTERNAL_DIR).mkdir(parents=True)
    shown = np.round(cells["value"].to_numpy(), 3)
    estimates = cells[list(protection.CELL_KEYS)].assign(
        estimate=np.where(hidden, np.nan, shown),
        se=np.nan,
        ci_low=np.nan,
        ci_high=np.nan,
        n=pd.array(np.where(hidden, np.nan, 100.0), dtype="Float64").astype("Int64"),
        suppressed=hidden,
        suppression_reason=pd.array(np.where(hidden, "x", None), dtype="string"),
    )
    estimates.to_parquet(folder / "estimates.parquet")
    estimates.iloc[:0].to_parquet(folder / "register.parquet")
    cells.assign(hidden=hidden).to_parquet(
        folder / cube_build.INTERNAL_DIR / cube_build.INTERNAL_CELLS
    )
    (folder / cube_build.MANIFEST).write_text(json.dumps({"rules": {}}), encoding="utf-8")
    return folder


@pytest.mark.linked_protection
def test_the_audit_fails_an_under_suppressed_table_and_passes_the_protected_one(tmp_path):
    from analyse.publish import audit

    cells = _cells(VALUES, WEIGHTS, primary=("k3",))
    per_table = cells["area_code"].isin(["k2", "k3", "k4"]).to_numpy()
    folder = _published_folder(tmp_path / "a", cells, per_table)
    report = audit.audit(folder, hierarchy=HIERARCHY)
    assert report.exposed == 1 and not report.ok
    # Which relations expose it: only the areas family (the only one here), and all together.
    assert report.families.set_index("family")["exposed"].to_dict() == {"areas": 1, "all": 1}

    protected = protection.protect_cube(cells, per_table, hierarchy=HIERARCHY, workers=1)
    folder = _published_folder(tmp_path / "b", cells, protected.hidden)
    report = audit.audit(folder, hierarchy=HIERARCHY)
    assert report.exposed == 0 and report.ok, report.text()


def test_the_audit_finds_a_value_behind_a_hidden_cell_and_unrounded_shares(tmp_path):
    from analyse.publish import audit

    cells = _cells(VALUES, WEIGHTS)
    folder = _published_folder(tmp_path, cells, np.zeros(len(cells), dtype=bool))
    table = pd.read_parquet(folder / "estimates.parquet")
    table.loc[0, "suppressed"] = True  # hidden, but its value is still there
    table.loc[1, "estimate"] = 0.12345  # more precision than shown
    table["wy"] = 1.0  # an internal sum of the estimator that slipped into the shared table
    table.to_parquet(folder / "estimates.parquet")
    checks = audit.audit(folder, hierarchy=HIERARCHY).checks.set_index("check")["problems"]
    assert checks["skjulte celler har ingen værdi"] == 1
    assert checks["andele afrundet til 0,1 procentpoint"] == 1
    assert checks["kun kendte talkolonner i delte tabeller"] == 1


def test_every_numeric_column_of_the_session_build_is_a_known_published_one(small_processed):
    from analyse.publish import audit

    checks = pd.DataFrame(audit._check_tables(small_processed.processed, disclosure.Rules()))
    problems = checks.set_index("check")["problems"]
    assert problems["kun kendte talkolonner i delte tabeller"] == 0, checks.to_string()
    assert problems["ingen eksakte antal (cases) i delte tabeller"] == 0


def test_the_session_build_is_rounded_and_redesigned(small_processed):
    # (The session build skips the linked LPs, see tests/conftest.py.)
    processed = small_processed.processed
    estimates = pd.read_parquet(processed / "estimates.parquet")
    assert "cases" not in estimates.columns
    shown = estimates.loc[~estimates["suppressed"], "estimate"].to_numpy()
    assert np.allclose(shown * 1000, np.round(shown * 1000), atol=1e-6)
    # Sex × age is published for regions and Denmark only (table redesign).
    crossed = estimates[estimates["breakdown"] == "sex_age"]
    assert set(crossed["area_level"]) <= {"region", "land"}
    assert (processed / "internal" / "protection_cells.parquet").exists()


@pytest.mark.linked_protection
def test_the_linked_protection_of_small_build_tables_passes_the_attackers_audit(
    small_processed, tmp_path
):
    """Real small-scale tables (scale 0.05: most cells primary), all four relation families:
    a survey indicator with its twin (the 16–24 indicator and the 16–24 age group of the
    all-ages one) and a register indicator. With only the primary cells hidden the attacker's
    LP exposes many of them; after protect_cube it exposes none. (The whole small build is
    audited in tests/test_audit_run.py.)"""
    import json

    from analyse.cube import build as cube_build
    from analyse.publish import audit

    internal = small_processed.processed / cube_build.INTERNAL_DIR / cube_build.INTERNAL_CELLS
    cells = pd.read_parquet(internal)
    picked = ["high_stress", "high_stress_all", "youth_education_mental"]
    cells = cells[cells["indicator"].isin(picked)].reset_index(drop=True)
    cells = cells.drop(columns="hidden")
    primary = cells["primary"].to_numpy(bool)
    assert set(cells["source"]) == {"survey", "register"}

    def published(folder, hidden):
        (folder / cube_build.INTERNAL_DIR).mkdir(parents=True)
        shown = np.round(cells["value"].to_numpy(), 3)
        for source, name in (("survey", "estimates"), ("register", "register")):
            keep = (cells["source"] == source).to_numpy()
            cells.loc[keep, list(protection.CELL_KEYS)].assign(
                estimate=np.where(hidden[keep], np.nan, shown[keep]), suppressed=hidden[keep]
            ).to_parquet(folder / f"{name}.parquet")
        cells.assign(hidden=hidden).to_parquet(
            folder / cube_build.INTERNAL_DIR / cube_build.INTERNAL_CELLS
        )
        (folder / cube_build.MANIFEST).write_text(json.dumps({"rules": {}}), encoding="utf-8")
        return folder

    before = audit.audit(published(tmp_path / "primary", primary), families=False)
    assert before.exposed > 0, before.text()  # 1,714 when measured

    protected = protection.protect_cube(cells, primary, workers=1)
    assert protected.summary["exposed"] == 0
    assert set(protected.summary["relations_by_family"]) == {"groups", "areas", "twins", "crossed"}
    assert (protected.hidden >= primary).all()
    after = audit.audit(published(tmp_path / "protected", protected.hidden), families=False)
    assert after.exposed == 0 and after.ok, after.text()


def test_the_batch_audit_attacks_once_per_state_of_the_tables(tmp_path, monkeypatch):
    import json

    from analyse.cube import build as cube_build
    from analyse.publish import audit
    from analyse.stats import protection as lp

    cells = _cells(VALUES, WEIGHTS, primary=("k3",))
    per_table = cells["area_code"].isin(["k2", "k3", "k4"]).to_numpy()
    folder = _published_folder(tmp_path, cells, per_table)
    manifest = folder / cube_build.MANIFEST
    tables = {
        name: cube_build.file_sha256(folder / name)
        for name in ("estimates.parquet", "register.parquet")
    }
    manifest.write_text(json.dumps({"rules": {}, "tables": tables}), encoding="utf-8")

    first = audit.audit(folder, hierarchy=HIERARCHY, families=False, attack="auto")
    assert first.exposed == 1 and not first.ok  # the attack ran: k3 is exposed
    assert (folder / cube_build.INTERNAL_DIR / audit.AUDIT_CACHE).is_file()

    def no_attack(*args, **kwargs):
        raise AssertionError("the attack ran again on unchanged tables")

    monkeypatch.setattr(lp, "audit", no_attack)
    again = audit.audit(folder, hierarchy=HIERARCHY, families=False, attack="auto")
    assert again.exposed == 1 and not again.ok  # the kept verdict, not a pass
    # A table changed after the build: the kept verdict is not trusted as a pass.
    table = pd.read_parquet(folder / "estimates.parquet")
    table.loc[0, "estimate"] = 0.5
    table.to_parquet(folder / "estimates.parquet")
    changed = audit.audit(folder, hierarchy=HIERARCHY, families=False, attack="auto")
    problems = changed.checks.set_index("check")["problems"]
    assert problems["tabellerne er dem, bygningen reviderede"] == 1 and not changed.ok
    # A build whose protection was skipped (the tests' stub) gets the checks only.
    (folder / cube_build.INTERNAL_DIR / audit.AUDIT_CACHE).unlink()
    manifest.write_text(
        json.dumps({"rules": {}, "protection": {"skipped": True, "exposed": 0}}), encoding="utf-8"
    )
    skipped = audit.audit(folder, hierarchy=HIERARCHY, families=False, attack="auto")
    assert skipped.exposed == 0
