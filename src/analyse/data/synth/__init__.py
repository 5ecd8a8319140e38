"""The embedded default: a seeded synthetic Sundhedsprofil raw delivery for all 98 kommuner.

Real Sundhedsprofil microdata cannot be shipped, so a fresh clone runs on data that behave like a
real delivery: the same design (a sample per kommune, stratified by kommune, calibration weights),
the same raw layout (Danish names, numeric codes, missing codes, items rather than indicators,
items absent in the waves where they were not asked) and the same published levels.

How it works (see ``docs/raw_format.md`` for the details and every assumption), one module per
step:

1. **Population** (:mod:`.population`). Each kommune's 16+ population is split into cells of
   sex × age group × education × labour market × herkomst from national templates, shifted by
   how urban the kommune is (university towns are younger and have more long education).
2. **Truth** (:mod:`.truth`). For every indicator and wave a person's probability is
   ``logit p = α(kommune, wave) + β(sex, age, education, labour market)``. The gradients β are
   plausible odds ratios, some calibrated to the published national gradients
   (``reference/data/synth_targets_national.csv``); the kommune × wave effects α are solved so
   that the *population* prevalence of every kommune equals its published danskernessundhed.dk
   value (``reference/data/danskernessundhed_kommune_indicators.csv``). Weighted estimates
   therefore reproduce the published figures within sampling error.
3. **Sample, response and weights** (:mod:`.sample`). About 2,000 invited per kommune and wave
   (fewer in the smallest kommuner), response 50–65 % that is lower for young men, short
   education and immigrants; the 2023 wave is a national sample of 25,000 without kommune
   stratification. Weights are made as a statistics office makes them: design weight × raking
   to the kommune's population margins (sex × age group, education, herkomst), bounded to
   0.2–5 × the design weight, not the true response probabilities.
4. **Items** (:mod:`.items`). Each person's answers are generated from their true indicator
   values (PSS-10 items that sum to a stress score on the right side of the cut-off, seven
   weekday alcohol counts, height and weight, …), with realistic missing codes, implausible
   values and unit slips. The generator keeps the truth — the indicator value the answers
   define — so tests can check the cleaning.
5. **Register tables and klynge status** (:mod:`.register`), and the files (:mod:`.delivery`).

Everything is driven by one seed: the same seed gives byte-identical files. Indicators added
after the first release draw from their own child streams of the seed, so the answers, weights
and register counts of the earlier indicators stay exactly as they were.
"""

from analyse.data.synth.delivery import (
    DEFAULT_FORMAT,
    DEFAULT_SEED,
    FORMATS,
    MARKER_FILE,
    Delivery,
    generate,
    write_delivery,
)
from analyse.data.synth.items import make_items
from analyse.data.synth.population import (
    KOMMUNE_WAVES,
    NATIONAL_WAVE,
    WAVES,
    Population,
    build_population,
    population_table,
)
from analyse.data.synth.register import register_tables, status_reports
from analyse.data.synth.sample import Wave, generate_wave, rake
from analyse.data.synth.truth import (
    GRADIENTS,
    INDICATORS,
    PUBLISHED,
    Gradient,
    Truth,
    calibrate,
    calibrated_model,
    national_mask,
    national_targets,
    published_kommune_targets,
    solve_intercepts,
)

__all__ = [
    "DEFAULT_FORMAT",
    "DEFAULT_SEED",
    "FORMATS",
    "GRADIENTS",
    "INDICATORS",
    "KOMMUNE_WAVES",
    "MARKER_FILE",
    "NATIONAL_WAVE",
    "PUBLISHED",
    "WAVES",
    "Delivery",
    "Gradient",
    "Population",
    "Truth",
    "Wave",
    "build_population",
    "calibrate",
    "calibrated_model",
    "generate",
    "generate_wave",
    "make_items",
    "national_mask",
    "national_targets",
    "population_table",
    "published_kommune_targets",
    "rake",
    "register_tables",
    "solve_intercepts",
    "status_reports",
    "write_delivery",
]
