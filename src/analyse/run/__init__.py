"""Run layer: the pipeline, the notebook batch (papermill/nbconvert, workers, manifests) and
the ``analyse`` command."""
