"""``routes calibrate``: fit the least-known cost-model parameters to reported seizures."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
from pathlib import Path
from typing import Any

from .._errors import RoutesError
from .._version import __version__
from ..calibration._calib_toml import calibrated_text
from ..calibration._holdout import rolling_origin
from ..calibration.calibrate import (
    DEFAULT_EXCLUDE,
    DEFAULT_OFFSET_KG,
    ROUTE_PARAMETERS,
    Workspace,
    calibrate,
    year_builder,
)
from ..geodata import Dataset, coverage
from ..io import atomic_write_text
from ..observed import read_seizures
from ._common import (
    _cost_model_path,
    add_data_args,
    add_engine_arg,
    add_output_args,
    load_inputs,
    print_table,
    print_written,
    write_table,
)

#: First year any network of the shipped data covers.
FIRST_YEAR = 2018


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register the subcommand."""
    p = sub.add_parser(
        "calibrate", help="fit seizure rates and route-choice parameters to reported seizures",
        description="Confront the model with the seizures countries report to UNODC "
                    "(data/geo/seizures.csv, heroin equivalents). Two kinds of parameter, "
                    "kept apart: a seizure rate per country (kg seized per kg of modelled "
                    "flow through it; hierarchical prior centred on UNODC's global "
                    "interception rate; profiled out) and three route-choice parameters "
                    "(hours_per_risk, logit_theta, hours_per_km; priors in the cost model), "
                    "fitted on the fitted years only by a grid and seeded Nelder-Mead "
                    "starts; 90%% intervals from the posterior on a grid. Then a rolling-"
                    "origin test: for each --rolling year h, fit the years before it and "
                    "predict h, side by side with last year's seizures, the mean of the "
                    "fitted years and demand alone. Writes OUT/calibration_parameters.csv, "
                    "seizure_rates.csv, fit.csv, fit_statistics.csv, out_of_sample.csv, "
                    "calibration.json and OUT/cost_model_calibrated.toml (elsewhere with "
                    "--write-cost-model).")
    add_data_args(p)
    g = p.add_argument_group("calibration")
    g.add_argument("--seizures", type=Path, default=None, metavar="FILE",
                   help="reported seizures (default: DIR/seizures.csv)")
    g.add_argument("--years", default="2018-2021", metavar="A-B",
                   help="fitted years (default: %(default)s)")
    g.add_argument("--holdout", default="2022", metavar="A[-B]",
                   help="held-out years, never seen by the fit ('none' for none; "
                        "default: %(default)s)")
    g.add_argument("--rolling", default="2021,2022", metavar="Y[,Y]",
                   help="rolling-origin test years: each is predicted by a fit of the years "
                        "from the first of --years up to the year before ('none' to skip; "
                        "default: %(default)s)")
    g.add_argument("--free", default=None, metavar="P1,P2",
                   help="route parameters to fit (default: all): " + ", ".join(ROUTE_PARAMETERS))
    g.add_argument("--exclude", default=",".join(DEFAULT_EXCLUDE), metavar="ISO3,...",
                   help="countries left out of fit and scores (default: %(default)s: its "
                        "heroin comes mostly from Myanmar)")
    g.add_argument("--starts", type=int, default=2, metavar="N",
                   help="seeded random starts besides the grid's and the prior's centre "
                        "(default: %(default)s)")
    g.add_argument("--grid", type=int, default=4, metavar="N",
                   help="search grid points per parameter (default: %(default)s)")
    g.add_argument("--posterior-grid", type=int, default=9, metavar="N",
                   help="posterior grid points per parameter (default: %(default)s)")
    g.add_argument("--seed", type=int, default=0, help="seed (default: %(default)s)")
    g.add_argument("--offset-kg", type=float, default=DEFAULT_OFFSET_KG, metavar="KG",
                   help="offset in ln(kg + offset) (default: %(default)g)")
    add_engine_arg(g)
    g.add_argument("--write-cost-model", type=Path, default=None, metavar="PATH",
                   help="also write the calibrated cost model here (default: only "
                        "OUT/cost_model_calibrated.toml; the shipped "
                        "data/geo/cost_model_calibrated.toml changes only when asked)")
    add_output_args(p, default_sub="calibration")
    return p


def _years(text: str, what: str) -> list[int]:
    if text.strip().lower() in ("", "none"):
        return []
    out: list[int] = []
    try:
        for part in text.split(","):
            a, _, b = part.strip().partition("-")
            out += list(range(int(a), int(b or a) + 1))
    except ValueError:
        raise RoutesError(f"--{what} must look like 2018-2021 or 2022, got {text!r}") from None
    return out


def _coverage(ds: Dataset) -> tuple[int, int]:
    """Years the dated network covers (:func:`routes.geodata.coverage`)."""
    first, last = coverage(ds)
    return (first.year if first else FIRST_YEAR,
            last.year if last else dt.date.today().year)


def _jsonable(x: Any) -> Any:
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_jsonable(v) for v in x]
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x.item() if hasattr(x, "item") else x


def rates_above_one(rates: Any) -> list[str]:
    """Return notes on the countries whose fitted seizure rate is above 1.

    A rate is kg seized per kg of *modelled* flow through the country, so a rate above 1
    cannot be a share of what passes: the country seizes more than the model routes through
    it. Either the model carries too little there (a route or market it lacks, a cost that
    steers traffic away) or the country's seizures include consignments bound for markets
    the network lacks. The note names the country, its rate and interval and the modelled
    flow, so the gap is read as the model's and not as a detection figure.
    """
    if rates is None or len(rates) == 0 or "rate" not in rates:
        return []
    over = rates[(rates["n_obs"] > 0) & (rates["rate"] > 1.0)].sort_values("rate",
                                                                              ascending=False)
    out = []
    for iso3, r in over.iterrows():
        out.append(f"note: {iso3} seizes more than the model routes through it (rate "
                   f"{r['rate']:.3g}, 90% {r['p05']:.3g}-{r['p95']:.3g}, modelled flow "
                   f"{r['flow_kg']:,.0f} kg): the model under-routes {iso3}, or its seizures "
                   f"include consignments bound for markets the network lacks")
    return out


def run(args: argparse.Namespace) -> int:
    """Run the subcommand; return the exit code."""
    years = _years(args.years, "years")
    holdout = _years(args.holdout, "holdout")
    rolling = _years(args.rolling, "rolling")
    ds, cm, sc = load_inputs(args)
    first, last = _coverage(ds)
    path = args.seizures or Path(args.data) / "seizures.csv"
    countries = {str(c) for c in ds.countries["iso3"]} if "iso3" in ds.countries else None
    seizures = read_seizures(path, countries=countries, years=(first, last))
    if not years:
        raise RoutesError("--years must name at least one year")
    for y in years + holdout + rolling:
        if not first <= y <= last:
            raise RoutesError(f"year {y} is outside the network's dates ({first}-{last})")
    for h in rolling:
        if h <= min(years):
            raise RoutesError(f"--rolling {h}: no fitted year before it (first of --years is "
                              f"{min(years)})")
    free = [s.strip() for s in args.free.split(",")] if args.free else None
    exclude = [s.strip() for s in args.exclude.split(",") if s.strip()]
    build = year_builder(ds, sc)
    every = sorted(set(years) | set(holdout) | set(rolling) | {y - 1 for y in rolling})
    ws = Workspace(build, cm, [y for y in every if y >= min(years)], exclude=exclude,
                   engine=args.engine)
    opts = {"free": free, "starts": args.starts, "grid": args.grid,
            "posterior_grid": args.posterior_grid, "seed": args.seed,
            "offset": args.offset_kg}
    res = calibrate(build, cm, seizures, years=years, holdout=holdout, workspace=ws, **opts)
    info = res.info
    oos = None
    if rolling:
        reuse = {h: res for h in holdout if years == list(range(min(years), h))}
        oos, _ = rolling_origin(build, cm, seizures, first=min(years), holdouts=rolling,
                                workspace=ws, calibrations=reuse, offset=args.offset_kg,
                                **{k: v for k, v in opts.items() if k != "offset"})
    out = Path(args.out)
    written: list[Path] = []
    write_table(res.parameters, out / "calibration_parameters.csv", written)
    write_table(res.rates, out / "seizure_rates.csv", written)
    write_table(res.fit, out / "fit.csv", written)
    write_table(res.statistics, out / "fit_statistics.csv", written)
    if oos is not None:
        write_table(oos, out / "out_of_sample.csv", written)
    keep = {k: v for k, v in info.items() if not k.startswith("seconds")}
    keep["out_of_sample"] = oos.to_dict("records") if oos is not None else []
    written.append(atomic_write_text(out / "calibration.json",
                                     json.dumps(_jsonable(keep), indent=2) + "\n"))
    prov = {
        "routes_version": __version__, "base_cost_model": cm.name,
        "base_cost_model_sha256": cm.source_hash, "data_hash": ds.data_hash,
        "seizures_file": Path(path).name, "seizures_sha256": seizures.attrs["sha256"],
        "years": args.years, "holdout": args.holdout, "excluded": exclude,
        "objective": "negative log posterior (module routes.calibration.calibrate), seizure "
                     "rates profiled out",
        "objective_value": info["objective"], "observations": info["observations"],
        "optimiser_converged": bool(info["optimiser"].get("converged", False)),
        "optimiser_winning_start": str(info["optimiser"].get("winning_start")),
        "starts_agreeing": int(info["optimiser"].get("starts_agreeing", 0)),
        "evaluations": info["evaluations_total"], "seed": args.seed,
        "check_max_rel_diff": info["check_max_rel_diff"],
        "global_interception_implied": info["hyper"]["implied_global_interception"],
        "sigma": info["hyper"]["sigma"],
    }
    for r in res.statistics.itertuples():
        prov[f"{r.split}_{r.model}"] = {"n": int(r.n), "spearman": float(r.spearman),
                                        "male": float(r.male)}
    text = calibrated_text(Path(_cost_model_path(args)).read_text(encoding="utf-8"), cm,
                           res.cost_model, res.parameters, res.rates, prov, oos)
    written.append(atomic_write_text(out / "cost_model_calibrated.toml", text))
    if args.write_cost_model is not None:
        written.append(atomic_write_text(args.write_cost_model, text))
    opt = info["optimiser"]
    print(f"calibrate: {info['observations']} country-years fitted ({args.years}; held out "
          f"{args.holdout or 'none'}), {info['evaluations_total']} model evaluations, "
          f"{info['seconds_total']:.1f} s (fit {info['seconds_fit']:.1f} s, posterior "
          f"{info['seconds_posterior']:.1f} s); objective {info['objective']:.3f} "
          f"(winning start: {opt.get('winning_start')}, converged: {opt.get('converged')}, "
          f"{opt.get('starts_agreeing')} of {len(opt.get('starts', []))} starts within 0.5%); "
          f"exact check {info['check_max_rel_diff']:.1e}; implied global interception "
          f"{info['hyper']['implied_global_interception']:.1%}")
    print_table("Route-choice parameters (90% posterior intervals; pinned = the data pin it "
                "down, else the prior carries it)",
                res.parameters, ["value", "p05", "p95", "prior_median", "prior_p05",
                                 "prior_p95", "pinned"], len(res.parameters),
                {c: ".4g" for c in ("value", "p05", "p95", "prior_median", "prior_p05",
                                    "prior_p95")})
    fitted = res.rates[res.rates["n_obs"] > 0].sort_values("rate", ascending=False)
    print_table(f"Seizure rates (kg seized per kg of modelled flow; {len(fitted)} countries "
                f"with reports; hierarchical mean {math.exp(info['hyper']['mu']):.4f})",
                fitted.reset_index(), ["iso3", "rate", "p05", "p95", "n_obs", "flow_kg"],
                10, {"rate": ".4f", "p05": ".4f", "p95": ".4f", "flow_kg": ",.0f"})
    for line in rates_above_one(res.rates):
        print(line)
    print_table("Fit: Spearman rank correlation and mean absolute log error (MALE)",
                res.statistics, ["split", "model", "n", "spearman", "male"],
                len(res.statistics), {"spearman": ".3f", "male": ".3f"})
    if oos is not None:
        print_table("Out of sample (rolling origin; partial = rank partial correlation with "
                    "the reported seizures given last year's)", oos,
                    ["holdout", "fitted", "predictor", "n", "spearman", "male", "partial"],
                    len(oos), {"spearman": ".3f", "male": ".3f", "partial": ".3f"})
    print()
    print_written(written)
    return 0
