"""Scenario overlays: every check of the TOML file, and each override applied by hand."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from routes import ScenarioError
from routes.costs import load_cost_model
from routes.geodata import load_dataset
from routes.network import network_from_data
from routes.scenario import BASELINE, Scenario, apply_scenario, load_scenario

HAND = Path(__file__).parent / "data" / "handworked"


@pytest.fixture(scope="module")
def hand():
    cm = load_cost_model(HAND / "cost_model.toml")
    return load_dataset(HAND, classes=set(cm.classes)), cm


def _load(tmp_path: Path, text: str) -> Scenario:
    f = tmp_path / "sc.toml"
    f.write_text(text)
    return load_scenario(f)


def _problems(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(ScenarioError) as ei:
        _load(tmp_path, text)
    return [str(p).split("sc.toml, ", 1)[-1] for p in ei.value.problems]


def test_load_every_field(tmp_path):
    sc = _load(tmp_path, '[scenario]\nname = "s"\ndescription = "d"\nas_of = "2025-01-01"\n'
                         'sources = ["A, B, 2024", "C"]\n'
                         '[crossings.x_mid]\nstatus = "restricted"\np_detect = 0.2\n'
                         'delay_h = 4\n[classes.post]\np_detect = 0\ndelay_h = 2.5\n'
                         '[places.p_west]\nsupply = 7\n')
    assert (sc.name, sc.description, sc.as_of, sc.sources) == ("s", "d", "2025-01-01",
                                                               ("A, B, 2024", "C"))
    assert sc.crossings == {"x_mid": {"status": "restricted", "p_detect": 0.2, "delay_h": 4.0}}
    assert isinstance(sc.crossings["x_mid"]["delay_h"], float)
    assert sc.classes == {"post": {"p_detect": 0.0, "delay_h": 2.5}}
    assert sc.places == {"p_west": {"supply": 7.0}}
    assert sc.path == str(tmp_path / "sc.toml") and len(sc.source_hash) == 64


def test_defaults(tmp_path):
    sc = _load(tmp_path, '[scenario]\nname = "s"\n')
    assert (sc.description, sc.as_of, sc.sources) == ("", "", ())
    assert sc.crossings == sc.classes == sc.places == {}


@pytest.mark.parametrize(("body", "expect"), [
    ('[crossings.x]\np_detect = -0.1\n',
     "field 'crossings.x.p_detect': must be a finite number >= 0, got -0.1"),
    ('[crossings.x]\np_detect = 0.995\n', "field 'crossings.x.p_detect': must be <= 0.99, "
                                           "got 0.995"),
    ('[crossings.x]\ndelay_h = true\n',
     "field 'crossings.x.delay_h': must be a finite number >= 0, got True"),
    ('[crossings.x]\ndelay_h = "1"\n',
     "field 'crossings.x.delay_h': must be a finite number >= 0, got '1'"),
    ('[crossings.x]\nstatus = "ajar"\n', "field 'crossings.x.status': 'ajar' is not one of "
                                          "open, restricted, closed"),
    ('[crossings.x]\nspeed = 3\n', "field 'crossings.x.speed': unknown key; allowed: "
                                    "delay_h, p_detect, status, upgraded"),
    ('[classes.post]\nstatus = "closed"\n', "field 'classes.post.status': unknown key; "
                                             "allowed: delay_h, p_detect"),
    ('[places.p]\nrole = "market"\n', "field 'places.p.role': unknown key; allowed: demand, "
                                       "supply"),
    ('[places]\np = 3\n', "field 'places.p': must be a table"),
    ('crossings = 3\n', "field 'crossings': must be a table of ids"),
    ('[wormholes]\nx = 1\n', "field 'wormholes': unknown table"),
])
def test_bad_values(tmp_path, body, expect):
    head = '[scenario]\nname = "s"\n'
    text = head + body if body.startswith("[") else body + head  # top-level keys first
    assert _problems(tmp_path, text) == [expect]


def test_bounds_are_inclusive(tmp_path):
    sc = _load(tmp_path, '[scenario]\nname = "s"\n[crossings.x]\np_detect = 0.99\n'
                         'delay_h = 0\n')
    assert sc.crossings == {"x": {"p_detect": 0.99, "delay_h": 0.0}}


@pytest.mark.parametrize("head", ["", '[scenario]\ndescription = "no name"\n',
                                  '[scenario]\nname = ""\n', "scenario = 3\n"])
def test_name_is_required(tmp_path, head):
    assert "field 'scenario.name': required" in _problems(tmp_path, head)


def test_unreadable_and_invalid(tmp_path):
    with pytest.raises(ScenarioError, match=r"nope.toml: cannot read: No such file"):
        load_scenario(tmp_path / "nope.toml")
    with pytest.raises(ScenarioError, match=r"sc.toml: not valid TOML: "):
        _load(tmp_path, "[scenario\n")
    (tmp_path / "b.toml").write_bytes(b"name = '\xff'\n")
    with pytest.raises(ScenarioError, match=r"b.toml: not valid TOML: "):
        load_scenario(tmp_path / "b.toml")


def test_all_problems_at_once(tmp_path):
    probs = _problems(tmp_path, '[scenario]\n[crossings.x]\nstatus = "ajar"\n[extra]\n')
    assert len(probs) == 3


def test_baseline_and_none_change_nothing(hand):
    ds, cm = hand
    assert apply_scenario(ds, cm, None) == (ds, cm)
    ds2, cm2 = apply_scenario(ds, cm, BASELINE)
    assert ds2 is ds and cm2 is cm


def test_crossing_overrides(hand):
    ds, cm = hand
    sc = Scenario(name="s", crossings={"x_mid": {"status": "restricted", "p_detect": 0.2,
                                                 "delay_h": 4.0}})
    before = ds.crossings.copy()
    ds2, cm2 = apply_scenario(ds, cm, sc)
    assert ds.crossings.equals(before) and "delay_h_override" not in ds.crossings
    row = ds2.crossings.set_index("id").loc["x_mid"]
    assert (row["status"], row["p_detect"], row["delay_h_override"]) == ("restricted", 0.2, 4.0)
    assert cm2 == cm
    G = network_from_data(ds, cm, sc)
    # restricted: delay 4 * 2 and risk -ln(0.8) * 3.
    assert G.nodes["x_mid"]["delay_h"] == pytest.approx(8.0)
    assert G.nodes["x_mid"]["crossing_risk"] == pytest.approx(-3 * math.log(0.8))


def test_class_overrides_raise_the_upgraded_p_when_needed(hand):
    ds, cm = hand   # post: p_detect 0.5, upgraded 0.75
    _, cm2 = apply_scenario(ds, cm, Scenario(name="s", classes={"post": {"p_detect": 0.8}}))
    assert cm2.classes["post"].p_detect == 0.8 and cm2.classes["post"].p_detect_upgraded == 0.8
    assert cm.classes["post"].p_detect == 0.5
    _, cm3 = apply_scenario(ds, cm, Scenario(name="s", classes={"post": {"p_detect": 0.2,
                                                                         "delay_h": 3.0}}))
    assert cm3.classes["post"].p_detect_upgraded == 0.75 and cm3.classes["post"].delay_h == 3.0
    _, cm4 = apply_scenario(ds, cm, Scenario(name="s", classes={"post": {"p_detect": 0.75}}))
    assert cm4.classes["post"].p_detect_upgraded == 0.75


def test_place_overrides(hand):
    ds, cm = hand
    ds2, _ = apply_scenario(ds, cm, Scenario(name="s", places={"p_west": {"supply": 7.0},
                                                               "p_east": {"demand": 2.5}}))
    p = ds2.places.set_index("id")
    assert (p.at["p_west", "supply"], p.at["p_east", "demand"]) == (7.0, 2.5)
    assert ds.places.set_index("id").at["p_west", "supply"] == 10


def test_apply_errors_name_file_and_key(hand):
    ds, cm = hand
    sc = Scenario(name="s", path="where.toml",
                  crossings={"x_none": {"status": "closed"}, "x_mid": {"status": "closed"},
                             "x_gone": {"status": "open"}},
                  places={"p_none": {"demand": 1.0}, "p_west": {"demand": 1.0},
                          "p_east": {"supply": 1.0}},
                  classes={"vip": {"p_detect": 0.1}, "post": {"delay_h": 1.0},
                           "vvip": {"delay_h": 1.0}})
    with pytest.raises(ScenarioError) as ei:
        apply_scenario(ds, cm, sc)
    assert [str(p) for p in ei.value.problems] == [
        "where.toml, field 'crossings.x_none': unknown crossing id",
        "where.toml, field 'crossings.x_gone': unknown crossing id",
        "where.toml, field 'places.p_none': unknown place id",
        "where.toml, field 'places.p_west.demand': only a market has demand; p_west is a origin",
        "where.toml, field 'places.p_east.supply': only a origin has supply; p_east is a market",
        "where.toml, field 'classes.vip': unknown crossing class",
        "where.toml, field 'classes.vvip': unknown crossing class",
    ]
    with pytest.raises(ScenarioError, match=r"  - s, field 'classes.vip': unknown"):
        apply_scenario(ds, cm, Scenario(name="s", classes={"vip": {"p_detect": 0.1}}))


def test_scenario_names_its_cost_model_and_the_cli_warns_on_another(tmp_path, capsys):
    """A downloaded what-if scenario carries the cost model's file and sha256; a command run
    with another cost model says so on stderr (and runs)."""
    import argparse

    from routes.cli._common import load_inputs
    from routes.costs import load_cost_model
    from routes.settings import DATA_DIR, DEFAULT_COST_MODEL

    cm = load_cost_model(DEFAULT_COST_MODEL)
    p = tmp_path / "s.toml"
    p.write_text('[scenario]\nname = "w"\ncost_model = "cost_model.toml"\n'
                 f'cost_model_sha256 = "{cm.source_hash}"\n', encoding="utf-8")
    assert load_scenario(p).cost_model_sha256 == cm.source_hash
    ns = argparse.Namespace(data=DATA_DIR, cost_model=None, scenario=p, as_of=None,
                            auto_link=False)
    load_inputs(ns)
    assert "warning" not in capsys.readouterr().err
    other = DATA_DIR / "cost_model_calibrated.toml"
    load_inputs(argparse.Namespace(**{**vars(ns), "cost_model": other}))
    err = capsys.readouterr().err
    assert "warning: scenario s.toml was made with the cost model cost_model.toml" in err
    assert cm.source_hash[:12] in err
