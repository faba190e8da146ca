"""Calibration: parameter recovery, the held-out year, seeded bootstraps, bad input."""

from __future__ import annotations

import tomllib

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from routes.calibration._calib_toml import calibrated_text
from routes.calibration.calibrate import apply_parameters, calibrate
from routes.calibration.observe import modelled_seizures
from routes.cli import main
from routes.costs import crossing_terms, edge_weights, load_cost_model
from routes.settings import DATA_DIR, DEFAULT_COST_MODEL

SUPPLY = {2018: 100.0, 2019: 160.0, 2020: 70.0, 2021: 125.0, 2022: 90.0}
TRUE = {"detect_iran": 2.0, "detect_central_asia": 0.5, "trafficked_share": 0.3}
FREE = list(TRUE)


@pytest.fixture(scope="module")
def cm():
    return load_cost_model(DEFAULT_COST_MODEL)


def build(year: int, cm) -> nx.DiGraph:
    """AFG origin; a market in IRN behind an iran_east post, one in TJK behind a central_asia
    post; every leg a road (its travel risk charged inland). One route per pair."""
    G = nx.DiGraph()
    G.add_node("o", kind="place", country="AFG", role="origin", supply=SUPPLY[year],
               demand=0.0, lon=62.0, lat=34.0)
    G.add_node("mi", kind="place", country="IRN", role="market", supply=0.0, demand=3.0,
               lon=59.0, lat=34.0)
    G.add_node("mt", kind="place", country="TJK", role="market", supply=0.0, demand=1.0,
               lon=69.0, lat=38.5)
    for x, a, b, cls in [("xi", "AFG", "IRN", "iran_east"), ("xt", "AFG", "TJK", "central_asia")]:
        delay, risk = crossing_terms(cm, cls, "open")
        G.add_node(x, kind="crossing", country_a=a, country_b=b, crossing_class=cls,
                   status="open", p_detect=cm.classes[cls].p_detect, delay_h=delay,
                   crossing_risk=risk, lon=0.0, lat=0.0)
    for u, v, km in [("o", "xi", 500.0), ("xi", "mi", 300.0), ("o", "xt", 400.0),
                     ("xt", "mt", 200.0)]:
        nv = G.nodes[v]
        terms = (nv["delay_h"], nv["crossing_risk"]) if nv["kind"] == "crossing" else None
        G.add_edge(u, v, mode="road", corridor_id=f"{u}-{v}", **edge_weights(
            cm, "road", km, crossing=terms))
    return G


def observed(cm, noise: float = 0.05, seed: int = 1) -> pd.DataFrame:
    """Seizures the model itself makes with TRUE, times seeded log-normal noise."""
    true_cm = apply_parameters(cm, TRUE)
    rng = np.random.default_rng(seed)
    rows = []
    for y in SUPPLY:
        s = modelled_seizures(build(y, true_cm), true_cm)["modelled_kg"]
        for c, kg in s.items():
            rows.append({"iso3": c, "year": y,
                         "heroin_eq_kg": kg * float(np.exp(rng.normal(0.0, noise)))})
    return pd.DataFrame(rows)


def _fit(cm, seizures, **kw):
    opts = {"years": [2018, 2019, 2020, 2021], "holdout": [2022], "free": FREE,
            "starts": 2, "bootstrap": 0, "seed": 3}
    opts.update(kw)
    return calibrate(build, cm, seizures, **opts)


def test_parameter_recovery(cm):
    """Noise of 5% (log scale): every parameter back within 10% of its true value."""
    res = _fit(cm, observed(cm))
    for name, true in TRUE.items():
        assert res.parameters.loc[name, "value"] == pytest.approx(true, rel=0.10), name
    # Without noise, within 1%.
    exact = _fit(cm, observed(cm, noise=0.0), starts=1)
    for name, true in TRUE.items():
        assert exact.parameters.loc[name, "value"] == pytest.approx(true, rel=0.01), name
    assert exact.info["check_max_rel_diff"] < 1e-9
    stats = exact.statistics.set_index(["split", "model"])
    assert stats.loc[("holdout", "calibrated"), "male"] < 0.01
    assert list(exact.fit.columns) == ["iso3", "year", "split", "observed_kg", "modelled_kg",
                                       "modelled_kg_uncalibrated"]
    assert set(exact.fit["split"]) == {"fit", "holdout"}


def test_holdout_never_enters_the_fit(cm):
    sz = observed(cm)
    changed = sz.copy()
    changed.loc[changed["year"] == 2022, "heroin_eq_kg"] *= 10.0
    a = _fit(cm, sz, starts=1)
    b = _fit(cm, changed, starts=1)
    pd.testing.assert_frame_equal(a.parameters, b.parameters)
    fa, fb = a.fit[a.fit["split"] == "fit"], b.fit[b.fit["split"] == "fit"]
    pd.testing.assert_frame_equal(fa, fb)
    ha = a.fit[a.fit["split"] == "holdout"]["observed_kg"].to_numpy()
    hb = b.fit[b.fit["split"] == "holdout"]["observed_kg"].to_numpy()
    np.testing.assert_allclose(hb, 10.0 * ha)


def test_bootstrap_reproducible_in_process_and_on_two_workers(cm):
    sz = observed(cm)
    a = _fit(cm, sz, starts=1, bootstrap=3)
    b = _fit(cm, sz, starts=1, bootstrap=3)
    pd.testing.assert_frame_equal(a.parameters, b.parameters)
    assert a.parameters["p05"].notna().all()
    c = _fit(cm, sz, starts=1, bootstrap=3, workers=2)
    pd.testing.assert_frame_equal(a.parameters, c.parameters)


def test_calibrated_toml_round_trip(cm):
    res = _fit(cm, observed(cm, noise=0.0), starts=1, bootstrap=2)
    text = calibrated_text(DEFAULT_COST_MODEL.read_text(encoding="utf-8"), cm,
                           res.cost_model, res.parameters,
                           {"years": "2018-2021", "holdout": "2022", "seed": 3})
    raw = tomllib.loads(text)
    assert raw["classes"]["iran_east"]["p_detect"] == pytest.approx(
        res.cost_model.classes["iran_east"].p_detect, rel=1e-5)
    assert raw["observation"]["trafficked_share"] == pytest.approx(0.3, rel=0.01)
    assert raw["calibration"]["seed"] == 3
    assert set(raw["calibration"]["parameters"]) == set(FREE)
    assert "# calibrated: was 0.2;" in text
    # Every comment of the base file is still there.
    base_comments = [ln for ln in DEFAULT_COST_MODEL.read_text().splitlines()
                     if ln.lstrip().startswith("#")]
    assert all(c in text for c in base_comments)


@pytest.mark.parametrize("row, field", [
    ("XXX,Nowhere,2019,5,5,,,,,,src", "iso3"),
    ("AFG,Afghanistan,2019,5,-5,,,,,,src", "heroin_kg"),
    ("AFG,Afghanistan,2031,5,5,,,,,,src", "year"),
])
def test_cli_bad_seizures_exit_2_nothing_written(tmp_path, capsys, row, field):
    text = (DATA_DIR / "seizures.csv").read_text().splitlines()
    bad = tmp_path / "seizures.csv"
    bad.write_text("\n".join([text[0], text[1], row] + text[2:]) + "\n")
    out, cmf = tmp_path / "out", tmp_path / "cm.toml"
    rc = main(["calibrate", "--seizures", str(bad), "--out", str(out),
               "--write-cost-model", str(cmf), "--bootstrap", "0", "--starts", "1"])
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
