"""Calibration: parameter recovery (a confounded case too), the optimiser, the held-out year,
the rolling origin, the calibrated cost model file, bad input."""

from __future__ import annotations

import tomllib
from types import SimpleNamespace

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from routes._errors import DataError, RoutesError
from routes.calibration._calib_toml import calibrated_text
from routes.calibration._holdout import holdout_predictions, rolling_origin
from routes.calibration._optimise import multistart
from routes.calibration._posterior import RatePrior, profile_rates
from routes.calibration.calibrate import apply_parameters, calibrate
from routes.calibration.observe import ObservationParams, modelled_seizures
from routes.cli import main
from routes.costs import load_cost_model
from routes.settings import DATA_DIR, DEFAULT_COST_MODEL
from shared_support import add_posts_and_roads

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
    add_posts_and_roads(
        G, cm,
        [("xi", "AFG", "IRN", "iran_east", "open"),
         ("xt", "AFG", "TJK", "central_asia", STATUS[year]),
         ("zi", "IRN", "DEU", "eu_external", "open"),
         ("zt", "TJK", "DEU", "eu_external", "open")],
        [("o", "xi", 500.0), ("xi", "pi", 300.0), ("pi", "zi", 2500.0), ("zi", "m", 1500.0),
         ("o", "xt", 400.0), ("xt", "pt", 200.0), ("pt", "zt", 3000.0), ("zt", "m", 2300.0)],
        corridor_ids=True)
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
    # (here too, not only with the shared fit: mutation testing maps a module fixture's run
    # to the first test that asks for it)
    _check_info_record(res.info, cm)
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
    from routes.calibration._workspace import Workspace

    ws = Workspace(build, cm, range(2018, 2023))
    exact_years = []
    exact = ws.calibrated
    ws.calibrated = lambda y, c: (exact_years.append(y), exact(y, c))[1]  # type: ignore
    table, cals = rolling_origin(build, cm, sz, first=2018, holdouts=[2021, 2022],
                                 calibrations={2022: fitted}, free=["hours_per_risk"],
                                 starts=1, posterior_grid=5, workspace=ws)
    assert cals[2022] is fitted and cals[2021].info["years"] == [2018, 2019, 2020]
    assert list(table["holdout"].unique()) == [2021, 2022]
    assert list(table.columns) == ["holdout", "fitted", "predictor", "n", "spearman", "male",
                                   "partial"]
    assert table.index.tolist() == list(range(10))
    assert table.groupby("holdout")["fitted"].first().to_dict() == {2021: "2018-2020",
                                                                    2022: "2018-2021"}
    # the secondary fits skip the exact check of their fitted years: only 2021 is exact
    assert exact_years == [2021] and cals[2021].info["check_max_rel_diff"] == 0.0
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


# --------------------------------------------------------------------------- result tables
def _posterior_by_hand():
    """Two route parameters on 3-point grids: ln hours_per_risk (step 0.4), ln logit_theta
    (step 1)."""
    from routes.calibration._posterior import GridPosterior

    return GridPosterior(axes=[np.array([6.0, 6.4, 6.8]), np.array([-1.0, 0.0, 1.0])],
                         marginals=[np.array([0.1, 0.6, 0.3]), np.array([0.2, 0.5, 0.3])],
                         best=np.array([6.4, 0.0]), f_best=0.0, points=np.zeros((9, 2)),
                         weights=np.full(9, 1 / 9))


def test_grid_posterior_quantiles_and_sd_by_hand():
    """Mass spread evenly over each cell: quantiles interpolate the cell edges' cdf; the sd
    adds the cell's own variance h^2 / 12."""
    g = _posterior_by_hand()
    # axis 0: edges 5.8 6.2 6.6 7.0, cdf 0 0.1 0.7 1
    assert g.quantile(0, 0.05) == pytest.approx(6.0)
    assert g.quantile(0, 0.95) == pytest.approx(6.6 + 0.25 / 0.3 * 0.4)
    assert g.quantile(1, 0.05) == pytest.approx(-1.25)
    m, sd = g.mean_sd(0)
    assert m == pytest.approx(6.48)
    assert sd == pytest.approx((0.0576 + 0.16 / 12) ** 0.5)
    assert g.mean_sd(1)[1] == pytest.approx((0.49 + 1 / 12) ** 0.5)


def test_parameter_table_by_hand():
    """Value exp(u); 90% interval from the grid's quantiles; prior interval median *
    exp(-+1.645 sd); pinned when the posterior sd is under 0.7 of the prior's."""
    from routes.calibration._calib_tables import parameter_table
    from routes.calibration._priors import Z90, Prior

    pri = {"hours_per_risk": Prior(500.0, 0.6), "logit_theta": Prior(1.0, 0.5)}
    t = parameter_table(["hours_per_risk", "logit_theta"], np.log([640.0, 0.8]),
                        _posterior_by_hand(), pri)
    assert t.index.name == "parameter" and t.index.tolist() == ["hours_per_risk",
                                                                "logit_theta"]
    assert list(t.columns) == ["value", "p05", "p95", "prior_median", "prior_p05",
                               "prior_p95", "sd_log", "prior_sd_log", "pinned", "note", "about"]
    h, th = t.loc["hours_per_risk"], t.loc["logit_theta"]
    assert h["value"] == pytest.approx(640.0) and th["value"] == pytest.approx(0.8)
    assert h["p05"] == pytest.approx(np.exp(6.0))
    assert h["p95"] == pytest.approx(np.exp(6.6 + 0.25 / 0.3 * 0.4))
    assert th["p05"] == pytest.approx(np.exp(-1.25))
    assert th["p95"] == pytest.approx(np.exp(0.5 + 0.25 / 0.3))
    assert h["prior_median"] == 500.0 and h["prior_sd_log"] == 0.6
    assert h["prior_p05"] == pytest.approx(500.0 * np.exp(-Z90 * 0.6))
    assert h["prior_p95"] == pytest.approx(500.0 * np.exp(Z90 * 0.6))
    sd0, sd1 = (0.0576 + 0.16 / 12) ** 0.5, (0.49 + 1 / 12) ** 0.5
    assert h["sd_log"] == pytest.approx(sd0) and th["sd_log"] == pytest.approx(sd1)
    assert t["pinned"].tolist() == [True, False]
    assert h["note"] == ""
    assert th["note"] == ("posterior sd 0.76 vs prior 0.50 (ln): the data do not pin it; "
                          "the prior carries it")
    assert th["about"] == "logit dispersion of the route choice"


def test_rate_table_by_hand():
    """Rate exp(a), interval exp(a -+ 1.645 sd), flow the mean over the years; pinned only
    with observations and sd under 0.7 tau."""
    from routes.calibration._calib_tables import rate_table
    from routes.calibration._posterior import RateFit
    from routes.calibration._priors import Z90

    a = np.log([0.1, 0.3, 0.05])
    rf = RateFit(a=a, sd=np.array([0.2, 0.9, 0.5]), mu=-2.0, sigma2=0.1, nlp=0.0,
                 residual=np.zeros(3))
    F = np.array([[100.0, 50.0, 10.0], [300.0, 70.0, 30.0]])
    t = rate_table(rf, ["AAA", "BBB", "CCC"], np.array([0, 0, 1]), F, 1.0)
    assert t.index.name == "iso3" and t.index.tolist() == ["AAA", "BBB", "CCC"]
    assert t["rate"].tolist() == pytest.approx([0.1, 0.3, 0.05])
    assert t["p05"].tolist() == pytest.approx(np.exp(a - Z90 * np.array([0.2, 0.9, 0.5])))
    assert t["p95"].tolist() == pytest.approx(np.exp(a + Z90 * np.array([0.2, 0.9, 0.5])))
    assert t["sd_log"].tolist() == [0.2, 0.9, 0.5]
    assert t["n_obs"].tolist() == [2, 1, 0]
    assert t["flow_kg"].tolist() == [200.0, 60.0, 20.0]
    assert t["pinned"].tolist() == [True, False, False]   # CCC: sd 0.5 but no observation


def test_fit_statistics_by_hand():
    """Per split and model: n (rows observed), Spearman, mean absolute log error with the
    offset; one row gives no correlation; a split without rows gives no line."""
    from routes.calibration._calib_tables import fit_statistics

    f = pd.DataFrame({"split": ["fit"] * 4 + ["holdout"],
                      "observed_kg": [10.0, 100.0, 1000.0, np.nan, 50.0],
                      "modelled_kg": [20.0, 90.0, 5000.0, 7.0, 40.0],
                      "modelled_kg_uncalibrated": [5.0, 1.0, 3.0, 9.0, 60.0]})
    s = fit_statistics(f, offset=0.0)
    assert list(s.columns) == ["split", "model", "n", "spearman", "male"]
    assert list(zip(s["split"], s["model"])) == [("fit", "calibrated"), ("fit", "uncalibrated"),
                                                 ("holdout", "calibrated"),
                                                 ("holdout", "uncalibrated")]
    assert s["n"].tolist() == [3, 3, 1, 1]
    assert s["spearman"].iloc[:2].tolist() == pytest.approx([1.0, -0.5])
    assert s["spearman"].iloc[2:].isna().all()
    assert s["male"].tolist() == pytest.approx([
        (np.log(2) + np.log(10 / 9) + np.log(5)) / 3,
        (np.log(2) + np.log(100) + np.log(1000 / 3)) / 3, np.log(1.25), np.log(1.2)])
    # the default offset is 10 kg
    assert fit_statistics(f)["male"].iloc[2] == pytest.approx(np.log(60 / 50))
    only_fit = fit_statistics(f[f["split"] == "fit"], offset=0.0)
    assert only_fit["split"].tolist() == ["fit", "fit"]


def test_share_only_by_hand():
    """The uncalibrated model's one parameter: the share that best fits log seizures, within
    [0.001, 1]; 1 with nothing observed."""
    from routes.calibration._calib_tables import share_only

    seized = {2018: pd.Series({"AAA": 2.0, "BBB": 0.5}), 2019: pd.Series({"AAA": 1.0})}
    obs = pd.DataFrame({"iso3": ["AAA", "BBB", "AAA"], "year": [2018, 2018, 2019],
                        "heroin_eq_kg": [50.0, 12.5, 25.0]})
    assert share_only(seized, obs, 100.0, 0.0) == pytest.approx(0.25, rel=1e-5)
    big = obs.assign(heroin_eq_kg=obs["heroin_eq_kg"] * 8)   # share 2: capped at 1
    assert share_only(seized, big, 100.0, 0.0) == pytest.approx(1.0, rel=2e-6)  # xatol 1e-6
    assert share_only(seized, obs.iloc[:0], 100.0, 0.0) == 1.0


# --------------------------------------------------------------------------- the fit's course
def test_observations_kept_for_the_fit():
    """Only reported (non-missing) seizures of the fitted years and the network's countries,
    as (year index in the order given, country index, kg)."""
    from routes.calibration.calibrate import _observations

    sz = pd.DataFrame({"iso3": ["AAA", "BBB", "CHN", "AAA", "BBB", "AAA"],
                       "year": [2019, 2019, 2019, 2018, 2018, 2017],
                       "heroin_eq_kg": [5.0, np.nan, 9.0, 7.0, 3.0, 4.0]})
    y, c, kg = _observations(sz, [2019, 2018], ["AAA", "BBB"])
    assert (y.tolist(), c.tolist(), kg.tolist()) == ([0, 1, 1], [0, 0, 1], [5.0, 7.0, 3.0])


def test_nothing_reported_in_the_fitted_years(cm):
    """Every route parameter free by default; no seizure in the fitted years: a clear error
    before any fit."""
    sz = pd.DataFrame({"iso3": ["AFG"], "year": [2020], "heroin_eq_kg": [5.0]})
    with pytest.raises(RoutesError, match="no reported seizures in the fitted years"):
        calibrate(build, cm, sz, years=[2018, 2019])


def test_fit_info_records_the_run(cm, fitted):
    """The toy's choice set holds both routes from the start: no refit round; info names the
    countries, the exclusions and their reasons, the hyperparameters and the evaluations."""
    from routes.calibration._workspace import DEFAULT_EXCLUDE

    info = fitted.info
    assert info["countries"] == ["AFG", "DEU", "IRN", "TJK"]
    assert info["refit_rounds"] == 0 and info["routes_added_at_fit"] == 0
    assert info["routes_added_after_search"] == 0
    assert info["excluded"] == {c: DEFAULT_EXCLUDE[c] for c in DEFAULT_EXCLUDE}
    _check_info_record(info, cm)
    assert 0 < info["hyper"]["sigma"] < 0.2          # the data's noise: sd 0.05 on the log scale
    assert 0 <= info["check_max_rel_diff"] < 1e-9


def _check_info_record(info, cm):
    """The hyperparameters (the priors' omega, tau, global interception; sigma) and the
    evaluations and time per evaluation of the search, as info records them."""
    from routes.calibration._priors import priors

    _, (g_rate, g_sd, tau) = priors(cm)
    hyper = info["hyper"]
    assert (hyper["omega"], hyper["tau"], hyper["global_interception"]) == (g_sd, tau, g_rate)
    assert hyper["sigma"] >= 0
    assert 0 < info["evaluations_fit"] < info["evaluations_total"]
    assert info["seconds_per_evaluation"] == pytest.approx(
        info["seconds_fit"] / info["evaluations_fit"])


@pytest.mark.parametrize("grow_after, polishes, rounds, late", [
    (1, [1, 0, 2, 0], 1, 0),   # growth after the first search: a refit round; then a rescue
    (2, [1, 2, 0], 0, 1),      # growth after the final search: polished once more
])
def test_refit_when_the_choice_set_grows_and_rescue_by_the_grid(cm, fitted, monkeypatch,
                                                                grow_after, polishes, rounds,
                                                                late):
    """When new routes join the choice set the estimate is polished again (a refit round
    after the first search, one more polish after the final one); a final search that stopped
    short is rescued from the posterior grid's best point; every local search keeps the
    evaluation budget given. Growth and the short stop are simulated (the toy's choice set is
    complete from the start)."""
    import importlib
    from dataclasses import replace

    from routes.calibration._fastobs import YearModel

    calmod = importlib.import_module("routes.calibration.calibrate")
    calls, state = [], {"armed": False}
    real_ms, real_extend = calmod.multistart, YearModel.extend

    def spy(f, lo, hi, **kw):
        calls.append((kw["polish"], kw["maxfev"]))
        r = real_ms(f, lo, hi, **kw)
        state["armed"] = kw["polish"] == grow_after   # grow once after this search
        if kw["polish"] == 2 and grow_after == 1:     # the final search stops at the box edge
            r = replace(r, x=lo.copy(), fun=f(lo))
        return r

    caches = []

    def extend(self, th, k, cache=None):
        caches.append(cache)
        n = real_extend(self, th, k, cache)
        if state["armed"]:
            state["armed"] = False
            return n + 1
        return n

    monkeypatch.setattr(calmod, "multistart", spy)
    monkeypatch.setattr(YearModel, "extend", extend)
    sz = observed(cm)
    res = _fit(cm, sz, maxfev=77, posterior_grid=9, check=False, exclude=("CHN", "TKM"))
    assert [p for p, _ in calls] == polishes
    assert all(m == 77 for _, m in calls)
    assert res.info["refit_rounds"] == rounds and res.info["routes_added_at_fit"] == 1
    assert res.info["routes_added_after_search"] == late
    # every growth shares its route searches through one cache (the workspace's): years with
    # the same network and weights search once, not once each (time to answer)
    assert caches and all(isinstance(c, dict) and c is caches[0] for c in caches)
    assert res.info["check_max_rel_diff"] == 0.0
    assert res.info["excluded"] == {"CHN": calmod.DEFAULT_EXCLUDE["CHN"],
                                    "TKM": "excluded by the user"}
    # the estimate: the plain fit's (same data; the fixture's posterior grid is finer)
    assert res.parameters.loc["hours_per_risk", "value"] == pytest.approx(
        fitted.parameters.loc["hours_per_risk", "value"], rel=0.02)


# --------------------------------------------------------------------------- priors
def test_priors_read_from_the_cost_model(cm):
    from routes.calibration._priors import Prior, background_flow, priors

    route, rate = priors(cm)
    assert route == {"hours_per_risk": Prior(500.0, 0.42), "logit_theta": Prior(10.0, 0.73),
                     "hours_per_km": Prior(0.002, 0.67)}
    assert rate == (0.2, 0.5, 1.5)
    assert background_flow(cm) == 1000.0
    assert background_flow(cm.with_changes(raw={})) == 0.0
    assert background_flow(cm.with_changes(raw={"observation": {}})) == 0.0


@pytest.mark.parametrize("table, key, value", [
    ("weights", "hours_per_risk_prior", [500.0, 0.0]),
    ("weights", "hours_per_km_prior", [0.002]),
    ("flow", "logit_theta_prior", [True, 0.7]),
    ("flow", "logit_theta_prior", "10, 0.7"),
    ("weights", "hours_per_risk_prior", None),
    ("observation", "global_interception", 0.0),
    ("observation", "global_interception_sd_log", True),
    ("observation", "rate_sd_log", None),
])
def test_bad_prior_names_its_field(cm, table, key, value):
    """Each prior must be [median, sd_log], both > 0 (the rate priors numbers > 0): a bad one
    is one problem naming its table and key, the others still read."""
    import copy

    from routes.calibration._priors import priors

    raw = copy.deepcopy(cm.raw)
    if value is None:
        raw[table].pop(key)
    else:
        raw[table][key] = value
    with pytest.raises(DataError) as ei:
        priors(cm.with_changes(raw=raw))
    assert [p.field for p in ei.value.problems] == [f"{table}.{key}"]
    assert ei.value.problems[0].file == cm.path
    assert str(value if value is not None else None) in ei.value.problems[0].message


@pytest.mark.parametrize("value", [-1.0, True, "1000"])
def test_bad_background_flow(cm, value):
    from routes.calibration._priors import background_flow

    with pytest.raises(DataError) as ei:
        background_flow(cm.with_changes(raw={"observation": {"background_flow_kg": value}}))
    assert [p.field for p in ei.value.problems] == ["observation.background_flow_kg"]
    assert ei.value.problems[0].file == cm.path          # the cost model's file


# --------------------------------------------------------------------------- posterior
def test_laplace_correlated_and_indefinite():
    """A quadratic's covariance is the inverse Hessian (central differences are exact); an
    indefinite Hessian gives inf where a direction is not curved upward, NaN elsewhere."""
    from routes.calibration._posterior import laplace

    H = np.array([[4.0, 1.0], [1.0, 2.0]])
    cov, ok = laplace(lambda v: 0.5 * v @ H @ v + 3.0, np.array([0.3, -0.2]), 0.05)
    assert ok
    np.testing.assert_allclose(cov, np.linalg.inv(H), rtol=1e-6)
    cov, ok = laplace(lambda v: 0.5 * v[0] ** 2 * 4.0 - v[1] ** 2, np.zeros(2), 0.1)
    assert not ok
    assert cov[0, 0] == pytest.approx(0.25) and cov[1, 1] == np.inf
    assert np.isnan(cov[0, 1]) and np.isnan(cov[1, 0])


def test_rank_partial_without_information():
    """``given`` ordered like ``obs``: nothing is left to explain (NaN)."""
    from routes.calibration._posterior import rank_partial

    obs = np.array([1.0, 2.0, 3.0, 4.0])
    assert np.isnan(rank_partial(obs, np.array([2.0, 1.0, 4.0, 3.0]), obs * 10))


def test_grid_posterior_by_hand():
    """exp(-f) on a 3 x 3 grid proportional to W: marginals are W's row and column sums, the
    best point W's largest cell, the points in product order."""
    from routes.calibration._posterior import grid_posterior

    W = np.array([[1.0, 2.0, 1.0], [2.0, 4.0, 3.0], [1.0, 1.0, 1.0]])     # sums to 16

    def f(v):
        i, j = int(round(v[0] / 0.5)) + 1, int(round(v[1] - 1.0))
        return -np.log(W[i, j]) + 7.0

    g = grid_posterior(f, np.array([-0.5, 1.0]), np.array([0.5, 3.0]), 3)
    np.testing.assert_allclose(g.axes[0], [-0.5, 0.0, 0.5])
    np.testing.assert_allclose(g.axes[1], [1.0, 2.0, 3.0])
    np.testing.assert_allclose(g.marginals[0], [4 / 16, 9 / 16, 3 / 16])
    np.testing.assert_allclose(g.marginals[1], [4 / 16, 7 / 16, 5 / 16])
    np.testing.assert_allclose(g.best, [0.0, 2.0])
    assert g.f_best == pytest.approx(7.0 - np.log(4.0))
    assert g.points.tolist()[:4] == [[-0.5, 1.0], [-0.5, 2.0], [-0.5, 3.0], [0.0, 1.0]]
    np.testing.assert_allclose(g.weights, W.ravel() / 16)


def test_mixture_quantiles_against_the_mixture_cdf():
    """Quantiles of a lopsided two-normal mixture (weights 7:3, not normalised) equal the
    roots of its cdf; a component of negligible weight far away is dropped."""
    from scipy.optimize import brentq
    from scipy.stats import norm

    from routes.calibration._posterior import mixture_quantiles

    a = np.array([[0.0, 1.0], [2.0, 1.0], [1000.0, 1000.0]])
    sd = np.array([[1.0, 0.4], [0.5, 0.4], [1.0, 1.0]])
    w = np.array([7.0, 3.0, 1e-11])
    q = mixture_quantiles(a, sd, w)
    assert q.shape == (2, 2)
    for p, got in zip((0.05, 0.95), q[0]):
        want = brentq(lambda x, p=p: 0.7 * norm.cdf(x) + 0.3 * norm.cdf((x - 2) / 0.5) - p, -10, 10)
        assert got == pytest.approx(want, abs=2e-3)
    np.testing.assert_allclose(q[1], [1 - 0.4 * 1.6448536, 1 + 0.4 * 1.6448536], atol=2e-3)
    q3 = mixture_quantiles(a[:2], sd[:2], w[:2], (0.25, 0.5, 0.75), n=2001)
    assert q3.shape == (2, 3) and q3[1, 1] == pytest.approx(1.0, abs=1e-6)


def test_profile_rates_with_offset_and_an_unobserved_country():
    """Data the model fits exactly (offset 10 kg, a loose prior): each rate is its
    seizure-to-flow ratio, the residual variance its floor 1e-4; a country without
    observations gets mu (the precision-weighted mean of the others and mu0) and sd tau."""
    from routes.calibration._posterior import profile_rates

    F = np.array([1000.0, 4000.0, 500.0])
    obs = np.array([0.2, 0.05, 0.3]) * F
    fit = profile_rates(obs, np.array([0, 1, 2]), F, 4, RatePrior(-2.0, 1e3, 1e3, 10.0))
    np.testing.assert_allclose(np.exp(fit.a[:3]), [0.2, 0.05, 0.3], rtol=1e-6)
    assert fit.sigma2 == 1e-4
    mu = (np.log([0.2, 0.05, 0.3]).sum() - 2.0) / 4          # tau = omega
    assert fit.mu == pytest.approx(mu, rel=1e-6)
    assert fit.a[3] == pytest.approx(mu, rel=1e-6) and fit.sd[3] == pytest.approx(1e3)
    w = obs / (obs + 10.0)                                   # d ln(pred + A) / d a
    np.testing.assert_allclose(fit.sd[:3], 1 / np.sqrt(w * w / 1e-4 + 1e-6), rtol=1e-6)
    assert fit.nlp == pytest.approx(1.5 * np.log(1e-4), abs=1e-5)
    np.testing.assert_allclose(fit.residual, 0.0, atol=1e-7)


def test_check_counts_a_country_missing_from_a_year_as_zero(cm):
    """UZB (an isolated town) is in the 2019 network only: the other years' exact check
    sees no UZB and no flow through it, which agree (no difference). Without background flow:
    with it the fast model gives UZB background seizures in every year, the exact one only
    where UZB is in the network (a difference of 1 in the check)."""
    def build_uzb(year, c):
        G = build(year, c)
        if year == 2019:
            G.add_node("u", kind="place", country="UZB", role="transit", supply=0.0,
                       demand=0.0, lon=64.0, lat=41.0)
        return G

    sz = observed(cm, noise=0.0)
    cm = cm.with_changes(raw={**cm.raw, "observation": {**cm.raw["observation"],
                                                         "background_flow_kg": 0.0}})
    res = calibrate(build_uzb, cm, sz, years=[2018, 2019], free=["hours_per_risk"],
                    starts=0, grid=2, seed=3, posterior_grid=3)
    assert "UZB" in res.info["countries"]
    assert res.info["check_max_rel_diff"] < 1e-9


def test_mixture_quantiles_on_its_grid_by_hand():
    """The cdf is read on n points from the lowest mean - 6 sd to the highest mean + 6 sd and
    interpolated linearly: N(1, 0.5) on 13 points is the grid -2, -1.5, ..., 4, where the cdf
    is Phi(-6), ..., Phi(6)."""
    from scipy.stats import norm

    from routes.calibration._posterior import mixture_quantiles

    q = mixture_quantiles(np.array([[1.0]]), np.array([[0.5]]), np.array([1.0]), (0.05,), n=13)
    want = 0.5 * (0.05 - norm.cdf(-2)) / (norm.cdf(-1) - norm.cdf(-2))
    assert q[0, 0] == pytest.approx(want, rel=1e-12)


def test_one_point_grid():
    """A parameter with a one-point grid: that point, no spread."""
    from routes.calibration._posterior import GridPosterior

    g = GridPosterior(axes=[np.array([0.7])], marginals=[np.array([1.0])], best=np.array([0.7]),
                      f_best=0.0, points=np.array([[0.7]]), weights=np.array([1.0]))
    assert g.quantile(0, 0.05) == 0.7 and g.mean_sd(0) == (0.7, 0.0)


def _nlp(obs, country, F, a, mu, s2, prior):
    A = prior.offset
    r = np.log(obs + A) - np.log(np.exp(a[country]) * F + A)
    has = np.bincount(country, minlength=len(a)) > 0
    return (0.5 * len(obs) * np.log(s2) + 0.5 * np.sum(r * r) / s2
            + np.sum((a[has] - mu) ** 2) / (2 * prior.tau ** 2)
            + (mu - prior.mu0) ** 2 / (2 * prior.omega ** 2))


def test_profile_rates_is_the_joint_mode_with_a_small_offset():
    """Seizures of the order of the offset (0.5 kg), noisy: the result is the joint mode (the
    negative log posterior's gradient in every log rate and in mu is 0 there, sigma^2 is the
    mean squared residual) and its nlp is the posterior's value there. A country whose only
    report has no modelled flow learns nothing: its rate stays at mu."""
    from routes.calibration._posterior import profile_rates

    obs = np.array([0.4, 1.7, 0.9, 3.0, 0.2, 2.5])
    F = np.array([20.0, 35.0, 10.0, 60.0, 15.0, 0.0])
    country = np.array([0, 0, 1, 1, 2, 3])
    prior = RatePrior(mu0=-3.0, omega=1.2, tau=0.8, offset=0.5)
    fit = profile_rates(obs, country, F, 4, prior)
    a, mu, s2 = fit.a, fit.mu, fit.sigma2
    assert np.isfinite(fit.nlp) and np.isfinite(a).all()
    h = 1e-5
    for c in range(3):
        e = np.zeros(4)
        e[c] = h
        g = (_nlp(obs, country, F, a + e, mu, s2, prior)
             - _nlp(obs, country, F, a - e, mu, s2, prior)) / (2 * h)
        assert abs(g) < 1e-5, c
    assert a[3] == pytest.approx(mu, abs=1e-6)    # no flow: no information
    r = np.log(obs + 0.5) - np.log(np.exp(a[country]) * F + 0.5)
    np.testing.assert_allclose(fit.residual, r, atol=1e-12)
    assert s2 == pytest.approx(np.mean(r * r), rel=1e-9)
    assert fit.nlp == pytest.approx(_nlp(obs, country, F, a, mu, s2, prior), rel=1e-9)
    # Gauss-Newton sd: the slope of ln(pred + A) in a_c is pred / (pred + A)
    pred = np.exp(a[country]) * F
    w = pred / (pred + 0.5)
    h = np.bincount(country, weights=w * w, minlength=4) / s2 + 1 / 0.8 ** 2
    np.testing.assert_allclose(fit.sd, 1 / np.sqrt(h), rtol=1e-9)
    assert fit.sd[3] == pytest.approx(0.8)


# --------------------------------------------------------------------------- optimiser
def test_multistart_nothing_to_polish_returns_the_grid_best():
    """grid=1 is the box's centre; with no start to polish it is the answer, unconverged."""
    seen = []

    def f(x):
        seen.append(x.tolist())
        return float((x[0] - 0.3) ** 2)

    r = multistart(f, np.array([-1.0]), np.array([2.0]), grid=1, polish=0, starts=0)
    assert seen == [[0.5]]
    assert (r.x.tolist(), r.fun, r.winner, r.starts, r.agreeing, r.nfev, r.converged) == (
        [0.5], pytest.approx(0.04), 0, [], 0, 1, False)
    assert r.record() == {"objective": pytest.approx(0.04), "converged": False, "winner": 0,
                          "winning_start": None, "starts_agreeing": 0, "evaluations": 1,
                          "starts": []}
    g = multistart(f, np.array([-1.0]), np.array([2.0]), grid=4, polish=0, starts=0)
    assert g.x.tolist() == [0.0] and g.nfev == 4          # grid -1, 0, 1, 2


def test_multistart_starts_in_order_inside_the_box():
    """Polished grid points (best first), then the extra points (clipped into the box), then
    seeded random points; f is only ever evaluated inside the box; evaluations add up; the
    starts within ``agree`` of the best agree; the same seed, the same starts."""
    lo, hi = np.array([0.0, 0.0]), np.array([1.0, 2.0])

    def f(x):
        assert (lo <= x).all() and (x <= hi).all()
        return float((x[0] - 0.9) ** 2 + (x[1] - 0.5) ** 2) + 1.0

    r = multistart(f, lo, hi, grid=3, polish=2, starts=2, seed=4, extra=[np.array([5.0, -1.0])],
                   xatol=1e-8, fatol=1e-12, maxfev=500)
    assert [s.kind for s in r.starts] == ["grid", "grid", "extra", "seeded", "seeded"]
    # the grid's two best, tied (0.26): in grid order
    assert r.starts[0].x0 == (1.0, 0.0) and r.starts[1].x0 == (1.0, 1.0)
    assert r.starts[2].x0 == (1.0, 0.0)                                    # clipped
    assert r.nfev == 9 + sum(s.nfev for s in r.starts)
    assert r.agreeing == 5 and r.converged
    assert all(s.message.startswith("Optimization terminated") for s in r.starts)  # scipy's
    assert r.x == pytest.approx([0.9, 0.5], abs=1e-6) and r.fun == pytest.approx(1.0)
    assert r.winner == int(np.argmin([s.fun for s in r.starts]))
    again = multistart(f, lo, hi, grid=3, polish=2, starts=2, seed=4, xatol=1e-8, fatol=1e-12,
                       maxfev=500, extra=[np.array([5.0, -1.0])])
    assert [s.x0 for s in again.starts] == [s.x0 for s in r.starts]
    # the seeded starts: uniform in the box from the seed's own stream (spawn key 7)
    u = np.random.default_rng(np.random.SeedSequence(4, spawn_key=(7,))).random(2)
    assert r.starts[3].x0 == tuple(lo + u * (hi - lo))
    other = multistart(f, lo, hi, grid=3, polish=0, starts=2, seed=5)
    assert other.starts[0].x0 != r.starts[3].x0
    # a tight budget: no start converges, and none agrees with another by chance
    tight = multistart(f, lo, hi, grid=3, polish=1, starts=0, maxfev=3)
    assert not tight.converged and tight.starts[0].nfev <= 4
    rec = r.record()
    assert rec["winning_start"] == r.starts[r.winner].kind and rec["evaluations"] == r.nfev
    assert rec["starts"][2] == {"kind": "extra", "x0": [1.0, 0.0], "x": list(r.starts[2].x),
                                "objective": r.starts[2].fun, "evaluations": r.starts[2].nfev,
                                "converged": r.starts[2].converged,
                                "message": r.starts[2].message}


def test_multistart_agreement_counts_ties_with_the_best():
    """agree=0: the starts whose objective equals the best exactly agree (the winner too)."""
    r = multistart(lambda x: 1.0, np.array([0.0]), np.array([1.0]), grid=2, polish=2, starts=1,
                   agree=0.0)
    assert r.agreeing == 3 and r.fun == 1.0


def test_starting_simplex_stays_in_the_box():
    """A tenth of the box along each axis, backwards where forwards would leave it."""
    from routes.calibration._optimise import _simplex

    S = _simplex(np.array([0.95, 0.2]), np.array([0.0, 0.0]), np.array([1.0, 2.0]))
    np.testing.assert_allclose(S, [[0.95, 0.2], [0.85, 0.2], [0.95, 0.4]])
    S = _simplex(np.array([0.9]), np.array([0.0]), np.array([1.0]))
    np.testing.assert_allclose(S, [[0.9], [1.0]])       # exactly at the edge: forwards


# --------------------------------------------------------------------------- held-out scores
def _held_out_case():
    """Fitted 2017-2018, 2020 held out; AAA and EEE reported in 2020, in 2019 and in the
    fitted years; BBB missed 2019, CCC 2020, DDD the fitted years."""
    from types import SimpleNamespace

    sz = pd.DataFrame([("AAA", 2017, 10.0), ("AAA", 2018, 30.0), ("AAA", 2019, 25.0),
                       ("AAA", 2020, 40.0), ("BBB", 2017, 5.0), ("BBB", 2020, 8.0),
                       ("CCC", 2017, 7.0), ("CCC", 2019, 9.0), ("CCC", 2020, np.nan),
                       ("DDD", 2019, 4.0), ("DDD", 2020, 6.0), ("EEE", 2018, 100.0),
                       ("EEE", 2019, 80.0), ("EEE", 2020, 90.0)],
                      columns=["iso3", "year", "heroin_eq_kg"])
    fit = pd.DataFrame(
        [("AAA", 2017, "fit", 12.0, 0.0, 0.0, 4.0), ("EEE", 2018, "fit", 90.0, 0.0, 0.0, 30.0),
         ("BBB", 2018, "fit", np.nan, 0.0, 0.0, 50.0)]
        + [(c, 2020, "holdout", np.nan, 10.0 * i, 2.0 * i, 1.5 * i)
           for i, c in enumerate(["AAA", "BBB", "CCC", "DDD", "EEE"], start=1)],
        columns=["iso3", "year", "split", "observed_kg", "modelled_kg",
                 "modelled_kg_uncalibrated", "demand"])
    return SimpleNamespace(fit=fit, info={"years": [2017, 2018]}), sz


def test_holdout_predictions_by_hand():
    """Only countries that reported in the year, the year before and the fitted years; demand
    scaled by the one factor that fits the fitted years (3 here: 12 / 4 and 90 / 30)."""
    from routes.calibration._holdout import holdout_predictions

    cal, sz = _held_out_case()
    p = holdout_predictions(cal, sz, 2020, offset=0.0)
    assert list(p.columns) == ["iso3", "observed_kg", "calibrated", "uncalibrated",
                               "last_year", "fitted_mean", "demand"]
    assert p["iso3"].tolist() == ["AAA", "EEE"]
    assert p["observed_kg"].tolist() == [40.0, 90.0]
    assert p["calibrated"].tolist() == [10.0, 50.0]
    assert p["uncalibrated"].tolist() == [2.0, 10.0]
    assert p["last_year"].tolist() == [25.0, 80.0]
    assert p["fitted_mean"].tolist() == [20.0, 100.0]
    assert p["demand"].tolist() == pytest.approx([1.5 * 3, 7.5 * 3], rel=1e-5)
    with pytest.raises(ValueError, match="does not hold 2019 out"):
        holdout_predictions(cal, sz, 2019)
    none = holdout_predictions(cal, sz[sz["year"] != 2019], 2020)   # nobody reported in 2019
    assert none.empty and list(none.columns) == list(p.columns)


def test_demand_scale_without_demand_is_one():
    from routes.calibration._holdout import _demand_scale

    cal, _ = _held_out_case()
    assert _demand_scale(cal.fit.assign(demand=0.0), 0.0) == 1.0
    assert _demand_scale(cal.fit[cal.fit["split"] == "holdout"], 0.0) == 1.0
    # ratios 3 and 9: the least-squares scale on logs is their geometric mean, sqrt(27);
    # with an offset of 10 kg the small country weighs less
    fit = cal.fit.copy()
    fit.loc[1, "demand"] = 10.0
    assert _demand_scale(fit, 0.0) == pytest.approx(27 ** 0.5, rel=1e-5)
    assert _demand_scale(fit, 10.0) > 27 ** 0.5 * 1.01


def test_holdout_scores_small_samples():
    """Spearman needs 3 countries, the partial correlation 4 (never for last year itself);
    no country, no error."""
    from routes.calibration._holdout import PREDICTORS, holdout_scores
    from routes.calibration._posterior import rank_partial

    p = pd.DataFrame({"observed_kg": [5.0, 50.0, 500.0, 40.0],
                      "calibrated": [8.0, 30.0, 900.0, 60.0],
                      "uncalibrated": [1.0, 3.0, 2.0, 9.0],
                      "last_year": [4.0, 30.0, 300.0, 45.0],
                      "fitted_mean": [6.0, 60.0, 400.0, 30.0],
                      "demand": [1.0, 10.0, 20.0, 30.0]})
    s = holdout_scores(p).set_index("predictor")
    assert s.index.tolist() == list(PREDICTORS) and (s["n"] == 4).all()
    want = rank_partial(p["observed_kg"].to_numpy(), p["demand"].to_numpy(),
                        p["last_year"].to_numpy())
    assert np.isfinite(want) and s.loc["demand", "partial"] == pytest.approx(want)
    assert np.isnan(s.loc["last_year", "partial"])
    assert s.loc["calibrated", "male"] == pytest.approx(np.mean(np.abs(
        np.log(p["observed_kg"] + 10.0) - np.log(p["calibrated"] + 10.0))))   # offset 10 kg
    three = holdout_scores(p.iloc[:3], offset=0.0).set_index("predictor")
    assert three["partial"].isna().all() and three["spearman"].notna().all()
    two = holdout_scores(p.iloc[:2], offset=0.0)
    assert two["spearman"].isna().all() and two["male"].notna().all()
    none = holdout_scores(p.iloc[:0], offset=0.0)
    assert (none["n"] == 0).all() and none["male"].isna().all()


# --------------------------------------------------------------------------- the calibrated file

_CT_BASE = '''# A cost model.
name = "base"
description = "Base model."

[weights]
# hours per unit of risk
hours_per_risk = 500
hours_per_km = 0.01
  # hours_per_risk = 1
[observation]
scale = 1.0


[observation.seizure_rates]
IRN = 0.5

[calibration]
seed = 1
'''
_CT_OLD = SimpleNamespace(hours_per_risk=500.0, logit_theta=0.02, description="Base model.")
_CT_CAL = SimpleNamespace(hours_per_risk=712.3456789, logit_theta=0.0315, name="calibrated one",
                      raw={"observation": {"default_rate": 0.0123}})
_CT_PARAMS = pd.DataFrame({"value": [712.3456789, 0.0315], "p05": [650.0, 0.01],
                       "p95": [790.12345, 0.05], "prior_median": [500.0, 0.02],
                       "prior_p05": [250.0, 0.005], "prior_p95": [1000.0, 0.08],
                       "pinned": [True, False], "note": ["", "prior-driven"]},
                      index=["hours_per_risk", "logit_theta"])
_CT_RATES = pd.DataFrame({"rate": [0.123456789, 0.02, 0.5], "p05": [0.1, 0.01, 0.4],
                      "p95": [0.15, 0.04, 0.6], "n_obs": [4, 2, 0],
                      "pinned": [True, False, True]}, index=["TJK", "IRN", "DEU"])
_CT_PROV = {"years": "2018-2021", "holdout": "2022", "seed": 3,
        "starts": [{"x": 1, "f": 2.5}, {"x": 2, "f": 3.0}],
        "hashes": {"data": "abc", "n": 7}}
_CT_OOS = pd.DataFrame([{"holdout": 2022, "predictor": "calibrated", "spearman": 0.9,
                     "partial": float("nan")}])
_CT_WANT = """\
# A cost model.
# calibrated by `routes calibrate` (see [calibration])
name = "calibrated one"
description = "Base model. Calibrated to reported seizures (2018-2021; held out 2022)."

[weights]
# hours per unit of risk
# calibrated: was 500; 90% posterior interval 650-790.1 (prior median 500, 90% 250-1000)
hours_per_risk = 712.346
hours_per_km = 0.01
  # hours_per_risk = 1
[observation]
scale = 1.0
# calibrated: the hierarchical mean seizure rate (exp mu), for a country without reports
default_rate = 0.0123

[flow]
# calibrated: was 0.02; 90% posterior interval 0.01-0.05 (prior median 0.02, 90% 0.005-0.08); \
NOT pinned by the data: the prior carries it
logit_theta = 0.0315

# Seizure rates fitted by `routes calibrate`: heroin-equivalent kg seized per kg of modelled
# flow through the country (routes.calibration.observe); 90% interval and reports in the \
fitted years.
[observation.seizure_rates]
IRN = 0.02   # 0.01-0.04, 2 reports, not pinned
TJK = 0.123457   # 0.1-0.15, 4 reports

# ---------------------------------------------------------------------------------------------
# Calibration: how the values marked 'calibrated' above were fitted (routes calibrate).
# Posterior mode of the route-choice parameters with the seizure rates profiled out; 90%
# intervals from the posterior on a grid (routes.calibration.calibrate).
# ---------------------------------------------------------------------------------------------
[calibration]
years = "2018-2021"
holdout = "2022"
seed = 3
starts = [{ x = 1, f = 2.5 }, { x = 2, f = 3.0 }]

[calibration.hashes]
data = "abc"
n = 7

[calibration.parameters.hours_per_risk]
value = 712.346
p05 = 650.0
p95 = 790.123
prior_median = 500.0
prior_p05 = 250.0
prior_p95 = 1000.0
pinned = true
note = ""

[calibration.parameters.logit_theta]
value = 0.0315
p05 = 0.01
p95 = 0.05
prior_median = 0.02
prior_p05 = 0.005
prior_p95 = 0.08
pinned = false
note = "prior-driven"

[[calibration.out_of_sample]]
holdout = 2022
predictor = "calibrated"
spearman = 0.9
"""


def test_calibrated_text_hand_written():
    """The calibrated file, line by line (module notes of _calib_toml): each calibrated value
    replaces its line with a comment above (old value, interval, prior; "NOT pinned" when the
    prior carries it), a commented-out key is left alone, a key its table lacks is added at
    the table's end (trailing blank lines first removed), a table the file lacks is added at
    the end, an older ``[observation.seizure_rates]`` and ``[calibration]`` are replaced; the
    rates of the countries with reports (sorted; "not pinned" marked), the provenance (inline
    tables, sub-tables), each parameter and the out-of-sample scores (NaN left out) follow."""
    text = calibrated_text(_CT_BASE, _CT_OLD, _CT_CAL, _CT_PARAMS, _CT_RATES, _CT_PROV, _CT_OOS)
    assert text == _CT_WANT
    raw = tomllib.loads(text)
    assert raw["flow"]["logit_theta"] == 0.0315 and raw["observation"]["scale"] == 1.0
    assert raw["observation"]["seizure_rates"] == {"IRN": 0.02, "TJK": 0.123457}


def test_calibrated_values_are_toml_whatever_their_type():
    """numpy scalars are written as the Python ones (a numpy bool as a TOML boolean, a numpy
    integer unquoted); floats to 6 significant digits; strings quoted and escaped."""
    from routes.calibration._calib_toml import _fmt

    assert [_fmt(v) for v in (np.True_, np.False_, True, np.int64(2022), 7, np.float32(0.5),
                              712.3456789, 'a "b" \\c')] == [
        "true", "false", "true", "2022", "7", "0.5", "712.346", '"a \\"b\\" \\\\c"']


def test_calibrated_text_without_a_fitted_mean_rate_or_tables():
    """A calibration without a hierarchical mean rate writes ``default_rate = 0.0``; a base
    file of top-level keys only gets its new name before the tables added after it."""
    cal = SimpleNamespace(hours_per_risk=600.0, name="c", raw={})
    text = calibrated_text('name = "b"\ndescription = "B."\n', _CT_OLD, cal,
                           _CT_PARAMS.iloc[:1], _CT_RATES.iloc[:0], {"years": "2019"})
    assert text.splitlines()[:9] == [
        "# calibrated by `routes calibrate` (see [calibration])", 'name = "c"',
        'description = "Base model. Calibrated to reported seizures (2019; held out )."', "",
        "[weights]",
        "# calibrated: was 500; 90% posterior interval 650-790.1 (prior median 500, 90% "
        "250-1000)", "hours_per_risk = 600.0", "", "[observation]"]
    assert tomllib.loads(text)["observation"] == {"default_rate": 0.0, "seizure_rates": {}}


# --------------------------------------------------------------------------- the workspace
def test_without_rates_keeps_the_rest_of_the_observation_table(cm):
    """The detection model of a calibrated cost model: its seizure rates and mean rate go,
    every other ``[observation]`` key stays, and the cost model given is not changed."""
    from routes.calibration._workspace import without_rates

    raw = dict(cm.raw)
    raw["observation"] = {"seizure_rates": {"IRN": 0.3}, "default_rate": 0.02, "scale": 1.5}
    cal = cm.with_changes(raw=raw)
    got = without_rates(cal)
    assert got.raw["observation"] == {"scale": 1.5}
    assert cal.raw["observation"]["default_rate"] == 0.02
    assert {k: v for k, v in got.raw.items() if k != "observation"} == {
        k: v for k, v in cm.raw.items() if k != "observation"}


def test_demand_by_country_sums_each_countrys_markets():
    """Each market's flow (od_demand: supply 6 split 3 : 1 : 2 over the markets' demand) summed
    by the market's country."""
    from routes.calibration._workspace import demand_by_country

    G = nx.DiGraph()
    G.add_node("o", role="origin", supply=6.0, country="AFG")
    for m, c, d in (("a", "DEU", 3.0), ("b", "DEU", 1.0), ("c", "IRN", 2.0)):
        G.add_node(m, role="market", demand=d, country=c)
    assert demand_by_country(G) == pytest.approx({"DEU": 4.0, "IRN": 2.0})


def test_workspace_builds_each_year_once_and_shares_identical_networks(cm, monkeypatch):
    """A year's network is built once (with the cost model's rates removed); years whose
    networks carry the same weights and flows share one fast model and one uncalibrated
    result; the countries are those of every year's network, the excluded left out."""
    from routes.calibration import _workspace
    from routes.calibration._workspace import Workspace

    engines = []
    real = _workspace.modelled_seizures
    monkeypatch.setattr(_workspace, "modelled_seizures", lambda G, c, **kw: (
        engines.append(kw["engine"]), real(G, c, **kw))[1])
    built = []
    raw = dict(cm.raw)
    raw["observation"] = {**raw.get("observation", {}), "seizure_rates": {"IRN": 0.3}}

    def counted(year, c):
        built.append(year)
        assert "seizure_rates" not in c.raw["observation"]
        return build(2018 if year == 2020 else year, c)   # 2020's network is 2018's

    ws = Workspace(counted, cm.with_changes(raw=raw), [2018, 2019, 2020], exclude=["AFG"],
                   engine="networkx")
    assert ws.model(2018).E.engine == "networkx"   # not the default engine
    assert ws.countries == ["DEU", "IRN", "TJK"] and ws.exclude == ["AFG"]
    assert sorted(built) == [2018, 2019, 2020]
    assert ws.graph(2019) is ws.graph(2019) and sorted(built) == [2018, 2019, 2020]
    assert ws.model(2020) is ws.model(2018) and ws.model(2019) is not ws.model(2018)
    assert ws.model(2018).countries == ["DEU", "IRN", "TJK"]
    assert ws.uncalibrated(2020) is ws.uncalibrated(2018)
    pd.testing.assert_series_equal(
        ws.uncalibrated(2019),
        modelled_seizures(build(2019, cm), cm, params=ObservationParams(1.0, 1.0))["seized"])
    assert not ws.uncalibrated(2019).equals(ws.uncalibrated(2018))
    assert engines == ["networkx", "networkx"]   # one run per distinct network


def test_year_builder_builds_as_of_july_first(cm, monkeypatch):
    """``build(year, cm)``: the data's network as of 1 July of the year, with the scenario."""
    import datetime as dt

    from routes.calibration import _workspace

    calls = []
    monkeypatch.setattr(_workspace, "network_from_data",
                        lambda ds, c, sc, *, as_of: calls.append((ds, c, sc, as_of)) or "G")
    assert _workspace.year_builder("ds", "sc")(2019, cm) == "G"
    assert calls == [("ds", cm, "sc", dt.date(2019, 7, 1))]


def test_observed_vs_modelled_worked_by_hand(cm, monkeypatch):
    """One row per country the model has in each fitted year then each held-out year not
    fitted (split ``fit`` / ``holdout``), the excluded left out, a missing report NaN, and
    ``log_residual = ln(observed + offset) - ln(modelled + offset)``."""
    from routes.calibration import _workspace

    modelled = {2019: {"IRN": 30.0, "TJK": 5.0, "CHN": 7.0}, 2020: {"IRN": 12.0, "TJK": 0.0}}
    def fake(G, c, *, engine):
        assert c is cm and engine == "networkx"
        return pd.DataFrame({"modelled_kg": pd.Series(modelled[G])})

    monkeypatch.setattr(_workspace, "modelled_seizures", fake)
    sz = pd.DataFrame({"iso3": ["IRN", "TJK", "IRN", "CHN"], "year": [2019, 2019, 2020, 2019],
                       "heroin_eq_kg": [60.0, 2.0, 8.0, 100.0]})
    got = _workspace.observed_vs_modelled(lambda y, c: y, cm, sz, years=[2019],
                                          holdout=[2019, 2020], offset=4.0, engine="networkx")
    assert list(got.columns) == ["iso3", "year", "split", "observed_kg", "modelled_kg",
                                 "log_residual"]
    assert got[["iso3", "year", "split"]].values.tolist() == [
        ["IRN", 2019, "fit"], ["TJK", 2019, "fit"], ["IRN", 2020, "holdout"],
        ["TJK", 2020, "holdout"]]
    assert got["observed_kg"].tolist()[:3] == [60.0, 2.0, 8.0]
    assert np.isnan(got["observed_kg"].iloc[3])
    assert got["modelled_kg"].tolist() == [30.0, 5.0, 12.0, 0.0]
    assert got["log_residual"].tolist()[:3] == pytest.approx(
        [np.log(64 / 34), np.log(6 / 9), np.log(12 / 16)], rel=1e-12)
    default = _workspace.observed_vs_modelled(lambda y, c: y, cm, sz, years=[2019],
                                              engine="networkx")
    assert default["iso3"].tolist() == ["IRN", "TJK"]   # CHN excluded by default
    assert default["log_residual"].tolist() == pytest.approx(
        [np.log(70 / 40), np.log(12 / 15)], rel=1e-12)
    none = _workspace.observed_vs_modelled(lambda y, c: y, cm, sz, years=[], engine="networkx")
    assert none.empty and list(none.columns) == list(got.columns)


def test_signature_tells_networks_apart_but_not_float_noise():
    """Two years share a fast model when their networks have the same edges, time, risk,
    length and flows: a change in any of them gives another signature; float noise (below
    1e-9 h and km, 1e-12 in risk) does not; a missing attribute counts as 0."""
    from routes.calibration._workspace import _signature

    def net(**edge):
        G = nx.DiGraph()
        G.add_node("o", role="origin", supply=6.0)
        G.add_node("m", role="market", demand=1.0)
        G.add_edge("o", "m", **{"time_h": 7.25, "risk": 0.1, "length_km": 403.7, **edge})
        return G

    base = _signature(net())
    assert _signature(net(time_h=7.25 + 3e-11, risk=0.1 + 2e-13,
                          length_km=403.7 + 3e-11)) == base
    for change in ({"time_h": 7.5}, {"risk": 0.11}, {"length_km": 403.9}):
        assert _signature(net(**change)) != base, change
    G = net()
    G.nodes["o"]["supply"] = 5.0
    assert _signature(G) != base
    bare = nx.DiGraph()
    bare.add_edge("o", "m")
    assert _signature(bare) == ((("o", "m", 0.0, 0.0, 0.0),), ())


def test_rolling_origin_makes_its_own_workspace(cm, fitted):
    """Without a workspace, rolling_origin makes one over the years first .. last held out
    (every year's network built once, with the rates removed); fits already made are reused."""
    built = []

    def counted(year, c):
        built.append(year)
        return build(year, c)

    table, cals = rolling_origin(counted, cm, observed(cm), first=2018, holdouts=[2022],
                                 calibrations={2022: fitted})
    assert cals == {2022: fitted} and sorted(built) == [2018, 2019, 2020, 2021, 2022]
    assert table["holdout"].tolist() == [2022] * 5 and table.index.tolist() == list(range(5))


def test_calibrated_text_keeps_a_replaced_lines_own_comment():
    """A base line's inline comment is kept, above the new value (as a base note: it spoke of
    the old value); a ``#`` inside a quoted string is no comment."""
    from routes.calibration._calib_toml import _inline_comment

    assert _inline_comment('500   # Gallien 2019, "a" note') == 'Gallien 2019, "a" note'
    assert _inline_comment('"a # b"') == ""
    assert _inline_comment("'c # d' # e") == "e"
    assert _inline_comment('"x \\" # y" #z') == "z"
    cal = SimpleNamespace(hours_per_risk=600.0, name="c", raw={})
    base = 'name = "b"\ndescription = "B."\n\n[weights]\nhours_per_risk = 500  # from the prior\n'
    text = calibrated_text(base, _CT_OLD, cal, _CT_PARAMS.iloc[:1], _CT_RATES.iloc[:0],
                           {"years": "2019"})
    got = text.splitlines()
    at = got.index("hours_per_risk = 600.0")
    assert got[at - 2:at] == [
        "# base note: from the prior",
        "# calibrated: was 500; 90% posterior interval 650-790.1 (prior median 500, 90% "
        "250-1000)"]


def test_calibrated_text_adds_a_key_to_the_last_table_and_writes_one_report_rates():
    """A changed key the base file's last table lacks goes into that table (not a second
    table of the same name, which TOML refuses); a country with one report is written; a
    provenance without years reads as blank years."""
    cal = SimpleNamespace(hours_per_risk=600.0, name="c", raw={})
    rates = pd.DataFrame({"rate": [0.25], "p05": [0.1], "p95": [0.5], "n_obs": [1],
                          "pinned": [False]}, index=["KGZ"])
    text = calibrated_text('name = "b"\ndescription = "B."\n\n[weights]\nhours_per_km = 0.1\n',
                           _CT_OLD, cal, _CT_PARAMS.iloc[:1], rates, {})
    raw = tomllib.loads(text)
    assert raw["weights"] == {"hours_per_km": 0.1, "hours_per_risk": 600.0}
    assert text.count("[weights]") == 1
    assert raw["observation"]["seizure_rates"] == {"KGZ": 0.25}
    assert "KGZ = 0.25   # 0.1-0.5, 1 reports, not pinned" in text
    assert raw["description"] == "Base model. Calibrated to reported seizures (; held out )."
