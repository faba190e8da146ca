"""``routes observe``: modelled against reported seizures, for any years and any seizures file."""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from .._errors import RoutesError
from ..calibration._posterior import rank_partial
from ..calibration.calibrate import (
    DEFAULT_EXCLUDE,
    DEFAULT_OFFSET_KG,
    observed_vs_modelled,
    year_builder,
)
from ..network import network_from_data
from ..observed import read_seizures
from ._common import (
    add_data_args,
    add_engine_arg,
    add_output_args,
    load_inputs,
    print_table,
    print_written,
    write_table,
)
from .calibrate import _coverage, _years

#: Columns of observed_vs_modelled.csv.
COLUMNS = ["iso3", "year", "observed_kg", "modelled_kg", "log_residual"]


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register the subcommand."""
    p = sub.add_parser(
        "observe", help="modelled seizures per country against a seizures file",
        description="Run the observation model of a cost model (the calibrated one's seizure "
                    "rates, or an uncalibrated one's detection) for the given years, on the "
                    "network as of 1 July of each year (or --as-of for all), and compare it "
                    "with a seizures file in the format of data/geo/seizures.csv (iso3, year, "
                    "heroin_eq_kg, ...). Writes OUT/observed_vs_modelled.csv (iso3, year, "
                    "observed_kg, modelled_kg, log_residual = ln(observed + 10) - "
                    "ln(modelled + 10)) and prints, per year, Spearman's rank correlation, "
                    "the mean absolute log error and the rank partial correlation of the "
                    "model with the observed given the previous year's seizures (when the "
                    "file has that year).")
    add_data_args(p)
    g = p.add_argument_group("observation")
    g.add_argument("--seizures", type=Path, required=True, metavar="FILE",
                   help="reported seizures (format of data/geo/seizures.csv)")
    g.add_argument("--years", required=True, metavar="Y[,Y...]",
                   help="years to model, e.g. 2022 or 2018-2020,2022")
    g.add_argument("--exclude", default=",".join(DEFAULT_EXCLUDE), metavar="ISO3,...",
                   help="countries left out (default: %(default)s)")
    add_engine_arg(g)
    add_output_args(p, default_sub="observe")
    return p


def _statistics(ovm: pd.DataFrame, seizures: pd.DataFrame) -> pd.DataFrame:
    obs = seizures[seizures["heroin_eq_kg"].notna()].set_index(["iso3", "year"])["heroin_eq_kg"]
    rows = []
    for y, d in ovm[ovm["observed_kg"].notna()].groupby("year"):
        o, m = d["observed_kg"].to_numpy(float), d["modelled_kg"].to_numpy(float)
        last = np.array([obs.get((c, int(y) - 1), np.nan) for c in d["iso3"]])
        ok = np.isfinite(last)
        with warnings.catch_warnings():   # constant columns have no rank correlation
            warnings.simplefilter("ignore")
            rho = float(pd.Series(o).corr(pd.Series(m), method="spearman")) \
                if len(d) > 2 else float("nan")
            part = rank_partial(o[ok], m[ok], last[ok]) if ok.sum() > 3 else float("nan")
        rows.append({"year": int(y), "n": len(d), "spearman": rho,
                     "male": float(np.mean(np.abs(d["log_residual"]))),
                     "n_last_year": int(ok.sum()), "partial_given_last_year": part})
    return pd.DataFrame(rows, columns=["year", "n", "spearman", "male", "n_last_year",
                                       "partial_given_last_year"])


def run(args: argparse.Namespace) -> int:
    """Run the subcommand; return the exit code."""
    years = _years(args.years, "years")
    if not years:
        raise RoutesError("--years must name at least one year")
    ds, cm, sc = load_inputs(args)
    first, last = _coverage(ds)
    for y in years:
        if not first <= y <= last:
            raise RoutesError(f"year {y} is outside the network's dates ({first}-{last})")
    countries = {str(c) for c in ds.countries["iso3"]} if "iso3" in ds.countries else None
    seizures = read_seizures(args.seizures, countries=countries)
    build = (year_builder(ds, sc) if args.as_of is None
             else (lambda year, c: network_from_data(ds, c, sc)))
    exclude = [s.strip() for s in args.exclude.split(",") if s.strip()]
    ovm = observed_vs_modelled(build, cm, seizures, years=years, exclude=exclude,
                               offset=DEFAULT_OFFSET_KG, engine=args.engine)[COLUMNS]
    stats = _statistics(ovm, seizures)
    written: list[Path] = []
    write_table(ovm, Path(args.out) / "observed_vs_modelled.csv", written)
    cal = cm.raw.get("calibration", {}) if isinstance(cm.raw, dict) else {}
    print(f"observe: cost model {cm.name} ({Path(cm.path).name if cm.path else ''}, sha256 "
          f"{cm.source_hash[:12]}; " + (f"calibrated on {cal.get('years')}" if cal
                                         else "not calibrated") + f"), seizures "
          f"{Path(args.seizures).name}, years {', '.join(map(str, years))}"
          + (f", network as of {args.as_of}" if args.as_of else ""))
    print_table("Modelled against reported seizures (MALE: mean |ln(obs + 10) - ln(model + "
                "10)|; partial: rank partial correlation given last year's seizures)", stats,
                list(stats.columns), len(stats),
                {"spearman": ".3f", "male": ".3f", "partial_given_last_year": ".3f"})
    print()
    print_written(written)
    return 0
