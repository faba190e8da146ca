"""``routes calibrate`` on the shipped data: model evaluations and time per evaluation.

Runs the calibration exactly as ``routes calibrate`` does with its defaults (years 2018-2021,
2022 held out, every free parameter, 2 starts, 20 bootstrap replicates in-process, seed 0) on
the shipped data and prints the number of model evaluations (fit and total), the time per
evaluation, the time of each phase and the total. Target: under 60 s on 2 cores.
"""

from __future__ import annotations

import time

from routes.calibration.calibrate import calibrate, year_builder
from routes.costs import load_cost_model
from routes.geodata import load_dataset
from routes.observed import read_seizures
from routes.scenario import BASELINE
from routes.settings import DATA_DIR, DEFAULT_COST_MODEL

TARGET_S = 60.0


def main() -> None:
    t0 = time.perf_counter()
    c0 = time.process_time()
    cm = load_cost_model(DEFAULT_COST_MODEL)
    ds = load_dataset(DATA_DIR, classes=set(cm.classes))
    sz = read_seizures(DATA_DIR / "seizures.csv")
    t_load = time.perf_counter() - t0
    res = calibrate(year_builder(ds, BASELINE), cm, sz, years=[2018, 2019, 2020, 2021],
                    holdout=[2022], starts=2, bootstrap=20, seed=0)
    i = res.info
    total = time.perf_counter() - t0
    cpu = time.process_time() - c0
    print(f"   load {t_load:.1f} s; prepare {i['seconds_prepare']:.1f} s; fit "
          f"{i['seconds_fit']:.1f} s ({i['evaluations_fit']} evaluations, "
          f"{i['seconds_per_evaluation'] * 1000:.2f} ms each); bootstrap "
          f"{i['seconds_bootstrap']:.1f} s; {i['evaluations_total']} evaluations in all")
    print(f"   choice sets: {i['choice_set']}; exact check {i['check_max_rel_diff']:.2e}")
    print(f"   total {total:.1f} s wall, {cpu:.1f} s CPU of this process (target < "
          f"{TARGET_S:.0f} s: {'OK' if total < TARGET_S else 'OVER'}; on a shared machine the "
          f"CPU time tells contention from work)")


if __name__ == "__main__":
    main()
