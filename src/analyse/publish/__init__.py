"""Publish layer: everything a reader sees.

Danish formatting and generated sentences, figures, the brief and the data-quality report as
HTML, and the leak check of what is about to be published.
"""
