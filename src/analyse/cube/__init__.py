"""Cube layer: the one place where agreements, geography and statistics meet.

Builds every processed table (estimates, changes, status, trends and forecasts, inequality,
register indicators, activity status) once per data version from the cleaned respondents, the
agreement and the geography, and caches them by checksums of inputs, code and rules.
"""
