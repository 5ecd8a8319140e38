"""Reference layer: what the project knows before any data arrive.

Geography (kommune → region → sundhedsklynge), the agreements as YAML (vision → målsætning →
indicators, scope, baseline), and population tables shipped as package data. Imports nothing of
the project but :mod:`analyse.errors`.
"""
