"""The cost model: hand-worked edge weights, and every check of the TOML file at its bounds."""

from __future__ import annotations

import copy
import hashlib
import math
import tomllib
from pathlib import Path

import pytest

from routes import DataError
from routes.costs import (
    CORRIDOR_MODES,
    crossing_terms,
    edge_weights,
    geodesic_km,
    load_cost_model,
    p_from_risk,
    risk_from_p,
)

HAND = Path(__file__).parent / "data" / "handworked" / "cost_model.toml"
ROOT = Path(__file__).resolve().parents[1]
RAW = tomllib.loads(HAND.read_text())


def _toml(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return repr(value)


def _dump(raw: dict) -> str:
    """A minimal TOML writer for the cost model's shape (scalars, tables, tables of tables)."""
    lines = [f"{k} = {_toml(v)}" for k, v in raw.items() if not isinstance(v, dict)]

    def table(prefix: str, d: dict) -> None:
        lines.append(f"[{prefix}]")
        lines.extend(f"{k} = {_toml(v)}" for k, v in d.items() if not isinstance(v, dict))
        for k, v in d.items():
            if isinstance(v, dict):
                table(f"{prefix}.{k}", v)

    for k, v in raw.items():
        if isinstance(v, dict):
            table(k, v)
    return "\n".join(lines) + "\n"


def _write(tmp_path: Path, edit) -> Path:
    raw = copy.deepcopy(RAW)
    edit(raw)
    p = tmp_path / "cm.toml"
    p.write_text(_dump(raw))
    return p


def _set(dotted: str, value):
    def edit(raw):
        *keys, last = dotted.split(".")
        d = raw
        for k in keys:
            d = d[k]
        if value is _DELETE:
            del d[last]
        else:
            d[last] = value
    return edit


_DELETE = object()


def _problems(path: Path) -> list[str]:
    with pytest.raises(DataError) as ei:
        load_cost_model(path)
    return [str(p) for p in ei.value.problems]


def test_writer_round_trips_the_handworked_model(tmp_path):
    cm = load_cost_model(_write(tmp_path, lambda raw: None))
    hand = load_cost_model(HAND)
    assert cm.with_changes(source_hash="", path="") == hand.with_changes(source_hash="", path="")
    assert cm.source_hash == hashlib.sha256((tmp_path / "cm.toml").read_bytes()).hexdigest()


def test_handworked_values():
    cm = load_cost_model(HAND)
    assert cm.name == "handworked" and cm.description == ""
    assert cm.modes["road"].detour_factor == 1.5 and cm.modes["rail"].speed_kmh == 25.0
    assert cm.modes["road"].fixed_h == 1.0 and cm.modes["road"].risk_per_1000km == 0.1
    post = cm.classes["post"]
    assert (post.p_detect, post.delay_h, post.upgrade_cost, post.p_detect_upgraded) == (
        0.5, 10.0, 1.0, 0.75)
    assert (cm.restricted_delay_factor, cm.restricted_risk_factor) == (2.0, 3.0)
    assert (cm.hours_per_hour, cm.hours_per_risk, cm.hours_per_km) == (1.0, 100.0, 0.01)
    assert (cm.logit_theta, cm.k_routes) == (1.0, 2)
    assert cm.uncertainty == {}
    assert len(cm.source_hash) == 64 and cm.path == str(HAND)
    assert cm.raw == RAW  # the parsed file, as read


def test_name_defaults_to_the_file_stem_and_description_is_read(tmp_path):
    def edit(raw):
        del raw["name"]
        raw["description"] = "a test model"
    cm = load_cost_model(_write(tmp_path, edit))
    assert cm.name == "cm" and cm.description == "a test model"


def test_risk_and_probability_at_asymmetric_points():
    # p = 0.2: -ln(1 - p) = 0.2231 (not -ln p = 1.609).
    assert risk_from_p(0.2) == pytest.approx(0.22314355131, rel=1e-10)
    assert p_from_risk(0.22314355131420976) == pytest.approx(0.2, rel=1e-12)
    assert p_from_risk(1.0) == pytest.approx(0.63212055883, rel=1e-10)


def test_geodesic_km_on_a_meridian_and_the_equator():
    assert geodesic_km(0.0, 0.0, 1.0, 0.0) == pytest.approx(111.31949079, rel=1e-9)
    # One degree of latitude from the equator is shorter than one of longitude there.
    assert geodesic_km(10.0, 0.0, 10.0, 1.0) == pytest.approx(110.57438856, rel=1e-8)
    assert geodesic_km(10.0, 1.0, 10.0, 0.0) == pytest.approx(110.57438856, rel=1e-8)


def test_crossing_terms_class_defaults_overrides_and_restricted():
    cm = load_cost_model(HAND)
    assert crossing_terms(cm, "post", "open") == pytest.approx((10.0, math.log(2)))
    d, r = crossing_terms(cm, "post", "open", p_detect=0.2, delay_h=3.0)
    assert (d, r) == pytest.approx((3.0, 0.22314355131))
    d, r = crossing_terms(cm, "post", "restricted", p_detect=0.2, delay_h=3.0)
    assert (d, r) == pytest.approx((6.0, 3 * 0.22314355131))


def test_edge_weights_by_hand():
    cm = load_cost_model(HAND)
    # road: 100 km geodesic -> 150 km; 150/50 + 1 = 4 h; risk 0.015; cost 4 + 1.5 + 1.5.
    w = edge_weights(cm, "road", 100.0)
    assert w == pytest.approx({"length_km": 150.0, "time_h": 4.0, "risk": 0.015, "cost": 7.0})
    w = edge_weights(cm, "road", 100.0, crossing=(2.0, 0.3))
    assert w == pytest.approx({"length_km": 150.0, "time_h": 6.0, "risk": 0.315,
                               "cost": 6.0 + 31.5 + 1.5})


def test_air_mode_by_hand_and_in_the_shipped_model():
    """Air couriers (issue 19): a corridor mode of its own, screened at the airport crossing."""
    assert "air" in CORRIDOR_MODES
    cm = load_cost_model(HAND)
    # hand model: air 1000 km geodesic, detour 1.0 -> 1000 km; 1000/500 + 0 + 2 h delay = 4 h;
    # risk 0 + 0.3 at the crossing; cost 1 * 4 + 100 * 0.3 + 0.01 * 1000 = 44.
    w = edge_weights(cm, "air", 1000.0, crossing=(2.0, 0.3))
    assert w == pytest.approx({"length_km": 1000.0, "time_h": 4.0, "risk": 0.3, "cost": 44.0})
    shipped = load_cost_model(ROOT / "data" / "geo" / "cost_model.toml")
    air, sea = shipped.modes["air"], shipped.modes["sea"]
    assert (air.detour_factor, air.speed_kmh, air.fixed_h, air.risk_per_1000km) == (
        1.3, 700.0, 12.0, 0.0)
    # 4,000 km geodesic: 5,200 km by air in 5200/700 + 12 = 19.43 h; 5,600 km by sea in
    # 5600/30 + 72 = 258.67 h.
    assert edge_weights(shipped, "air", 4000.0)["time_h"] == pytest.approx(5200 / 700 + 12)
    assert edge_weights(shipped, "sea", 4000.0)["time_h"] == pytest.approx(5600 / 30 + 72)
    assert sea.speed_kmh < air.speed_kmh
    assert shipped.classes["airport"].p_detect == 0.15


def test_with_changes_copies():
    cm = load_cost_model(HAND)
    cm2 = cm.with_changes(logit_theta=2.0)
    assert cm2.logit_theta == 2.0 and cm.logit_theta == 1.0


# Each bound of each number, just inside (accepted) and just outside (refused).
BOUNDS = [
    ("modes.road.detour_factor", 1.0, 5.0, "[1.0, 5.0]"),
    ("modes.road.speed_kmh", 0.1, 1000.0, "[0.1, 1000.0]"),
    ("modes.road.fixed_h", 0.0, None, ">= 0.0"),
    ("modes.road.risk_per_1000km", 0.0, None, ">= 0.0"),
    ("classes.post.p_detect", 0.0, 0.5, "[0.0, 0.99]"),   # hi limited by p_detect_upgraded
    ("classes.post.delay_h", 0.0, None, ">= 0.0"),
    ("classes.post.upgrade_cost", 0.0, None, ">= 0.0"),
    ("classes.post.p_detect_upgraded", 0.5, 0.99, "[0.0, 0.99]"),
    ("status.restricted_delay_factor", 1.0, None, ">= 1.0"),
    ("status.restricted_risk_factor", 1.0, None, ">= 1.0"),
    ("weights.hours_per_hour", 0.0, None, ">= 0.0"),
    ("weights.hours_per_risk", 0.0, None, ">= 0.0"),
    ("weights.hours_per_km", 0.0, None, ">= 0.0"),
    ("flow.logit_theta", 0.0, None, ">= 0.0"),
]


@pytest.mark.parametrize(("key", "lo", "hi", "rng"), BOUNDS)
def test_number_bounds(tmp_path, key, lo, hi, rng):
    load_cost_model(_write(tmp_path, _set(key, lo)))
    if hi is not None:
        load_cost_model(_write(tmp_path, _set(key, hi)))
    else:
        load_cost_model(_write(tmp_path, _set(key, 1e6)))
    below = lo - 0.01 if lo > 0 else -0.01
    if key == "classes.post.p_detect_upgraded":
        below = -0.01
    msg = f"cm.toml, field '{key}': must be in {rng}, got {below}"
    assert any(msg in p for p in _problems(_write(tmp_path, _set(key, below)))), msg
    if hi is not None:
        above = 0.995 if rng.endswith("0.99]") else hi + 0.5
        if key == "classes.post.p_detect":
            continue_ok = True  # 0.995 is also above p_detect_upgraded: both problems listed
            assert continue_ok
        msg = f"field '{key}': must be in {rng}, got {above}"
        assert any(msg in p for p in _problems(_write(tmp_path, _set(key, above)))), msg
    inf = _problems(_write(tmp_path, _set(key, math.inf)))
    assert any(f"field '{key}': must be in {rng}, got inf" in p for p in inf)


@pytest.mark.parametrize("value", [True, "fast", None])
def test_not_a_number(tmp_path, value):
    edit = _set("modes.road.speed_kmh", _DELETE if value is None else value)
    probs = _problems(_write(tmp_path, edit))
    assert any(f"field 'modes.road.speed_kmh': must be a number, got {value!r}" in p
               for p in probs), probs


def test_a_probability_that_is_not_a_number(tmp_path):
    probs = _problems(_write(tmp_path, _set("classes.post.p_detect", "high")))
    assert probs == [f"{tmp_path / 'cm.toml'}, field 'classes.post.p_detect': must be a number, "
                     "got 'high'"]


def test_integers_are_numbers(tmp_path):
    cm = load_cost_model(_write(tmp_path, _set("modes.road.speed_kmh", 40)))
    assert cm.modes["road"].speed_kmh == 40.0 and isinstance(cm.modes["road"].speed_kmh, float)


def test_upgraded_below_p_detect(tmp_path):
    probs = _problems(_write(tmp_path, _set("classes.post.p_detect_upgraded", 0.4)))
    assert probs == [f"{tmp_path / 'cm.toml'}, field 'classes.post.p_detect_upgraded': "
                     "must be >= p_detect (0.5), got 0.4"]
    # Equal is allowed: an upgrade that changes nothing.
    load_cost_model(_write(tmp_path, _set("classes.post.p_detect_upgraded", 0.5)))


def test_unknown_and_missing_modes(tmp_path):
    def edit(raw):
        raw["modes"]["hovercraft"] = dict(raw["modes"]["rail"])
        del raw["modes"]["sea"]
    probs = _problems(_write(tmp_path, edit))
    assert any("field 'modes.hovercraft': unknown mode; allowed: ('road', 'rail', 'ferry', "
               "'sea', 'track', 'air')" in p for p in probs), probs
    assert any("field 'modes.sea': missing table" in p for p in probs), probs
    assert len(probs) == 2


@pytest.mark.parametrize("table", ["modes", "classes", "status", "weights", "flow"])
def test_missing_table(tmp_path, table):
    probs = _problems(_write(tmp_path, _set(table, _DELETE)))
    assert any(p.endswith(f"field '{table}': missing table") for p in probs), probs


def test_a_table_that_is_not_a_table(tmp_path):
    probs = _problems(_write(tmp_path, _set("weights", 3)))
    assert any(p.endswith("field 'weights': missing table") for p in probs), probs


@pytest.mark.parametrize(("rng", "ok"), [
    ([0.5, 1.5], True), ([1, 1], True), ([0.0, 1.0], False), ([1.5, 0.5], False),
    ([0.5], False), ([0.5, 1.0, 2.0], False), (["a", 1.0], False), (0.5, False),
])
def test_uncertainty_ranges(tmp_path, rng, ok):
    path = _write(tmp_path, _set("uncertainty", {"p_detect": rng}))
    if ok:
        assert load_cost_model(path).uncertainty == {"p_detect": (float(rng[0]), float(rng[1]))}
        assert all(isinstance(x, float) for x in load_cost_model(path).uncertainty["p_detect"])
    else:
        assert _problems(path) == [
            f"{path}, field 'uncertainty.p_detect': must be [low, high] with 0 < low <= high, "
            f"got {rng!r}"]


@pytest.mark.parametrize(("k", "ok"), [(1, True), (7, True), (0, False), (True, False),
                                       (2.0, False), ("3", False)])
def test_k_routes(tmp_path, k, ok):
    path = _write(tmp_path, _set("flow.k_routes", k))
    if ok:
        assert load_cost_model(path).k_routes == k
    else:
        assert _problems(path) == [
            f"{path}, field 'flow.k_routes': must be an integer >= 1, got {k!r}"]


def test_k_routes_defaults_to_5(tmp_path):
    assert load_cost_model(_write(tmp_path, _set("flow.k_routes", _DELETE))).k_routes == 5


def test_unreadable_and_invalid_files(tmp_path):
    with pytest.raises(DataError, match=r"nope.toml: cannot read: No such file"):
        load_cost_model(tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("name = \n")
    with pytest.raises(DataError, match=r"bad.toml: not valid TOML: "):
        load_cost_model(bad)
    bad.write_bytes(b"name = '\xff'\n")
    with pytest.raises(DataError, match=r"bad.toml: not valid TOML: "):
        load_cost_model(bad)


def test_all_problems_reported_at_once(tmp_path):
    def edit(raw):
        raw["modes"]["road"]["speed_kmh"] = 0
        raw["weights"]["hours_per_km"] = -1
    assert len(_problems(_write(tmp_path, edit))) == 2
