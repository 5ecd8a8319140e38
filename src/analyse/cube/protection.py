"""Linked secondary suppression of the cube: every published relation at once.

The per-table rules of :func:`analyse.stats.disclosure.suppress` (primary suppression, then "no
sum with exactly one hidden cell") protect each relation separately. An attacker who combines
*all* published relations — groups adding up to the total, kommuner to their sundhedsklynge
(København and Vejen sit in two), kommuner to the region, regions to Denmark, an indicator to its
twin (the 16–24 indicator and the 16–24 group of the all-ages one), register counts across groups
and areas — can solve them together. This module states every such relation as a linear equality
between the cells and lets :func:`analyse.stats.protection.protect` choose complementary
suppressions until no primary-suppressed cell can be narrowed, by linear programming, to less than
its protection interval (interval protection, Hundepool et al., *Statistical Disclosure Control*,
Wiley 2012, ch. 4; docs/methods.md §6).

The cells are stated on the share scale with their weights as coefficients: for a parent P with
children C (or a total with its groups), ``W_P p_P − Σ W_c p_c − W_rest p_rest = 0``, divided by
``W_P``, where ``W`` is the weighted number of respondents with an answer (survey) or the
denominator (register) and ``p_rest`` an unpublished remainder (respondents in no shown group,
such as an unknown education) whose share the attacker does not know. The attacker is assumed to
know the weights exactly, which is more than the published, rounded counts say: the safe side.

What the attacker knows of a shown cell is its published value rounded to
:data:`PUBLISHED_DECIMALS` (0.1 percentage point), i.e. an interval of ±0.0005; of a hidden cell
only that it lies in 0–1.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import sparse

from analyse.errors import ParameterError
from analyse.reference import geography
from analyse.stats import disclosure

#: Shares are published with one decimal in per cent: three decimals on the 0–1 scale.
PUBLISHED_DECIMALS = 3
#: Half the rounding unit: the interval a rounded, shown share stands for.
ROUNDING_HALF_WIDTH = 0.5 * 10.0**-PUBLISHED_DECIMALS
#: A remainder smaller than this share of its parent's weight is float noise, not a group.
_REMAINDER_TOLERANCE = 1e-9

CELL_KEYS = ("indicator", "year", "area_level", "area_code", "breakdown", "group")
TOTAL_BREAKDOWN = "total"
TOTAL_LABEL = "I alt"
CROSSED = {"sex_age": ("sex", "age_group")}
CROSS_SEPARATOR = ", "

#: Reason shown for cells hidden by the linked protection (the reader sees the same text as for
#: any other complementary suppression).
REASON_LINKED = disclosure.REASON_SECONDARY


@dataclass(frozen=True)
class Cells:
    """The cells of one protection problem: key columns, true share, weight, primary flag."""

    frame: pd.DataFrame  # CELL_KEYS + source, value, weight, primary, remainder, protect
    relations: sparse.csr_matrix
    families: np.ndarray  # relation family per row (for the audit report)
    skipped: dict[str, int] = field(default_factory=dict)


def cell_frame(
    survey: pd.DataFrame | None,
    register: pd.DataFrame | None,
    *,
    survey_published: pd.DataFrame | None = None,
    register_published: pd.DataFrame | None = None,
    rules: disclosure.Rules | None = None,
    variables: dict[str, str] | None = None,
) -> pd.DataFrame:
    """One row per cell: the unsuppressed value and weight with the primary flag.

    ``variables`` maps an indicator id to its outcome variable (twins share one); default:
    every indicator its own.

    ``survey``/``register``: the unsuppressed cube tables (``estimate``, ``weighted_n`` or ``n``,
    and ``cases`` for the register); the ``*_published`` tables (same rows, after
    :func:`analyse.stats.disclosure.suppress`) give the primary flag: suppressed for a reason
    other than the complementary one.
    """
    rules = rules or disclosure.Rules()
    pieces = []
    for source, raw, published, weight_column in (
        ("survey", survey, survey_published, "weighted_n"),
        ("register", register, register_published, "n"),
    ):
        if raw is None or raw.empty:
            continue
        frame = raw[list(CELL_KEYS)].copy()
        frame["area_code"] = frame["area_code"].astype(str)
        frame["source"] = source
        frame["value"] = pd.to_numeric(raw["estimate"]).astype(float).to_numpy()
        frame["weight"] = pd.to_numeric(raw[weight_column]).astype(float).to_numpy()
        # A register cell without persons has no share; it weighs nothing in any sum.
        empty = ~(frame["weight"] > 0) & frame["value"].isna()
        frame.loc[empty, "value"] = 0.0
        frame.loc[empty, "weight"] = 0.0
        if published is None:
            primary = np.zeros(len(frame), dtype=bool)
        else:
            if len(published) != len(raw):
                raise ParameterError(
                    f"the published {source} table has {len(published)} rows, the unsuppressed "
                    f"one {len(raw)}: they must be the same cells in the same order"
                )
            reason = published["suppression_reason"].astype("string")
            primary = (
                published["suppressed"].astype(bool).to_numpy()
                & (reason != disclosure.REASON_SECONDARY).fillna(True).to_numpy()
            )
        frame["primary"] = primary
        if source == "survey":
            width = rules.protection_width
            frame["protect"] = width
        else:
            # Register cells: no count can be pinned down to better than ± count_base / 2
            # persons (on the share scale: divided by the denominator).
            frame["protect"] = (rules.count_base / 2) / frame["weight"].clip(lower=1.0)
        pieces.append(frame)
    if not pieces:
        return pd.DataFrame(columns=[*CELL_KEYS, "source", "value", "weight", "primary"])
    cells = pd.concat(pieces, ignore_index=True)
    cells["remainder"] = False
    mapping = variables or {}
    cells["variable"] = cells["indicator"].map(lambda i: mapping.get(i, i))
    return cells


def relations(cells: pd.DataFrame, hierarchy: pd.DataFrame | None = None) -> Cells:
    """Every linear relation between the cells, with remainder cells where sums are partial.

    Families: ``groups`` (groups → total of a breakdown), ``crossed`` (sex × age cells → their
    sex and age margins), ``areas`` (kommuner → klynge and region, regions → Denmark) and
    ``twins`` (two cells with the same respondents, weights and value: e.g. an indicator for
    16–24-year-olds and the 16–24 group of the all-ages indicator).
    """
    hierarchy = geography.area_hierarchy() if hierarchy is None else hierarchy
    cells = cells.reset_index(drop=True).copy()
    cells["_row"] = np.arange(len(cells))
    triplets: list[tuple[str, pd.DataFrame, pd.DataFrame]] = []
    is_total = (cells["breakdown"] == TOTAL_BREAKDOWN) & (cells["group"] == TOTAL_LABEL)
    totals = cells[is_total]
    groups = cells[~is_total & (cells["breakdown"] != TOTAL_BREAKDOWN)]
    table = ["source", "indicator", "year", "area_level", "area_code"]

    # Groups → total (one relation per table × breakdown).
    children = groups.assign(_key=groups["breakdown"])
    parents = (
        children[[*table, "_key"]]
        .drop_duplicates()
        .merge(totals[[*table, "_row"]], on=table, how="inner")
    )
    triplets.append(("groups", children, parents))

    # Crossed cells → their two margins.
    for crossed, margins in CROSSED.items():
        cross = groups[groups["breakdown"] == crossed]
        if cross.empty:
            continue
        parts = cross["group"].astype(str).str.split(CROSS_SEPARATOR, n=1, expand=True, regex=False)
        if parts.shape[1] < 2:
            continue
        for position, margin in enumerate(margins):
            kids = cross.assign(_key=margin + ":" + parts[position].astype(str))
            heads = groups[groups["breakdown"] == margin]
            heads = heads.assign(_key=margin + ":" + heads["group"].astype(str))
            triplets.append(
                ("crossed", kids, heads[[*table, "_key", "_row"]].drop_duplicates([*table, "_key"]))
            )

    # Areas: each child area → each of its parents, per breakdown × group.
    links = hierarchy.astype({"parent_code": str, "child_code": str})
    for (parent_level, child_level), pairs in links.groupby(["parent_level", "child_level"]):
        kids = cells[cells["area_level"] == child_level].merge(
            pairs[["child_code", "parent_code"]].rename(columns={"child_code": "area_code"}),
            on="area_code",
        )
        kids = kids.assign(_key=_area_key(parent_level, kids["parent_code"], kids))
        heads = cells[cells["area_level"] == parent_level]
        heads = heads.assign(_key=_area_key(parent_level, heads["area_code"], heads))
        triplets.append(
            (
                "areas",
                kids.assign(area_level="*", area_code="*"),
                heads.assign(area_level="*", area_code="*")[[*table, "_key", "_row"]],
            )
        )

    rows, cols, coefs, family, remainders, skipped = [], [], [], [], [], {}
    next_row, next_cell = 0, len(cells)
    weight = cells["weight"].to_numpy(float)
    for name, kids, heads in triplets:
        by = [*table, "_key"]
        if kids.empty or heads.empty:
            continue
        rid = kids.groupby(by, sort=False, dropna=False).ngroup().to_numpy()
        first = kids[by].assign(_rid=rid).drop_duplicates("_rid")
        matched = first.merge(heads[[*by, "_row"]], on=by, how="inner")
        parent_of = np.full(rid.max() + 1, -1, dtype=np.int64)
        parent_of[matched["_rid"].to_numpy()] = matched["_row"].to_numpy()
        keep = parent_of[rid] >= 0
        rid, kid_rows = rid[keep], kids["_row"].to_numpy()[keep]
        used = np.unique(rid)
        if used.size == 0:
            continue
        parent_rows = parent_of[used]
        parent_w = weight[parent_rows]
        child_w = np.bincount(rid, weights=weight[kid_rows], minlength=parent_of.size)[used]
        rest = parent_w - child_w
        ok = (rest >= -_REMAINDER_TOLERANCE * np.maximum(parent_w, 1.0)) & (parent_w > 0)
        if (~ok).any():
            skipped[name] = skipped.get(name, 0) + int((~ok).sum())
        local = np.full(parent_of.size, -1, dtype=np.int64)
        local[used[ok]] = next_row + np.arange(int(ok.sum()))
        kid_local = local[rid]
        keep_kid = kid_local >= 0
        rows += [kid_local[keep_kid], local[used[ok]]]
        cols += [kid_rows[keep_kid], parent_rows[ok]]
        scale = np.zeros(parent_of.size)
        scale[used] = parent_w
        with np.errstate(divide="ignore", invalid="ignore"):  # rows without weight: dropped
            kid_coef = -(weight[kid_rows] / scale[rid])[keep_kid]
        coefs += [kid_coef, np.ones(int(ok.sum()))]
        need_rest = ok & (rest > _REMAINDER_TOLERANCE * np.maximum(parent_w, 1.0))
        k = int(need_rest.sum())
        if k:
            rows.append(local[used[need_rest]])
            cols.append(next_cell + np.arange(k))
            coefs.append(-(rest[need_rest] / parent_w[need_rest]))
            remainders.append(
                pd.DataFrame(
                    {
                        "_parent": parent_rows[need_rest],
                        "weight": rest[need_rest],
                        "family": name,
                    }
                )
            )
            next_cell += k
        family += [name] * int(ok.sum())
        next_row += int(ok.sum())

    # Twins: cells with the same respondents, weight and value in the same area and wave.
    # Only indicators on the same outcome variable can be twins (the 16–24 or employed version
    # of an indicator): two unrelated indicators that happen to be 0 % among the same two
    # respondents are equal, but nothing ties them for an attacker.
    key = ["source", "variable", "year", "area_level", "area_code"]
    if "variable" not in cells.columns:
        cells["variable"] = cells["indicator"]
    twin = cells.assign(
        _w=np.round(weight, 6),
        _v=np.round(cells["value"].to_numpy(float), 12),
    )
    twin = twin[np.isfinite(twin["_v"]) & (twin["_w"] > 0)]
    dup = twin[twin.duplicated([*key, "_w", "_v"], keep=False)]
    dup = dup[dup.groupby([*key, "_w", "_v"])["indicator"].transform("nunique") > 1]
    if not dup.empty:
        gid = dup.groupby([*key, "_w", "_v"], sort=False).ngroup().to_numpy()
        order = np.argsort(gid, kind="stable")
        gid, members = gid[order], dup["_row"].to_numpy()[order]
        same = gid[1:] == gid[:-1]
        a, b = members[:-1][same], members[1:][same]
        k = a.size
        rows += [next_row + np.arange(k), next_row + np.arange(k)]
        cols += [a, b]
        coefs += [np.ones(k), -np.ones(k)]
        family += ["twins"] * k
        next_row += k

    rest = (
        pd.concat(remainders, ignore_index=True)
        if remainders
        else pd.DataFrame({"_parent": [], "weight": [], "family": []})
    )
    frame = cells.drop(columns=["_row", "variable"])
    if len(rest):
        parent = frame.iloc[rest["_parent"].astype(int).to_numpy()].reset_index(drop=True)
        extra = parent.assign(
            group=parent["group"].astype(str) + " (rest: " + rest["family"].to_numpy() + ")",
            value=np.nan,
            weight=rest["weight"].to_numpy(),
            primary=False,
            protect=0.0,
            remainder=True,
        )
        frame = pd.concat([frame, extra], ignore_index=True)
    if not coefs:  # no relation at all (e.g. one area without groups)
        coefs, rows, cols = [np.zeros(0)], [np.zeros(0, dtype=int)], [np.zeros(0, dtype=int)]
    matrix = sparse.csr_matrix(
        (np.concatenate(coefs), (np.concatenate(rows), np.concatenate(cols))),
        shape=(next_row, len(frame)),
    )
    return Cells(frame, matrix, np.asarray(family, dtype=object), skipped)


def hypercube_certifier(problem: Cells, hierarchy: pd.DataFrame | None = None):
    """A cheap certificate for kommune cells: the hypercube (τ-ARGUS's GHMITER idea).

    For a hidden kommune cell (k, g) of breakdown b, another group g' of b and a sibling kommune
    k' with the same parents (klynger and region), shifting the weighted numerators of (k, g)
    and (k', g') by +δ and of (k, g') and (k', g) by −δ keeps every sum: each kommune's groups,
    each parent's kommuner. If the four cells are hidden, none takes part in a twin or crossed
    relation, and each has room for δ within 0–1, the shifted table is one the attacker cannot
    rule out — a certificate that the cell can reach ``true ± δ / W``. Both directions are
    checked separately (with their own g' and k'). Returns ``certify(hidden, targets, need_low,
    need_high) -> (ok_low, ok_high)`` for :func:`analyse.stats.protection.protect`; cells it
    cannot settle are left to the LPs.
    """
    hierarchy = geography.area_hierarchy() if hierarchy is None else hierarchy
    frame = problem.frame
    m = len(frame)
    matrix = problem.relations.tocsc()
    special = np.isin(problem.families, ["twins", "crossed"])
    touched = np.zeros(m, dtype=bool)
    if special.any():
        touched[np.unique(problem.relations[np.flatnonzero(special)].indices)] = True
    links = hierarchy[hierarchy["child_level"] == "kommune"].astype({"child_code": str})
    signature = (
        links.sort_values(["parent_level", "parent_code"])
        .groupby("child_code")["parent_code"]
        .agg(lambda codes: "|".join(map(str, codes)))
    )
    is_cell = (
        (frame["area_level"] == "kommune").to_numpy()
        & ~frame["remainder"].to_numpy(bool)
        & (frame["breakdown"] != TOTAL_BREAKDOWN).to_numpy()
        & ~touched
    )
    del matrix
    base = frame.loc[is_cell, ["source", "indicator", "year", "area_code", "breakdown", "group"]]
    base = base.assign(
        cell=np.flatnonzero(is_cell),
        sig=base["area_code"].astype(str).map(signature).fillna("").to_numpy(),
        w=frame.loc[is_cell, "weight"].to_numpy(float),
        t=frame.loc[is_cell, "value"].to_numpy(float),
    )
    table = ["source", "indicator", "year", "breakdown"]

    def certify(hidden, targets, need_low, need_high):
        ok_low = np.zeros(targets.size, dtype=bool)
        ok_high = np.zeros(targets.size, dtype=bool)
        cells = base[hidden[base["cell"].to_numpy()]]
        if cells.empty:
            return ok_low, ok_high
        down = (cells["t"] * cells["w"]).to_numpy()  # numerator room downwards (to 0)
        up = ((1 - cells["t"]) * cells["w"]).to_numpy()  # and upwards (to W)
        cells = cells.assign(down=down, up=up)
        # Pairs (k, g, g') of hidden cells in the same kommune and breakdown.
        pairs = cells.merge(
            cells[[*table, "area_code", "group", "down", "up"]],
            on=[*table, "area_code"],
            suffixes=("", "_2"),
        )
        pairs = pairs[pairs["group"] != pairs["group_2"]]
        if pairs.empty:
            return ok_low, ok_high
        # As a partner k' for someone's upward shift of (·, g): (k', g) goes down, (k', g') up.
        pairs = pairs.assign(
            partner_up=np.minimum(pairs["down"], pairs["up_2"]),
            partner_down=np.minimum(pairs["up"], pairs["down_2"]),
        )
        key = [*table, "sig", "group", "group_2"]
        result = {}
        for side, own in (("partner_up", "down_2"), ("partner_down", "up_2")):
            ranked = pairs.sort_values(side, ascending=False)
            top = ranked.groupby(key, sort=False).head(2)
            first = top.groupby(key, sort=False).nth(0)[[*key, "area_code", side]]
            second = top.groupby(key, sort=False).nth(1)[[*key, side]]
            best = first.merge(second, on=key, how="left", suffixes=("", "_second"))
            merged = pairs[[*key, "cell", "area_code", own]].merge(
                best, on=key, how="left", suffixes=("", "_best")
            )
            partner = np.where(
                merged["area_code"].to_numpy() == merged["area_code_best"].to_numpy(),
                merged[f"{side}_second"].fillna(0.0).to_numpy(),
                merged[side].fillna(0.0).to_numpy(),
            )
            room = np.minimum(merged[own].to_numpy(), partner)
            result[side] = pd.Series(room).groupby(merged["cell"].to_numpy()).max()
        position = pd.Series(np.arange(targets.size), index=targets)
        for side, ok, need, sign in (
            ("partner_up", ok_high, need_high, 1.0),
            ("partner_down", ok_low, need_low, -1.0),
        ):
            room = result[side]
            room = room[room.index.isin(targets)]
            idx = position[room.index].to_numpy()
            cell = room.index.to_numpy()
            delta = (
                sign
                * (need[idx] - frame["value"].to_numpy(float)[cell])
                * frame["weight"].to_numpy(float)[cell]
            )
            # A small safety margin: the shift must fit with room to spare.
            ok[idx] = room.to_numpy() >= np.maximum(delta, 0.0) * (1 + 1e-9) + 1e-12
        return ok_low, ok_high

    def complete(hidden, targets, need_low, need_high):
        """Cells to hide so that each target gets a hypercube in each direction (cheapest by
        the weight of the shown cells it needs), and the targets served in both directions."""
        served = np.zeros(targets.size, dtype=bool)
        value = frame["value"].to_numpy(float)
        weight = frame["weight"].to_numpy(float)
        mine = base[base["cell"].isin(targets)]
        if mine.empty:
            return np.array([], dtype=int), served
        cells = base.assign(
            down=(base["t"] * base["w"]).to_numpy(),
            up=((1 - base["t"]) * base["w"]).to_numpy(),
            cost=np.where(hidden[base["cell"].to_numpy()], 0.0, base["w"].to_numpy()),
        )
        pairs = cells.merge(
            cells[[*table, "area_code", "group", "cell", "down", "up", "cost"]],
            on=[*table, "area_code"],
            suffixes=("", "_2"),
        )
        pairs = pairs[pairs["group"] != pairs["group_2"]]
        position = pd.Series(np.arange(targets.size), index=targets)
        hide = []
        ok = {}
        for direction, need in (("up", need_high), ("down", need_low)):
            t = mine.assign(
                delta=np.abs(need[position[mine["cell"]].to_numpy()] - value[mine["cell"]])
                * weight[mine["cell"]]
            )
            own_room = "down_2" if direction == "up" else "up_2"
            own = t[[*table, "sig", "area_code", "group", "cell", "delta"]].merge(
                pairs[[*table, "area_code", "group", "group_2", "cell_2", own_room, "cost_2"]],
                on=[*table, "area_code", "group"],
            )
            own = own[own[own_room] >= own["delta"]]
            # Partner k': (k', g) moves opposite to the target, (k', g') with it.
            first, second = ("down", "up_2") if direction == "up" else ("up", "down_2")
            partners = pairs[[*table, "sig", "group", "group_2", "area_code", "cell", "cell_2"]]
            partners = partners.assign(
                p_room=np.minimum(pairs[first], pairs[second]),
                p_cost=pairs["cost"] + pairs["cost_2"],
            ).rename(columns={"area_code": "k2", "cell": "p_cell", "cell_2": "p_cell_2"})
            combos = own.merge(partners, on=[*table, "sig", "group", "group_2"])
            combos = combos[
                (combos["k2"] != combos["area_code"]) & (combos["p_room"] >= combos["delta"])
            ]
            if combos.empty:
                ok[direction] = set()
                continue
            combos = combos.assign(total=combos["cost_2"] + combos["p_cost"])
            best = combos.sort_values(["total", "cell_2", "p_cell"]).drop_duplicates("cell")
            ok[direction] = set(best["cell"].tolist())
            for column in ("cell_2", "p_cell", "p_cell_2"):
                hide.append(best[column].to_numpy())
        both = ok["up"] & ok["down"]
        if both:
            served[position[sorted(both)].to_numpy()] = True
        chosen = np.unique(np.concatenate(hide)) if hide else np.array([], dtype=int)
        return chosen[~hidden[chosen]], served

    certify.complete = complete
    return certify


def _candidates(frame: pd.DataFrame) -> np.ndarray:
    """Cells the linked protection may hide: group cells of kommuner and sundhedsklynger (not
    totals, not regions or Denmark — the numbers a reader looks for first), never remainders.
    Where no such cell can protect an exposed one, the engine takes the nearest shown cell
    anyway (counted in the manifest)."""
    return (
        ~frame["remainder"].to_numpy(bool)
        & (frame["breakdown"] != TOTAL_BREAKDOWN).to_numpy()
        & frame["area_level"].isin(["kommune", "sundhedsklynge"]).to_numpy()
    )


def blocks(frame: pd.DataFrame) -> np.ndarray:
    """Local blocks for the LP certificates: per source × indicator × wave, the cells of one
    region (the region, its sundhedsklynger and kommuner). A kommune or klynge cell can usually
    be balanced inside its region without touching Denmark or the other regions. Denmark's cells
    have no block (−1): the whole component's LPs settle them."""
    regions = _parent_codes(frame)["region"]
    # The engine splits blocks further by connected table (an indicator with its twins).
    key = pd.DataFrame({"year": frame["year"].to_numpy(), "region": regions})
    ids = key.groupby(list(key.columns), sort=False, dropna=False).ngroup().to_numpy()
    return np.where(pd.isna(regions), -1, ids).astype(np.int64)


def _area_key(level: str, code: pd.Series, cells: pd.DataFrame) -> pd.Series:
    """The key of an area relation: parent area × breakdown × group."""
    return level + ":" + code.astype(str) + "|" + cells["breakdown"] + "|" + cells["group"]


def remainder_values(problem: Cells) -> np.ndarray:
    """The true remainder shares, solved from their relation (one remainder per relation)."""
    frame = problem.frame
    value = frame["value"].to_numpy(float).copy()
    rest = np.flatnonzero(frame["remainder"].to_numpy())
    if rest.size == 0:
        return value
    known = np.where(np.isnan(value), 0.0, value)
    residual = problem.relations @ known  # = −coef_rest × p_rest for the relation of each rest
    coo = problem.relations[:, rest].tocoo()
    value[rest[coo.col]] = np.clip(-residual[coo.row] / coo.data, 0.0, 1.0)
    return value


@dataclass(frozen=True)
class Protection:
    """Result of :func:`protect_cube`."""

    hidden: np.ndarray  # per published cell (survey then register rows), final hidden flag
    added: np.ndarray  # hidden by the linked protection on top of the per-table rules
    audit: pd.DataFrame
    summary: dict


#: Worker processes of :func:`protect_cube` (the tables are independent problems).
PROTECTION_WORKERS = 1
_PARTS: list = []


def protect_cube(
    cells: pd.DataFrame,
    hidden_before: np.ndarray,
    *,
    rules: disclosure.Rules | None = None,
    hierarchy: pd.DataFrame | None = None,
    progress: Callable[[str], None] | None = None,
    workers: int | None = None,
) -> Protection:
    """Complementary suppression over all relations until the LP audit passes.

    ``cells`` from :func:`cell_frame`; ``hidden_before``: the cells already hidden by the
    per-table rules (primary and complementary). Returns the final hidden flags per cell. The
    connected tables (an indicator with its twins, one wave) are independent problems: they are
    split into ``workers`` balanced parts solved in parallel processes (default
    :data:`PROTECTION_WORKERS`; 1: in this process).
    """
    from analyse.stats import protection as lp

    start = time.perf_counter()
    rules = rules or disclosure.Rules()
    workers = PROTECTION_WORKERS if workers is None else workers
    problem = relations(cells, hierarchy)
    frame = problem.frame
    m, published = len(frame), len(cells)
    value = remainder_values(problem)
    primary = np.zeros(m, dtype=bool)
    primary[:published] = frame["primary"].to_numpy()[:published]
    start_hidden = np.zeros(m, dtype=bool)
    start_hidden[:published] = hidden_before
    # Balanced parts of whole tables (largest first onto the lightest part).
    table_of = lp.tables(problem.relations)
    sizes = np.bincount(table_of)
    parts = max(1, min(workers, sizes.size))
    load = np.zeros(parts)
    part_of_table = np.zeros(sizes.size, dtype=int)
    for table in np.argsort(-sizes, kind="stable"):
        part_of_table[table] = int(np.argmin(load))
        load[part_of_table[table]] += sizes[table]
    part_of = part_of_table[table_of]
    global _PARTS
    _PARTS = []
    # Each relation lies within one table: its part is the part of any of its cells.
    nz = problem.relations.tocsr()
    first_cell = np.repeat(np.arange(nz.shape[0]), np.diff(nz.indptr))
    row_part = np.zeros(nz.shape[0], dtype=int)
    row_part[first_cell] = part_of[nz.indices]
    for part in range(parts):
        columns = np.flatnonzero(part_of == part)
        rows = np.flatnonzero(row_part == part)
        sub = Cells(
            frame.iloc[columns].reset_index(drop=True),
            nz[rows][:, columns].tocsr(),
            problem.families[rows],
            problem.skipped,
        )
        _PARTS.append(
            (sub, value[columns], primary[columns], start_hidden[columns], rules, hierarchy)
        )
    if parts > 1:
        import multiprocessing

        # "spawn", not "fork": a forked child of a process with thread pools (pyarrow, BLAS)
        # can deadlock. The parts travel pickled (a few MB each).
        with multiprocessing.get_context("spawn").Pool(parts) as pool:
            results = pool.map(_solve_part, _PARTS)
    else:
        results = [_solve_part(_PARTS[0], progress)]
    _PARTS = []
    hidden_all = np.zeros(m, dtype=bool)
    audits = []
    rounds = 0
    for part, (hidden_part, audit_part, rounds_part) in enumerate(results):
        columns = np.flatnonzero(part_of == part)
        hidden_all[columns] = hidden_part
        audits.append(
            audit_part.assign(cell=columns[audit_part["cell"].to_numpy()])
            if len(audit_part)
            else audit_part
        )
        rounds = max(rounds, rounds_part)
    audit = pd.concat(audits, ignore_index=True)
    hidden = hidden_all[:published]
    summary = {
        "protection_width": rules.protection_width,
        "cells": int(published),
        "relations": int(problem.relations.shape[0]),
        "relations_by_family": {
            str(k): int(v) for k, v in pd.Series(problem.families).value_counts().items()
        },
        "relations_skipped": problem.skipped,
        "primary": int(primary.sum()),
        "hidden_by_table_rules": int(hidden_before.sum()),
        "hidden_by_linked_protection": int((hidden & ~hidden_before).sum()),
        "exposed": int(audit["exposed"].sum()) if len(audit) else 0,
        "rounds": int(rounds),
        "workers": int(parts),
        "seconds": round(time.perf_counter() - start, 2),
    }
    return Protection(hidden, hidden & ~hidden_before, audit, summary)


def _solve_part(part, progress=None):
    """One part of :func:`protect_cube` (in a worker process)."""
    from analyse.stats import protection as lp

    problem, value, primary, start_hidden, rules, hierarchy = part
    frame = problem.frame
    m = len(frame)
    is_rest = frame["remainder"].to_numpy(bool)
    rounded = disclosure.round_share(np.nan_to_num(value), PUBLISHED_DECIMALS)
    shown_lower = np.clip(rounded - ROUNDING_HALF_WIDTH, 0.0, 1.0)
    shown_upper = np.clip(rounded + ROUNDING_HALF_WIDTH, 0.0, 1.0)
    protect = np.where(primary, frame["protect"].to_numpy(float), 0.0)
    weight = frame["weight"].to_numpy(float)
    cost = np.where(np.isfinite(weight), weight, 0.0)
    result = lp.protect(
        value,
        shown_lower,
        shown_upper,
        np.zeros(m),
        np.ones(m),
        problem.relations,
        primary,
        protect,
        protect,
        cost,
        candidates=_candidates(frame),
        always_hidden=is_rest | start_hidden,
        progress=progress,
        blocks=blocks(frame),
        local=frame["area_level"].isin(["kommune", "sundhedsklynge"]).to_numpy(),
        certify=hypercube_certifier(problem, hierarchy),
    )
    return result.hidden, result.audit, result.rounds


# ---------------------------------------------------------------------------------------------
# Applying the result to the published tables
# ---------------------------------------------------------------------------------------------

#: Value columns emptied in a cell that the linked protection hides.
_HIDDEN_COLUMNS = ("estimate", "se", "ci_low", "ci_high")
#: Columns rounded to the published precision (shares and their limits: 0.1 percentage point).
SHARE_COLUMNS = ("estimate", "ci_low", "ci_high", "diff", "prevalence", "baseline", "latest")
#: Standard errors are not shown; they are kept to 0.01 percentage point for the trend tests.
SE_DECIMALS = 4
COUNT_COLUMNS = ("n", "weighted_n", "population", "par_persons", "n_baseline", "n_latest")


def hide(table: pd.DataFrame, mask: np.ndarray) -> pd.DataFrame:
    """``table`` with the cells of ``mask`` hidden as complementary suppressions."""
    out = table.copy()
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return out
    columns = [
        c for c in out.columns if c in _HIDDEN_COLUMNS or c.startswith(("vs_region_", "vs_land_"))
    ]
    for column in columns:
        out[column] = out[column].astype("float64").where(~mask)
    for column in ("n", "weighted_n"):
        if column in out.columns:
            out[column] = out[column].astype("Int64").mask(mask)
    out["suppressed"] = out["suppressed"].to_numpy(bool) | mask
    reason = out["suppression_reason"].astype("string")
    out["suppression_reason"] = reason.mask(mask & reason.isna().to_numpy(), REASON_LINKED)
    return out


def round_published(table: pd.DataFrame, rules: disclosure.Rules | None = None) -> pd.DataFrame:
    """Round every published number to the precision a reader is shown.

    Shares, their interval limits and differences (columns in :data:`SHARE_COLUMNS`, the
    comparison columns and the inequality measures on the share scale) to
    :data:`PUBLISHED_DECIMALS`; standard errors to :data:`SE_DECIMALS`; counts to
    ``rules.count_base``. Integer columns such as ``year`` are left alone.
    """
    rules = rules or disclosure.Rules()
    out = table.copy()
    for column in out.columns:
        if column in COUNT_COLUMNS:
            values = pd.to_numeric(out[column]).astype("float64")
            rounded = disclosure.round_count(values.where(values >= 0), rules.count_base)
            dtype = "Int64" if pd.api.types.is_integer_dtype(out[column].dtype) else "float64"
            out[column] = pd.array(rounded.to_numpy(), dtype="Float64").astype(dtype)
            continue
        if not pd.api.types.is_float_dtype(out[column].dtype) or column in ("level", "df"):
            continue
        if column.endswith("_se") or column == "se":
            out[column] = out[column].round(SE_DECIMALS)
        elif column.endswith("_p") or column == "p":
            out[column] = out[column].round(4)
        else:
            # Half away from zero on the written value, as the text (disclosure.round_share).
            out[column] = disclosure.round_share(out[column], PUBLISHED_DECIMALS)
    return out


#: The inequality measures withheld when a group of their dimension is hidden.
_WITHHELD_TEXT = {
    "education": "vises ikke, fordi tallet sammen med de viste tal ville afsløre en skjult "
    "uddannelsesgruppe",
    "labour_market": "vises ikke, fordi tallet sammen med de viste tal ville afsløre en skjult "
    "gruppe for arbejdsmarkedstilknytning",
}


#: The reasons :func:`withhold_inequality` records (a brief says why a gap is not shown).
WITHHELD_REASONS = frozenset(_WITHHELD_TEXT.values())


def withhold_inequality(inequality: pd.DataFrame, estimates: pd.DataFrame) -> pd.DataFrame:
    """Empty D, R, SII, RII and every other measure combining groups where a group of the same
    indicator × wave × area × dimension is hidden in the published ``estimates``: together with
    the shown groups such a measure would narrow the hidden one (docs/methods.md §6)."""
    keys = ["indicator", "year", "area_level", "area_code"]
    if not {*keys, "dimension", "reason"} <= set(inequality.columns):
        return inequality  # an empty or stub table: nothing to withhold
    groups = estimates[estimates["breakdown"].isin(list(_WITHHELD_TEXT))]
    hidden = (
        groups.assign(_hidden=groups["suppressed"].astype(bool))
        .groupby([*keys, "breakdown"], observed=True)["_hidden"]
        .any()
        .rename("_withhold")
        .reset_index()
        .rename(columns={"breakdown": "dimension"})
    )
    hidden["area_code"] = hidden["area_code"].astype(str)
    out = inequality.copy()
    out["area_code"] = out["area_code"].astype(str)
    merged = out[[*keys, "dimension"]].merge(hidden, on=[*keys, "dimension"], how="left")
    # No published groups at all for the row (e.g. an area without the breakdown): withhold too.
    withhold = merged["_withhold"].fillna(True).to_numpy(bool).copy()
    reason = out["reason"].astype("string").fillna("")
    withhold &= (reason == "").to_numpy()
    keep = {"n", "n_groups", "population", "df", "level", "year"}
    measures = [
        c for c in out.columns if pd.api.types.is_float_dtype(out[c].dtype) and c not in keep
    ]
    for column in measures:
        out[column] = out[column].where(~withhold)
    for column in ("reference_group", "comparison_group"):
        if column in out.columns:
            out[column] = out[column].where(~withhold)
    text = out["dimension"].map(_WITHHELD_TEXT).fillna(_WITHHELD_TEXT["education"])
    out["reason"] = reason.where(~withhold, text).astype(out["reason"].dtype)
    out.attrs["withheld"] = int(withhold.sum())
    return out


def withhold_gap_change(gap_change: pd.DataFrame, inequality: pd.DataFrame) -> pd.DataFrame:
    """Empty the gap-change numbers of an area whose education measures are withheld in a wave
    the change uses (its baseline or latest wave): the change of a gap combines the same groups."""
    needed = {"sii_change", "indicator", "area_level", "area_code", "reason"}
    if gap_change.empty or not needed <= set(gap_change.columns):
        return gap_change
    if not {"dimension", "reason", "indicator", "area_level", "area_code"} <= set(
        inequality.columns
    ):
        return gap_change
    edu = inequality[inequality["dimension"] == "education"]
    withheld = edu[edu["reason"].astype("string").fillna("").str.startswith("vises ikke")]
    bad = set(
        zip(
            withheld["indicator"],
            withheld["area_level"],
            withheld["area_code"].astype(str),
            strict=False,
        )
    )
    out = gap_change.copy()
    rows = list(
        zip(out["indicator"], out["area_level"], out["area_code"].astype(str), strict=False)
    )
    mask = np.array([row in bad for row in rows], dtype=bool)
    if not mask.any():
        return out
    for column in out.columns:
        if pd.api.types.is_float_dtype(out[column].dtype) and column not in ("level",):
            out[column] = out[column].where(~mask)
    if "least_advantaged_worse_off" in out.columns:
        out["least_advantaged_worse_off"] = out["least_advantaged_worse_off"].mask(mask)
    for column in ("gap", "gap_trend"):
        if column in out.columns:
            out[column] = out[column].where(~mask, "kan ikke vurderes")
    out["reason"] = out["reason"].where(~mask, _WITHHELD_TEXT["education"])
    return out


def hide_comparisons(estimates: pd.DataFrame) -> pd.DataFrame:
    """Empty a cell's comparison with the rest of its region (or Denmark) where the region's
    (Denmark's) own cell is hidden: the cell, the difference and the weights give the parent."""
    out = estimates.copy()
    parents = _parent_codes(out)
    keys = ["indicator", "year", "breakdown", "group"]
    for prefix, level in (("vs_region_", "region"), ("vs_land_", "land")):
        columns = [c for c in out.columns if c.startswith(prefix)]
        if not columns:
            continue
        own = out[out["area_level"] == level]
        hidden = own.loc[own["suppressed"].astype(bool), [*keys, "area_code"]].astype(
            {"area_code": str}
        )
        probe = out[keys].assign(area_code=parents[level])
        is_hidden = (
            probe.merge(hidden.assign(_h=True), on=[*keys, "area_code"], how="left")["_h"]
            .fillna(False)
            .to_numpy(bool)
        )
        for column in columns:
            out[column] = out[column].where(~is_hidden)
    return out


def _parent_codes(table: pd.DataFrame) -> dict[str, np.ndarray]:
    """Per row: the code of its region (missing for Denmark) and of Denmark."""
    from analyse.cube.estimates import parent_table

    links = parent_table()
    region = links[links["parent_level"] == "region"].astype({"child_code": str})
    lookup = dict(
        zip(
            zip(region["child_level"], region["child_code"], strict=False),
            region["parent_code"],
            strict=False,
        )
    )
    code = table["area_code"].astype(str).to_numpy()
    level = table["area_level"].to_numpy()
    regions = np.array(
        [c if lv == "region" else lookup.get((lv, c)) for c, lv in zip(code, level, strict=False)],
        dtype=object,
    )
    return {"region": regions, "land": np.full(len(table), geography.COUNTRY_CODE, dtype=object)}


def hide_klynge_comparisons(comparisons: pd.DataFrame, estimates: pd.DataFrame) -> pd.DataFrame:
    """Drop a kommune's comparison with the rest of its klynge where the klynge's cell is
    hidden (the kommune, the difference and the weights would give the klynge)."""
    if comparisons.empty:
        return comparisons
    keys = ["indicator", "year", "breakdown", "group"]
    klynger = estimates[estimates["area_level"] == "sundhedsklynge"]
    hidden = klynger.loc[klynger["suppressed"].astype(bool), [*keys, "area_code"]]
    hidden = hidden.rename(columns={"area_code": "parent_code"}).astype({"parent_code": str})
    merged = comparisons.astype({"parent_code": str}).merge(
        hidden.assign(_h=True), on=[*keys, "parent_code"], how="left"
    )
    keep = ~merged["_h"].fillna(False).to_numpy(bool)
    return comparisons[keep].reset_index(drop=True)
