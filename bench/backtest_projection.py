"""Leave-last-wave-out backtest of the forecast on the published kommune series.

What is measured (issue 16): ``analyse.stats.forecast.forecast`` is fitted on the waves before
a held-out wave of the published danskernessundhed.dk kommune series
(``tests/data/danskernessundhed/kommune_indicators.csv``, 98 kommuner, see its SOURCE.md) and
scored on that wave, for three horizons (2010-2017 -> 2021, 2010-2021 -> 2025,
2013-2021 -> 2025) at an assumed effective sample size of 600, 1,000 and 1,500 per kommune and
wave (the scrape publishes no SEs: se = sqrt(p(1-p)/n_eff)). The held-out wave is removed before
the call, so nothing leaks; every variance, shrinkage factor and damping is re-estimated from the
fitted waves only. Only the seven indicators with all five waves are used (ensomhed and
fysisk_aktivitet have 2021 and 2025 only and enter the production-shape table).

Printed, overall and per indicator: coverage of the 80 % and 95 % prediction intervals of the
published held-out value; MAE (percentage points) against last value carried forward (LVCF) and
plain linear extrapolation (the former per-area WLS line); the Brier score of
``prob_desired_side`` against the constant 0.5 (0.25), its outcome being "the published held-out
value is better than the published last fitted value" (the baseline; ties count as not better);
the mean log predictive density (logit scale); a reliability table. Then the candidates the
automatic rule chose among, the calibration attempts of issue 16 (figures for the README), the
two-wave path and the production shape (all waves -> 2027, baseline 2021).

Targets (issue 16): 95 % coverage in 0.92-0.98 and 80 % in 0.75-0.85 overall for each horizon;
MAE no worse than LVCF overall; Brier score below 0.25. Figures are printed; nothing is asserted
(``tests/test_forecast.py`` holds the regression guard).

Run from the project folder (about a minute on 2 cores)::

    .venv/bin/python bench/backtest_projection.py
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import special, stats

from analyse.stats import forecast as fc

DATA = (
    Path(__file__).resolve().parent.parent
    / "tests"
    / "data"
    / "danskernessundhed"
    / "kommune_indicators.csv"
)
HORIZONS = [
    ((2010, 2013, 2017), 2021),
    ((2010, 2013, 2017, 2021), 2025),
    ((2013, 2017, 2021), 2025),
]
N_EFF = (600, 1000, 1500)
# Only selvvurderet_helbred is "higher = better" (SOURCE.md).
INCREASE = {"selvvurderet_helbred"}
TARGETS = {"cov95": (0.92, 0.98), "cov80": (0.75, 0.85)}
CANDIDATES = [
    ("level", "downweight"),
    ("level", "ignore"),
    ("level", "effect"),
    ("damped", "effect"),
    ("damped", "downweight"),
    ("damped", "ignore"),
    ("trend", "effect"),
    ("trend", "downweight"),
    ("trend", "ignore"),
]
RELIABILITY_BINS = (0, 0.1, 0.2, 0.35, 0.5, 0.65, 0.8, 0.9, 1.0)


def load(path: Path = DATA) -> pd.DataFrame:
    """The published kommune series as a tidy frame on the 0-1 scale (all nine indicators)."""
    raw = pd.read_csv(path)
    return pd.DataFrame(
        {
            "indicator": raw["indicator_id"],
            "area": raw["kommune_kode"],
            "year": raw["aar"],
            "estimate": raw["raw_value"] / 100,
        }
    )


def directions(data: pd.DataFrame) -> dict:
    return {i: "increase" if i in INCREASE else "decrease" for i in data["indicator"].unique()}


def five_wave(data: pd.DataFrame) -> pd.DataFrame:
    waves = data.groupby("indicator")["year"].nunique()
    return data[data["indicator"].isin(waves[waves == 5].index)]


def linear(fit: pd.DataFrame, target: int) -> pd.DataFrame:
    """Plain linear extrapolation: each area's own WLS line on the logit (known variances),
    with a per-area DerSimonian-Laird tau2, a normal quantile and no sampling error of the
    target wave -- the projection the cube used before issue 16 (``old_low``/``old_high``)."""
    wide = fit.assign(
        y=special.logit(fit["estimate"]),
        v=1 / (fit["estimate"] * (1 - fit["estimate"]) * fit["n"]),
    ).pivot_table(index=["indicator", "area"], columns="year", values=["y", "v"])
    y, v = wide["y"].to_numpy(), wide["v"].to_numpy()
    t = wide["y"].columns.to_numpy(float)
    w = 1 / v
    sw = w.sum(1)
    tbar = (w * t).sum(1) / sw
    dt = t - tbar[:, None]
    sxx = (w * dt**2).sum(1)
    a = (w * y).sum(1) / sw
    b = (w * dt * y).sum(1) / sxx
    q = (w * (y - a[:, None] - b[:, None] * dt) ** 2).sum(1)
    c = sw - (w**2).sum(1) / sw - (w**2 * dt**2).sum(1) / sxx
    tau2 = np.maximum(0, (q - (len(t) - 2)) / c)
    link = a + b * (target - tbar)
    sd = np.sqrt(1 / sw + (target - tbar) ** 2 / sxx + tau2)
    out = wide.index.to_frame(index=False)
    out["linear"] = special.expit(link)
    out["old_low"] = special.expit(link - 1.96 * sd)
    out["old_high"] = special.expit(link + 1.96 * sd)
    return out


def run(data, fit_years, target, n_eff, method="auto", covid="effect", baselines=True):
    """One backtest: forecast from ``fit_years`` to ``target``, joined with the outcome."""
    fit = data[data["year"].isin(fit_years)].assign(n=n_eff)
    out = fc.forecast(
        fit,
        se=None,
        n="n",
        group="indicator",
        direction=directions(data),
        baseline_year=max(fit_years),
        target_year=target,
        method=method,
        covid=covid,
    )
    actual = data[data["year"] == target][["indicator", "area", "estimate"]]
    out = out.merge(actual.rename(columns={"estimate": "actual"}), on=["indicator", "area"])
    if baselines:
        out = out.merge(linear(fit, target), on=["indicator", "area"])
    return out


def better(o: pd.DataFrame) -> np.ndarray:
    """Outcome of the probability: the published target value beats the published baseline."""
    return np.where(
        o["direction"] == "increase",
        o["actual"] > o["baseline_estimate"],
        o["actual"] < o["baseline_estimate"],
    )


def metrics(o: pd.DataFrame) -> dict:
    def inside(level):
        return (o["actual"] >= o[f"pi{level}_low"]) & (o["actual"] <= o[f"pi{level}_high"])

    z = (special.logit(o["actual"]) - special.logit(o["projected"])) / o["se_logit"]
    res = {
        "cov80": inside(80).mean(),
        "cov95": inside(95).mean(),
        "mae": 100 * (o["projected"] - o["actual"]).abs().mean(),
        "mae_lvcf": 100 * (o["last_estimate"] - o["actual"]).abs().mean(),
        "brier": ((o["prob_desired_side"] - better(o)) ** 2).mean(),
        "brier_half": ((0.5 - better(o)) ** 2).mean(),
        "logscore": (stats.t.logpdf(z, o["df"]) - np.log(o["se_logit"])).mean(),
        "n": len(o),
    }
    if "linear" in o:
        res["mae_linear"] = 100 * (o["linear"] - o["actual"]).abs().mean()
        res["cov95_old"] = ((o["actual"] >= o["old_low"]) & (o["actual"] <= o["old_high"])).mean()
    return res


def label(fit_years, target) -> str:
    return f"{fit_years[0]}-{fit_years[-1]}->{target}"


def reliability(o: pd.DataFrame, bins=RELIABILITY_BINS) -> pd.DataFrame:
    """Mean predicted probability against the observed share, in bins of the probability."""
    cut = pd.cut(o["prob_desired_side"], bins, include_lowest=True)
    return (
        pd.DataFrame({"bin": cut, "p": o["prob_desired_side"], "hit": better(o)})
        .groupby("bin", observed=False)
        .agg(n=("p", "size"), mean_prob=("p", "mean"), observed=("hit", "mean"))
    )


def target_check(table: pd.DataFrame) -> pd.DataFrame:
    """Each horizon x n_eff against the issue's targets."""
    out = table[["horizon", "n_eff", "cov80", "cov95"]].copy()
    for name, (low, high) in TARGETS.items():
        out[f"{name}_in_band"] = table[name].between(low, high)
    out["mae_le_lvcf"] = table["mae"] <= table["mae_lvcf"]
    out["brier_lt_0.25"] = table["brier"] < 0.25
    return out


# ---------------------------------------------------------------------------------------------
# Calibration attempts (issue 16, task 1): each uses only what is known at fit time.


def pit(o: pd.DataFrame, df=None) -> np.ndarray:
    """Predictive CDF at the published value (probability integral transform)."""
    z = (special.logit(o["actual"]) - special.logit(o["projected"])) / o["se_logit"]
    return stats.t.cdf(z, o["df"] if df is None else df)


def pit_scores(o: pd.DataFrame, cdf, prob, point) -> dict:
    return {
        "cov80": ((cdf >= 0.1) & (cdf <= 0.9)).mean(),
        "cov95": ((cdf >= 0.025) & (cdf <= 0.975)).mean(),
        "mae": 100 * np.abs(point - o["actual"]).mean(),
        "brier": ((prob - better(o)) ** 2).mean(),
    }


def national_z(data, fit_years, target) -> np.ndarray:
    """Realised national (group-level) errors of one fit, standardised by the model's SD."""
    o = run(data, fit_years, target, 1000, baselines=False)
    o = o.assign(ya=special.logit(o["actual"]), yh=special.logit(o["projected"]))
    g = o.groupby("indicator")
    return ((g["ya"].mean() - g["yh"].mean()) / np.sqrt(g["var_group"].mean())).to_numpy()


def calibration_attempts(data: pd.DataFrame) -> pd.DataFrame:
    """The alternatives tried to bring the intervals into the bands (n_eff 1,000).

    - ``t (chosen)``: the automatic method as shipped.
    - ``normal quantile``: the same variances with a normal instead of the t quantile (shows
      how much of the width is the t's; not honest with 7-14 df behind the national variance).
    - ``50/50 with level``: equal-weight mixture of the chosen method's and the no-trend
      (``level``, COVID ignored) predictive distributions (forecast combination, no weights
      fitted).
    - ``TSCV rescaled``: the group-level variance multiplied by the mean squared standardised
      national error of the rolling-origin forecasts that can be made *inside* the fitted
      waves (time-series cross-validation at fit time; 7-14 errors).
    - ``level + ignore``: the no-trend candidate that meets the coverage bands.
    """
    inner = {
        HORIZONS[0]: [((2010, 2013), 2017)],
        HORIZONS[1]: [((2010, 2013), 2017), ((2010, 2013, 2017), 2021)],
        HORIZONS[2]: [((2013, 2017), 2021)],
    }
    rows = []
    for fit_years, target in HORIZONS:
        h = label(fit_years, target)
        a = run(data, fit_years, target, 1000, baselines=False)
        d = run(data, fit_years, target, 1000, "level", "ignore", baselines=False)
        d = d.set_index(["indicator", "area"]).loc[a.set_index(["indicator", "area"]).index]
        d = d.reset_index()
        rows.append(
            {"attempt": "t (chosen)", "horizon": h}
            | pit_scores(a, pit(a), a["prob_desired_side"], a["projected"])
        )
        # normal quantile: the probability's standardised distance recovered from its t value
        sign = np.where(a["direction"] == "increase", 1.0, -1.0)
        dist = sign * (special.logit(a["projected"]) - special.logit(a["baseline_estimate"]))
        scale = dist / stats.t.ppf(a["prob_desired_side"], a["df"])
        rows.append(
            {"attempt": "normal quantile", "horizon": h}
            | pit_scores(a, pit(a, np.inf), stats.norm.cdf(dist / scale), a["projected"])
        )
        mix_point = special.expit(
            0.5 * special.logit(a["projected"]) + 0.5 * special.logit(d["projected"])
        )
        rows.append(
            {"attempt": "50/50 with level", "horizon": h}
            | pit_scores(
                a,
                0.5 * pit(a) + 0.5 * pit(d),
                0.5 * a["prob_desired_side"] + 0.5 * d["prob_desired_side"],
                mix_point,
            )
        )
        z = np.concatenate([national_z(data, *i) for i in inner[(fit_years, target)]])
        factor = float(np.mean(z**2))
        rescaled = a.assign(
            se_logit=np.sqrt(a["var_group"] * factor + a["var_area"] + a["var_sampling"])
        )
        rows.append(
            {"attempt": f"TSCV rescaled (x{factor:.2f} on {z.size})", "horizon": h}
            | pit_scores(a, pit(rescaled), a["prob_desired_side"], a["projected"])
        )
        rows.append(
            {"attempt": "level + ignore", "horizon": h}
            | pit_scores(d, pit(d), d["prob_desired_side"], d["projected"])
        )
    return pd.DataFrame(rows)


def variance_split(data: pd.DataFrame) -> pd.DataFrame:
    """Where the excess width is: national versus area part of the errors (n_eff 1,000).

    ``z_national_rms``: root mean square over the indicators of the realised national error
    divided by the model's group-level SD (1 if calibrated). ``z_area_sd``: SD of the kommune
    errors net of the national error, divided by the area + sampling SD (1 if calibrated).
    """
    rows = []
    for fit_years, target in HORIZONS:
        o = run(data, fit_years, target, 1000, baselines=False)
        o = o.assign(ya=special.logit(o["actual"]), yh=special.logit(o["projected"]))
        g = o.groupby("indicator")
        err = g["ya"].mean() - g["yh"].mean()
        z = err / np.sqrt(g["var_group"].mean())
        res = o["ya"] - o["yh"] - o["indicator"].map(err)
        za = res / np.sqrt(o["var_area"] + o["var_sampling"])
        rows.append(
            {
                "horizon": label(fit_years, target),
                "shock_var": o["shock_var"].iloc[0],
                "var_group": o["var_group"].mean(),
                "var_area": o["var_area"].mean(),
                "var_sampling": o["var_sampling"].mean(),
                "z_national_rms": float(np.sqrt((z**2).mean())),
                "z_area_sd": float(za.std()),
            }
        )
    return pd.DataFrame(rows)


def moderated_variance(data: pd.DataFrame) -> pd.DataFrame:
    """Is the pooled group-level variance hiding heterogeneity across indicators?

    Per-indicator REML shock variances (1 df each on 2010-2017) and Smyth's (2004) empirical
    Bayes check: the spread of their logs against the spread a chi-square(1) gives by chance
    (trigamma(1/2) = 4.93). A smaller spread means no evidence of heterogeneity, and the
    moderated prior variance exp(mean log s2 - E log chi2_1) exceeds the arithmetic pool.
    """
    fit = data[data["year"].isin(HORIZONS[0][0])].assign(n=1000)
    o = fc.forecast(
        fit,
        se=None,
        n="n",
        group="indicator",
        direction=directions(data),
        baseline_year=2017,
        target_year=2021,
        pool_groups=False,
    )
    s2 = o.groupby("indicator")["shock_var"].first()
    logs = np.log(s2)
    centred = logs - special.digamma(0.5) + np.log(0.5)
    return pd.DataFrame(
        {
            "per_indicator_shock_var": s2,
        }
    ).assign(
        log_var_spread=float(logs.var(ddof=1)),
        chance_spread=float(special.polygamma(1, 0.5)),
        moderated_s0=float(np.exp(centred.mean())),
        pooled_mean=float(s2.mean()),
    )


def main() -> None:
    start = time.time()
    pd.set_option("display.width", 220)
    pd.set_option("display.max_columns", 30)
    pd.set_option("display.precision", 3)
    data = load()
    five = five_wave(data)
    print(__doc__.split("\n\n")[0], "\n")

    runs = {}
    for fit_years, target in HORIZONS:
        for n_eff in N_EFF:
            runs[label(fit_years, target), n_eff] = run(five, fit_years, target, n_eff)
    rows = [{"horizon": h, "n_eff": n} | metrics(o) for (h, n), o in runs.items()]
    table = pd.DataFrame(rows)
    print(f"== method='auto' ({fc.AUTO_METHOD}, COVID wave: {fc.AUTO_COVID}) ==")
    print("overall per horizon and n_eff (coverage of the published held-out value; MAE in pp;")
    print("cov95_old = the former per-area projection's 95 % interval)")
    print(table.to_string(index=False))
    print("\nmean over horizons and n_eff:")
    print(table.drop(columns=["horizon", "n_eff"]).mean().to_frame().T.to_string(index=False))
    print(
        "\n== against the targets (95 % in 0.92-0.98, 80 % in 0.75-0.85, MAE <= LVCF, Brier < 0.25) =="
    )
    print(target_check(table).to_string(index=False))

    print("\n== per indicator ==")
    for (h, n), o in runs.items():
        per = pd.DataFrame([{"indicator": i} | metrics(g) for i, g in o.groupby("indicator")]).drop(
            columns=["n", "brier_half"]
        )
        print(f"-- {h}, n_eff {n:,}")
        print(per.to_string(index=False))

    print("\n== reliability of prob_desired_side (all horizons pooled) ==")
    for n in N_EFF:
        pooled = pd.concat([o for (h, nn), o in runs.items() if nn == n])
        print(f"-- n_eff = {n:,}")
        print(reliability(pooled).to_string())
    print("-- per horizon, n_eff = 1,000")
    for (h, n), o in runs.items():
        if n == 1000:
            print(f"   {h}")
            print(reliability(o).to_string())

    print("\n== candidates (n_eff = 1,000): the automatic rule was chosen among these ==")
    rows = []
    for method, covid in CANDIDATES:
        for fit_years, target in HORIZONS:
            o = run(five, fit_years, target, 1000, method, covid, baselines=False)
            rows.append(
                {"method": method, "covid": covid, "horizon": label(fit_years, target)} | metrics(o)
            )
    for (h, n), o in runs.items():
        if n == 1000:
            rows.append({"method": "auto", "covid": "effect", "horizon": h} | metrics(o))
    cand = pd.DataFrame(rows).drop(columns=["n"])
    cols = ["cov80", "cov95", "mae", "brier", "logscore"]
    summary = cand.groupby(["method", "covid"], sort=False)[cols].mean()
    in_band = cand["cov95"].between(*TARGETS["cov95"]) & cand["cov80"].between(*TARGETS["cov80"])
    summary["bands_every_horizon"] = (
        cand.assign(ok=in_band).groupby(["method", "covid"], sort=False)["ok"].all()
    )
    summary["mae_vs_lvcf"] = summary["mae"] - table.loc[table["n_eff"] == 1000, "mae_lvcf"].mean()
    print("mean over the three horizons, ranked by mean log score (a proper scoring rule):")
    print(summary.sort_values("logscore", ascending=False).to_string())
    # The rule that chose AUTO_METHOD: the COVID wave treated explicitly, every target met in every
    # horizon (both coverage bands, MAE <= LVCF, Brier < 0.25), then the best mean log score.
    lvcf = table[table["n_eff"] == 1000].set_index("horizon")["mae_lvcf"]
    cand["ok"] = (
        in_band
        & (cand["mae"] <= cand["horizon"].map(lvcf))
        & (cand["brier"] < 0.25)
        & cand["covid"].isin(["effect", "downweight"])
    )
    passing = cand[cand["method"] != "auto"].groupby(["method", "covid"], sort=False)["ok"].all()
    eligible = summary.loc[passing[passing].index]
    print("\ncandidates meeting every target in every horizon (COVID wave treated explicitly):")
    print(eligible.to_string() if len(eligible) else "  none")
    if len(eligible):
        best = eligible["logscore"].idxmax()
        print(f"chosen by the rule: {best}; method='auto' uses {(fc.AUTO_METHOD, fc.AUTO_COVID)}")

    print("\n== calibration attempts (n_eff = 1,000; only fit-time information) ==")
    print(calibration_attempts(five).to_string(index=False))
    print("\n-- where the width comes from (z = realised error / model SD; 1 = calibrated)")
    print(variance_split(five).to_string(index=False))
    print("\n-- per-indicator shock variances, 2010-2017 (Smyth's moderated-variance check)")
    print(moderated_variance(five).to_string())

    print("\n== two fitted waves: 2017, 2021 -> 2025 (auto = no trend, COVID down-weighted) ==")
    rows = []
    for n_eff in N_EFF:
        o = run(five, (2017, 2021), 2025, n_eff, baselines=False)
        rows.append({"n_eff": n_eff} | metrics(o))
    print(pd.DataFrame(rows).to_string(index=False))

    print("\n== production shape: all waves -> 2027, baseline 2021 (n_eff 1,000) ==")
    prod = fc.forecast(
        data.assign(n=1000),
        se=None,
        n="n",
        group="indicator",
        direction=directions(data),
        baseline_year=2021,
        target_year=2027,
    )
    print(
        prod.groupby("indicator")
        .agg(
            method=("method", "first"),
            waves=("n_waves", "max"),
            last=("last_estimate", "mean"),
            projected=("projected", "mean"),
            prob=("prob_desired_side", "mean"),
            damping=("trend_damping", "first"),
            df=("df", "mean"),
        )
        .assign(pi95_width=(prod["pi95_high"] - prod["pi95_low"]).groupby(prod["indicator"]).mean())
        .to_string()
    )
    print(f"\n(runtime {time.time() - start:.1f} s)")


if __name__ == "__main__":
    main()
