# %% [markdown]
# # {title}
#
# **Målsætning:** {objective_text}
#
# **Opfølgning:** {follow_up}
#
# Analysenotesbog for én målsætning i {agreement_title}. Hver celle kalder biblioteket
# `analyse` med sine valg synlige og viser, hvad det giver: data, andele efter en opdeling,
# trendmodellen, fremskrivningen og den sociale ulighed. Ret parametrene i første celle
# (område, indikator, opdeling, modelformel, ulighedsdimension) og kør notesbogen igen.
# Se docs/notebooks.md.

# %% tags=["parameters"]
agreement_id: str = "{agreement_id}"  # the agreement (see `analyse catalogue --list`)
objective_id: str = "{objective_id}"  # the målsætning (see `analyse catalogue`)
indicator_id: str = "{indicator_id}"  # one of the målsætning's indicators: {indicator_ids}
area_level: str = "{area_level}"  # land, region, sundhedsklynge or kommune
area_code: str = "{area_code}"  # area code (see `analyse areas`)
waves: str = ""  # survey waves, e.g. "2017,2021,2025"; empty: all comparable waves
breakdown: str = "sex"  # total, sex, age_group, sex_age, education, labour_market, or crossed e.g. "sex,education" (from microdata)
trend_formula: str = ""  # right-hand side of the trend model, e.g. "year + C(sex) + C(education)"; empty: the cube's model
dimension: str = "education"  # inequality dimension: education or labour_market
confidence_level: float = 0.95  # level of the shares' and the model's intervals
microdata: bool = {microdata}  # True: estimate from the respondents even where the cube holds the breakdown
internal: bool = False  # True: nothing suppressed, for work inside the unit only (banner; the batch refuses)
processed_dir: str = "data/processed"  # processed data (made by `analyse build`), relative to the project folder
raw_dir: str = "data/raw"  # the raw delivery (microdata), relative to the project folder

# %%
from analyse.cube import analysis
from analyse.publish import figures, tables
from analyse.run.paths import project_path

processed = project_path(processed_dir)
indicator = analysis.check_objective(agreement_id, objective_id, indicator_id)
respondents = analysis.survey_respondents(project_path(raw_dir), agreement_id, indicator_id)
tables.Banner(internal)

# %% [markdown]
# ## 1. Data for området
#
# Kubens tal for hele området pr. måling, eller med `microdata = True` svarpersonerne i
# området pr. måling (kun antal; ingen enkeltpersoner vises).

# %%
data = analysis.area_data(
    processed,
    agreement_id,
    indicator_id,
    area_level,
    area_code,
    waves=waves,
    respondents=respondents if microdata else None,
    internal=internal,
)
tables.data_table(data, internal=internal)

# %%
figures.data_figure(data, internal=internal)

# %% [markdown]
# ## 2. Andele efter opdeling
#
# Opdelinger, som kuben har, læses derfra; andre (fx `breakdown = "sex,education"`) estimeres
# fra mikrodata med samme metode og samme diskretionsregler.

# %%
estimates = analysis.estimates(
    processed,
    agreement_id,
    indicator_id,
    area_level,
    area_code,
    breakdown=breakdown,
    waves=waves,
    confidence_level=confidence_level,
    respondents=respondents,
    microdata=microdata,
    internal=internal,
)
tables.estimates_table(estimates, internal=internal)

# %%
figures.estimates_figure(estimates, internal=internal)

# %% [markdown]
# ## 3. Trendmodel
#
# Surveyvægtet logistisk regression over målingerne; ret `trend_formula` for at justere for
# andre forhold.

# %%
model = analysis.trend_model(
    respondents,
    agreement_id,
    indicator_id,
    area_level,
    area_code,
    formula=trend_formula,
    waves=waves,
    confidence_level=confidence_level,
    internal=internal,
    processed=processed,
)
tables.coefficients_table(model, internal=internal)

# %%
tables.trend_table(model, internal=internal)

# %%
figures.coefficients_figure(model, internal=internal)

# %% [markdown]
# ## 4. Fremskrivning til aftalens slutår

# %%
total = analysis.estimates(
    processed,
    agreement_id,
    indicator_id,
    area_level,
    area_code,
    breakdown="total",
    waves=waves,
    confidence_level=confidence_level,
)
projection = analysis.forecast(processed, agreement_id, indicator_id, area_level, area_code)
tables.forecast_table(projection, internal=internal)

# %%
figures.forecast_figure(total, projection, internal=internal)

# %% [markdown]
# ## 5. Social ulighed
#
# Forskellen mellem grupper efter `dimension` i hver måling: D og R, for uddannelse også SII
# og RII med intervaller.

# %%
gaps = analysis.inequality(
    processed, agreement_id, indicator_id, area_level, area_code, dimension=dimension, waves=waves
)
tables.inequality_table(gaps, internal=internal)

# %%
figures.inequality_figure(gaps, internal=internal)

# %% [markdown]
# ### Bliver forskellen mindre?

# %%
gap = analysis.gap_change(
    processed, agreement_id, indicator_id, area_level, area_code, dimension=dimension
)
tables.gap_table(gap, internal=internal)

# %%
figures.gap_figure(gap, internal=internal)
