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

# %% tags=["parameters"]
agreement_id: str = "syddanmark-2024-2027"  # a shipped agreement (`analyse catalogue --list`) or the path of your own .yml, relative to the project folder
area_level: str = "kommune"  # land, region, sundhedsklynge or kommune
area_code: str = "461"  # area code (see `analyse areas`): "DK", "1083", a klynge code or a kommune code
waves: str = ""  # survey waves to show, e.g. "2013,2017,2021,2025"; empty: all waves in the data
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

# %% [markdown]
# Tabellen viser for hver målsætning i aftalen den seneste måling, udviklingen siden basisåret,
# om udviklingen går i den ønskede retning, uligheden mellem uddannelsesgrupper og området
# sammenlignet med resten af de større områder, det ligger i (klynge, region, landet).

# %%
brief.status_table()

# %% [markdown]
# Hvor en måling er skjult eller meget usikker (små kommuner, unge), vises et modelbaseret skøn
# ved siden af — altid mærket; status, ændringer og udvikling bygger kun på målingerne.

# %%
brief.model_estimates()

# %% [markdown]
# Afsnittene nedenfor gennemgår visionerne én for én. Teksterne er skrevet ud fra tallene;
# figurerne viser området og de områder, det sammenlignes med, over tid med usikkerhed, og forskellen
# mellem uddannelsesgrupper i den seneste måling.

# %%
brief.visions()

# %%
brief.methods()
