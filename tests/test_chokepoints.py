"""Chokepoints on the hand-worked network: cuts, articulation points, vital crossings."""

from __future__ import annotations

import networkx as nx
import pytest

from routes._errors import NoRouteError, RoutesError
from routes.crossings.chokepoints import (
    VITAL_COLUMNS,
    articulation_points,
    bridges,
    chokepoint_table,
    min_edge_cut,
    min_node_cut,
    om_subgraph,
    vital_crossings,
)
from routes.engine import ENGINES
from test_paths import toy_network


@pytest.fixture
def toy():
    G = toy_network()
    G.add_node("dead", kind="place", name="Dead end", country="AFG", role="transit",
               supply=0.0, demand=0.0, lon=60.0, lat=30.0)
    G.add_edge("o", "dead", cost=1.0, time_h=1.0, length_km=1.0, risk=0.0, mode="road",
               corridor_id="c_dead")
    return G


def test_om_subgraph_drops_dead_ends(toy):
    assert "dead" not in om_subgraph(toy) and "xi2" in om_subgraph(toy)


def test_articulation_points_and_bridges(toy):
    assert articulation_points(toy).index.tolist() == ["i", "k", "o", "u", "xa", "xk", "xr",
                                                       "xt"]
    b = bridges(toy)
    assert len(b) == 8
    assert {"c_o__xa", "c_xt__m2", "c_i__xt"} <= set(b["corridor_id"])


def _disconnects(G, nodes=(), edges=()):
    H = G.copy()
    H.remove_nodes_from(nodes)
    H.remove_edges_from(edges)
    return not any(nx.has_path(H, o, m) for o in ["o"] for m in ["m1", "m2"] if o in H)


def test_min_node_cut(toy):
    cut = min_node_cut(toy)
    assert len(cut) == 2 and all(toy.nodes[n]["kind"] == "crossing" for n in cut)
    assert _disconnects(toy, nodes=cut)
    assert len(min_node_cut(toy, cuttable="all")) == 2
    with pytest.raises(RoutesError, match="cuttable"):
        min_node_cut(toy, cuttable="places")


def test_min_node_cut_impossible():
    G = toy_network()
    G.add_edge("o", "m2", cost=1.0)
    with pytest.raises(RoutesError, match="no node cut"):
        min_node_cut(G)


def test_min_edge_cut(toy):
    cut = min_edge_cut(toy)
    assert len(cut) == 2
    assert _disconnects(toy, edges=list(zip(cut["u"], cut["v"])))


@pytest.mark.parametrize("engine", ENGINES)
def test_vital_crossings_handworked(toy, engine):
    v = vital_crossings(toy, engine=engine)
    assert tuple(v.columns) == VITAL_COLUMNS
    # Closing xt strands the Balkan flow (7.5); closing a Northern post strands 2.5.
    assert v.index.tolist()[:4] == ["xt", "xa", "xk", "xr"]
    assert v.loc["xt", "unserved_flow"] == 7.5 and v.loc["xt", "unserved_share"] == 0.75
    assert v.loc["xt", "stranded_supply"] == 0.0        # o still reaches m1
    # base: 2.5 * 6 + 7.5 * 4 = 45; closing xi reroutes via xi2 (+2 per unit).
    assert v.loc["xi", "base_cost"] == 45.0
    assert v.loc["xi", "cost_rise"] == 15.0
    assert v.loc["xi", "cost_rise_pct"] == pytest.approx(100 / 3)
    assert v.loc["xi2", "cost_rise"] == 0.0
    assert v["vital_rank"].tolist() == list(range(1, 7))


def test_closed_crossings_are_left_out(toy):
    toy.nodes["xi2"]["status"] = "closed"
    toy.remove_edges_from(list(toy.in_edges("xi2")) + list(toy.out_edges("xi2")))
    assert "xi2" not in vital_crossings(toy).index
    t = chokepoint_table(toy)
    assert pd_isna(t.loc["xi2", "vital_rank"])


def pd_isna(x):
    import pandas as pd
    return pd.isna(x)


def test_stranded_supply():
    G = toy_network()
    G.remove_edges_from([("o", "xi2"), ("xi2", "o")])
    G.remove_edges_from([("o", "xa"), ("xa", "o")])
    v = vital_crossings(G)
    assert v.loc["xi", "stranded_supply"] == 10.0
    assert v.loc["xi", "unserved_flow"] == 7.5  # o->m1 had no route before either


def test_chokepoint_table(toy):
    t = chokepoint_table(toy)
    assert t.index[0] == "xt" and t["priority_rank"].tolist() == list(range(1, 7))
    assert t.loc["xt", "articulation_point"] and not t.loc["xi", "articulation_point"]
    assert t["in_min_cut"].sum() == 2
    assert {"flow_betweenness", "share", "rank", "unserved_flow", "cost_rise"} <= set(t)


def test_no_origin():
    G = toy_network()
    G.nodes["o"]["role"] = "transit"
    with pytest.raises(NoRouteError):
        om_subgraph(G)
    with pytest.raises(NoRouteError):
        vital_crossings(G)


def test_tables_carry_their_columns(toy):
    ap = articulation_points(toy)
    assert list(ap.columns) == ["kind", "name", "country", "country_b"]
    assert ap.loc["xa"].tolist() == ["crossing", "Post xa", "AFG", "UZB"]
    cut = min_edge_cut(toy)
    assert list(cut.columns) == ["u", "v", "corridor_id", "mode"]
    assert cut["mode"].tolist() == ["road", "road"]
    v = vital_crossings(toy)
    assert v.loc["xt", "status"] == "open" and v.loc["xt", "name"] == "Post xt"
    assert v.loc["xi", "cost_after"] == 60.0     # 2.5 * 6 + 7.5 * 6 once xi is closed


def test_min_edge_cut_when_no_route_is_left():
    G = toy_network()
    G.remove_edges_from([("o", "xa"), ("o", "xi"), ("o", "xi2")])
    cut = min_edge_cut(G)
    assert len(cut) == 0 and list(cut.columns) == ["u", "v", "corridor_id", "mode"]


def test_node_cut_error_names_the_reason():
    G = toy_network()
    G.add_edge("o", "m2", cost=1.0)
    with pytest.raises(RoutesError, match="through uncuttable nodes only"):
        min_node_cut(G)


def test_priority_falls_back_on_flow_betweenness():
    # Every post has an equally cheap twin: closing one strands nothing and costs nothing,
    # so flow betweenness orders them (xa 2.0, xc 1.5, xb 0.5).
    G = nx.DiGraph()
    G.add_node("o", kind="place", role="origin", supply=4.0, demand=0.0)
    G.add_node("m1", kind="place", role="market", supply=0.0, demand=1.0)
    G.add_node("m2", kind="place", role="market", supply=0.0, demand=3.0)
    for x in ("xa", "xb", "xc"):
        G.add_node(x, kind="crossing", name=x, status="open")
        G.add_edge("o", x, cost=1.0)
    for u, v in (("xa", "m1"), ("xb", "m1"), ("xa", "m2"), ("xc", "m2")):
        G.add_edge(u, v, cost=1.0)
    t = chokepoint_table(G)
    assert t["flow_betweenness"].to_dict() == {"xa": 2.0, "xc": 1.5, "xb": 0.5}
    assert t.index.tolist() == ["xa", "xc", "xb"] and t["priority_rank"].tolist() == [1, 2, 3]
