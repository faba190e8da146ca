"""No function draws from the global random state: every draw goes through ``seed=``."""
# ruff: noqa: NPY002  (this test inspects the legacy global state on purpose)

from __future__ import annotations

import random

import numpy as np

from routes.analysis import assign_flows, chokepoint_table, crossing_table, rank_stability
from routes.priorities.interdiction import interdict


def test_no_global_rng_touched(baseline, cost_model):
    random.seed(12345)
    np.random.seed(12345)
    py_state, np_state = random.getstate(), np.random.get_state()
    rank_stability(baseline, cost_model, runs=4, seed=3)
    assign_flows(baseline, cost_model)
    crossing_table(baseline)
    chokepoint_table(baseline, cost_model)
    interdict(baseline, 2.0, method="greedy", cm=cost_model)
    assert random.getstate() == py_state
    after = np.random.get_state()
    assert after[0] == np_state[0] and (after[1] == np_state[1]).all() and after[2] == np_state[2]


def test_same_seed_same_draws(baseline, cost_model):
    a = rank_stability(baseline, cost_model, runs=6, seed=11)
    b = rank_stability(baseline, cost_model, runs=6, seed=11)
    c = rank_stability(baseline, cost_model, runs=6, seed=12)
    assert a.crossings.equals(b.crossings)
    assert not a.runs.equals(c.runs)
