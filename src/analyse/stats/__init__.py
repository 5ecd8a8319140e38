"""Statistics layer: pure functions on frames and column names.

Survey estimation (equal to R's ``survey``), linearisation, standardisation, changes, trend
models and forecasts, inequality measures, gap change and the disclosure rules. No files, no
plots, no agreements and no geography lookups: whatever a function needs comes in as an
argument, so any series or microdata can be analysed without a shipped agreement.
"""
