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
# # Vision: Flere sunde leveår via sundhedsfremme og forebyggelse
#
# Analysenotesbog for fysisk aktivitet, svær overvægt, alkohol, rygning og øvrige tobaks- og
# nikotinprodukter. Ret parametrene i første celle og kør notesbogen igen.

# %% tags=["parameters"]
agreement_id: str = "syddanmark-2024-2027"  # a shipped agreement (`analyse catalogue --list`) or the path of your own .yml, relative to the project folder
area_level: str = "kommune"  # land, region, sundhedsklynge or kommune
area_code: str = "461"  # area code (see `analyse areas`)
waves: str = ""  # survey waves to show, e.g. "2017,2021,2025"; empty: all waves in the data
confidence_level: float = 0.95  # level of the shares' intervals: 0.8, 0.9, 0.95 or 0.99 (changes and status: the build's 0.95)
processed_dir: str = "data/processed"  # processed data (made by `analyse build`), relative to the project folder
language: str = "da"  # output language: Danish only

# %%
from analyse.publish.brief import Brief
from analyse.run.paths import project_agreement, project_path

brief = Brief.open(
    project_path(processed_dir),
    project_agreement(agreement_id),
    area_level,
    area_code,
    waves=waves,
    confidence_level=confidence_level,
)
brief.header()

# %%
brief.vision("sundhedsfremme")

# %% [markdown]
# ## Fysisk aktivitet

# %%
brief.indicator_detail("physically_active")

# %% [markdown]
# ## Svær overvægt

# %%
brief.indicator_detail("severe_obesity")

# %% [markdown]
# ## Alkohol

# %%
brief.indicator_detail("alcohol_over_10")

# %% [markdown]
# ## Dagligrygning

# %%
brief.indicator_detail("daily_smoking")

# %% [markdown]
# ## Øvrige tobaks- og nikotinprodukter

# %%
brief.indicator_detail("other_nicotine_use")
