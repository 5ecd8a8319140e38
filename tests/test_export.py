"""Tests of analyse.publish.export: a brief's numbers as CSV and Excel, read back and compared
with what the brief itself shows."""

from __future__ import annotations

import html
import io
import re

import openpyxl
import pandas as pd
import pytest

from analyse.errors import ParameterError
from analyse.publish import export, report
from analyse.publish.brief import Brief
from analyse.run.cli import main
from analyse.stats.disclosure import SUPPRESSED_MARK


@pytest.fixture(scope="module")
def odense(small_processed):
    return Brief.open(small_processed.processed, area_level="kommune", area_code="461")


@pytest.fixture(scope="module")
def written(small_processed, tmp_path_factory):
    out = tmp_path_factory.mktemp("export")
    paths = export.write_area(small_processed.processed, out, level="kommune", code="461")
    return {p.suffix: p for p in paths}


def _read_csv(path) -> pd.DataFrame:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM: Excel reads æ, ø, å
    return pd.read_csv(
        io.StringIO(raw.decode("utf-8-sig")), sep=";", decimal=",", dtype=str, keep_default_na=False
    )


def _number(text: str) -> float:
    return float(text.replace(",", "."))


def _status_rows(brief: Brief) -> dict[str, list[str]]:
    """The brief's status table as text cells per indicator label (what a reader sees)."""
    table = brief.status_table()
    rows = {}
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", table, flags=re.S):
        # The indicator is the row header (th), the numbers are td cells.
        cells = [
            html.unescape(re.sub(r"<[^>]+>", " ", c)).split()
            for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, flags=re.S)
        ]
        if len(cells) == 10:
            rows[" ".join(cells[0])] = [" ".join(c) for c in cells]
    return rows


def test_shown_number_reads_the_brief_s_formatting():
    assert export.shown_number("21,3") == 21.3
    assert export.shown_number("−1,3") == -1.3
    assert export.shown_number("+2,0 procentpoint") == 2.0
    assert export.shown_number("12.345") == 12345
    assert export.shown_number(SUPPRESSED_MARK) == SUPPRESSED_MARK
    # Rounded as the brief rounds (half up on the written value), not as Python's round.
    assert export.shown_number(report.pct_number(0.2135)) == 21.4


def test_csv_is_danish_and_holds_every_column(written):
    text = written[".csv"].read_bytes().decode("utf-8-sig")
    header = text.split("\r\n", 1)[0]
    assert header.split(";") == list(export.COLUMNS)
    assert re.search(r";\d+,\d;\d+,\d;\d+,\d;pct\.;\d+0;", text)  # decimal commas, rounded n
    assert "Odense Kommune;Region Syddanmark;" in text and "Hele landet" in text
    assert "\u2212" not in text  # ASCII minus: spreadsheets read negative numbers as numbers
    assert "daily_smoking" not in text and "Ryger dagligt" in text  # labels, not codes


def test_export_status_numbers_equal_the_brief_s_status_table(odense, written):
    table = _read_csv(written[".csv"])
    status = _status_rows(odense)
    agreement = odense.agreement
    compared = 0
    shown = [i for v in agreement.visions for o in v.objectives for i in o.indicators]
    assert set(table["Indikator"]) == {agreement.indicator(i).label for i in shown}
    for ind_id in shown:
        ind = agreement.indicator(ind_id)
        row = next(cells for label, cells in status.items() if label.startswith(ind.label))
        mine = table[(table["Indikator"] == ind.label) & (table["Tallet gælder"] == odense.name)]
        shares = mine[(mine["Mål"] == "Andel") & (mine["Opdeling"] == "I alt")]
        latest = shares.iloc[-1]
        # Latest value, its interval and year: "21,3 pct. (19,1–23,6) 2025" in the brief.
        if latest["Værdi"] == SUPPRESSED_MARK:
            assert row[1].startswith(SUPPRESSED_MARK)
        else:
            interval = f"({latest['Nedre grænse']}–{latest['Øvre grænse']})"
            assert row[1] == f"{latest['Værdi']} pct. {interval} {latest['År']}"
            compared += 1
        # Baseline value.
        base_year = (
            agreement.baseline_wave if ind.source == "survey" else agreement.period_start - 1
        )
        base = shares[shares["År"] == str(base_year)]
        expected = "Ikke målt" if base.empty else base.iloc[0]["Værdi"]
        # The baseline cell carries its year: "45,3 pct. 2021", "– 2021".
        assert row[2] == (
            expected if expected in (SUPPRESSED_MARK, "Ikke målt") else f"{expected} pct."
        ) + ("" if expected == "Ikke målt" else f" {base_year}")
        # Change and status.
        change = mine[mine["Mål"].str.startswith("Ændring")].iloc[0]
        if change["Værdi"] == SUPPRESSED_MARK:
            assert row[3] == SUPPRESSED_MARK
        else:
            value = _number(change["Værdi"])
            assert report.pp(value, in_points=True).replace(" procentpoint", "") in row[3]
        assert change["Vurdering"] in row[5]
        # Comparisons with the rest of the region and of Denmark.
        for column, rest in ((8, "resten af Region Syddanmark"), (9, "resten af landet")):
            vs = mine[mine["Mål"] == f"Forskel til {rest}"]
            if ind.source == "register":
                assert vs.empty and row[column] == "i.r."
                continue
            vs = vs.iloc[0]
            if vs["Værdi"] == SUPPRESSED_MARK:
                assert row[column] == "–"
            else:
                shown = report.pp(_number(vs["Værdi"]) / 100, unit=False)
                assert row[column] == f"{vs['Vurdering']} {shown} pp"
    assert compared >= 5


def test_export_never_shows_a_share_the_brief_does_not(odense, written):
    # Every exported share is in the brief's figure texts, rounded the same way.
    page = html.unescape(
        odense.header() + odense.status_table() + odense.visions() + odense.methods()
    )
    table = _read_csv(written[".csv"])
    shares = table[(table["Mål"] == "Andel") & (table["Opdeling"] == "I alt")]
    shown = shares[shares["Værdi"] != SUPPRESSED_MARK]
    assert len(shown) > 20
    for row in shown.itertuples():
        assert f"{row.Værdi} pct. i {row.År}" in page, (row.Indikator, row._2, row.År)
    hidden = shares[shares["Værdi"] == SUPPRESSED_MARK]
    assert len(hidden) > 0
    assert (hidden["Nedre grænse"] == "").all() and (hidden["Antal svar (afrundet)"] == "").all()
    assert (hidden["Skjult"] == export.HIDDEN_TEXT).all()
    # Counts only as published: rounded to 10, never an exact small count.
    counts = table["Antal svar (afrundet)"]
    assert counts[counts != ""].astype(int).mod(10).eq(0).all()


def test_xlsx_holds_the_same_numbers_as_numbers(written):
    table = _read_csv(written[".csv"])
    book = openpyxl.load_workbook(written[".xlsx"])
    assert book.sheetnames == ["Tal", "Om tallene"]
    sheet = book["Tal"]
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == list(export.COLUMNS)
    assert len(rows) - 1 == len(table)
    value_at = export.COLUMNS.index("Værdi")
    for cells, (_, row) in zip(rows[1:], table.iterrows(), strict=True):
        value = cells[value_at]
        if row["Værdi"] in ("", SUPPRESSED_MARK):
            assert value in (None, SUPPRESSED_MARK)
        else:
            assert isinstance(value, float | int) and value == pytest.approx(_number(row["Værdi"]))
    notes = " ".join(str(r[0]) for r in book["Om tallene"].iter_rows(values_only=True))
    assert "95 pct.-konfidensintervaller" in notes and "Syntetiske data" in notes


def test_export_follows_the_confidence_level(small_processed, tmp_path):
    narrow = export.write_area(
        small_processed.processed, tmp_path, level="region", code="1083", confidence_level=0.8,
        formats=["csv"],
    )[0]  # fmt: skip
    wide = export.write_area(
        small_processed.processed, tmp_path / "w", level="region", code="1083", formats=["csv"]
    )[0]
    a, b = _read_csv(narrow), _read_csv(wide)
    shown = (a["Mål"] == "Andel") & (a["Værdi"] != SUPPRESSED_MARK)
    width_a = a.loc[shown, "Øvre grænse"].map(_number) - a.loc[shown, "Nedre grænse"].map(_number)
    width_b = b.loc[shown, "Øvre grænse"].map(_number) - b.loc[shown, "Nedre grænse"].map(_number)
    assert (width_a <= width_b).all() and (width_a < width_b).any()
    assert a["Værdi"].equals(b["Værdi"])


def test_cli_export_writes_one_file_per_covered_area_of_a_level(small_processed, tmp_path, capsys):
    code = main(
        ["export", "--processed", str(small_processed.processed), "--out", str(tmp_path),
         "--level", "region", "--format", "csv"]
    )  # fmt: skip
    assert code == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "region-hovedstaden.csv",
        "region-midtjylland.csv",
        "region-nordjylland.csv",
        "region-sjaelland.csv",
        "region-syddanmark.csv",
    ]
    assert "Done: 5 file(s)" in capsys.readouterr().out


def test_export_rejects_unknown_formats_and_areas(small_processed, tmp_path):
    with pytest.raises(ParameterError, match="unknown export format"):
        export.write_area(small_processed.processed, tmp_path, formats=["pdf"])
    with pytest.raises(ParameterError, match="unknown area code"):
        export.export_areas(small_processed.processed, tmp_path, level="kommune", areas=["999"])


def test_exports_hold_only_values_on_the_shown_grid(written):
    """Issue #14: every exported number is on the grid the brief shows: percentages and
    percentage points to 1 decimal (value × 10 whole), probabilities whole per cent, counts
    multiples of 10; no standard errors or exact counts."""
    csv = _read_csv(written[".csv"])
    book = openpyxl.load_workbook(written[".xlsx"], read_only=True)
    width = len(export.COLUMNS)
    rows = [(*r, *([None] * (width - len(r)))) for r in book["Tal"].iter_rows(values_only=True)]
    xlsx = pd.DataFrame(rows[1:], columns=rows[0])
    for frame in (csv, xlsx):
        assert list(frame.columns) == list(export.COLUMNS)  # no se, cases, population, ...
        checked = 0
        for record in frame.to_dict("records"):
            whole = "Sandsynlighed" in str(record["Mål"])
            for column in export.NUMBER_COLUMNS:
                value = record[column]
                if value in ("", None, SUPPRESSED_MARK) or pd.isna(value):
                    continue
                scaled = (_number(value) if isinstance(value, str) else value) * (
                    1 if whole else 10
                )
                assert abs(scaled - round(scaled)) < 1e-9, (column, record)
                checked += 1
            count = record["Antal svar (afrundet)"]
            if count not in ("", None) and not pd.isna(count):
                assert int(count) % 10 == 0, record
        assert checked > 50
