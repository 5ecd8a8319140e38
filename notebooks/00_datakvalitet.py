# ---
# jupyter:
#   jupytext:
#     cell_metadata_filter: tags,-papermill,-execution
#     formats: ipynb,py:percent
#     notebook_metadata_filter: kernelspec,jupytext,-papermill
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
raw_path = "data/raw"  # folder (one file per wave) or a single survey file
codebook_path = ""  # your own codebook YAML; empty = the shipped Sundhedsprofil codebook
language = "da"  # output language: Danish only

# %%
from analyse.publish.quality import Quality

quality = Quality.open(raw_path, codebook_path)
quality.overview()

# %%
quality.respondents()

# %%
quality.missingness()

# %%
quality.recodes()

# %%
quality.soft_problems()
