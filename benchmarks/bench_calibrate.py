"""``routes calibrate`` on the shipped data: evaluations per second against the old code path.

1. One model evaluation on the stacked 2018-2021 year models, old against new, measured in the
   same run on the same choice sets:

   - old (before issue 20): detection of every route leg by country (``YearModel.seized``, ten
     detection multipliers and the share) and the least-squares objective on log seizures;
   - new: the flow through each country (``YearModel.through``) and the negative log
     posterior with the seizure rates profiled out (``profile_rates``).

2. The calibration as ``routes calibrate`` runs it with its defaults (2018-2021 fitted, 2022
   held out, rolling origin 2021 and 2022): evaluations, phases, wall and CPU time. Target:
   under 60 s on 2 cores.
"""

from __future__ import annotations

import time

import numpy as np

from routes.calibration._fastobs import Theta, YearModel, stack
from routes.calibration._holdout import rolling_origin
from routes.calibration._posterior import RatePrior, profile_rates
from routes.calibration.calibrate import Workspace, calibrate, year_builder
from routes.calibration.observe import _countries
from routes.costs import load_cost_model
from routes.geodata import load_dataset
from routes.observed import read_seizures
from routes.scenario import BASELINE
from routes.settings import DATA_DIR, DEFAULT_COST_MODEL

from ._timing import median_time

TARGET_S = 60.0
YEARS = [2018, 2019, 2020, 2021]
#: The old fit's detection groups (crossing classes), as its PARAMETERS had them.
OLD_GROUPS = [("iran_east", "iran_west"), ("afghan_pakistan",),
              ("central_asia", "bomca", "eaeu_internal"), ("turkey", "caucasus"),
              ("eu_external", "eu_internal", "western_balkans"), ("sea_port", "caspian_port")]


def _evaluations(cm, ds, sz) -> None:
    build = year_builder(ds, BASELINE)
    graphs = [build(y, cm) for y in YEARS]
    countries = sorted({c for G in graphs for c in _countries(G)} - {"CHN"})
    old = [YearModel(G, cm, groups=OLD_GROUPS, countries=countries) for G in graphs]
    new = [YearModel(G, cm, groups=[], countries=countries) for G in graphs]
    th_old = Theta(np.ones(len(OLD_GROUPS)), 1.0, cm.hours_per_risk, cm.logit_theta)
    th_new = Theta(np.ones(0), 1.0, cm.hours_per_risk, cm.logit_theta, cm.hours_per_km)
    for m in old:
        m.extend(th_old, m.k)
    for m in new:
        m.extend(th_new, m.k)
    so, sn = stack(old), stack(new)
    cidx = {c: i for i, c in enumerate(countries)}
    d = sz[sz["year"].isin(YEARS) & sz["iso3"].isin(cidx) & sz["heroin_eq_kg"].notna()]
    oy = np.array([YEARS.index(y) for y in d["year"]])
    oc = np.array([cidx[c] for c in d["iso3"]])
    ok = d["heroin_eq_kg"].to_numpy(float)
    prior = RatePrior(np.log(0.05), 0.5, 1.5, 10.0)

    def f_old() -> float:
        mod = so.seized(th_old).reshape(len(YEARS), -1)[oy, oc] * 100.0
        r = np.log(ok + 10.0) - np.log(mod + 10.0)
        return float(np.sum(r * r))

    def f_new() -> float:
        F = sn.through(th_new).reshape(len(YEARS), -1)[oy, oc] * 100.0 + 1000.0
        return profile_rates(ok, oc, F, len(countries), prior).nlp

    n = 50
    t_old = median_time(lambda: [f_old() for _ in range(n)]) / n
    t_new = median_time(lambda: [f_new() for _ in range(n)]) / n
    print(f"   one evaluation, {len(ok)} country-years, 4 stacked years: old (detection + "
          f"least squares) {1 / t_old:,.0f} per s ({t_old * 1000:.2f} ms); new (flow through "
          f"countries + profiled rates) {1 / t_new:,.0f} per s ({t_new * 1000:.2f} ms); "
          f"new/old speed {t_old / t_new:.2f}x")


def main() -> None:
    t0 = time.perf_counter()
    c0 = time.process_time()
    cm = load_cost_model(DEFAULT_COST_MODEL)
    ds = load_dataset(DATA_DIR, classes=set(cm.classes))
    sz = read_seizures(DATA_DIR / "seizures.csv")
    _evaluations(cm, ds, sz)
    t1, c1 = time.perf_counter(), time.process_time()
    build = year_builder(ds, BASELINE)
    ws = Workspace(build, cm, range(2018, 2023))
    res = calibrate(build, cm, sz, years=YEARS, holdout=[2022], workspace=ws)
    oos, _ = rolling_origin(build, cm, sz, first=2018, holdouts=[2021, 2022], workspace=ws,
                            calibrations={2022: res})
    i = res.info
    total, cpu = time.perf_counter() - t1, time.process_time() - c1
    print(f"   routes calibrate defaults: prepare {i['seconds_prepare']:.1f} s; fit "
          f"{i['seconds_fit']:.1f} s ({i['evaluations_fit']} evaluations); posterior "
          f"{i['seconds_posterior']:.1f} s; {i['evaluations_total']} evaluations in the main "
          f"fit; rolling origin included")
    print(f"   total {total:.1f} s wall, {cpu:.1f} s CPU of this process (target < "
          f"{TARGET_S:.0f} s: {'OK' if total < TARGET_S else 'OVER'}; on a shared machine the "
          f"CPU time tells contention from work); bench total {time.perf_counter() - t0:.1f} s "
          f"({time.process_time() - c0:.1f} s CPU)")


if __name__ == "__main__":
    main()
