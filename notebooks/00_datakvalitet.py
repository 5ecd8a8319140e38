# ---
# jupyter:
#   jupytext:
#     cell_metadata_filter: tags,-papermill,-execution
#     formats: ipynb,py:percent
#     notebook_metadata_filter: kernelspec,jupytext,-papermill
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Datakvalitet i leverancen
#
# Oversigt over en rå Sundhedsprofil-leverance: filer, svarpersoner pr. bølge og kommune,
# vægte, manglende svar, omkodninger og bløde problemer. Kun optællinger vises — ingen
# enkeltpersoner. Ret stien i første celle og kør notesbogen igen.

# %% tags=["parameters"]
raw_path: str = "data/raw"  # folder (one file per wave) or a single survey file, relative to the project folder
codebook_path: str = ""  # your own codebook YAML (relative to the project folder); empty: the shipped codebook
language: str = "da"  # output language: Danish only

# %%
from analyse.publish.quality import Quality
from analyse.run.paths import project_path

quality = Quality.open(project_path(raw_path), project_path(codebook_path) if codebook_path else None)
quality.overview()

# %%
quality.respondents()

# %%
quality.missingness()

# %%
quality.recodes()

# %%
quality.soft_problems()
