"""Routes: k best routes, countries, corridor labels on a hand-worked network."""

from __future__ import annotations

import math

import networkx as nx
import pytest

from routes._errors import NoRouteError, RoutesError
from routes.engine import ENGINES
from routes.routing.paths import (
    CORRIDORS,
    corridor_of_route,
    k_best_routes,
    route_countries,
    shortest_routes,
)


def toy_network() -> nx.DiGraph:
    """One origin (AFG, supply 10) and two markets (RUS demand 1, TUR demand 3).

    Northern branch o - xa - u - xk - k - xr - m1 (6 legs), Balkan branch o - xi - i - xt - m2
    (4 legs) with a second Afghan-Iranian crossing xi2 whose entry leg costs 3. Every leg costs
    1 (except o->xi2), takes 2 h, is 100 km long and has risk 0.05, both ways.
    """
    G = nx.DiGraph(crs="EPSG:4326", scenario="toy", name="routes:toy")
    places = {"o": ("AFG", "origin", 10.0, 0.0), "u": ("UZB", "transit", 0, 0),
              "k": ("KAZ", "transit", 0, 0), "m1": ("RUS", "market", 0, 1.0),
              "i": ("IRN", "transit", 0, 0), "m2": ("TUR", "market", 0, 3.0)}
    for j, (n, (c, role, s, d)) in enumerate(places.items()):
        G.add_node(n, kind="place", name=f"Place {n}", country=c, role=role, supply=float(s),
                   demand=float(d), lon=60.0 + j, lat=40.0 - j)
    crossings = {"xa": ("AFG", "UZB"), "xk": ("UZB", "KAZ"), "xr": ("KAZ", "RUS"),
                 "xi": ("AFG", "IRN"), "xi2": ("AFG", "IRN"), "xt": ("IRN", "TUR")}
    for j, (n, (a, b)) in enumerate(crossings.items()):
        G.add_node(n, kind="crossing", name=f"Post {n}", country_a=a, country_b=b,
                   status="open", mode="road", crossing_class="test", lon=61.5 + j,
                   lat=39.5 - j)
    legs = [("o", "xa"), ("xa", "u"), ("u", "xk"), ("xk", "k"), ("k", "xr"), ("xr", "m1"),
            ("o", "xi"), ("xi", "i"), ("i", "xt"), ("xt", "m2"), ("o", "xi2"), ("xi2", "i")]
    for a, b in legs:
        for u, v in ((a, b), (b, a)):
            cost = 3.0 if (u, v) == ("o", "xi2") else 1.0
            G.add_edge(u, v, cost=cost, time_h=2.0, length_km=100.0, risk=0.05, mode="road",
                       corridor_id=f"c_{a}__{b}")
    return G


@pytest.fixture
def toy() -> nx.DiGraph:
    return toy_network()


def test_route_countries_follow_direction(toy):
    assert route_countries(toy, ["o", "xa", "u", "xk", "k", "xr", "m1"]) == [
        "AFG", "UZB", "KAZ", "RUS"]
    assert route_countries(toy, ["u", "xa", "o"]) == ["UZB", "AFG"]


@pytest.mark.parametrize(("countries", "modes", "before", "label"), [
    (["AFG", "TJK", "KGZ", "KAZ", "RUS"], ["road"], None, "Northern"),
    (["AFG", "TKM", "KAZ", "AZE", "GEO"], ["road", "ferry"], None, "Caucasus"),
    (["AFG", "IRN", "ARM", "GEO"], ["road"], None, "Caucasus"),
    (["AFG", "IRN", "TUR", "BGR", "SRB"], ["road"], None, "Balkan"),
    (["AFG", "IRN", "GRC"], ["road"], None, "Balkan"),
    (["AFG", "PAK", "NLD"], ["road", "sea"], ["AFG", "PAK"], "Southern"),
    (["AFG", "IRN", "BEL"], ["road", "sea"], ["AFG", "IRN"], "Southern"),
    (["AFG", "IRN", "TUR", "ITA"], ["road", "sea"], ["AFG", "IRN", "TUR"], "Balkan"),
    (["AFG", "PAK"], ["road"], None, "Southern"),
    (["AFG", "TJK"], ["road"], None, "Northern"),
    (["AFG", "TKM", "IRN"], ["road"], None, "Balkan"),
    (["AFG", "PAK", "IRN", "TUR"], ["road"], None, "Balkan"),
    (["AFG", "IRN", "ARM"], ["road"], None, "Caucasus"),
    (["AFG", "CHN"], ["road"], None, "Other"),
    (["AFG"], [], None, "Other"),
])
def test_corridor_rules(countries, modes, before, label):
    assert corridor_of_route(countries, modes, before) == label
    assert label in CORRIDORS


@pytest.mark.parametrize("engine", ENGINES)
def test_k_best_routes_handworked(toy, engine):
    r = k_best_routes(toy, k=3, engine=engine)
    assert r.index.tolist() == ["o>m1#1", "o>m2#1", "o>m2#2"]
    best = r.loc["o>m2#1"]
    assert best["path"] == ["o", "xi", "i", "xt", "m2"]
    assert best["crossings"] == ["xi", "xt"]
    assert best["countries"] == ["AFG", "IRN", "TUR"]
    assert best["corridor"] == "Balkan"
    assert (best["cost"], best["time_h"], best["length_km"]) == (4.0, 8.0, 400.0)
    assert best["risk"] == pytest.approx(0.2)
    assert best["p_undetected"] == pytest.approx(math.exp(-0.2))
    assert best["p_detect"] == pytest.approx(1 - math.exp(-0.2))
    assert best["pair_flow"] == 7.5
    assert r.loc["o>m2#2", "path"] == ["o", "xi2", "i", "xt", "m2"]
    assert r.loc["o>m2#2", "route_weight"] == 6.0
    assert r.loc["o>m1#1", "corridor"] == "Northern"
    assert r.loc["o>m1#1", "n_crossings"] == 3
    assert r.crs == "EPSG:4326"
    assert r.geometry.iloc[0].geom_type == "LineString"
    assert len(r.geometry.iloc[0].coords) == 7


def test_k_best_routes_by_other_weight_and_k_from_cost_model(toy, cost_model_stub):
    r = k_best_routes(toy, cost_model_stub, weight="length_km")
    assert set(r["weight"]) == {"length_km"}
    assert r.groupby("market").size().to_dict() == {"m1": 1, "m2": 1}
    # by length the two Afghan-Iranian posts tie (400 km): the smaller id wins
    assert r.loc["o>m2#1", "path"] == ["o", "xi", "i", "xt", "m2"]


@pytest.fixture
def cost_model_stub():
    class CM:
        k_routes = 1
        logit_theta = 10.0
    return CM()


def test_shortest_routes_break_ties_by_id(toy):
    toy.edges["o", "xi2"]["cost"] = 1.0  # now both Afghan-Iranian posts tie
    r = shortest_routes(toy)
    assert r.loc["o>m2#1", "path"] == ["o", "xi", "i", "xt", "m2"]
    assert r["rank"].tolist() == [1, 1]


def test_no_route_and_bad_weight(toy):
    toy.remove_nodes_from(["xa", "xi", "xi2"])
    with pytest.raises(NoRouteError):
        k_best_routes(toy)
    with pytest.raises(RoutesError, match="unknown weight"):
        shortest_routes(toy_network(), weight="speed")


@pytest.mark.parametrize("engine", ENGINES)
def test_k_best_routes_on_shipped_data(baseline_or_skip, engine):
    r = k_best_routes(baseline_or_skip, k=2, engine=engine)
    assert len(r) > 0 and set(r["corridor"]) <= set(CORRIDORS)
    assert (r.groupby(["origin", "market"])["route_weight"].apply(
        lambda s: s.is_monotonic_increasing)).all()


@pytest.fixture
def baseline_or_skip(request):
    from routes.settings import DATA_DIR
    if not (DATA_DIR / "crossings.csv").exists():
        pytest.skip("shipped data not there yet")
    return request.getfixturevalue("baseline")


def test_route_countries_at_a_crossing_end():
    G = nx.DiGraph()
    G.add_node("a", kind="place", country="AFG")
    G.add_node("x", kind="crossing", country_a="AFG", country_b="TJK")
    assert route_countries(G, ["a", "x"]) == ["AFG", "TJK"]
    assert route_countries(G, ["x"]) == ["AFG", "TJK"]


def test_kazakhstan_alone_makes_a_route_northern():
    # Through Iran and Turkmenistan into Kazakhstan: KAZ, not Central Asia, decides.
    assert corridor_of_route(["AFG", "IRN", "TKM", "KAZ"]) == "Northern"
    assert corridor_of_route(["AFG", "IRN", "TKM"]) == "Balkan"


def test_routes_carry_the_flows_given(toy):
    r = k_best_routes(toy, k=1, flows={("o", "m2"): 2.0})
    assert r.index.tolist() == ["o>m2#1"] and r["pair_flow"].tolist() == [2.0]
    r = shortest_routes(toy, flows={("o", "m1"): 0.5})
    assert r["pair_flow"].tolist() == [0.5]


def test_k_best_routes_gdf_is_k_best_by_cost(toy):
    from routes.routing.paths import k_best_routes_gdf

    r = k_best_routes_gdf(toy)
    assert r.equals(k_best_routes(toy, k=5)) and r.crs == "EPSG:4326"
    assert r.index.tolist() == ["o>m1#1", "o>m2#1", "o>m2#2"]
