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
from ..calibration.calibrate import (
    DEFAULT_EXCLUDE,
    DEFAULT_OFFSET_KG,
    PARAMETERS,
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
        "calibrate", help="fit detection, risk weight and logit theta to reported seizures",
        description="Confront the model with the seizures countries report to UNODC "
                    "(data/geo/seizures.csv, heroin equivalents): fit a few free parameters "
                    "(detection per border-authority group, inland detection, hours_per_risk, "
                    "logit theta, the trafficked share), each within a documented range, by "
                    "weighted least squares on log seizures from several seeded starts, on the "
                    "fitted years only; score the fit on a held-out year; 90%% intervals from a "
                    "seeded bootstrap over country-years (in-process or on Dask). Writes "
                    "OUT/calibration_parameters.csv, fit.csv (iso3, year, split, observed_kg, "
                    "modelled_kg, modelled_kg_uncalibrated), fit_statistics.csv, "
                    "calibration.json and the calibrated cost model (--write-cost-model).")
    add_data_args(p)
    g = p.add_argument_group("calibration")
    g.add_argument("--seizures", type=Path, default=None, metavar="FILE",
                   help="reported seizures (default: DIR/seizures.csv)")
    g.add_argument("--years", default="2018-2021", metavar="A-B",
                   help="fitted years (default: %(default)s)")
    g.add_argument("--holdout", default="2022", metavar="A[-B]",
                   help="held-out years, never seen by the fit ('none' for none; "
                        "default: %(default)s)")
    g.add_argument("--free", default=None, metavar="P1,P2",
                   help="parameters to fit (default: all): " + ", ".join(PARAMETERS))
    g.add_argument("--exclude", default=",".join(DEFAULT_EXCLUDE), metavar="ISO3,...",
                   help="countries left out of fit and scores (default: %(default)s: its "
                        "heroin comes mostly from Myanmar)")
    g.add_argument("--starts", type=int, default=2, metavar="N",
                   help="optimiser starts: the cost model's values and N-1 seeded random "
                        "points (default: %(default)s)")
    g.add_argument("--bootstrap", type=int, default=20, metavar="N",
                   help="bootstrap replicates for the 90%% intervals (default: %(default)s)")
    g.add_argument("--seed", type=int, default=0, help="master seed (default: %(default)s)")
    g.add_argument("--offset-kg", type=float, default=DEFAULT_OFFSET_KG, metavar="KG",
                   help="offset in ln(kg + offset) (default: %(default)g)")
    add_engine_arg(g)
    g.add_argument("--write-cost-model", type=Path, default=None, metavar="PATH",
                   help="where to write the calibrated cost model (default: "
                        "DIR/cost_model_calibrated.toml; 'none' to skip)")
    x = p.add_argument_group("execution").add_mutually_exclusive_group()
    x.add_argument("--workers", type=int, default=0, metavar="N",
                   help="bootstrap on a Dask LocalCluster of N processes (default: 0, "
                        "in-process)")
    x.add_argument("--scheduler", default=None, metavar="ADDR",
                   help="bootstrap on an existing Dask scheduler, e.g. tcp://10.0.0.5:8786")
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


def run(args: argparse.Namespace) -> int:
    """Run the subcommand; return the exit code."""
    years = _years(args.years, "years")
    holdout = _years(args.holdout, "holdout")
    ds, cm, sc = load_inputs(args)
    first, last = _coverage(ds)
    path = args.seizures or Path(args.data) / "seizures.csv"
    countries = {str(c) for c in ds.countries["iso3"]} if "iso3" in ds.countries else None
    seizures = read_seizures(path, countries=countries, years=(first, last))
    for y in years + holdout:
        if not first <= y <= last:
            raise RoutesError(f"year {y} is outside the network's dates ({first}-{last})")
    free = [s.strip() for s in args.free.split(",")] if args.free else None
    exclude = [s.strip() for s in args.exclude.split(",") if s.strip()]
    res = calibrate(year_builder(ds, sc), cm, seizures, years=years, holdout=holdout, free=free,
                    starts=args.starts, bootstrap=args.bootstrap, seed=args.seed,
                    offset=args.offset_kg, exclude=exclude, workers=args.workers,
                    scheduler=args.scheduler, engine=args.engine)
    info = res.info
    out = Path(args.out)
    written: list[Path] = []
    write_table(res.parameters, out / "calibration_parameters.csv", written)
    write_table(res.fit, out / "fit.csv", written)
    write_table(res.statistics, out / "fit_statistics.csv", written)
    keep = {k: v for k, v in info.items() if not k.startswith("seconds")}
    written.append(atomic_write_text(out / "calibration.json",
                                     json.dumps(_jsonable(keep), indent=2) + "\n"))
    target = args.write_cost_model or Path(args.data) / "cost_model_calibrated.toml"
    if str(target).lower() != "none":
        prov = {
            "routes_version": __version__, "base_cost_model": cm.name,
            "base_cost_model_sha256": cm.source_hash, "data_hash": ds.data_hash,
            "seizures_file": Path(path).name, "seizures_sha256": seizures.attrs["sha256"],
            "years": args.years, "holdout": args.holdout, "excluded": exclude,
            "objective": f"sum of (ln(observed_kg + {args.offset_kg:g}) - "
                         f"ln(modelled_kg + {args.offset_kg:g}))^2 over fitted country-years",
            "objective_value": info["objective_sse"], "observations": info["observations"],
            "evaluations": info["evaluations_total"], "starts": args.starts,
            "bootstrap": args.bootstrap, "seed": args.seed,
            "check_max_rel_diff": info["check_max_rel_diff"],
        }
        for r in res.statistics.itertuples():
            prov[f"{r.split}_{r.model}"] = {"n": int(r.n), "spearman": float(r.spearman),
                                            "male": float(r.male)}
        base_text = Path(_cost_model_path(args)).read_text(encoding="utf-8")
        written.append(atomic_write_text(target, calibrated_text(base_text, cm,
                                                                 res.cost_model,
                                                                 res.parameters, prov)))
    print(f"calibrate: {info['observations']} country-years fitted ({args.years}; held out "
          f"{args.holdout or 'none'}), {info['evaluations_total']} model evaluations, "
          f"{info['seconds_per_evaluation'] * 1000:.1f} ms each, {info['seconds_total']:.1f} s "
          f"(fit {info['seconds_fit']:.1f} s, bootstrap {info['seconds_bootstrap']:.1f} s); "
          f"objective {info['objective_sse']:.2f}; exact check {info['check_max_rel_diff']:.2%}")
    print_table("Parameters (90% bootstrap intervals; pinned = the data pin it down)",
                res.parameters, ["value", "base", "p05", "p95", "lo", "hi", "pinned", "note"],
                len(res.parameters), {"value": ".4g", "base": ".4g", "p05": ".4g",
                                      "p95": ".4g", "lo": "g", "hi": "g"})
    print_table("Fit: Spearman rank correlation and mean absolute log error (MALE)",
                res.statistics, ["split", "model", "n", "spearman", "male"],
                len(res.statistics), {"spearman": ".3f", "male": ".3f"})
    print()
    print_written(written)
    return 0
