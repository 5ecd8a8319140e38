"""Social inequality in health: measures for grouped data and for survey microdata.

- :mod:`.grouped` — PHEindicatormethods' linear SII/RII (``sii_grouped``) and the WHO
  healthequal measures (``simple_gap``, ``bgv``, ``paf``, ``concentration_index``,
  ``sii_logistic_grouped``) on one row per population group;
- :mod:`.survey` — ``sii_survey``: the survey-weighted logistic SII/RII on the weighted ridit with
  design-based standard errors (engine in :mod:`.tally`);
- :mod:`.gap` — ``gap_change``: does the gap narrow between two waves (rank × wave interaction).

``ridit`` (the relative rank) is shared by all of them. No function here knows an agreement or
the geography: the indicator, the dimension and the design come in as column names.
"""

from analyse.stats.inequality.common import ridit
from analyse.stats.inequality.gap import gap_change
from analyse.stats.inequality.grouped import (
    bgv,
    concentration_index,
    paf,
    sii_grouped,
    sii_logistic_grouped,
    simple_gap,
)
from analyse.stats.inequality.survey import sii_survey
from analyse.stats.inequality.tally import (
    EDUCATION_LEVELS,
    EDUCATION_MIN_AGE,
    GAP_NARROWER,
    GAP_UNCHANGED,
    GAP_UNKNOWN,
    GAP_WIDER,
    LABOUR_MARKET_LEVELS,
)

__all__ = [
    "EDUCATION_LEVELS",
    "EDUCATION_MIN_AGE",
    "GAP_NARROWER",
    "GAP_UNCHANGED",
    "GAP_UNKNOWN",
    "GAP_WIDER",
    "LABOUR_MARKET_LEVELS",
    "bgv",
    "concentration_index",
    "gap_change",
    "paf",
    "ridit",
    "sii_grouped",
    "sii_logistic_grouped",
    "sii_survey",
    "simple_gap",
]
