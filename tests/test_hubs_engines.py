"""Onward distribution from a wholesale hub: every engine sees the same network.

On the shipped data with two hubs added (Amsterdam serving Germany, Austria and Milan; Ankara
serving Greece), the Python engine, the what-if page
(Chromium) and `routes priorities --budget 0` agree to 1e-9: corridor shares and flows, crossing
flows, routed flow and the detected share (the legs rule of routes.network), and `routes paths`
writes whole journeys through the hub (AFG > ... > NLD > DEU).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from browser_support import visit
from routes.cli import main
from routes.costs import load_cost_model
from routes.geodata import load_dataset
from routes.maps import whatif_data, whatif_html
from routes.network import network_from_data, od_demand, od_journeys
from routes.priorities import evaluate_upgrades
from routes.routing.flows import assign_flows
from routes.routing.journeys import journey_detected_share
from routes.settings import DATA_DIR

TOL = 1e-9
AS_OF = "2019-06-30"
HUBS = ("place_id,serves,valid_from,valid_to,note,source\n"
        "p_amsterdam,DEU AUT p_milan,2010-01-01,,test hub,test\n"
        "p_ankara,GRC,2010-01-01,,test hub,test\n")


def near(x: float) -> object:
    return pytest.approx(x, rel=TOL, abs=TOL)


@pytest.fixture(scope="module")
def hub_data(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("hubs") / "geo"
    shutil.copytree(DATA_DIR, d, ignore=shutil.ignore_patterns("scenarios"))
    shutil.copytree(DATA_DIR.parent / "observed", d.parent / "observed")
    (d / "hubs.csv").write_text(HUBS, encoding="utf-8")
    return d


@pytest.fixture(scope="module")
def hub_inputs(hub_data):
    cm = load_cost_model(hub_data / "cost_model.toml")
    ds = load_dataset(hub_data, classes=set(cm.classes))
    return ds, cm, network_from_data(ds, cm, as_of=AS_OF)


def test_the_hub_makes_onward_pairs(hub_inputs):
    _, cm, G = hub_inputs
    assert cm.onward_share > 0
    pairs = od_demand(G)
    onward = {p: f for p, f in pairs.items() if p[0] in ("p_amsterdam", "p_ankara")}
    assert set(onward) == {("p_amsterdam", "p_berlin"), ("p_amsterdam", "p_vienna"),
                           ("p_amsterdam", "p_milan"), ("p_ankara", "p_athens")}
    # Every journey's flow is the gravity flow; the legs add up to supply + onward flow.
    supply = sum(d["supply"] for _, d in G.nodes(data=True) if d.get("role") == "origin")
    assert sum(f for *_, f in od_journeys(G)) == pytest.approx(supply, rel=1e-12)
    assert sum(pairs.values()) == pytest.approx(supply + sum(onward.values()), rel=1e-12)
    legs, journeys = journey_detected_share(G, cm=cm)
    assert legs == near(evaluate_upgrades(G, [], objective="flow", cm=cm).value)
    assert journeys != legs


def test_engine_page_and_priorities_agree_through_a_hub(browser, hub_data, hub_inputs,
                                                        tmp_path):
    ds, cm, G = hub_inputs
    fa = assign_flows(G, cm)
    assert fa.routes["onward"].any()
    page = tmp_path / "whatif.html"
    page.write_text(whatif_html(whatif_data(ds, cm, as_of=AS_OF)), encoding="utf-8")
    with visit(browser, page, ready="window.whatif !== undefined",
               viewport={"width": 1400, "height": 900}) as v:
        s = v.page.evaluate("whatif.summary()")
        assert v.errors == [] and v.outside == []
    for name, row in fa.corridors.iterrows():
        assert s["shares"][name] == near(row["share"]), name
        assert s["corridorFlows"][name] == near(row["flow"]), name
    for cid, f in fa.crossings["flow"].items():
        assert s["crossings"].get(cid, 0.0) == near(f), cid
    assert s["total"] == near(fa.total_flow)
    out = tmp_path / "out"
    assert main(["priorities", "--data", str(hub_data), "--as-of", AS_OF, "--budget", "0",
                 "--objective", "flow", "--no-curve", "--out", str(out)]) == 0
    curve = pd.read_csv(out / "baseline" / "priorities_curve.csv")
    assert s["detected"] == near(float(curve["value"].iloc[0]))
    assert s["detected"] == near(evaluate_upgrades(G, [], objective="flow", cm=cm).value)


def test_paths_writes_whole_journeys_through_the_hub(hub_data, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["paths", "--data", str(hub_data), "--as-of", AS_OF, "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "through a wholesale hub" in text
    j = pd.read_csv(out / "baseline" / "journeys.csv", keep_default_na=False)
    assert list(j.columns) == ["origin", "hub", "market", "journey_flow", "rank",
                               "rank_onward", "corridor", "countries", "flow"]
    via = j[(j["hub"] == "p_amsterdam") & (j["market"] == "p_berlin")]
    assert len(via) and via["countries"].str.endswith("DEU").all()
    assert via["countries"].str.contains("NLD > ").all()
    assert (via["countries"].str.endswith("NLD > DEU") * via["flow"]).sum() > 0
    by_origin = via.groupby("origin").agg(flow=("flow", "sum"), journey=("journey_flow", "first"))
    assert by_origin["flow"].to_numpy() == pytest.approx(by_origin["journey"].to_numpy(),
                                                         rel=1e-9)
    assert "Observed heroin links covered by a modelled route with flow:" in text
    ex = pd.read_csv(out / "baseline" / "exits_published.csv")
    assert list(ex.columns) == ["into", "modelled", "low", "high", "year", "unit", "source"]
    assert ex.loc[ex["into"] == "PAK", "low"].item() == 0.43
    cmp = pd.read_csv(out / "baseline" / "published_vs_modelled.csv")
    assert list(cmp.columns) == ["indicator", "subject", "year", "unit", "low", "high",
                                 "low_model_unit", "high_model_unit", "modelled",
                                 "model_unit", "modelled_note", "source"]
    cov = pd.read_csv(out / "baseline" / "links_coverage.csv")
    assert list(cov.columns) == ["from_iso3", "to_iso3", "on_network", "covered", "direct",
                                 "flow"]
    assert not (cov["direct"] & ~cov["covered"]).any()
    ages = pd.read_csv(out / "baseline" / "demand_ages.csv")
    assert list(ages.columns) == ["id", "name", "country", "demand", "demand_year",
                                  "age_years", "stale"]
    assert ages.loc[ages["id"] == "p_moscow", "stale"].item()
