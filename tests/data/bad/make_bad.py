"""Write the corpus of broken survey files listed in cases.csv (run from the repository root).

    python tests/data/bad/make_bad.py

Each file is the first four respondents of the hand-made fixture
``tests/data/formats/sundhedsprofil_2021_small.csv`` with exactly one defect. Only pandas and
pyreadstat are used (not the analyse package), so the corpus does not depend on the code it tests.
The files are committed; rerunning gives the same content (binary formats may differ in their
embedded timestamps).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pyreadstat

HERE = Path(__file__).parent
BASE = HERE.parent / "formats" / "sundhedsprofil_2021_small.csv"


def base() -> pd.DataFrame:
    return pd.read_csv(BASE, dtype={"lbnr": "str", "kommunenavn": "str"}).head(4)


def csv(name: str, table: pd.DataFrame) -> None:
    table.to_csv(HERE / name, index=False, lineterminator="\n")


def text(name: str, content: str | bytes) -> None:
    data = content.encode("utf-8") if isinstance(content, str) else content
    (HERE / name).write_bytes(data)


def main() -> None:
    good = base()
    good_csv = good.to_csv(index=False, lineterminator="\n")
    lines = good_csv.splitlines(keepends=True)

    # --- files that are empty, truncated or not what their extension says -------------------
    text("empty.csv", b"")
    text("blank_lines.csv", "\n\n  \n")
    text("header_only.csv", lines[0])
    text("truncated.csv", "".join(lines[:-1]) + lines[-1][:40])
    text("extra_field.csv", lines[0] + lines[1] + lines[2].rstrip("\n") + ",77\n" + lines[3])
    good.to_parquet(HERE / "parquet_named.csv", index=False)
    text("csv_named.parquet", good_csv)
    good.to_parquet(HERE / "_full.parquet", index=False)
    data = (HERE / "_full.parquet").read_bytes()
    (HERE / "_full.parquet").unlink()
    text("truncated.parquet", data[: len(data) // 2])
    text("csv_named.sav", good_csv)
    pyreadstat.write_sav(good, str(HERE / "_full.sav"))
    data = (HERE / "_full.sav").read_bytes()
    (HERE / "_full.sav").unlink()
    text("truncated.sav", data[: len(data) * 2 // 3])
    text("csv_named.dta", good_csv)
    pyreadstat.write_dta(good, str(HERE / "_full.dta"))
    data = (HERE / "_full.dta").read_bytes()
    (HERE / "_full.dta").unlink()
    text("truncated.dta", data[: len(data) - 7])
    pyreadstat.write_xport(good, str(HERE / "_full.xpt"))
    data = (HERE / "_full.xpt").read_bytes()
    (HERE / "_full.xpt").unlink()
    text("truncated.xpt", data[: len(data) - 100])
    text("csv_named.sas7bdat", good_csv)
    sas = (HERE.parent / "formats" / "sundhedsprofil_2021_small.sas7bdat").read_bytes()
    text("truncated.sas7bdat", sas[:12000])
    text("spreadsheet.xlsx", b"PK\x03\x04" + b"\x00" * 60)

    # --- columns -------------------------------------------------------------------------------
    csv("missing_id_column.csv", good.drop(columns=["lbnr"]))
    csv("two_id_columns.csv", good.assign(LBNR=good["lbnr"]))
    csv("text_in_number_column.csv", good.assign(alder=["34", "tredive", "67", "45"]))

    # --- design variables --------------------------------------------------------------------
    csv("missing_id_value.csv", good.assign(lbnr=["SP21-0000001", None, "SP21-0000003", "x"]))
    csv("duplicate_id.csv", good.assign(lbnr=["A1", "A2", "A1", "A4"]))
    csv("missing_year.csv", good.assign(aar=[2021, 2021, None, 2021]))
    csv("year_not_a_wave.csv", good.assign(aar=2019))
    csv("year_out_of_range.csv", good.assign(aar=[2021, 1899, 2021, 2021]))
    csv("unknown_kommune.csv", good.assign(kom=[461, 999, 851, 101]))
    csv("missing_kommune.csv", good.assign(kom=[461, None, 851, 101]))
    csv("missing_stratum.csv", good.assign(stratum=[461, 751, None, 101]))
    csv("missing_weight.csv", good.assign(vaegt_kal=[250.5, None, 199.0, 405.75]))
    csv("zero_weight.csv", good.assign(vaegt_kal=[250.5, 0.0, 199.0, -3.0]))
    csv("age_out_of_range.csv", good.assign(alder=[34, 12, 67, 45]))
    csv("missing_age.csv", good.assign(alder=[34, 22, None, 45]))
    csv("age_not_whole.csv", good.assign(alder=[34, 22.5, 67, 45]))

    # --- codes ---------------------------------------------------------------------------------
    csv("sex_code_outside_codebook.csv", good.assign(koen=[1, 2, 3, 2]))
    csv("pss_code_outside_codebook.csv", good.assign(pss03=[1, 5, 2, 2]))
    csv("education_code_outside_codebook.csv", good.assign(udd=[6, 2, 7, 4]))

    # --- folders -------------------------------------------------------------------------------
    folder = HERE / "folder_without_survey_files"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    (folder / "README.md").write_text("Rådata fra Sundhedsprofilen\n", encoding="utf-8")
    pd.DataFrame({"aar": [2024], "kommunekode": [101], "taeller": [5], "naevner": [9]}).to_csv(
        folder / "registerdata.csv", sep=";", index=False, lineterminator="\n"
    )
    folder = HERE / "folder_same_wave_twice"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    good.to_csv(folder / "sundhedsprofil_2021.csv", index=False, lineterminator="\n")
    good.to_csv(folder / "sundhedsprofil_2021_rettet.csv", index=False, lineterminator="\n")


if __name__ == "__main__":
    main()
