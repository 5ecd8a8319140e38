"""Data layer: reading any delivery and turning it into validated, canonical tables.

Readers (:mod:`~analyse.data.io`), codebooks, cleaning and derivation of the indicators,
validation with clear errors, register and klynge status tables, and the synthetic default
delivery. Never estimates anything: that is the statistics and cube layers' job.
"""
