"""Monte-Carlo rank stability: exact weights, reproducibility, zero spread, Dask, failures."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import pytest
import scipy.stats
from hypothesis import given, settings
from hypothesis import strategies as st

from routes._errors import RoutesError, ScenarioError
from routes.cli import main
from routes.costs import CORRIDOR_MODES, crossing_terms, edge_weights, load_cost_model
from routes.crossings.centrality import crossing_table
from routes.engine import Engine
from routes.geodata import load_dataset
from routes.network import network_from_data
from routes.settings import DATA_DIR
from routes.uncertainty import _montecarlo
from routes.uncertainty import uncertainty as unc
from routes.uncertainty.uncertainty import (
    Multipliers,
    Ranges,
    RunsFailedError,
    WeightModel,
    kendall_tau_b,
    load_ranges,
    ranges_from_cost_model,
    rank_crossings,
    rank_stability,
    run_rng,
    split_flow_betweenness,
)

HAND = Path(__file__).parent / "data" / "handworked"
ZERO = Ranges({k: (1.0, 1.0) for k in unc.PARAMETERS})
UNCERTAINTY_TOML = """
[uncertainty]
p_detect = [0.5, 1.5]
delay_h = [0.5, 2.0]
speed_kmh = [0.8, 1.2]
hours_per_risk = [0.5, 2.0]
"""


# --------------------------------------------------------------------------- test data
def write_dataset(d: Path, *, n_places: int = 24, n_cross: int = 8, seed: int = 0) -> Path:
    """A random two-country dataset on the hand-worked countries (AAA west, BBB east).

    Origins in AAA, markets in BBB, transit towns in both; crossings on the border (lon 1),
    one restricted and one closed; each node linked to its 3 nearest neighbours in its
    country (crossings count in both), so routes have alternatives and ties are unlikely.
    """
    rng = np.random.default_rng(seed)
    d.mkdir(parents=True, exist_ok=True)
    shutil.copy(HAND / "countries.geojson", d / "countries.geojson")
    cm_text = (HAND / "cost_model.toml").read_text() + UNCERTAINTY_TOML
    (d / "cost_model.toml").write_text(cm_text)
    places = []
    for i in range(n_places):
        west = i % 2 == 0
        lon = rng.uniform(-0.9, 0.9) if west else rng.uniform(1.1, 2.9)
        lat = rng.uniform(-0.9, 0.9)
        role = ("origin" if i < 4 else "transit") if west else ("market" if i < 6 else "transit")
        places.append({"id": f"p_{i:02d}", "name": f"Town {i}", "country": "AAA" if west
                       else "BBB", "lat": round(lat, 4), "lon": round(lon, 4), "role": role,
                       "supply": round(rng.uniform(5, 50), 1) if role == "origin" else "",
                       "demand": round(rng.uniform(1, 9), 1) if role == "market" else "",
                       "figure_source": "test" if role in ("origin", "market") else "",
                       "source": "synthetic test"})
    crossings = []
    for k in range(n_cross):
        status = "restricted" if k == 1 else "closed" if k == 2 else "open"
        crossings.append({"id": f"x_{k:02d}", "name": f"Post {k}", "country_a": "AAA",
                          "country_b": "BBB", "lat": round(-0.9 + 1.8 * (k + 0.5) / n_cross, 4),
                          "lon": 1.0, "mode": "road", "status": status, "as_of": "2025-01-01",
                          "crossing_class": "post",
                          "p_detect": round(rng.uniform(0.05, 0.6), 3) if k % 3 else "",
                          "upgrade_cost": "", "p_detect_upgraded": "",
                          "source": "synthetic test"})
    pd.DataFrame(places).to_csv(d / "places.csv", index=False)
    pd.DataFrame(crossings).to_csv(d / "crossings.csv", index=False)
    nodes = [(p["id"], {p["country"]}, p["lon"], p["lat"]) for p in places]
    nodes += [(c["id"], {"AAA", "BBB"}, c["lon"], c["lat"]) for c in crossings]
    pairs = set()
    for a, ca, xa, ya in nodes:
        near = sorted((np.hypot(xa - xb, ya - yb), b) for b, cb, xb, yb in nodes
                      if b != a and ca & cb)
        for _, b in near[:3]:
            pairs.add(tuple(sorted((a, b))))
    corr = [{"id": f"c_{a}__{b}", "from_id": a, "to_id": b, "mode": "road",
             "source": "synthetic test"} for a, b in sorted(pairs)]
    pd.DataFrame(corr).to_csv(d / "corridors.csv", index=False)
    return d


@pytest.fixture(scope="module")
def synth_dir(tmp_path_factory) -> Path:
    return write_dataset(tmp_path_factory.mktemp("synth"))


@pytest.fixture(scope="module")
def synth(synth_dir):
    cm = load_cost_model(synth_dir / "cost_model.toml")
    ds = load_dataset(synth_dir, classes=set(cm.classes))
    return network_from_data(ds, cm), cm


@pytest.fixture(scope="module")
def toy():
    cm = load_cost_model(HAND / "cost_model.toml").with_changes(
        uncertainty={"p_detect": (0.5, 1.5), "hours_per_risk": (0.5, 2.0)})
    return _toy_graph_for(cm), cm


def _toy_graph_for(cm):
    """Two parallel routes o -> x_a / x_b -> m (weights from ``cm``)."""
    G = nx.DiGraph(name="toy")
    G.add_node("o", kind="place", role="origin", supply=10.0, demand=0.0)
    G.add_node("m", kind="place", role="market", demand=1.0, supply=0.0)
    for x, p, km in (("x_a", 0.30, 400.0), ("x_b", 0.25, 420.0)):
        d, r = crossing_terms(cm, "post", "open", p_detect=p)
        G.add_node(x, kind="crossing", status="open", p_detect=p, delay_h=d, crossing_risk=r,
                   p_detect_upgraded=0.6, upgrade_cost=1.0, crossing_class="post", name=x)
        for a, b in (("o", x), (x, "o"), (x, "m"), ("m", x)):
            G.add_edge(a, b, mode="road",
                       **edge_weights(cm, "road", km, crossing=(d, r) if b == x else None))
    return G


# --------------------------------------------------------------------------- seeds
def test_run_rng_is_the_spawned_stream():
    kids = np.random.SeedSequence(123).spawn(50)
    for i in (0, 1, 17, 49):
        a = run_rng(123, i).random(5)
        b = np.random.default_rng(kids[i]).random(5)
        assert a.tolist() == b.tolist()


def test_global_rng_untouched(toy):
    G, cm = toy
    np.random.seed(5)  # noqa: NPY002 - the legacy global RNG is what must stay untouched
    state = np.random.get_state()[1].copy()  # noqa: NPY002
    rank_stability(G, cm, runs=5, seed=1)
    assert (np.random.get_state()[1] == state).all()  # noqa: NPY002


# --------------------------------------------------------------------------- weights
def _reference_weights(G, cm, wm: WeightModel, m: Multipliers) -> dict[str, np.ndarray]:
    """Rebuild every edge's weights with routes.costs from the drawn parameters."""
    modes = {mode: cm.modes[mode].__class__(**{**cm.modes[mode].__dict__,
                                                "speed_kmh": cm.modes[mode].speed_kmh * s})
             for mode, s in zip(CORRIDOR_MODES, m.speed_kmh)}
    cm2 = cm.with_changes(modes=modes, hours_per_risk=cm.hours_per_risk * m.hours_per_risk)
    cidx = {c: i for i, c in enumerate(wm.crossings)}
    out = {k: [] for k in ("time_h", "risk", "cost")}
    for u, v in wm.edges:
        e = G.edges[u, v]
        geo = e["length_km"] / cm.modes[e["mode"]].detour_factor
        terms = None
        if v in cidx:
            k = cidx[v]
            nd = G.nodes[v]
            p = min(nd["p_detect"] * m.p_detect[k], unc.P_DETECT_MAX)
            factor = nd["crossing_risk"] / -np.log1p(-nd["p_detect"])
            terms = (nd["delay_h"] * m.delay_h[k], -np.log1p(-p) * factor)
        w = edge_weights(cm2, e["mode"], geo, crossing=terms)
        for k in out:
            out[k].append(w[k])
    return {k: np.array(v) for k, v in out.items()}


def test_ones_reproduce_the_network_exactly(synth):
    G, cm = synth
    wm = WeightModel(G, cm)
    w = wm.weights(wm.ones())
    for name in ("time_h", "risk", "cost"):
        have = np.array([G.edges[e][name] for e in wm.edges])
        np.testing.assert_allclose(w[name], have, rtol=1e-12, atol=0)
        assert (w[name] == have).all()  # in fact bit for bit
    assert wm.edges == Engine(G).edges


def test_ones_reproduce_the_handworked_network():
    cm = load_cost_model(HAND / "cost_model.toml")
    G = network_from_data(load_dataset(HAND, classes=set(cm.classes)), cm)
    wm = WeightModel(G, cm)
    w = wm.weights(wm.ones())
    assert w["cost"].tolist() == [G.edges[e]["cost"] for e in wm.edges]


def test_drawn_weights_equal_routes_costs(synth):
    G, cm = synth
    wm = WeightModel(G, cm)
    for i in range(5):
        m = wm.draw(run_rng(9, i))
        got = wm.weights(m)
        ref = _reference_weights(G, cm, wm, m)
        for name in got:
            np.testing.assert_allclose(got[name], ref[name], rtol=1e-12, atol=1e-15)


def test_restricted_crossing_keeps_its_factor(synth):
    G, cm = synth
    wm = WeightModel(G, cm)
    k = wm.crossings.index("x_01")
    assert G.nodes["x_01"]["status"] == "restricted"
    m = wm.ones()
    m.p_detect[k] = 1.2
    p, risk, _, _ = wm.crossing_values(m)
    p0 = G.nodes["x_01"]["p_detect"]
    assert p[k] == pytest.approx(p0 * 1.2)
    assert risk[k] == pytest.approx(-np.log1p(-p0 * 1.2) * cm.restricted_risk_factor)


def test_p_detect_is_capped(toy):
    G, cm = toy
    wm = WeightModel(G, cm)
    m = wm.ones()
    m.p_detect[:] = 100.0
    p, risk, _, p_up = wm.crossing_values(m)
    assert (p == unc.P_DETECT_MAX).all() and (p_up == unc.P_DETECT_MAX).all()
    assert np.isfinite(risk).all()


def test_wrong_cost_model_is_refused(synth):
    G, cm = synth
    other = cm.with_changes(hours_per_km=cm.hours_per_km * 2)
    with pytest.raises(RoutesError, match="cost model the network was built with"):
        WeightModel(G, other)


# --------------------------------------------------------------------------- ranks and tau
def test_rank_crossings_breaks_ties_by_id():
    assert rank_crossings(np.array([2.0, 5.0, 2.0, 1e-12, 1.0]), total=10.0).tolist() == [
        2, 1, 3, 5, 4]
    # Crossings that carry nothing share the last rank (rounding: 1e-12 of 10 is nothing).
    assert rank_crossings(np.array([0.0, 5.0, 2.0, 0.0, 1e-12]), total=10.0).tolist() == [
        3, 1, 2, 3, 3]


@settings(max_examples=40)
@given(st.lists(st.tuples(st.integers(0, 4), st.integers(0, 4)), min_size=2, max_size=30))
def test_kendall_tau_b_equals_scipy(pairs):
    x = np.array([a for a, _ in pairs], dtype=float)
    y = np.array([b for _, b in pairs], dtype=float)
    ours = kendall_tau_b(x, y)
    if len(set(x)) < 2 or len(set(y)) < 2:
        assert np.isnan(ours)
    else:
        assert ours == pytest.approx(scipy.stats.kendalltau(x, y).statistic, abs=1e-12)


# --------------------------------------------------------------------------- results
def test_baseline_matches_crossing_table(synth):
    G, cm = synth
    u = rank_stability(G, cm, runs=2, seed=0)
    ct = crossing_table(G, current_flow=False)
    ct = ct[ct["status"] != "closed"]
    assert set(u.crossings.index) == set(ct.index)
    np.testing.assert_allclose(u.crossings["baseline_flow"],
                               ct.loc[u.crossings.index, "flow_betweenness"], rtol=1e-12)
    carried = ct[ct["flow_betweenness"] > 0].index
    assert (u.crossings.loc[carried, "baseline_rank"].rank().values
            == ct.loc[carried, "rank"].rank().values).all()
    assert "x_02" not in u.crossings.index  # closed: never ranked


def test_toy_worked_by_hand(toy):
    """x_a (p 0.30) vs x_b (p 0.25, 20 km longer): x_b carries all the flow in the baseline."""
    G, cm = toy
    u = rank_stability(G, cm, runs=200, seed=4, top_k=1)
    c = u.crossings
    assert c.loc["x_b", "baseline_rank"] == 1 and c.loc["x_b", "baseline_flow"] == 10.0
    assert c.loc["x_a", "baseline_flow"] == 0.0
    # Every run sends all flow over one crossing: shares sum to 1 and tau is +1 or -1.
    assert c["top_k_share"].sum() == pytest.approx(1.0)
    assert set(u.runs["kendall_tau"].unique()) <= {1.0, -1.0}
    flips = (u.runs["top_crossing"] == "x_a").mean()
    assert c.loc["x_a", "top_k_share"] == pytest.approx(flips)
    assert (u.runs["kendall_tau"] == -1.0).mean() == pytest.approx(flips)
    # Cross-check every run with networkx on the re-weighted graph.
    wm = WeightModel(G, cm)
    for i in range(0, 200, 25):
        w = dict(zip(wm.edges, wm.weights(wm.draw(run_rng(4, i)))["cost"]))
        path = nx.shortest_path(G, "o", "m", weight=lambda a, b, _, w=w: w[(a, b)])
        assert u.runs.loc[i, "top_crossing"] == path[1]


def test_fixed_seed_reproduces_whatever_the_chunking(synth):
    G, cm = synth
    a = rank_stability(G, cm, runs=40, seed=11)
    b = rank_stability(G, cm, runs=40, seed=11, chunk_size=7)
    pd.testing.assert_frame_equal(a.crossings, b.crossings)
    pd.testing.assert_frame_equal(a.runs, b.runs)
    pd.testing.assert_frame_equal(a.ranks, b.ranks)
    c = rank_stability(G, cm, runs=40, seed=12)
    assert not a.runs["hours_per_risk"].equals(c.runs["hours_per_risk"])
    # A prefix of the runs is the same whatever the total number of runs.
    d = rank_stability(G, cm, runs=10, seed=11)
    pd.testing.assert_frame_equal(d.ranks, a.ranks.iloc[:10])


def test_seed_none_is_recorded_and_replays(toy):
    G, cm = toy
    a = rank_stability(G, cm, runs=10, seed=None)
    b = rank_stability(G, cm, runs=10, seed=a.params["seed"])
    pd.testing.assert_frame_equal(a.runs, b.runs)


def test_zero_range_gives_zero_spread(synth):
    G, cm = synth
    u = rank_stability(G, cm, runs=20, seed=3, ranges=ZERO)
    c = u.crossings
    assert (c["rank_spread"] == 0).all() and (c["rank_std"] == 0).all()
    assert (c["median_rank"] == c["baseline_rank"]).all()
    assert (c["flow_p05"] == c["baseline_flow"]).all()
    assert (c["flow_p95"] == c["baseline_flow"]).all()
    assert (u.runs["kendall_tau"] == 1.0).all()
    assert (u.runs[["hours_per_risk", *[f"speed_{m}" for m in CORRIDOR_MODES]]] == 1.0).all(
        axis=None)
    assert c["top_k_share"].isin([0.0, 1.0]).all()


def test_one_zero_range_parameter_is_constant(synth):
    G, cm = synth
    r = Ranges({**ranges_from_cost_model(cm).default, "hours_per_risk": (1.0, 1.0)})
    u = rank_stability(G, cm, runs=15, seed=3, ranges=r)
    assert (u.runs["hours_per_risk"] == 1.0).all()
    assert u.runs["speed_road"].nunique() == 15
    # Runs draw every parameter even when its range is empty: the others are unchanged.
    v = rank_stability(G, cm, runs=15, seed=3)
    assert u.runs["speed_road"].equals(v.runs["speed_road"])


def test_per_crossing_range_only_moves_that_crossing(synth):
    G, cm = synth
    r = Ranges(ZERO.default, {"x_03": {"p_detect": (0.2, 3.0)}})
    wm = WeightModel(G, cm, ranges=r)
    m = wm.draw(run_rng(0, 0))
    k = wm.crossings.index("x_03")
    assert m.p_detect[k] != 1.0
    assert (np.delete(m.p_detect, k) == 1.0).all() and (m.delay_h == 1.0).all()


def test_uncertain_runs_spread_and_stay_consistent(synth):
    G, cm = synth
    u = rank_stability(G, cm, runs=60, seed=5, top_k=3)
    c = u.crossings
    assert c["rank_spread"].max() > 0
    assert (c["rank_p05"] <= c["median_rank"]).all() and (c["median_rank"] <= c["rank_p95"]).all()
    assert c["top_k_share"].sum() >= 3.0 - 1e-9  # more when idle crossings tie at rank <= 3
    assert sorted(c["instability_rank"]) == list(range(1, len(c) + 1))
    assert u.least_stable(5)["instability_rank"].tolist() == [1, 2, 3, 4, 5]
    assert u.least_stable().index.tolist() == u.least_stable(5).index.tolist()  # 5 by default
    assert u.runs["kendall_tau"].between(-1, 1).all()
    for _, r in u.ranks.iterrows():  # carrying crossings 1..n, the idle ones tied after
        carried = np.sort(r[r < r.max()].to_numpy())
        assert carried.tolist() == list(range(1, len(carried) + 1))
        assert r.max() == len(carried) + 1 or len(carried) == len(r)
    s = u.summary()
    json.dumps(s)
    assert s["failed_runs"] == [] and s["least_stable"] == u.least_stable(5).index.tolist()


def test_networkx_engine_gives_the_same_ranks(synth):
    G, cm = synth
    a = rank_stability(G, cm, runs=4, seed=8)
    b = rank_stability(G, cm, runs=4, seed=8, engine="networkx")
    pd.testing.assert_frame_equal(a.ranks, b.ranks)
    np.testing.assert_allclose(a.crossings["flow_median"], b.crossings["flow_median"],
                               rtol=1e-9)


def test_priorities_option(toy):
    import routes.priorities.interdiction  # noqa: F401  (the priorities option needs it)
    G, cm = toy
    u = rank_stability(G, cm, runs=6, seed=2, priorities=1.0, ranges=ZERO)
    c = u.crossings
    assert {"priority_baseline", "priority_share"} <= set(c)
    assert ((c["priority_baseline"] > 0).astype(float) == c["priority_share"]).all()
    v = rank_stability(G, cm, runs=6, seed=2, priorities=1.0)
    assert v.crossings["priority_share"].between(0, 1).all()


# --------------------------------------------------------------------------- failures
def test_failed_run_raises_with_the_runs(toy):
    G, cm = toy
    with pytest.raises(RunsFailedError, match=r"1 of 10 .* run 3: RuntimeError") as ei:
        rank_stability(G, cm, runs=10, seed=0, fail_runs=[3])
    assert ei.value.failures["run"].tolist() == [3]
    assert 3 not in ei.value.result.ranks.index and len(ei.value.result.ranks) == 9


def test_failed_run_reported(toy):
    G, cm = toy
    u = rank_stability(G, cm, runs=10, seed=0, fail_runs=[3, 7], on_failure="report")
    assert u.failures["run"].tolist() == [3, 7]
    assert u.failures["error"].str.contains("injected failure").all()
    assert u.runs.loc[[3, 7], "ok"].tolist() == [False, False]
    assert u.runs.loc[3, "error"].startswith("RuntimeError")
    ok = rank_stability(G, cm, runs=10, seed=0)
    pd.testing.assert_frame_equal(u.ranks, ok.ranks.drop(index=[3, 7]))


def test_failed_task_fails_all_its_runs(toy, monkeypatch):
    G, cm = toy

    def broken(job):
        raise MemoryError("worker out of memory")

    monkeypatch.setattr(_montecarlo, "_state", broken)
    u = rank_stability(G, cm, runs=6, seed=0, chunk_size=4, on_failure="report")
    assert u.failures["run"].tolist() == list(range(6))
    assert u.failures["error"].str.startswith("task failed: MemoryError").all()
    assert u.crossings["median_rank"].isna().all()


@pytest.mark.parametrize("kw, match", [
    ({"runs": 0}, "runs must be"), ({"runs": 2, "workers": -1}, "workers"),
    ({"runs": 2, "weight": "length_km"}, "weight"), ({"runs": 2, "top_k": 0}, "top_k"),
    ({"runs": 2, "on_failure": "ignore"}, "on_failure"), ({"runs": 2, "seed": -1}, "seed"),
])
def test_bad_arguments(toy, kw, match):
    G, cm = toy
    with pytest.raises(RoutesError, match=match):
        rank_stability(G, cm, **kw)


# --------------------------------------------------------------------------- ranges
def test_ranges_validation():
    with pytest.raises(RoutesError, match="unknown parameter 'speed'"):
        Ranges({"speed": (0.5, 1.5)})
    with pytest.raises(RoutesError, match="0 < low <= high"):
        Ranges({"p_detect": (1.5, 0.5)})
    with pytest.raises(RoutesError, match="cannot vary per crossing"):
        Ranges({}, {"x_1": {"hours_per_risk": (0.5, 1.5)}})


def test_load_ranges(tmp_path, synth):
    G, cm = synth
    p = tmp_path / "ranges.toml"
    p.write_text("[uncertainty]\nhours_per_risk = [1.0, 1.0]\n"
                 "[uncertainty.crossings.x_00]\np_detect = [0.9, 1.1]\n")
    r = load_ranges(p, base=ranges_from_cost_model(cm))
    assert r.get("hours_per_risk") == (1.0, 1.0) and r.get("speed_kmh") == (0.8, 1.2)
    assert r.for_crossing("x_00", "p_detect") == (0.9, 1.1)
    assert r.for_crossing("x_00", "delay_h") == (0.5, 2.0)
    p.write_text("[uncertainty]\nspeed = [1, 2]\nhours_per_risk = [2, 1]\n"
                 "[uncertainty.crossings.x_00]\nspeed_kmh = [0.9, 1.1]\n")
    with pytest.raises(ScenarioError) as ei:
        load_ranges(p)
    fields = sorted(pr.field for pr in ei.value.problems)
    assert fields == ["uncertainty.crossings.x_00.speed_kmh", "uncertainty.hours_per_risk",
                      "uncertainty.speed"]
    bad = Ranges({}, {"x_nowhere": {"p_detect": (0.9, 1.1)}})
    with pytest.raises(RoutesError, match="x_nowhere"):
        WeightModel(G, cm, ranges=bad)


# --------------------------------------------------------------------------- split by source
def test_split_flow_betweenness_equals_one_call(synth):
    G, cm = synth
    from routes.network import od_demand

    E = Engine(G)
    ref = E.flow_betweenness(weights="cost", flows=od_demand(G))[0]
    for splits in (1, 2, 3, 10):
        got = split_flow_betweenness(G, splits=splits)
        np.testing.assert_allclose(got.to_numpy(), ref, rtol=1e-12, atol=1e-12)
        assert got.index.tolist() == E.nodes


# --------------------------------------------------------------------------- Dask
@pytest.fixture(scope="module")
def dask_client():
    import distributed
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address="127.0.0.1:0",
                                  scheduler_kwargs={"dashboard": False},
                                  silence_logs=50) as cluster, \
            distributed.Client(cluster, set_as_default=False) as client:
        yield client


def test_dask_equals_serial(synth, dask_client):
    G, cm = synth
    a = rank_stability(G, cm, runs=30, seed=21)
    b = rank_stability(G, cm, runs=30, seed=21, scheduler=dask_client, chunk_size=4)
    assert dask_client.scheduler.address.startswith("tcp://127.0.0.1:")
    assert b.params["workers"] == 2
    pd.testing.assert_frame_equal(a.crossings, b.crossings)
    pd.testing.assert_frame_equal(a.runs, b.runs)
    pd.testing.assert_frame_equal(a.ranks, b.ranks)


def test_dask_failure_is_reported(toy, dask_client):
    G, cm = toy
    with pytest.raises(RunsFailedError, match="run 5: RuntimeError: injected") as ei:
        rank_stability(G, cm, runs=12, seed=0, scheduler=dask_client, chunk_size=3,
                       fail_runs=[5])
    res = ei.value.result
    assert res.failures["run"].tolist() == [5]
    assert sorted(res.ranks.index) == [i for i in range(12) if i != 5]


def test_dask_split_flow_betweenness(synth, dask_client):
    G, cm = synth
    a = split_flow_betweenness(G, splits=3)
    b = split_flow_betweenness(G, splits=3, scheduler=dask_client)
    pd.testing.assert_series_equal(a, b)


def test_scheduler_address_string(toy, dask_client):
    G, cm = toy
    a = rank_stability(G, cm, runs=8, seed=1)
    b = rank_stability(G, cm, runs=8, seed=1, scheduler=dask_client.scheduler.address)
    pd.testing.assert_frame_equal(a.runs, b.runs)
    assert b.params["scheduler"] == dask_client.scheduler.address


def test_unreachable_scheduler(toy, monkeypatch):
    G, cm = toy
    monkeypatch.setattr(_montecarlo, "_CONNECT_TIMEOUT", "1s")
    with pytest.raises(RoutesError, match="cannot reach the Dask scheduler"):
        rank_stability(G, cm, runs=2, scheduler="tcp://127.0.0.1:9")


def test_local_cluster_of_worker_processes(toy):
    """``workers=N`` starts (and shuts down) its own LocalCluster on loopback."""
    G, cm = toy
    a = rank_stability(G, cm, runs=6, seed=2)
    b = rank_stability(G, cm, runs=6, seed=2, workers=1)
    assert b.params["scheduler"] == "LocalCluster(1 processes, 127.0.0.1)"
    pd.testing.assert_frame_equal(a.runs, b.runs)


_DASK_SCRIPT = """
import logging, sys
from routes.uncertainty.uncertainty import _toy, rank_stability
from routes.costs import load_cost_model
from routes.settings import DEFAULT_COST_MODEL
# as the CLI does (routes -v or not)
logging.basicConfig(level=logging.INFO if sys.argv[1] == "verbose" else logging.WARNING)
cm = load_cost_model(DEFAULT_COST_MODEL)
rank_stability(_toy(cm), cm, runs=4, seed=1, workers=1)
"""


def test_dask_is_quiet_unless_verbose():
    """A local cluster prints none of Dask's INFO lines, unless routes logs at INFO (-v)."""
    import subprocess
    import sys

    def err(mode: str) -> str:
        return subprocess.run([sys.executable, "-c", _DASK_SCRIPT, mode], capture_output=True,
                              text=True, check=True, timeout=300).stderr

    quiet = err("quiet")
    assert "distributed" not in quiet and "INFO" not in quiet, quiet
    assert "distributed.scheduler" in err("verbose")


# --------------------------------------------------------------------------- CLI
def _cli(synth_dir: Path, out: Path, *extra: str) -> list[str]:
    return ["uncertainty", "--data", str(synth_dir), "--out", str(out), "--runs", "25",
            "--seed", "4", "--top", "3", *extra]


def test_cli_serial_and_scheduler_write_the_same_tables(synth_dir, tmp_path, capsys,
                                                         dask_client):
    assert main(_cli(synth_dir, tmp_path / "a", "--workers", "0")) == 0
    out = capsys.readouterr().out
    assert "Five least stable crossings" in out and "Kendall tau" in out
    d = tmp_path / "a" / "baseline"
    names = sorted(p.name for p in d.iterdir())
    assert names == ["uncertainty_crossings.csv", "uncertainty_failures.csv",
                     "uncertainty_ranks.csv", "uncertainty_runs.csv",
                     "uncertainty_summary.json"]
    t = pd.read_csv(d / "uncertainty_crossings.csv", index_col="id")
    assert {"baseline_rank", "median_rank", "rank_p05", "rank_p95", "top_k_share"} <= set(t)
    s = json.loads((d / "uncertainty_summary.json").read_text())
    assert s["runs"] == 25 and s["seed"] == 4 and s["top_k"] == 3 and s["failed_runs"] == []
    assert main(_cli(synth_dir, tmp_path / "b", "--scheduler",
                     dask_client.scheduler.address)) == 0
    for name in names[:-1]:
        assert (d / name).read_bytes() == (tmp_path / "b" / "baseline" / name).read_bytes()


def test_cli_failure_exit_code(synth_dir, tmp_path, capsys, monkeypatch):
    real = unc.rank_stability
    monkeypatch.setattr("routes.cli.uncertainty.rank_stability",
                        lambda *a, **k: real(*a, **{**k, "fail_runs": [2]}))
    assert main(_cli(synth_dir, tmp_path, "--workers", "0")) == 1
    err = capsys.readouterr().err
    assert "1 of 25 runs failed" in err and "run 2: RuntimeError" in err
    f = pd.read_csv(tmp_path / "baseline" / "uncertainty_failures.csv")
    assert f["run"].tolist() == [2]
    assert main(_cli(synth_dir, tmp_path, "--workers", "0", "--allow-failures")) == 0


def test_cli_ranges_file(synth_dir, tmp_path, capsys):
    r = tmp_path / "zero.toml"
    r.write_text("[uncertainty]\n" + "".join(f"{k} = [1.0, 1.0]\n" for k in unc.PARAMETERS))
    assert main(_cli(synth_dir, tmp_path, "--workers", "0", "--ranges", str(r))) == 0
    t = pd.read_csv(tmp_path / "baseline" / "uncertainty_crossings.csv", index_col="id")
    assert (t["rank_spread"] == 0).all()
    with pytest.raises(SystemExit) as exc:  # refused by the option's range, before any work
        main(_cli(synth_dir, tmp_path, "--workers", "0", "--runs", "0"))
    assert exc.value.code == 2
    assert "argument --runs: 0 is out of range" in capsys.readouterr().err


# --------------------------------------------------------------------------- shipped data
shipped = pytest.mark.skipif(not (DATA_DIR / "crossings.csv").exists(),
                             reason="shipped data not in place yet")


@shipped
def test_shipped_ones_reproduce_weights(baseline, cost_model):
    wm = WeightModel(baseline, cost_model)
    w = wm.weights(wm.ones())
    for name in ("time_h", "risk", "cost"):
        have = np.array([baseline.edges[e][name] for e in wm.edges])
        np.testing.assert_allclose(w[name], have, rtol=1e-12, atol=0)


@shipped
def test_shipped_zero_range_and_reproducible(baseline, cost_model):
    z = rank_stability(baseline, cost_model, runs=3, seed=0, ranges=ZERO)
    assert (z.crossings["rank_spread"] == 0).all()
    a = rank_stability(baseline, cost_model, runs=20, seed=7)
    b = rank_stability(baseline, cost_model, runs=20, seed=7, chunk_size=3)
    pd.testing.assert_frame_equal(a.crossings, b.crossings)


# --------------------------------------------------------------------------- the result table
def _assembly_case(*, ok_runs: bool = True):
    """Three ranked crossings (a closed one, not ranked, between them), six runs in two chunks,
    run 2 failed; ranks, flows, tau, drawn globals and greedy choices given by hand."""
    from types import SimpleNamespace

    G = nx.DiGraph()
    for x, name, a, b, status in (("x_a", "Post A", "AAA", "BBB", "open"),
                                  ("x_closed", "Post C", "AAA", "BBB", "closed"),
                                  ("x_b", "Post B", "BBB", "CCC", "restricted"),
                                  ("x_c", "Post D", "CCC", "AAA", "open")):
        G.add_node(x, name=name, country_a=a, country_b=b, status=status)
    model = SimpleNamespace(crossings=["x_a", "x_closed", "x_b", "x_c"])
    job = SimpleNamespace(model=model, ranked=np.array([0, 2, 3]), top_k=1, priorities=1.0)
    n_glob = 1 + len(CORRIDOR_MODES)
    glob = np.arange(6 * n_glob, dtype=float).reshape(6, n_glob) / 10 + 0.5
    # ranks of x_a, x_b, x_c in runs 0, 1, 3, 4, 5
    rank = np.array([[1, 2, 3], [1, 3, 2], [2, 1, 3], [2, 1, 3], [3, 1, 2]])
    flow = np.array([[6, 3, 1], [5, 1, 4], [3, 6, 1], [4, 5.5, 0.5], [1, 7, 2]], dtype=float)
    tau = np.array([1.0, 1 / 3, -1 / 3, -1 / 3, -1.0])
    prio = np.array([[1, 0, 0], [1, 0, 0], [2, 0, 1], [0, 1, 0], [0, 1, 0]])
    sel = [0, 1, 3, 4, 5]

    def chunk(runs, rows, failures=()):
        if not ok_runs:
            return {"runs": [], "failures": [(i, "task failed: MemoryError") for i in runs]}
        r = [sel.index(i) for i in runs]
        return {"runs": runs, "failures": list(failures),
                "stacked": {"flow": flow[r], "rank": rank[r], "tau": tau[r],
                            "globals": glob[runs], "priority": prio[r]}}

    chunks = [chunk([0, 1], [0, 1]), chunk([3, 4, 5], [2, 3, 4], [(2, "RuntimeError: boom")])]
    if not ok_runs:
        chunks[1]["failures"].append((2, "RuntimeError: boom"))
    base = {"flow": np.array([3.0, 2.0, 5.0]), "rank": np.array([2, 3, 1]),
            "priority": np.array([1, 0, 2])}
    return unc._assemble(G, job, chunks, 6, base, {"runs": 6}), glob


def test_result_table_worked_by_hand():
    """Every column of the result from given ranks and flows: linear quantiles over the runs
    that succeeded, population sd, share in the top k, instability by spread, then sd (the
    larger first), then baseline rank; rows in baseline rank order."""
    u, glob = _assembly_case()
    c = u.crossings
    assert c.index.tolist() == ["x_c", "x_a", "x_b"]          # baseline rank order
    assert c.index.name == "id"
    assert list(c.columns) == [*unc.UNCERTAINTY_COLUMNS, "priority_baseline",
                               "priority_share"]
    assert c["name"].tolist() == ["Post D", "Post A", "Post B"]
    assert c["country_a"].tolist() == ["CCC", "AAA", "BBB"]
    assert c["country_b"].tolist() == ["AAA", "BBB", "CCC"]
    assert c["status"].tolist() == ["open", "open", "restricted"]
    assert c["baseline_flow"].tolist() == [5.0, 3.0, 2.0]
    assert c["baseline_rank"].tolist() == [1, 2, 3]
    # x_a ranks 1 1 2 2 3, x_b 2 3 1 1 1, x_c 3 2 3 3 2 (linear quantiles of 5 values:
    # p05 at position 0.2, p95 at 3.8)
    assert c["median_rank"].tolist() == [3.0, 2.0, 1.0]
    assert c["rank_p05"].tolist() == pytest.approx([2.0, 1.0, 1.0])
    assert c["rank_p95"].tolist() == pytest.approx([3.0, 2.8, 2.8])
    assert c["rank_spread"].tolist() == pytest.approx([1.0, 1.8, 1.8])
    assert c["rank_std"].tolist() == pytest.approx([0.24 ** 0.5, 0.56 ** 0.5, 0.64 ** 0.5])
    assert c["top_k_share"].tolist() == [0.0, 0.4, 0.6]
    # flows: x_a 6 5 3 4 1, x_b 3 1 6 5.5 7, x_c 1 4 1 0.5 2
    assert c["flow_median"].tolist() == [1.0, 4.0, 5.5]
    assert c["flow_p05"].tolist() == pytest.approx([0.6, 1.4, 1.4])
    assert c["flow_p95"].tolist() == pytest.approx([3.6, 5.8, 6.8])
    # x_a and x_b spread alike; x_b's ranks vary more (sd 0.8 > 0.75) though its baseline
    # rank is worse: it is the least stable.
    assert c["instability_rank"].tolist() == [3, 2, 1]
    assert c["priority_baseline"].tolist() == [2, 1, 0]
    assert c["priority_share"].tolist() == [0.2, 0.6, 0.4]
    r = u.runs
    assert r.index.name == "run" and r.index.tolist() == list(range(6))
    assert r["ok"].tolist() == [True, True, False, True, True, True]
    np.testing.assert_array_equal(r["kendall_tau"], [1.0, 1 / 3, np.nan, -1 / 3, -1 / 3, -1.0])
    modes = [f"speed_{m}" for m in CORRIDOR_MODES]
    assert list(r.columns) == ["ok", "kendall_tau", "hours_per_risk", *modes, "top_crossing",
                               "error"]
    ok = r["ok"].to_numpy()
    np.testing.assert_array_equal(r.loc[ok, ["hours_per_risk", *modes]].to_numpy(), glob[ok])
    assert r.loc[~ok, ["hours_per_risk", *modes]].isna().all(axis=None)
    assert r.loc[ok, "top_crossing"].tolist() == ["x_a", "x_a", "x_b", "x_b", "x_b"]
    assert r.loc[~ok, "top_crossing"].isna().all()
    assert r["error"].tolist() == ["", "", "RuntimeError: boom", "", "", ""]
    assert u.ranks.index.name == "run" and u.ranks.index.tolist() == [0, 1, 3, 4, 5]
    assert u.ranks.columns.name == "crossing"
    assert u.ranks.columns.tolist() == ["x_a", "x_b", "x_c"]
    assert u.ranks["x_b"].tolist() == [2, 3, 1, 1, 1]
    assert u.failures.to_dict("list") == {"run": [2], "error": ["RuntimeError: boom"]}
    assert u.params == {"runs": 6}


def test_result_table_when_every_run_failed():
    """No run succeeded: the statistics are NaN, instability follows the baseline rank."""
    u, _ = _assembly_case(ok_runs=False)
    c = u.crossings
    for col in ("median_rank", "rank_p05", "rank_p95", "rank_std", "top_k_share",
                "flow_median", "flow_p05", "flow_p95", "priority_share"):
        assert c[col].isna().all(), col
    assert c["instability_rank"].tolist() == [1, 2, 3]
    assert u.failures["run"].tolist() == list(range(6))
    assert u.runs["top_crossing"].isna().all() and len(u.ranks) == 0


def test_params_record_the_arguments(toy):
    """params names what was run: engine, chunk size, workers, scheduler, priorities."""
    G, cm = toy
    u = rank_stability(G, cm, runs=6, seed=2, top_k=1, chunk_size=4, engine="networkx")
    p = u.params
    assert (p["runs"], p["seed"], p["top_k"], p["weight"]) == (6, 2, 1, "cost")
    assert (p["engine"], p["chunk_size"], p["workers"]) == ("networkx", 4, 0)
    assert p["scheduler"] == "in-process" and p["crossings_ranked"] == 2
    assert p["priorities_budget"] is None and p["priorities_objective"] is None
    assert p["cpu_s"] > 0 and p["setup_s"] > 0 and p["runs_s"] > 0
    assert p["name"] == "toy" and p["data_hash"] is None
    assert p["ranges"] == cm_ranges(cm)
    v = rank_stability(G, cm, runs=2, seed=2, priorities=1.5, objective="single")
    assert (v.params["priorities_budget"], v.params["priorities_objective"]) == (1.5, "single")
    assert v.params["engine"] == unc.check_engine(None)


def cm_ranges(cm):
    return ranges_from_cost_model(cm).as_dict()


def test_where_the_runs_ran_is_labelled():
    assert unc._scheduler_label(None, 0) == "in-process"
    assert unc._scheduler_label(None, 3) == "LocalCluster(3 processes, 127.0.0.1)"
    assert unc._scheduler_label("tcp://10.0.0.7:8786", 0) == "tcp://10.0.0.7:8786"
    from types import SimpleNamespace

    client = SimpleNamespace(scheduler=SimpleNamespace(address="tcp://10.0.0.8:8786"))
    assert unc._scheduler_label(client, 2) == "tcp://10.0.0.8:8786"


def test_in_process_runs_reuse_the_baseline_conversion(toy, monkeypatch):
    """workers=0: the network is converted once (for the baseline), not again for the runs,
    and the conversion is dropped after the runs."""
    G, cm = toy
    made = []

    class Counting(_montecarlo._State):
        def __init__(self, job):
            made.append(job.token)
            super().__init__(job)

    monkeypatch.setattr(_montecarlo, "_State", Counting)
    before = dict(_montecarlo._STATES)
    u = rank_stability(G, cm, runs=3, seed=0)
    assert made == [] and len(u.ranks) == 3
    assert dict(_montecarlo._STATES) == before


# --------------------------------------------------------------------------- rules pinned by
# mutation testing (scripts/mutate.py uncertainty/_draws, uncertainty/_montecarlo)
def test_load_ranges_names_the_field_of_every_problem(tmp_path):
    """A file that is not TOML says so; an ``uncertainty`` that is no table and a crossing
    entry that is no table are each one problem naming its field (and nothing else fails)."""
    p = tmp_path / "r.toml"
    p.write_text("[uncertainty\n")
    with pytest.raises(ScenarioError, match="not valid TOML"):
        load_ranges(p)
    p.write_text("uncertainty = 3\n")
    with pytest.raises(ScenarioError) as ei:
        load_ranges(p)
    assert [(pr.field, pr.message) for pr in ei.value.problems] == [
        ("uncertainty", "must be a table")]
    p.write_text("[uncertainty.crossings]\nx_a = 3\n")
    with pytest.raises(ScenarioError) as ei:
        load_ranges(p)
    assert [(pr.field, pr.message) for pr in ei.value.problems] == [
        ("uncertainty.crossings.x_a", "must be a table")]


def test_draws_stay_inside_every_range(toy):
    """Each parameter is drawn uniformly on its own (low, high): here ranges that exclude 1,
    so a draw on any other interval shows."""
    G, cm = toy
    r = Ranges({"p_detect": (1.1, 1.2), "delay_h": (2.0, 3.0), "speed_kmh": (0.3, 0.4),
                "hours_per_risk": (4.0, 5.0)})
    wm = WeightModel(G, cm, ranges=r)
    rng = np.random.default_rng(3)
    for _ in range(20):
        m = wm.draw(rng)
        assert ((m.p_detect >= 1.1) & (m.p_detect < 1.2)).all()
        assert ((m.delay_h >= 2.0) & (m.delay_h < 3.0)).all()
        assert ((m.speed_kmh >= 0.3) & (m.speed_kmh < 0.4)).all()
        assert 4.0 <= m.hours_per_risk < 5.0


def test_undetected_crossing_keeps_its_risk_without_a_warning(toy):
    """A crossing with p_detect 0 keeps its crossing risk whatever the multiplier (ratio 1),
    and the 0/0 it avoids raises no RuntimeWarning."""
    import warnings

    G, cm = toy
    H = G.copy()
    d, r = crossing_terms(cm, "post", "open", p_detect=0.0)
    H.nodes["x_a"].update(p_detect=0.0, delay_h=d, crossing_risk=r)
    for a, b in (("o", "x_a"), ("m", "x_a")):
        H.edges[a, b].update(edge_weights(cm, "road", 400.0 if a == "o" else 400.0,
                                          crossing=(d, r)))
    wm = WeightModel(H, cm)
    m = wm.ones()
    m.p_detect[:] = 1.4
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        p, risk, _, _ = wm.crossing_values(m)
    assert p[0] == 0.0 and risk[0] == r


def test_a_crossing_inside_one_country_has_no_into_a_side(toy):
    """Only a crossing between two countries has a reverse direction: one whose country_a is
    its country_b pays its own terms on every edge into it, whatever its ``*_into_a``
    attributes (the network's weights are those terms, so the weight model accepts it)."""
    G, cm = toy
    H = G.copy()
    H.nodes["x_a"].update(country_a="AAA", country_b="AAA", crossing_risk_into_a=9.0,
                          delay_h_into_a=99.0, p_detect_into_a=0.9)
    H.edges["m", "x_a"]["enters"] = "AAA"
    wm = WeightModel(H, cm)
    assert not wm.into_a.any()
    w = wm.weights(wm.ones())
    j = wm.edges.index(("m", "x_a"))
    assert w["time_h"][j] == H.edges["m", "x_a"]["time_h"]


def test_the_examples_toy_network():
    """The docstrings' toy (``_draws._toy``): two open road routes o -> x_a / x_b -> m with
    p_detect 0.05 and 0.04 (upgraded 0.2), supply 10 and demand 1, weights from the cost
    model (so multipliers of 1 reproduce it)."""
    from routes.costs import load_cost_model as load
    from routes.settings import DEFAULT_COST_MODEL
    from routes.uncertainty._draws import _toy

    cm = load(DEFAULT_COST_MODEL)
    G = _toy(cm)
    assert G.graph == {"name": "toy"}
    assert sorted(G.nodes) == ["m", "o", "x_a", "x_b"]
    assert G.nodes["o"] == {"kind": "place", "role": "origin", "supply": 10.0, "demand": 0.0}
    assert G.nodes["m"] == {"kind": "place", "role": "market", "demand": 1.0, "supply": 0.0}
    for x, p, km in (("x_a", 0.05, 400.0), ("x_b", 0.04, 420.0)):
        d, r = crossing_terms(cm, "central_asia", "open", p_detect=p)
        assert G.nodes[x] == {"kind": "crossing", "status": "open", "p_detect": p,
                              "delay_h": d, "crossing_risk": r, "p_detect_upgraded": 0.2,
                              "upgrade_cost": 1.0, "crossing_class": "central_asia", "name": x}
        assert G.edges["o", x] == {"mode": "road", **edge_weights(cm, "road", km,
                                                                   crossing=(d, r))}
        assert G.edges[x, "o"] == {"mode": "road", **edge_weights(cm, "road", km)}
        assert G.edges["m", x] == {"mode": "road", **edge_weights(cm, "road", 300.0,
                                                                   crossing=(d, r))}
        assert G.edges[x, "m"] == {"mode": "road", **edge_weights(cm, "road", 300.0)}
    assert G.number_of_edges() == 8


class _Future:
    def __init__(self, fn, args):
        try:
            self.value, self.exc = fn(*args), None
        except Exception as exc:  # noqa: BLE001 - kept as a remote task's error is
            self.value, self.exc = None, exc
        self.released = False

    def result(self):
        if self.exc is not None:
            raise self.exc
        return self.value

    def release(self):
        self.released = True


def _in_process_client():
    """A ``distributed.Client`` that runs every task at once, in this process (no cluster):
    what is scattered, submitted and gathered is recorded."""
    import distributed

    class Client(distributed.Client):
        loop = None
        scheduler = None

        def __init__(self):
            self.scattered, self.submitted, self.futures = [], [], []

        def __repr__(self):
            return "in-process client"

        def nthreads(self):
            return {"w1": 1, "w2": 2}

        def scatter(self, obj, broadcast, hash):
            assert broadcast and not hash
            self.scattered.append(obj)
            return obj

        def submit(self, fn, *args, pure, key=None):
            assert not pure
            self.submitted.append((fn.__name__, args, key))
            f = _Future(fn, args)
            self.futures.append(f)
            return f

        def gather(self, futs):
            return [f.result() for f in futs]

        def __del__(self):
            pass

    return Client()


@pytest.fixture
def fake_remote(monkeypatch):
    import distributed

    monkeypatch.setattr(distributed, "as_completed", lambda futures, loop: list(futures))
    return _in_process_client()


def test_remote_runs_equal_in_process_runs_chunk_by_chunk(toy, fake_remote, monkeypatch):
    """On a Dask client the job is scattered once and each chunk ``[a, b)`` is one task
    (``routes-uncertainty-<token>-<a>``), released once read; the runs equal in-process ones.
    A task that fails fails its runs, each reported with the task's error."""
    G, cm = toy
    a = rank_stability(G, cm, runs=4, seed=5)
    b = rank_stability(G, cm, runs=4, seed=5, scheduler=fake_remote, chunk_size=3)
    pd.testing.assert_frame_equal(a.runs, b.runs)
    pd.testing.assert_frame_equal(a.ranks, b.ranks)
    assert b.params["workers"] == 3 and b.params["chunk_size"] == 3
    assert len(fake_remote.scattered) == 1
    spans = [args[1:3] for _, args, _ in fake_remote.submitted]
    assert spans == [(0, 3), (3, 4)]
    token = fake_remote.scattered[0].token
    assert [k for *_, k in fake_remote.submitted] == [f"routes-uncertainty-{token}-{s}"
                                                      for s in (0, 3)]
    assert all(f.released for f in fake_remote.futures)

    def broken(job):
        raise MemoryError("worker out of memory")

    monkeypatch.setattr(_montecarlo, "_state", broken)
    u = rank_stability(G, cm, runs=3, seed=0, scheduler=_in_process_client(), chunk_size=2,
                       on_failure="report")
    assert u.failures["run"].tolist() == [0, 1, 2]
    assert u.failures["error"].str.startswith("task failed: MemoryError").all()


def test_remote_split_flow_betweenness_sends_each_group_its_flows(synth, fake_remote):
    """Split over a Dask client: the graph and the weights are scattered once, each origin
    group is one task with its own flows and the engine, and the parts add up to one call."""
    G, cm = synth
    a = split_flow_betweenness(G, splits=2, engine="networkx")
    b = split_flow_betweenness(G, splits=2, scheduler=fake_remote, engine="networkx")
    pd.testing.assert_series_equal(a, b)
    assert len(fake_remote.scattered) == 2
    sent = fake_remote.submitted
    assert [name for name, *_ in sent] == ["_split_task"] * 2
    assert all(args[3] == "networkx" for _, args, _ in sent)
    assert [{o for o, _ in args[2]} for _, args, _ in sent] == [{"p_00"}, {"p_02"}]


def test_split_flow_betweenness_uses_the_flows_given(synth):
    """``flows`` replaces the network's demand: half of every flow halves the betweenness."""
    from routes.network import od_demand

    G, cm = synth
    half = {k: v / 2 for k, v in od_demand(G).items()}
    a = split_flow_betweenness(G, splits=2)
    b = split_flow_betweenness(G, splits=2, flows=half)
    np.testing.assert_allclose(b.to_numpy(), a.to_numpy() / 2, rtol=1e-12, atol=1e-12)
    assert a.max() > 0


def test_a_network_without_corridors_gives_empty_weights(cost_model):
    """A network of one place has no edge to weigh: the weight model is built and gives
    empty weights (its per-edge masks stay boolean when empty)."""
    G = nx.DiGraph()
    G.add_node("a", role="origin", country="AFG", lat=34.0, lon=69.0)
    wm = WeightModel(G, cost_model)
    assert wm.into_a.dtype == bool and wm.into.dtype == bool
    w = wm.weights(wm.ones())
    assert {k: v.shape for k, v in w.items()} == {"time_h": (0,), "risk": (0,), "cost": (0,)}
