"""The report section "The model against observations": modelled against reported seizures.

Shown when the data folder has ``seizures.csv`` and ``routes.calibration.calibrate`` exists. The
report's own cost model (calibrated or not) is run on every year of its calibration (or
2018-2021 and the held-out 2022) with the observation model, and compared with the seizures
each country reported: the fit table (from the cost model's ``[calibration]`` record when it
has one, calibrated and uncalibrated side by side), a log-log chart with every country
labelled, and the largest residuals named in words.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.ticker import FuncFormatter

from ._charts import _figure, label, save_png
from ._model import ReportOptions, ReportResults, optional_module
from ._sections import Section, table_block
from ._tables import TableSpec

__all__ = ["observations_analysis", "scatter_chart"]

_SPECS = {s.name: s for s in (
    TableSpec("observation_fit", "Fit to reported seizures",
              "Spearman rank correlation and mean absolute log error (MALE, natural log of kg "
              "+ 10) of modelled against reported seizures, on the fitted years and the "
              "held-out year, for the calibrated and the uncalibrated cost model.",
              (("split", "years", ""), ("model", "cost model", ""), ("n", "country-years", "d"),
               ("spearman", "Spearman", ".3f"), ("male", "MALE", ".3f"))),
    TableSpec("out_of_sample", "Out of sample: rolling origin",
              "Each held-out year predicted by a calibration of the years before it only (fit "
              "2018-2020, predict 2021; fit 2018-2021, predict 2022), side by side with "
              "simple predictors on the countries that reported in the year and the year "
              "before: the uncalibrated cost model, last year's seizures, the mean of the "
              "fitted years and the country's demand alone. Spearman rank correlation, mean "
              "absolute log error (MALE) and the rank partial correlation with the reported "
              "seizures given last year's (what the predictor adds to last year's figures). "
              "From the cost model's [calibration] record (routes calibrate).",
              (("holdout", "held out", "d"), ("fitted", "fitted on", ""),
               ("predictor", "predictor", ""), ("n", "countries", "d"),
               ("spearman", "Spearman", ".3f"), ("male", "MALE", ".3f"),
               ("partial", "partial | last year", ".3f"))),
    TableSpec("observations_by_country", "Reported and modelled seizures by country",
              "Means over the years shown, heroin-equivalent kg; residual: the mean over the "
              "years of ln(reported + 10) - ln(modelled + 10), positive where the model "
              "under-predicts.",
              (("iso3", "country", ""), ("observed_kg", "reported kg", ",.0f"),
               ("modelled_kg", "modelled kg", ",.0f"), ("log_residual", "residual", "+.2f"),
               ("years", "years reported", "d"))),
)}


def _years(text: str) -> list[int]:
    out: list[int] = []
    for part in str(text).split(","):
        a, _, b = part.strip().partition("-")
        if a.strip().isdigit():
            out += list(range(int(a), int(b or a) + 1))
    return out


def scatter_chart(df: pd.DataFrame, path: Path, *, title: str, offset: float = 10.0) -> Path:
    """Log-log scatter of reported (x) against modelled (y) seizures, every country labelled.

    ``df``: ``iso3, split, observed_kg, modelled_kg`` (one row per country-year); each
    country is labelled once, at its mean.
    """
    fig, ax = _figure(7.5, 6.5)
    d = df[df["observed_kg"].notna()]
    for split, color, name in (("fit", "#2b6c9e", "fitted years"),
                               ("holdout", "#b5432f", "held-out year")):
        s = d[d["split"] == split]
        if len(s):
            ax.plot(s["observed_kg"] + offset, s["modelled_kg"] + offset, "o", ms=4,
                    alpha=0.6, color=color, label=name)
    lo = float(min((d["observed_kg"].min(), d["modelled_kg"].min()), default=0.0)) + offset
    hi = float(max((d["observed_kg"].max(), d["modelled_kg"].max()), default=1.0)) + offset
    ax.plot([lo, hi], [lo, hi], "-", color="#888888", linewidth=0.8, label="modelled = reported")
    mean = d.groupby("iso3")[["observed_kg", "modelled_kg"]].mean()
    for i, (iso, r) in enumerate(mean.sort_values("observed_kg").iterrows()):
        # Labels of neighbouring points are staggered so that a cluster stays readable.
        ax.annotate(label(iso, 6), (r["observed_kg"] + offset, r["modelled_kg"] + offset),
                    fontsize=7, xytext=(3, 2 + 8 * (i % 3)), textcoords="offset points")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ticks = [k for k in (0, 10, 100, 1_000, 10_000, 100_000, 1_000_000) if k + offset <= hi * 2]
    for axis in (ax.xaxis, ax.yaxis):
        axis.set_ticks([k + offset for k in ticks], [f"{k:,}" for k in ticks])
        axis.set_minor_formatter(FuncFormatter(lambda v, _: ""))
    ax.set_xlabel(f"reported seizures, heroin-equivalent kg (axes: log of kg + {offset:g})")
    ax.set_ylabel("modelled seizures, heroin-equivalent kg")
    ax.set_title(label(title, 90), loc="left", fontsize=11)
    ax.legend(frameon=False, fontsize=8, loc="upper left")
    ax.grid(color="#eeeeee", linewidth=0.6)
    return save_png(fig, path)


def _residual_text(by: pd.DataFrame) -> str:
    under = by[by["log_residual"] > 0].sort_values("log_residual", ascending=False).head(4)
    over = by[by["log_residual"] < 0].sort_values("log_residual").head(4)

    def name(iso: str, r: Any) -> str:
        return (f"{iso} (reported {r['observed_kg']:,.0f} kg a year, modelled "
                f"{r['modelled_kg']:,.0f} kg)")

    parts = []
    if len(under):
        none = [i for i, r in under.iterrows() if r["modelled_kg"] < 1.0]
        parts.append("The model under-predicts most in " + "; ".join(
            name(i, r) for i, r in under.iterrows()) + ".")
        if none:
            parts.append(f"{', '.join(none)}: no modelled route passes (or the logit sends "
                         "almost nothing) there, so every reported seizure is missed; likely "
                         "reasons are routes the network lacks (sea and air shipments, the "
                         "Caspian-Black Sea links), opiates bound for markets without a figure, "
                         "or seizures of other origins.")
        parts.append("Where routes do pass, under-prediction points to enforcement stronger than "
                     "its crossing class assumes, to seizures inland of stock, or to a larger "
                     "share of the supply on that corridor.")
    if len(over):
        parts.append("It over-predicts most in " + "; ".join(
            name(i, r) for i, r in over.iterrows()) + ": the model sends more flow through "
                     "these countries, or checks it harder, than their seizures suggest "
                     "(weaker enforcement than the class assumes, or flows that avoid them).")
    return " ".join(parts)


def _oos_text(source: tuple[str, Any] | None) -> str:
    if source is None:
        return ("Out of sample, this cost model's calibration predicts each held-out year "
                "from the years before it only:")
    return (f"Out of sample: this report's cost model is not calibrated; the calibrated model "
            f"of its data folder ({source[0]}, fitted on {source[1]}) predicts each held-out "
            "year from the years before it only (its [calibration] record):")


def observations_analysis(options: ReportOptions) -> Any:
    """Return the optional analysis (see :mod:`routes.report._optional`), or None."""
    from ._sections import OptionalAnalysis

    mod = optional_module("calibrate")
    if mod is None or not hasattr(mod, "observed_vs_modelled"):
        return None

    def seizures_path(res: ReportResults) -> Path | None:
        if res.dataset is None or "crossings" not in res.dataset.files:
            return None
        p = Path(res.dataset.files["crossings"]).parent / "seizures.csv"
        return p if p.exists() else None

    def stage(res: ReportResults) -> None:
        from ..observed import read_seizures

        path = seizures_path(res)
        if path is None:
            return
        cal = res.cm.raw.get("calibration", {}) if isinstance(res.cm.raw, dict) else {}
        years = _years(cal.get("years", "2018-2021"))
        holdout = _years(cal.get("holdout", "2022"))
        exclude = list(cal.get("excluded", list(mod.DEFAULT_EXCLUDE)))
        sz = read_seizures(path)
        build = mod.year_builder(res.dataset, res.scenario)
        ovm = mod.observed_vs_modelled(build, res.cm, sz, years=years, holdout=holdout,
                                       exclude=exclude, engine=res.options.engine)
        res.tables["observations"] = ovm
        d = ovm[ovm["observed_kg"].notna()]
        by = d.groupby("iso3").agg(observed_kg=("observed_kg", "mean"),
                                   modelled_kg=("modelled_kg", "mean"),
                                   log_residual=("log_residual", "mean"),
                                   years=("year", "size"))
        res.tables["observations_by_country"] = by.sort_values("observed_kg",
                                                               ascending=False)
        rows = []
        for split in ("fit", "holdout"):
            for model in ("calibrated", "uncalibrated"):
                rec = cal.get(f"{split}_{model}")
                if isinstance(rec, dict):
                    rows.append({"split": split, "model": model, **rec})
        if not rows:   # an uncalibrated cost model: its own figures only
            for split in ("fit", "holdout"):
                s = d[d["split"] == split]
                if len(s) > 1:
                    rows.append({"split": split, "model": "this cost model", "n": len(s),
                                 "spearman": float(s["observed_kg"].corr(
                                     s["modelled_kg"], method="spearman")),
                                 "male": float(np.abs(s["log_residual"]).mean())})
        res.tables["observation_fit"] = pd.DataFrame(
            rows, columns=["split", "model", "n", "spearman", "male"])
        oos, oos_from = cal.get("out_of_sample"), None
        shipped = path.parent / "cost_model_calibrated.toml"
        if not oos and shipped.exists():
            # An uncalibrated report still shows how the calibrated model of its data folder
            # does out of sample (its [calibration] record), naming that file.
            import tomllib

            try:
                rec = tomllib.loads(shipped.read_text(encoding="utf-8")).get("calibration", {})
            except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
                rec = {}
            oos, oos_from = rec.get("out_of_sample"), (shipped.name, rec.get("years"))
        res.extra["out_of_sample_from"] = oos_from
        if isinstance(oos, list) and oos:
            res.tables["out_of_sample"] = pd.DataFrame(
                oos, columns=["holdout", "fitted", "predictor", "n", "spearman", "male",
                              "partial"])
        res.extra["observation_years"] = (years, holdout, exclude)

    def charts(res: ReportResults, out: Path) -> list[Path]:
        if "observations" not in res.tables:
            return []
        return [scatter_chart(res.tables["observations"], out / "chart_observations.png",
                              title="Reported against modelled seizures, by country and year")]

    def section(res: ReportResults) -> Section | None:
        if "observations" not in res.tables:
            return None   # no seizures file in the data folder
        years, holdout, exclude = res.extra["observation_years"]
        cal = res.cm.raw.get("calibration", {}) if isinstance(res.cm.raw, dict) else {}
        file = Path(res.cm.path).name if res.cm.path else "in memory"
        what = (f"This report uses the calibrated cost model {res.cm.name} ({file}, sha256 "
                f"{res.cm.source_hash[:12]}; fitted on {cal.get('years')}, "
                f"{cal.get('holdout')} held out)." if cal else
                f"This report uses the cost model {res.cm.name} ({file}, sha256 "
                f"{res.cm.source_hash[:12]}), not calibrated: `routes calibrate` fits one "
                "(data/geo/cost_model_calibrated.toml ships the 2018-2021 fit).")
        how = ("Expected seizures per country and year: the country's seizure rate, fitted "
               "to its reports (kg seized per kg of modelled flow; a hierarchical prior "
               "centred on UNODC's global interception rate of about a fifth), times the "
               "modelled flow through the country plus a background flow the routes do not "
               "carry. The rates never enter the route choice, which prices the cost "
               "model's own perceived detection." if cal else
               "Expected seizures per country and year: the flow through the country times "
               "detection where it is checked (posts entering the country, inland per km), "
               "times the share of the supply trafficked and UNODC's heroin-equivalent "
               "conversion.")
        intro = (f"{what} {how} Reported: UNODC Drug seizures (dataUNODC), heroin + morphine "
                 "+ opium / 10. Left out: seizures of stock, reporting gaps (a missing report "
                 "is not a zero)" + (f"; countries excluded: {', '.join(exclude)}"
                                     if exclude else "") + ".")
        by = res.tables["observations_by_country"]
        blocks: list[dict[str, Any]] = [
            table_block(res, "observation_fit", spec=_SPECS["observation_fit"], top=None),
            *([{"kind": "text", "text": _oos_text(res.extra.get("out_of_sample_from"))},
               table_block(res, "out_of_sample", spec=_SPECS["out_of_sample"], top=None)]
              if "out_of_sample" in res.tables else []),
            {"kind": "chart", "file": "chart_observations.png",
             "alt": "Reported against modelled seizures (log-log)"},
            {"kind": "text", "text": _residual_text(by)},
            table_block(res, "observations_by_country", spec=_SPECS["observations_by_country"],
                        frame=by.reset_index())]
        return {"id": "observations", "title": "The model against observations",
                "intro": intro, "blocks": blocks}

    return OptionalAnalysis("observations", stage, charts, section)
