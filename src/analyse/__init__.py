"""analyse — follow-up of the Danish Sundhedsaftale from Sundhedsprofil survey data.

The library does the statistics (design-based estimation, trends, inequality, disclosure
control); the notebooks in ``notebooks/`` narrate the results in Danish.
"""

from importlib.metadata import PackageNotFoundError, version

from analyse.errors import DataValidationError, ParameterError

try:
    __version__ = version("analyse")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0+unknown"

__all__ = ["DataValidationError", "ParameterError", "__version__"]
