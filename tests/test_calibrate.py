"""Calibration: parameter recovery (a confounded case too), the optimiser, the held-out year,
the rolling origin, the calibrated cost model file, bad input."""

from __future__ import annotations

import tomllib

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from routes.calibration._calib_toml import calibrated_text
from routes.calibration._holdout import holdout_predictions, rolling_origin
from routes.calibration._optimise import multistart
from routes.calibration._posterior import RatePrior, profile_rates
from routes.calibration.calibrate import apply_parameters, calibrate
from routes.calibration.observe import modelled_seizures
from routes.cli import main
from routes.costs import crossing_terms, edge_weights, load_cost_model
from routes.settings import DATA_DIR, DEFAULT_COST_MODEL

SUPPLY = {2018: 100.0, 2019: 160.0, 2020: 70.0, 2021: 125.0, 2022: 90.0}
#: The Tajik post's status by year: restricted years make the northern route dearer.
STATUS = {2018: "open", 2019: "restricted", 2020: "open", 2021: "restricted", 2022: "open"}
#: True route parameter and seizure rates. Iran: high rate on a small flow; Tajikistan: low
#: rate on a large flow; their seizures are of the same size (the confounded case).
TRUE_HPR = 700.0
TRUE_RATES = {"AFG": 0.05, "IRN": 0.40, "TJK": 0.08, "DEU": 0.10}
YEARS = [2018, 2019, 2020, 2021]


@pytest.fixture(scope="module")
def cm():
    return load_cost_model(DEFAULT_COST_MODEL)


def build(year: int, cm) -> nx.DiGraph:
    """AFG origin, one market in DEU reached through IRN (short, an iran_east post) or TJK
    (long, a central_asia post, restricted in some years); both enter DEU at an eu_external
    post. Each route's share depends on hours_per_risk and on the year's status."""
    G = nx.DiGraph()
    G.add_node("o", kind="place", country="AFG", role="origin", supply=SUPPLY[year],
               demand=0.0, lon=62.0, lat=34.0)
    G.add_node("pi", kind="place", country="IRN", role="transit", supply=0.0, demand=0.0,
               lon=55.0, lat=33.0)
    G.add_node("pt", kind="place", country="TJK", role="transit", supply=0.0, demand=0.0,
               lon=69.0, lat=38.5)
    G.add_node("m", kind="place", country="DEU", role="market", supply=0.0, demand=5.0,
               lon=13.0, lat=52.0)
    for x, a, b, cls, st in [("xi", "AFG", "IRN", "iran_east", "open"),
                             ("xt", "AFG", "TJK", "central_asia", STATUS[year]),
                             ("zi", "IRN", "DEU", "eu_external", "open"),
                             ("zt", "TJK", "DEU", "eu_external", "open")]:
        delay, risk = crossing_terms(cm, cls, st)
        G.add_node(x, kind="crossing", country_a=a, country_b=b, crossing_class=cls,
                   status=st, p_detect=cm.classes[cls].p_detect, delay_h=delay,
                   crossing_risk=risk, lon=0.0, lat=0.0)
    for u, v, km in [("o", "xi", 500.0), ("xi", "pi", 300.0), ("pi", "zi", 2500.0),
                     ("zi", "m", 1500.0), ("o", "xt", 400.0), ("xt", "pt", 200.0),
                     ("pt", "zt", 3000.0), ("zt", "m", 2300.0)]:
        nv = G.nodes[v]
        terms = (nv["delay_h"], nv["crossing_risk"]) if nv["kind"] == "crossing" else None
        G.add_edge(u, v, mode="road", corridor_id=f"{u}-{v}", **edge_weights(
            cm, "road", km, crossing=terms))
    return G


def truth(cm):
    return apply_parameters(cm, {"hours_per_risk": TRUE_HPR}, TRUE_RATES, 0.03)


def observed(cm, noise: float = 0.05, seed: int = 1) -> pd.DataFrame:
    """Seizures the model makes with the true values, times seeded log-normal noise."""
    t = truth(cm)
    rng = np.random.default_rng(seed)
    rows = []
    for y in SUPPLY:
        s = modelled_seizures(build(y, t), t)["modelled_kg"]
        for c, kg in s.items():
            rows.append({"iso3": c, "year": y,
                         "heroin_eq_kg": kg * float(np.exp(rng.normal(0.0, noise)))})
    return pd.DataFrame(rows)


def _fit(cm, seizures, **kw):
    opts = {"years": YEARS, "holdout": [2022], "free": ["hours_per_risk"], "starts": 2,
            "seed": 3, "posterior_grid": 61}
    opts.update(kw)
    return calibrate(build, cm, seizures, **opts)


@pytest.fixture(scope="module")
def fitted(cm):
    return _fit(cm, observed(cm))


def test_shares_move_with_the_parameter_and_the_year(cm):
    """The test problem can identify hours_per_risk: Iran's share of the flow differs by year
    and by the parameter's value."""
    from routes.routing.flows import assign_flows

    def iran_share(year, hpr):
        c = cm.with_changes(hours_per_risk=hpr)
        r = assign_flows(build(year, c), c).routes
        return float(r[r["path"].map(lambda p: "pi" in p)]["flow"].sum() / r["flow"].sum())

    assert 0.1 < iran_share(2018, TRUE_HPR) < 0.4
    assert iran_share(2019, TRUE_HPR) > iran_share(2018, TRUE_HPR) + 0.05
    assert abs(iran_share(2018, 400.0) - iran_share(2018, TRUE_HPR)) > 0.05


def test_parameter_recovery_within_intervals(fitted):
    """5% noise: the route parameter and every rate inside their 90% intervals, and close."""
    p = fitted.parameters.loc["hours_per_risk"]
    assert p["p05"] <= TRUE_HPR <= p["p95"]
    assert p["value"] == pytest.approx(TRUE_HPR, rel=0.25)
    assert bool(p["pinned"])
    for c, r in TRUE_RATES.items():
        row = fitted.rates.loc[c]
        assert row["p05"] <= r <= row["p95"], c
        assert row["rate"] == pytest.approx(r, rel=0.15), c


def test_confounded_case_high_rate_small_flow_against_low_rate_large_flow(fitted):
    """Iran's and Tajikistan's seizures are of one size; the fit puts Iran's on a high rate
    with little flow and Tajikistan's on a low rate with much flow, as generated."""
    sz = fitted.fit[fitted.fit["split"] == "fit"].groupby("iso3")["observed_kg"].mean()
    assert 0.25 < sz["IRN"] / sz["TJK"] < 4.0
    r = fitted.rates
    assert r.loc["IRN", "rate"] > 3 * r.loc["TJK", "rate"]
    assert r.loc["IRN", "flow_kg"] < 0.5 * r.loc["TJK", "flow_kg"]


def test_noiseless_fit_exact_and_checked(cm):
    res = _fit(cm, observed(cm, noise=0.0))
    assert res.parameters.loc["hours_per_risk", "value"] == pytest.approx(TRUE_HPR, rel=0.02)
    for c, r in TRUE_RATES.items():
        assert res.rates.loc[c, "rate"] == pytest.approx(r, rel=0.02), c
    assert res.info["check_max_rel_diff"] < 1e-9
    stats = res.statistics.set_index(["split", "model"])
    assert stats.loc[("holdout", "calibrated"), "male"] < 0.03
    assert list(res.fit.columns) == ["iso3", "year", "split", "observed_kg", "modelled_kg",
                                     "modelled_kg_uncalibrated", "demand"]


def test_two_seeds_same_objective_and_record(cm):
    sz = observed(cm)
    a = _fit(cm, sz, seed=0, posterior_grid=9)
    b = _fit(cm, sz, seed=11, posterior_grid=9)
    assert b.info["objective"] == pytest.approx(a.info["objective"], rel=0.005)
    rec = a.info["optimiser"]
    assert {"objective", "converged", "winner", "winning_start", "starts"} <= set(rec)
    assert rec["starts_agreeing"] >= 1


def test_optimiser_reaches_known_optimum_from_every_start():
    """A coupled quadratic with its minimum at (0.3, -0.7): every start ends there."""
    def f(x):
        a, b = x[0] - 0.3, x[1] + 0.7
        return a * a + 2 * b * b + 0.5 * a * b + 1.25

    r = multistart(f, np.array([-2.0, -2.0]), np.array([2.0, 2.0]), grid=3, polish=3,
                   starts=4, seed=5, xatol=1e-6, fatol=1e-12, maxfev=2000)
    assert len(r.starts) == 7
    for s in r.starts:
        np.testing.assert_allclose(s.x, [0.3, -0.7], atol=1e-4)
        assert s.fun == pytest.approx(1.25, abs=1e-8)
        assert s.converged
    assert r.agreeing == 7


def test_profile_rates_closed_form_and_shrinkage():
    """No offset, flat prior: the ratio estimator; a tight prior pulls a country to mu0."""
    obs = np.array([30.0, 60.0, 5.0])
    F = np.array([100.0, 200.0, 400.0])
    flat = profile_rates(obs, np.array([0, 0, 1]), F, 2, RatePrior(0.0, 1e6, 1e6, 0.0))
    np.testing.assert_allclose(np.exp(flat.a), [0.3, 0.0125], rtol=1e-9)
    tight = profile_rates(obs, np.array([0, 0, 1]), F, 2,
                          RatePrior(np.log(0.05), 1e-6, 1e-6, 0.0))
    np.testing.assert_allclose(np.exp(tight.a), [0.05, 0.05], rtol=1e-4)


def test_holdout_never_enters_the_fit(cm):
    sz = observed(cm)
    changed = sz.copy()
    changed.loc[changed["year"] == 2022, "heroin_eq_kg"] *= 10.0
    a = _fit(cm, sz, posterior_grid=9)
    b = _fit(cm, changed, posterior_grid=9)
    pd.testing.assert_frame_equal(a.parameters, b.parameters)
    pd.testing.assert_frame_equal(a.rates, b.rates)
    fa, fb = a.fit[a.fit["split"] == "fit"], b.fit[b.fit["split"] == "fit"]
    pd.testing.assert_frame_equal(fa, fb)


def test_rolling_origin_and_predictors(cm, fitted):
    sz = observed(cm)
    pred = holdout_predictions(fitted, sz, 2022)
    assert set(pred["iso3"]) == set(TRUE_RATES)
    row = pred.set_index("iso3").loc["IRN"]
    obs = sz.set_index(["iso3", "year"])["heroin_eq_kg"]
    assert row["last_year"] == obs[("IRN", 2021)]
    assert row["fitted_mean"] == pytest.approx(np.mean([obs[("IRN", y)] for y in YEARS]))
    table, cals = rolling_origin(build, cm, sz, first=2018, holdouts=[2021, 2022],
                                 calibrations={2022: fitted}, free=["hours_per_risk"],
                                 starts=1, posterior_grid=5)
    assert cals[2022] is fitted and cals[2021].info["years"] == [2018, 2019, 2020]
    assert list(table["holdout"].unique()) == [2021, 2022]
    cal = table[(table["holdout"] == 2022) & (table["predictor"] == "calibrated")].iloc[0]
    assert cal["male"] < 0.15 and cal["n"] == 4


def test_calibrated_toml_round_trip(cm, fitted, tmp_path):
    text = calibrated_text(DEFAULT_COST_MODEL.read_text(encoding="utf-8"), cm,
                           fitted.cost_model, fitted.parameters, fitted.rates,
                           {"years": "2018-2021", "holdout": "2022", "seed": 3,
                            "holdout_calibrated": {"n": 4, "spearman": 1.0, "male": 0.1}},
                           pd.DataFrame([{"holdout": 2022, "predictor": "calibrated",
                                          "spearman": 0.9, "partial": float("nan")}]))
    raw = tomllib.loads(text)
    assert raw["weights"]["hours_per_risk"] == pytest.approx(
        fitted.cost_model.hours_per_risk, rel=1e-5)
    assert raw["observation"]["seizure_rates"]["IRN"] == pytest.approx(
        fitted.rates.loc["IRN", "rate"], rel=1e-5)
    assert raw["calibration"]["seed"] == 3
    assert raw["calibration"]["out_of_sample"][0]["spearman"] == 0.9
    assert set(raw["calibration"]["parameters"]) == {"hours_per_risk"}
    assert "# calibrated: was 500;" in text
    base_comments = [ln for ln in DEFAULT_COST_MODEL.read_text().splitlines()
                     if ln.lstrip().startswith("#")]
    assert all(c in text for c in base_comments)
    # The file reads back and models the same seizures as the in-memory cost model.
    f = tmp_path / "cal.toml"
    f.write_text(text, encoding="utf-8")
    back = load_cost_model(f)
    a = modelled_seizures(build(2020, back), back)["modelled_kg"]
    b = modelled_seizures(build(2020, fitted.cost_model), fitted.cost_model)["modelled_kg"]
    pd.testing.assert_series_equal(a, b, rtol=1e-5)


# --------------------------------------------------------------------------- CLI, bad input
@pytest.mark.parametrize("cmd", ["calibrate", "observe"])
@pytest.mark.parametrize("row, field", [
    ("XXX,Nowhere,2019,5,5,,,,,,src", "iso3"),
    ("AFG,Afghanistan,2019,5,-5,,,,,,src", "heroin_kg"),
    ("AFG,Afghanistan,2019,lots,5,,,,,,src", "heroin_eq_kg"),
])
def test_cli_bad_seizures_exit_2_nothing_written(tmp_path, capsys, cmd, row, field):
    text = (DATA_DIR / "seizures.csv").read_text().splitlines()
    bad = tmp_path / "seizures.csv"
    bad.write_text("\n".join([text[0], text[1], row] + text[2:]) + "\n")
    out, cmf = tmp_path / "out", tmp_path / "cm.toml"
    args = [cmd, "--seizures", str(bad), "--out", str(out)]
    args += (["--write-cost-model", str(cmf), "--starts", "0"] if cmd == "calibrate"
             else ["--years", "2019"])
    rc = main(args)
    err = capsys.readouterr().err
    assert rc == 2
    assert f"{bad}, row 3, field '{field}'" in err
    assert not out.exists() and not cmf.exists()


def test_cli_empty_year_exit_2(tmp_path, capsys):
    lines = (DATA_DIR / "seizures.csv").read_text().splitlines()
    head = lines[0].split(",")
    i = head.index("heroin_eq_kg")
    keep = [lines[0]]
    for ln in lines[1:]:
        parts = ln.split(",")
        if parts[2] == "2020":
            parts[i] = ""
        keep.append(",".join(parts))
    bad = tmp_path / "seizures.csv"
    bad.write_text("\n".join(keep) + "\n")
    rc = main(["calibrate", "--seizures", str(bad), "--out", str(tmp_path / "out"),
               "--write-cost-model", str(tmp_path / "cm.toml")])
    assert rc == 2
    assert "year 2020 is empty" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
