"""Flow assignment on the hand-worked network: logit and all-or-nothing."""

from __future__ import annotations

import math

import numpy as np
import pytest

from routes._errors import RoutesError
from routes.engine import ENGINES
from routes.routing.flows import (
    assign_flows,
    corridor_shares,
    country_transit,
    logit_shares,
)
from test_paths import toy_network

P2 = math.exp(-5) / (1 + math.exp(-5))  # second Balkan route: cost 6 against 4, theta 10


@pytest.fixture
def toy():
    return toy_network()


def test_logit_shares():
    assert logit_shares([4.0, 6.0], 10.0).tolist() == pytest.approx([1 - P2, P2])
    assert logit_shares([1.0, 2.0], 0.0).tolist() == [0.5, 0.5]
    assert logit_shares([0.0, 0.0, 1.0], 5.0).tolist() == [0.5, 0.5, 0.0]
    assert logit_shares([], 1.0).size == 0
    with pytest.raises(RoutesError, match="theta"):
        logit_shares([1.0], -1.0)
    # theta large -> all-or-nothing
    assert logit_shares([4.0, 4.4], 500.0)[0] == pytest.approx(1.0)


@pytest.mark.parametrize("engine", ENGINES)
def test_logit_assignment_handworked(toy, engine):
    res = assign_flows(toy, k=3, theta=10.0, engine=engine)
    assert res.method == "logit" and res.total_flow == 10.0 and res.unserved_flow == 0.0
    assert res.routes.loc["o>m2#2", "flow"] == pytest.approx(7.5 * P2)
    assert res.routes["flow"].sum() == pytest.approx(10.0)
    thr = res.nodes["through"]
    assert thr["xi"] == pytest.approx(7.5 * (1 - P2))
    assert thr["xi2"] == pytest.approx(7.5 * P2)
    assert thr["i"] == pytest.approx(7.5) and thr["xa"] == pytest.approx(2.5)
    assert thr["o"] == 0.0 and res.nodes.loc["o", "throughput"] == 10.0
    assert res.nodes.loc["m2", "throughput"] == 7.5
    e = res.edges.set_index(["u", "v"])["flow"]
    assert e[("xt", "m2")] == pytest.approx(7.5) and e[("m2", "xt")] == 0.0
    assert res.crossings.index[0] == "xt"          # 7.5, first by flow then id
    assert res.crossings.loc["xt", "share"] == pytest.approx(0.75)
    assert res.corridors["share"].to_dict() == pytest.approx(
        {"Southern": 0, "Caucasus": 0, "Northern": 0.25, "Balkan": 0.75, "Other": 0})
    assert res.countries["transit_share"].to_dict() == pytest.approx(
        {"IRN": 0.75, "KAZ": 0.25, "UZB": 0.25})
    assert res.countries["rank"].tolist() == [1, 2, 3]


@pytest.mark.parametrize("engine", ENGINES)
def test_aon_assignment_handworked(toy, engine):
    res = assign_flows(toy, method="aon", engine=engine)
    assert res.nodes["through"].to_dict() == {
        "i": 7.5, "k": 2.5, "m1": 0.0, "m2": 0.0, "o": 0.0, "u": 2.5, "xa": 2.5, "xi": 7.5,
        "xi2": 0.0, "xk": 2.5, "xr": 2.5, "xt": 7.5}
    assert res.routes["choice_prob"].tolist() == [1.0, 1.0]
    assert res.corridors.loc["Balkan", "share"] == 0.75


def test_aon_splits_ties_evenly(toy):
    toy.edges["o", "xi2"]["cost"] = 1.0
    res = assign_flows(toy, method="aon")
    assert res.nodes.loc["xi", "through"] == res.nodes.loc["xi2", "through"] == 3.75


def test_logit_tends_to_aon(toy):
    a = assign_flows(toy, theta=1e6)
    b = assign_flows(toy, method="aon")
    np.testing.assert_allclose(a.edges["flow"], b.edges["flow"], atol=1e-9)


def test_unserved_flow(toy):
    toy.remove_node("xt")
    res = assign_flows(toy)
    assert res.total_flow == 2.5 and res.unserved_flow == 7.5


def test_errors(toy):
    with pytest.raises(RoutesError, match="unknown method"):
        assign_flows(toy, method="ue")
    with pytest.raises(RoutesError, match="unknown weight"):
        assign_flows(toy, weight="speed")


def test_tables_without_routes(toy):
    empty = assign_flows(toy).routes.iloc[:0]
    assert corridor_shares(empty)["flow"].sum() == 0
    assert country_transit(toy, empty).empty


def test_shipped_data_flow_is_conserved(request):
    from routes.settings import DATA_DIR
    if not (DATA_DIR / "crossings.csv").exists():
        pytest.skip("shipped data not there yet")
    G = request.getfixturevalue("baseline")
    res = assign_flows(G)
    assert res.routes["flow"].sum() == pytest.approx(res.total_flow)
    assert res.corridors["share"].sum() == pytest.approx(1.0)


def test_tables_carry_their_columns(toy):
    res = assign_flows(toy, k=3, theta=10.0)
    c = res.crossings
    assert list(c.columns) == ["name", "country_a", "country_b", "status", "mode", "flow",
                               "share", "rank"]
    assert c.loc["xa", ["name", "country_a", "country_b", "status", "mode"]].tolist() == [
        "Post xa", "AFG", "UZB", "open", "road"]
    n = res.nodes
    assert list(n.columns) == ["kind", "name", "country", "through", "throughput", "share"]
    assert n.loc["xa", ["kind", "name", "country"]].tolist() == ["crossing", "Post xa", "AFG"]
    assert n.loc["o", ["kind", "country"]].tolist() == ["place", "AFG"]
    assert res.routes["choice_prob"].sum() == pytest.approx(2.0)  # per pair, shares sum to 1
    assert res.routes.loc["o>m2#2", "choice_prob"] == pytest.approx(P2)


def test_k_and_theta_come_from_the_cost_model(toy):
    from routes.costs import load_cost_model
    from test_network import HAND

    cm = load_cost_model(HAND / "cost_model.toml").with_changes(k_routes=1, logit_theta=0.0)
    res = assign_flows(toy, cm)      # one route per pair: the second Balkan crossing idles
    assert res.nodes.loc["xi2", "through"] == 0.0 and res.nodes.loc["xi", "through"] == 7.5
    res = assign_flows(toy, cm.with_changes(k_routes=3))    # theta 0: an even split
    assert res.nodes.loc["xi2", "through"] == pytest.approx(3.75)


def test_routes_split_by_the_weight_asked_for(toy):
    # Every leg takes 2 h: by time both Balkan routes tie (even split); by cost they do not.
    res = assign_flows(toy, weight="time_h", k=3, theta=10.0)
    assert res.weight == "time_h"
    assert res.nodes.loc["xi", "through"] == pytest.approx(3.75)
    assert res.nodes.loc["xi2", "through"] == pytest.approx(3.75)
