# Writes sundhedsprofil_2021_small.sas7bdat from the hand-made CSV next to this script.
# Run from this folder with:  Rscript make_sas7bdat.R
# pyreadstat (ReadStat) cannot write .sas7bdat files; haven::write_sas() can (ReadStat's
# experimental SAS writer, deprecated in haven but still working in haven 2.5.1).
library(haven)
small <- read.csv("sundhedsprofil_2021_small.csv", encoding = "UTF-8", fileEncoding = "UTF-8",
                  colClasses = c(lbnr = "character", kommunenavn = "character"),
                  na.strings = "")
suppressWarnings(write_sas(small, "sundhedsprofil_2021_small.sas7bdat"))
