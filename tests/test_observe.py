"""The observation model on hand-worked graphs, and the seizures file checks."""

from __future__ import annotations

import math

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from routes._errors import DataError
from routes.calibration._fastobs import Theta, YearModel
from routes.calibration.observe import (
    ObservationParams,
    country_throughput,
    edge_checks,
    modelled_seizures,
    observation_params,
)
from routes.costs import load_cost_model
from routes.network import od_demand
from routes.observed import read_seizures
from routes.settings import DEFAULT_COST_MODEL
from shared_support import add_posts_and_roads


@pytest.fixture(scope="module")
def cm():
    return load_cost_model(DEFAULT_COST_MODEL)


def _chain(cm):
    """o (AFG) -> x (AFG|TJK) -> p (TJK) -> y (TJK|KGZ, entered from KGZ's side) -> m (KGZ)."""
    G = nx.DiGraph()
    G.add_node("o", kind="place", country="AFG")
    G.add_node("x", kind="crossing", country_a="AFG", country_b="TJK",
               crossing_class="central_asia")
    G.add_node("p", kind="place", country="TJK")
    # Written the other way round: country_a is KGZ, so the route enters country_a here and the
    # class_into_a applies.
    G.add_node("y", kind="crossing", country_a="KGZ", country_b="TJK",
               crossing_class="eaeu_internal", class_into_a="central_asia")
    G.add_node("m", kind="place", country="KGZ")
    km = 1000 / cm.modes["road"].risk_per_1000km          # km per unit of travel risk
    for u, v, t, b in [("o", "x", 0.1, 0.7), ("x", "p", 0.05, 0.0), ("p", "y", 0.2, 0.3),
                       ("y", "m", 0.0, 0.0)]:
        G.add_edge(u, v, mode="road", length_km=t * km, time_h=1.0, risk=t + b)
    return G


def test_edge_checks_split_and_direction(cm):
    ck = edge_checks(_chain(cm), cm).set_index(["u", "v"])
    assert ck.loc[("o", "x"), "travel_country"] == "AFG"
    assert ck.loc[("o", "x"), "border_country"] == "TJK"
    assert ck.loc[("o", "x"), "border_risk"] == pytest.approx(0.7)
    assert ck.loc[("o", "x"), "travel_risk"] == pytest.approx(0.1)
    assert ck.loc[("x", "p"), "travel_country"] == "TJK"
    assert ck.loc[("p", "y"), "border_country"] == "KGZ"
    assert ck.loc[("p", "y"), "border_class"] == "central_asia"     # class_into_a
    assert ck.loc[("x", "p"), "border_risk"] == 0.0


def test_modelled_seizures_hand_worked(cm):
    """Flow 10 with share 0.3 and 100 kg per unit, worked by hand leg by leg."""
    G = _chain(cm)
    routes = pd.DataFrame({"path": [["o", "x", "p", "y", "m"]], "flow": [10.0]})
    s = modelled_seizures(G, cm, routes=routes, params=ObservationParams(0.3, 100.0))
    alive = 10.0
    afg = alive * (1 - math.exp(-0.1))
    alive -= afg
    tjk_post = alive * (1 - math.exp(-0.7))
    alive -= tjk_post
    tjk_in = alive * (1 - math.exp(-0.05))
    alive -= tjk_in
    tjk_in2 = alive * (1 - math.exp(-0.2))
    alive -= tjk_in2
    kgz = alive * (1 - math.exp(-0.3))
    assert s.loc["AFG", "seized"] == pytest.approx(afg)          # 0.951626
    assert s.loc["TJK", "seized_border"] == pytest.approx(tjk_post)
    assert s.loc["TJK", "seized_inland"] == pytest.approx(tjk_in + tjk_in2)
    assert s.loc["KGZ", "seized"] == pytest.approx(kgz)
    assert s.loc["AFG", "seized"] == pytest.approx(0.9516258, abs=1e-7)
    assert s.loc["TJK", "seized"] == pytest.approx(5.5489967, abs=1e-6)
    assert s.loc["KGZ", "seized"] == pytest.approx(0.906976, abs=1e-5)
    assert s["modelled_kg"].to_dict() == pytest.approx((s["seized"] * 30.0).to_dict())
    # Nothing appears or disappears: seized plus what arrives is the flow.
    assert s["seized"].sum() + alive - kgz == pytest.approx(10.0)


def test_fast_model_equals_exact_on_shipped_network(cm):
    from routes.geodata import load_dataset
    from routes.network import network_from_data
    from routes.settings import DATA_DIR

    G = network_from_data(load_dataset(DATA_DIR, classes=set(cm.classes)), cm)
    exact = modelled_seizures(G, cm, params=ObservationParams(1.0, 1.0))
    ym = YearModel(G, cm, groups=[("iran_east",), ("central_asia",)],
                   countries=list(exact.index))
    th = Theta(np.ones(2), 1.0, cm.hours_per_risk, cm.logit_theta)
    ym.extend(th, 2 * cm.k_routes)
    np.testing.assert_allclose(ym.seized(th), exact["seized"].to_numpy(), rtol=1e-9,
                               atol=1e-12)
    assert exact["seized"].sum() > 0


def test_fast_throughput_equals_exact_on_shipped_network(cm):
    """YearModel.through (the calibration's) equals country_throughput on the logit routes."""
    from routes.geodata import load_dataset
    from routes.network import network_from_data
    from routes.routing.flows import assign_flows
    from routes.settings import DATA_DIR

    G = network_from_data(load_dataset(DATA_DIR, classes=set(cm.classes)), cm)
    exact = country_throughput(G, cm, assign_flows(G, cm).routes)
    ym = YearModel(G, cm, groups=[], countries=list(exact.index))
    th = Theta(np.ones(0), 1.0, cm.hours_per_risk, cm.logit_theta, cm.hours_per_km)
    ym.extend(th, 2 * cm.k_routes)
    np.testing.assert_allclose(ym.through(th), exact.to_numpy(), rtol=1e-9, atol=1e-12)
    # what leaves Afghanistan: the pairs from the producing origins (the onward legs from
    # wholesale hubs start outside it)
    assert exact["AFG"] == pytest.approx(sum(f for (o, m), f in od_demand(G).items()
                                             if G.nodes[o]["role"] == "origin"
                                             and G.nodes[m]["country"] != "AFG"), rel=1e-9)


def test_modelled_seizures_with_rates_hand_worked(cm):
    """Rates: kg = rate * (through * share * 100 + background); default rate elsewhere."""
    G = _chain(cm)
    raw = {"observation": {"trafficked_share": 0.5, "background_flow_kg": 40.0,
                           "default_rate": 0.01, "seizure_rates": {"TJK": 0.3, "KGZ": 0.07}}}
    c = cm.with_changes(raw=raw)
    routes = pd.DataFrame({"path": [["o", "x", "p", "y", "m"]], "flow": [10.0]})
    s = modelled_seizures(G, c, routes=routes)["modelled_kg"]
    # 10 units * 0.5 * 100 kg = 500 kg through each country of the route.
    assert s.round(6).to_dict() == {"AFG": round(0.01 * 540, 6), "KGZ": round(0.07 * 540, 6),
                                    "TJK": round(0.3 * 540, 6)}
    with pytest.raises(DataError, match="observation.seizure_rates.TJK"):
        modelled_seizures(G, cm.with_changes(raw={"observation": {
            "default_rate": 0.01, "seizure_rates": {"TJK": -1.0}}}), routes=routes)


def test_observation_params_checked(cm):
    assert observation_params(cm) == ObservationParams(1.0, 100.0)
    bad = cm.with_changes(raw={"observation": {"trafficked_share": 1.5}})
    with pytest.raises(DataError, match="observation.trafficked_share"):
        observation_params(bad)


# --------------------------------------------------------------------------- seizures file
_GOOD = ("iso3,year,heroin_eq_kg,heroin_kg\n"
         "AFG,2018,100,80\n"
         "IRN,2018,,\n"
         "AFG,2019,50,50\n")


def test_read_seizures_keeps_missing_as_nan(tmp_path):
    p = tmp_path / "s.csv"
    p.write_text(_GOOD)
    df = read_seizures(p, countries={"AFG", "IRN"}, years=(2018, 2025))
    assert math.isnan(df.loc[1, "heroin_eq_kg"])
    assert df["year"].tolist() == [2018, 2018, 2019]
    assert len(df.attrs["sha256"]) == 64


@pytest.mark.parametrize("text, row, field, msg", [
    ("iso3,year,heroin_eq_kg\nAFG,2018,1\nXXX,2018,2\n", 3, "iso3", "unknown country"),
    ("iso3,year,heroin_eq_kg,opium_kg\nAFG,2018,1,-5\n", 2, "opium_kg", ">= 0"),
    ("iso3,year,heroin_eq_kg\nAFG,2018,1\nAFG,2031,2\n", 3, "year", "outside the network"),
    ("iso3,year,heroin_eq_kg\nAFG,2018,1\nAFG,2019,\nIRN,2019,\n", 3, "heroin_eq_kg",
     "year 2019 is empty"),
    ("iso3,year,heroin_eq_kg\nAFG,2018,1\nAFG,2018,2\n", 3, "year", "given twice"),
    ("iso3,year,heroin_eq_kg\nAFG,2018,lots\n", 2, "heroin_eq_kg", "must be a number"),
])
def test_read_seizures_bad_rows(tmp_path, text, row, field, msg):
    p = tmp_path / "s.csv"
    p.write_text(text)
    with pytest.raises(DataError, match=msg) as exc:
        read_seizures(p, countries={"AFG", "IRN"}, years=(2018, 2025))
    prob = next(q for q in exc.value.problems if msg.split()[0] in q.message)
    assert (prob.file, prob.row, prob.field) == (str(p), row, field)


def test_observation_chart_and_residual_text(tmp_path):
    from routes.report._observations import _residual_text, scatter_chart

    df = pd.DataFrame({"iso3": ["IRN", "IRN", "AZE", "KAZ"], "year": [2018, 2022, 2018, 2018],
                       "split": ["fit", "holdout", "fit", "fit"],
                       "observed_kg": [100000.0, 90000.0, 2000.0, 300.0],
                       "modelled_kg": [3000.0, 2500.0, 0.0, 1900.0]})
    a = scatter_chart(df, tmp_path / "a.png", title="t")
    b = scatter_chart(df, tmp_path / "b.png", title="t")
    assert a.read_bytes() == b.read_bytes()          # byte-identical runs
    df["log_residual"] = np.log(df["observed_kg"] + 10) - np.log(df["modelled_kg"] + 10)
    by = df.groupby("iso3").agg(observed_kg=("observed_kg", "mean"),
                                modelled_kg=("modelled_kg", "mean"),
                                log_residual=("log_residual", "mean"))
    text = _residual_text(by)
    assert text.index("AZE") < text.index("IRN")     # largest under-prediction first
    assert "AZE: no modelled route passes" in text
    assert "over-predicts most in KAZ" in text


# --------------------------------------------------------------------------- edge cases
def test_no_observation_table_gives_the_defaults(cm):
    """A cost model without [observation]: all of the supply at 100 kg per unit."""
    assert observation_params(cm.with_changes(raw={})) == ObservationParams(1.0, 100.0)
    assert observation_params(cm.with_changes(raw={"conversion": {}})).kg_per_unit == 100.0


def _two_posts(cm):
    """o (AFG) -> x (AFG|TJK) -> y (TJK|UZB) -> m (UZB): two posts back to back, the leg
    between them in TJK, the country both share; y checks entries into its country_a (UZB)
    as "central_asia", into TJK (from m's side) as its own class; u (TKM) a place no post
    touches; a transfer edge o -> z without a length."""
    G = nx.DiGraph()
    G.add_node("o", kind="place", country="AFG")
    G.add_node("x", kind="crossing", country_a="AFG", country_b="TJK",
               crossing_class="central_asia")
    G.add_node("y", kind="crossing", country_a="UZB", country_b="TJK",
               crossing_class="eaeu_internal", class_into_a="central_asia")
    G.add_node("m", kind="place", country="UZB")
    G.add_node("u", kind="place", country="TKM")
    G.add_node("z", kind="place", country="AFG")
    km = 1000 / cm.modes["road"].risk_per_1000km
    for u, v, t, b in [("o", "x", 0.1, 0.4), ("x", "y", 0.05, 0.3), ("y", "m", 0.0, 0.0),
                       ("m", "y", 0.02, 0.6)]:
        G.add_edge(u, v, mode="road", length_km=t * km, time_h=1.0, risk=t + b)
    G.add_edge("o", "z", mode="road", risk=0.25)
    return G


def test_leg_between_two_posts_runs_in_their_shared_country(cm):
    ck = edge_checks(_two_posts(cm), cm).set_index(["u", "v"])
    assert ck.loc[("x", "y"), "travel_country"] == "TJK"
    assert ck.loc[("x", "y"), "border_country"] == "UZB"
    assert ck.loc[("x", "y"), "border_class"] == "central_asia"     # into country_a
    assert ck.loc[("x", "y"), "border_risk"] == pytest.approx(0.3)
    assert ck.loc[("y", "m"), "travel_country"] == "UZB"


def test_class_into_a_only_for_entries_into_country_a(cm):
    """Entering y's country_b (TJK) from UZB: y's own class, not class_into_a; an empty
    class_into_a is no class."""
    G = _two_posts(cm)
    ck = edge_checks(G, cm).set_index(["u", "v"])
    assert ck.loc[("m", "y"), "border_country"] == "TJK"
    assert ck.loc[("m", "y"), "border_class"] == "eaeu_internal"
    G.nodes["y"]["class_into_a"] = ""
    ck = edge_checks(G, cm).set_index(["u", "v"])
    assert ck.loc[("x", "y"), "border_class"] == "eaeu_internal"


def test_edge_without_length_is_all_inland_risk(cm):
    """No length_km (a transfer): 0 km, 0 h, its whole risk charged inland where it runs."""
    ck = edge_checks(_two_posts(cm), cm).set_index(["u", "v"])
    row = ck.loc[("o", "z")]
    assert (row["length_km"], row["time_h"], row["travel_risk"]) == (0.0, 0.0, 0.25)
    assert row["border_risk"] == 0.0 and pd.isna(row["border_country"])


def test_every_country_listed_even_without_a_post(cm):
    """TKM has a place but no post and no route: listed with zeros, index named iso3."""
    G = _two_posts(cm)
    routes = pd.DataFrame({"path": [["o", "x", "y", "m"], ["o", "z"]], "flow": [4.0, 0.0]})
    s = modelled_seizures(G, cm, routes=routes, params=ObservationParams(1.0, 1.0))
    assert s.index.tolist() == ["AFG", "TJK", "TKM", "UZB"] and s.index.name == "iso3"
    assert s.loc["TKM"].tolist() == [0.0, 0.0, 0.0, 0.0]
    # the leg x -> y: inland TJK, then y's post into UZB
    left = 4.0 * math.exp(-0.1) * math.exp(-0.4)
    assert s.loc["TJK", "seized_inland"] == pytest.approx(left * (1 - math.exp(-0.05)))
    assert s.loc["UZB", "seized_border"] == pytest.approx(
        left * math.exp(-0.05) * (1 - math.exp(-0.3)))
    t = country_throughput(G, cm, routes)
    assert t.index.name == "iso3" and t.dtype == np.float64
    assert t.to_dict() == {"AFG": 4.0, "TJK": 4.0, "TKM": 0.0, "UZB": 4.0}
    empty = country_throughput(nx.DiGraph(), cm, pd.DataFrame({"path": [], "flow": []}))
    assert empty.dtype == np.float64 and empty.empty and empty.index.name == "iso3"


def test_rates_form_has_no_inland_border_split(cm):
    """With seizure rates the model gives kg per country only: the split columns are 0 and
    seized is modelled_kg in flow units."""
    G = _chain(cm)
    c = cm.with_changes(raw={"observation": {"heroin_kg_per_flow_unit": 80.0,
                                             "default_rate": 0.02,
                                             "seizure_rates": {"TJK": 0.25}}})
    routes = pd.DataFrame({"path": [["o", "x", "p", "y", "m"]], "flow": [10.0]})
    s = modelled_seizures(G, c, routes=routes)
    assert (s["seized_inland"] == 0.0).all() and (s["seized_border"] == 0.0).all()
    assert s["modelled_kg"].to_dict() == pytest.approx({"AFG": 16.0, "KGZ": 16.0,
                                                        "TJK": 200.0})
    assert s["seized"].to_dict() == pytest.approx({"AFG": 0.2, "KGZ": 0.2, "TJK": 2.5})


@pytest.mark.parametrize("obs, field", [
    ({"seizure_rates": {"TJK": 0.1}}, "observation.default_rate"),
    ({"seizure_rates": {"TJK": 0.1}, "default_rate": -0.5}, "observation.default_rate"),
    ({"seizure_rates": {"TJK": True}, "default_rate": 0.1}, "observation.seizure_rates.TJK"),
])
def test_bad_seizure_rate_names_its_field(cm, obs, field):
    G = _chain(cm)
    routes = pd.DataFrame({"path": [["o", "x", "p", "y", "m"]], "flow": [10.0]})
    with pytest.raises(DataError) as ei:
        modelled_seizures(G, cm.with_changes(raw={"observation": obs}), routes=routes)
    assert [p.field for p in ei.value.problems] == [field]


# --------------------------------------------------------------------------- the fast model
def _two_routes(cm, *, tjk_status: str = "open"):
    """Two origins in AFG, markets in DEU and IRN; routes through IRN (iran_east post) or TJK
    (central_asia post) then an eu_external post into DEU: several pairs, several routes."""
    G = nx.DiGraph()
    for n, c, role, s, d in [("o1", "AFG", "origin", 100.0, 0.0), ("o2", "AFG", "origin", 40.0,
                                                                     0.0),
                             ("pi", "IRN", "market", 0.0, 2.0), ("pt", "TJK", "transit", 0.0,
                                                                  0.0),
                             ("m", "DEU", "market", 0.0, 5.0)]:
        G.add_node(n, kind="place", country=c, role=role, supply=s, demand=d, lon=0.0, lat=0.0)
    add_posts_and_roads(
        G, cm,
        [("xi", "AFG", "IRN", "iran_east", "open"),
         ("xt", "AFG", "TJK", "central_asia", tjk_status),
         ("zi", "IRN", "DEU", "eu_external", "open"),
         ("zt", "TJK", "DEU", "eu_external", "open")],
        [("o1", "xi", 500.0), ("o2", "xi", 650.0), ("xi", "pi", 300.0), ("pi", "zi", 2500.0),
         ("zi", "m", 1500.0), ("o1", "xt", 400.0), ("o2", "xt", 380.0), ("xt", "pt", 200.0),
         ("pt", "zt", 3000.0), ("zt", "m", 2300.0)])
    return G


def test_fast_model_equals_exact_on_a_small_network(cm):
    """YearModel (the calibration's) equals modelled_seizures and country_throughput on the
    logit routes: several pairs, one or two routes each; results in the order of the countries
    asked for (AFG left out: its legs count nowhere); two years stacked give each year's
    row."""
    from routes.calibration._fastobs import stack
    from routes.routing.flows import assign_flows

    rows = []
    models = []
    for status in ("open", "restricted"):
        G = _two_routes(cm, tjk_status=status)
        exact = modelled_seizures(G, cm, params=ObservationParams(1.0, 1.0))
        through = country_throughput(G, cm, assign_flows(G, cm).routes)
        countries = ["TJK", "IRN", "DEU"]
        exact, through = exact.loc[countries], through.loc[countries]
        ym = YearModel(G, cm, groups=[("iran_east",), ("central_asia",)], countries=countries)
        th = Theta(np.ones(2), 1.0, cm.hours_per_risk, cm.logit_theta)
        assert ym.extend(th, cm.k_routes) > 0 and ym.extend(th, cm.k_routes) == 0
        np.testing.assert_allclose(ym.seized(th), exact["seized"].to_numpy(), rtol=1e-9,
                                   atol=1e-12)
        np.testing.assert_allclose(ym.through(th), through.to_numpy(), rtol=1e-9, atol=1e-12)
        assert ym.summary() == {"pairs": 4, "routes": 6, "legs": 20}
        models.append(ym)
        rows.append(exact["seized"].to_numpy())
    assert not np.allclose(rows[0], rows[1])
    both = stack(models)
    np.testing.assert_allclose(both.seized(th).reshape(2, -1), np.array(rows), rtol=1e-9,
                               atol=1e-12)


def test_fast_model_of_a_year_without_flow(cm):
    """No origin supplies anything: no pair, no route, nothing detected."""
    G = _two_routes(cm)
    for o in ("o1", "o2"):
        G.nodes[o]["supply"] = 0.0
    ym = YearModel(G, cm, groups=[], countries=["DEU", "IRN"])
    th = Theta(np.ones(0), 1.0, cm.hours_per_risk, cm.logit_theta)
    assert ym.extend(th, cm.k_routes) == 0
    assert ym.summary() == {"pairs": 0, "routes": 0, "legs": 0}
    assert ym.seized(th).tolist() == [0.0, 0.0] and ym.through(th).tolist() == [0.0, 0.0]
