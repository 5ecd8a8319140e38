"""Confidence intervals for proportions from whole-population counts (register data).

Register indicators are whole-population counts, not a sample, so the interval expresses the
random variation of a proportion (Wilson score interval, as in public-health profiles such as
PHEindicatormethods' ``phe_proportion``), not sampling error.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from analyse.errors import ParameterError


def wilson_interval(
    numerator: np.ndarray, denominator: np.ndarray, level: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval of a proportion (Wilson 1927; Newcombe 1998, method 3).

    Equal to PHEindicatormethods ``phe_proportion(..., type = "standard")`` with its default
    Wilson method.
    """
    if not 0 < level < 1:
        raise ParameterError(f"level must be between 0 and 1, got {level}")
    x = np.asarray(numerator, dtype=float)
    n = np.asarray(denominator, dtype=float)
    z = stats.norm.ppf(0.5 + level / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = x / n
        centre = 2 * x + z**2
        spread = z * np.sqrt(z**2 + 4 * x * (1 - p))
        low = (centre - spread) / (2 * (n + z**2))
        high = (centre + spread) / (2 * (n + z**2))
    return np.clip(low, 0, 1), np.clip(high, 0, 1)
