"""The published figures beside the model's (routes.calibration.published), on hand-worked inputs.

One small world: six journeys out of Afghanistan (flows 6, 3, 1.5, 2.5, 0.5, 0.25 t), their
exits (13.25 t leave Afghanistan, 4.75 t of it into Tajikistan, Uzbekistan and Turkmenistan)
and modelled seizures in seven countries (2.1 t). Every expected figure below is worked by hand
from those numbers in the comment beside it.
"""

from __future__ import annotations

import math
from pathlib import Path
from types import SimpleNamespace

import networkx as nx
import pandas as pd
import pytest

from routes._errors import DataError
from routes.calibration.published import (
    COMPARE_COLUMNS,
    corridors_vs_published,
    exits_vs_published,
    observed_dir,
    published_vs_modelled,
    read_observed,
)

NAN = math.nan
#: market node -> country
MARKETS = {"m_irn": "IRN", "m_rus": "RUS", "m_deu": "DEU", "m_pak": "PAK", "m_afg": "AFG",
           "m_uzb": "UZB"}
JOURNEYS = [("m_irn", "AFG > IRN", 6.0), ("m_rus", "AFG > TJK > KAZ > RUS", 3.0),
            ("m_deu", "AFG > TKM > IRN > TUR > DEU", 1.5), ("m_pak", "AFG > PAK", 2.5),
            ("m_afg", "AFG", 0.5), ("m_uzb", "AFG > UZB", 0.25)]
SEIZED = {"IRN": 0.9, "TJK": 0.3, "RUS": 0.2, "DEU": 0.05, "PAK": 0.4, "KAZ": 0.15, "UZB": 0.1}


def _graph() -> nx.DiGraph:
    G = nx.DiGraph()
    G.add_node("o", country="AFG")
    for m, c in MARKETS.items():
        G.add_node(m, country=c)
    return G


def _journeys() -> pd.DataFrame:
    return pd.DataFrame([{"origin": "o", "market": m, "countries": cs, "flow": f}
                         for m, cs, f in JOURNEYS])


def _exits(afg: bool = True) -> pd.DataFrame:
    # Exits from Afghanistan (and one from Iran, which no AFG figure may count); the "" row
    # (flow staying home) is no country entered.
    rows = [("AFG", "IRN", 6.0), ("AFG", "TJK", 3.0), ("AFG", "TKM", 1.5), ("AFG", "PAK", 2.5),
            ("AFG", "UZB", 0.25), ("AFG", "", 0.5), ("IRN", "TUR", 1.5)]
    if not afg:
        rows = rows[-1:]
    idx = pd.MultiIndex.from_tuples([r[:2] for r in rows], names=["from_country", "into"])
    flow = [r[2] for r in rows]
    return pd.DataFrame({"flow": flow, "share": [f / 13.25 for f in flow]}, index=idx)


def _cm(raw: dict | None = None) -> SimpleNamespace:
    return SimpleNamespace(
        regions={"Europe": ["DEU", "TUR"], "Central Asia": ["KAZ", "TJK", "TKM", "UZB"]},
        raw={"conversion": {"opium_per_heroin": 7.0},
             "balance": {"groups": {"EU": ["DEU", "FRA"]}}} if raw is None else raw)


def _published(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame([{"indicator": i, "region_or_route": s, "year": y, "low": lo,
                          "high": hi, "unit": u, "note": "", "source": f"src {k}"}
                         for k, (i, s, y, lo, hi, u) in enumerate(rows)])


# (indicator, subject, year, low, high, unit) -> (modelled, model_unit); "" unit: not modelled
CASES = [
    # TJK's share of the northern exits: 3 / 4.75
    (("exit_share", "AFG>TJK", 2010, 0.85, 0.85, "share of northern-route exports"),
     (3.0 / 4.75, "share of exits into TJK, UZB, TKM")),
    # PAK's share of all that leaves: 2.5 / 13.25; CHN receives nothing: 0
    (("exit_share", "AFG>PAK", 2016, 0.43, 0.43, "share of Afghan opiates"),
     (2.5 / 13.25, "share of the flow leaving AFG")),
    (("exit_share", "AFG>CHN", 2016, 0.01, 0.02, "share of Afghan opiates"),
     (0.0, "share of the flow leaving AFG")),
    # northern exits of all exits: 4.75 / 13.25
    (("route_share", "northern_route", 2010, 0.237, 0.25, "share of Afghan heroin"),
     (4.75 / 13.25, "share of the flow leaving AFG into TJK, UZB, TKM")),
    # journeys leaving through TJK/UZB/TKM: 3 + 1.5 + 0.25 = 4.75 (the last one ends in UZB,
    # the country it enters), of which 3 end in RUS, 0.25 in UZB and none in KAZ (crossed by
    # 3 t: the market counts, not the countries crossed)
    (("route_share", "northern_route:RUS", 2010, 0.75, 0.75, "share of northern-route opiates"),
     (3.0 / 4.75, "share of journeys leaving into TJK, UZB, TKM ending in RUS")),
    (("route_share", "northern_route:UZB", 2010, 0.1, 0.1, "share of northern-route opiates"),
     (0.25 / 4.75, "share of journeys leaving into TJK, UZB, TKM ending in UZB")),
    (("route_share", "northern_route:KAZ", 2010, 0.1, 0.1, "share of northern-route opiates"),
     (0.0, "share of journeys leaving into TJK, UZB, TKM ending in KAZ")),
    # the market country is all that follows the first colon
    (("route_share", "northern_route:RUS:x", 2010, 0.1, 0.1, "share"), (NAN, "")),
    (("route_share", "northern_route:Europe", 2010, 0.1, 0.1, "share"), (NAN, "")),
    (("route_share", "northern_route:rus", 2010, 0.1, 0.1, "share"), (NAN, "")),
    (("route_share", "balkan_route", 2010, 0.1, 0.1, "share"), (NAN, "")),
    # flows in tonnes of opium
    (("flow_t", "northern_route", 2010, 0.5, 0.6, "t heroin"),
     (4.75, "t opium (opium and heroin as opium)")),
    (("flow_t", "AFG exports", 2009, 13.0, 14.0, "t opium"),
     (13.25, "t opium (opium and heroin as opium)")),
    # journeys entering or crossing IRN: 6 (ends there) + 1.5 (crosses); AFG, where every
    # journey starts, is entered by none
    (("flow_t", "IRN transit", 2019, 10.0, 40.0, "t heroin"),
     (7.5, "t opium (opium and heroin as opium)")),
    (("flow_t", "AFG transit", 2019, 1.0, 2.0, "t opium"),
     (0.0, "t opium (opium and heroin as opium)")),
    (("flow_t", "Iran transit", 2019, 1.0, 2.0, "t opium"), (NAN, "")),
    (("flow_t", "northern_route:Europe", 2010, 3.0, 4.0, "t heroin"), (NAN, "")),
    # consumption: markets' countries IRN 6, RUS 3, DEU 1.5, PAK 2.5, AFG 0.5, UZB 0.25
    (("consumption_t", "world", 2009, 375.0, 375.0, "t heroin"),
     (13.75, "t opium (flow reaching the markets)")),
    # the default neighbours (IRN, PAK, TJK, UZB, TKM, CHN): 6 + 2.5 + 0.25; the rest: 3 +
    # 1.5 + 0.5
    (("consumption_t", "AFG neighbours", 2009, 600.0, 600.0, "t opium"),
     (8.75, "t opium (flow reaching the markets)")),
    (("consumption_t", "rest of world", 2009, 340.0, 340.0, "t opium"),
     (5.0, "t opium (flow reaching the markets)")),
    # a group of [balance.groups] (DEU, FRA), a region (KAZ, TJK, TKM, UZB), a country
    (("consumption_t", "EU", 2017, 149.0, 149.0, "t heroin"),
     (1.5, "t opium (flow reaching the markets)")),
    (("consumption_t", "Central Asia", 2017, 1.0, 2.0, "t opium"),
     (0.25, "t opium (flow reaching the markets)")),
    (("consumption_t", "IRN", 2008, 450.0, 450.0, "t opium"),
     (6.0, "t opium (flow reaching the markets)")),
    (("consumption_t", "Narnia", 2008, 1.0, 1.0, "t opium"), (NAN, "")),
    (("consumption_t", "irn", 2008, 1.0, 1.0, "t opium"), (NAN, "")),
    (("consumption_t", "IR1", 2008, 1.0, 1.0, "t opium"), (NAN, "")),
    (("consumption_t", "IRAN", 2008, 1.0, 1.0, "t opium"), (NAN, "")),
    # seizures: all 2.1; northern route (TJK, UZB, TKM, KGZ, KAZ, RUS): 0.3 + 0.1 + 0.15 + 0.2
    (("seizure_t", "EU", 2017, 5.0, 5.0, "t heroin"), (0.05, "t opium (expected seizures)")),
    (("seizure_t", "northern_route", 2017, 5.0, 5.0, "t heroin"),
     (0.75, "t opium (expected seizures)")),
    (("seizure_share", "northern_route", 2017, 0.01, 0.01, "share of global seizures"),
     (0.75 / 2.1, "share of all modelled seizures (Afghan opiates only)")),
    (("seizure_share", "PAK", 2012, 0.18, 0.18, "share of global heroin seizures"),
     (0.4 / 2.1, "share of all modelled seizures (Afghan opiates only)")),
    # outside the neighbours: RUS 0.2 + DEU 0.05 + KAZ 0.15
    (("seizure_t", "rest of world", 2017, 1.0, 1.0, "t opium"),
     (0.4, "t opium (expected seizures)")),
    (("seizure_t", "Narnia", 2017, 1.0, 1.0, "t opium"), (NAN, "")),
    (("seizure_change", "Afghan opiates (global)", 2024, -0.5, -0.5, "change"), (NAN, "")),
    (("users", "Europe", 2009, 3.1, 3.1, "million heroin users"), (NAN, "")),
]


def test_every_published_subject_beside_its_hand_worked_model_figure() -> None:
    """Each subject's rule of the module notes, one row each: the figure, its unit, the note
    (``not modelled`` exactly where the model has no figure), the published values kept and
    turned into tonnes of opium (heroin times ``opium_per_heroin`` = 7)."""
    pub = _published([c[0] for c in CASES])
    seized = pd.DataFrame({"seized": SEIZED})
    got = published_vs_modelled(pub, _graph(), _exits(), _journeys(), seized, _cm())
    assert list(got.columns) == list(COMPARE_COLUMNS)
    assert got["modelled"].tolist() == pytest.approx([c[1][0] for c in CASES], rel=1e-12,
                                                     nan_ok=True)
    assert got["model_unit"].tolist() == [c[1][1] for c in CASES]
    assert got["modelled_note"].tolist() == ["" if c[1][1] else "not modelled" for c in CASES]
    assert got["subject"].tolist() == [c[0][1] for c in CASES]
    assert got["indicator"].tolist() == [c[0][0] for c in CASES]
    assert got["year"].tolist() == [c[0][2] for c in CASES]
    assert got["low"].tolist() == [c[0][3] for c in CASES]
    assert got["high"].tolist() == [c[0][4] for c in CASES]
    assert got["unit"].tolist() == [c[0][5] for c in CASES]
    assert got["source"].tolist() == [f"src {k}" for k in range(len(CASES))]
    heroin = [c[0][5].startswith("t heroin") for c in CASES]
    assert got["low_model_unit"].tolist() == pytest.approx(
        [c[0][3] * (7.0 if h else 1.0) for c, h in zip(CASES, heroin)], rel=1e-12)
    assert got["high_model_unit"].tolist() == pytest.approx(
        [c[0][4] * (7.0 if h else 1.0) for c, h in zip(CASES, heroin)], rel=1e-12)


def test_without_figures_to_divide_by_shares_are_nan_and_defaults_apply() -> None:
    """Nothing leaves Afghanistan, no journey, no seizure: every share is NaN (never a
    division by zero), sums are 0; a cost model without ``[conversion]`` converts heroin at 10
    t of opium per t and one whose ``balance`` is no table still knows Afghanistan's
    neighbours, as does one without ``balance``; a missing year stays missing."""
    rows = [("exit_share", "AFG>TJK", 2010, 1.0, 1.0, "share of northern-route exports"),
            ("exit_share", "AFG>PAK", 2016, 1.0, 1.0, "share of Afghan opiates"),
            ("route_share", "northern_route", 2010, 1.0, 1.0, "share"),
            ("route_share", "northern_route:RUS", 2010, 1.0, 1.0, "share"),
            ("seizure_share", "PAK", 2012, 1.0, 1.0, "share"),
            ("flow_t", "AFG exports", NAN, 2.0, 3.0, "t heroin"),
            ("consumption_t", "AFG neighbours", 2009, 1.0, 1.0, "t opium")]
    empty = pd.DataFrame({"origin": [], "market": [], "countries": [], "flow": []})
    seized = pd.DataFrame({"seized": {"PAK": 0.0, "IRN": 0.0}})
    got = published_vs_modelled(_published(rows), _graph(), _exits(afg=False), empty, seized,
                                _cm({"balance": "none"}))
    m = got["modelled"].tolist()
    assert all(math.isnan(v) for v in m[:5]) and m[5:] == [0.0, 0.0]
    assert got["model_unit"].iloc[6] == "t opium (flow reaching the markets)"
    assert got["low_model_unit"].iloc[5] == 20.0 and got["high_model_unit"].iloc[5] == 30.0
    assert math.isnan(got["year"].iloc[5]) and got["year"].iloc[0] == 2010
    # 0.5 t leaves, all of it into TJK: TJK's share of the northern exits is 1 (a share of a
    # flow under one tonne is still a share)
    small = _exits().iloc[[1, 3]].assign(flow=[0.5, 0.3])
    one = published_vs_modelled(_published(rows[:2]), _graph(), small, empty, seized,
                                _cm({}))
    assert one["modelled"].tolist() == pytest.approx([1.0, 0.3 / 0.8])
    # no exits at all (an empty frame), and no modelled seizures: seizure rows not modelled
    none = published_vs_modelled(_published(rows[4:5]), _graph(), _exits().iloc[:0], empty,
                                 None, _cm())
    assert none["modelled_note"].tolist() == ["not modelled"]


def test_no_published_file_gives_the_empty_table() -> None:
    for pub in (None, _published([]).reindex(columns=["indicator", "region_or_route"])):
        got = published_vs_modelled(pub, _graph(), _exits(), _journeys(), None, _cm())
        assert got.empty and list(got.columns) == list(COMPARE_COLUMNS)


def _cmp(rows: list[tuple]) -> pd.DataFrame:
    """Rows ``(indicator, subject, unit, low, high, year, source)`` of a comparison table."""
    return pd.DataFrame([dict(zip(("indicator", "subject", "unit", "low", "high", "year",
                                   "source"), r)) for r in rows],
                        columns=list(COMPARE_COLUMNS))


def test_exits_beside_the_first_published_share_of_afghan_opiates() -> None:
    """Each country entered first (the exits' order, the "" row left out), then Central Asia
    (TJK + TKM + UZB); a published range is set beside a row only when it is a share of Afghan
    opiates, the file's first such row winning; a published country the model never enters
    gets a row with no modelled share."""
    cmp = _cmp([("route_share", "northern_route", "share of northern-route opiates", 0.7, 0.8,
                 2010, "not of Afghan"),
                ("route_share", "balkan_route", "share of Afghan heroin", 0.4, 0.5, 2010, "b"),
                ("exit_share", "AFG>TJK", "share of northern-route exports", 0.8, 0.9, 2010,
                 "north"),
                ("exit_share", "AFG>PAK", "share of Afghan opiates", 0.4, 0.45, 2016, "pak1"),
                ("exit_share", "AFG>PAK", "share of Afghan opiates", 0.1, 0.2, 2017, "pak2"),
                ("exit_share", "IRN>TUR", "share of Afghan opiates", 0.1, 0.2, 2017, "irn"),
                ("route_share", "northern_route", "share of Afghan heroin", 0.237, 0.25, 2010,
                 "ca"),
                ("flow_t", "AFG>CHN", "share of Afghan opiates", 1.0, 1.0, 2010, "flow"),
                ("exit_share", "AFG>CHN", "share of Afghan opiates", 0.01, 0.02, 2011, "chn")])
    got = exits_vs_published(_exits(), cmp)
    assert got.index.tolist() == ["IRN", "TJK", "TKM", "PAK", "UZB", "Central Asia", "CHN"]
    assert list(got.columns) == ["modelled", "low", "high", "year", "unit", "source"]
    assert got["modelled"].tolist()[:6] == pytest.approx(
        [6 / 13.25, 3 / 13.25, 1.5 / 13.25, 2.5 / 13.25, 0.25 / 13.25, 4.75 / 13.25])
    assert math.isnan(got.loc["CHN", "modelled"])
    assert got.loc["PAK", ["low", "high", "year", "source"]].tolist() == [0.4, 0.45, 2016, "pak1"]
    assert got.loc["Central Asia", ["low", "high", "year", "unit", "source"]].tolist() == [
        0.237, 0.25, 2010, "share of Afghan heroin", "ca"]
    assert got.loc["CHN", ["low", "high", "source"]].tolist() == [0.01, 0.02, "chn"]
    assert got.loc[["IRN", "TJK", "TKM", "UZB"], "source"].isna().all()
    # no exit from Afghanistan: only Central Asia, at 0
    alone = exits_vs_published(_exits(afg=False), cmp.iloc[:0])
    assert alone["modelled"].to_dict() == {"Central Asia": 0.0}


def test_corridors_beside_the_northern_routes_first_share_of_afghan_opiates() -> None:
    """Only ``Northern`` gets a published range: the first ``route_share northern_route`` row
    that is a share of Afghan opiates (not one of northern-route opiates); the others NaN."""
    corr = pd.DataFrame({"share": [0.6, 0.3, 0.1]}, index=["Balkan", "Northern", "Southern"])
    cmp = _cmp([("route_share", "northern_route", "share of northern-route opiates", 0.7,
                 0.8, 2009, "x"),
                ("route_share", "balkan_route", "share of Afghan opiates", 0.4, 0.5, 2009, "b"),
                ("exit_share", "northern_route", "share of Afghan opiates", 0.4, 0.5, 2009, "e"),
                ("route_share", "northern_route", "share of Afghan heroin", 0.237, 0.25, 2010,
                 "first"),
                ("route_share", "northern_route", "share of Afghan heroin", 0.1, 0.2, 2011,
                 "second")])
    got = corridors_vs_published(corr, cmp)
    assert got.columns.tolist() == ["modelled", "low", "high", "year", "unit", "source"]
    assert got["modelled"].tolist() == [0.6, 0.3, 0.1]
    assert got.loc["Northern"].tolist() == [0.3, 0.237, 0.25, 2010, "share of Afghan heroin",
                                            "first"]
    for c in ("Balkan", "Southern"):
        assert got.loc[c, ["low", "high", "year"]].isna().all()
        assert got.loc[c, ["unit", "source"]].tolist() == ["", ""]
    # no Northern corridor: nothing is set, and no Northern row appears
    got = corridors_vs_published(corr.drop(index="Northern"), cmp)
    assert got.index.tolist() == ["Balkan", "Southern"]
    assert got[["low", "high", "year"]].isna().all().all()


def test_observed_files_beside_the_data_folder(tmp_path: Path) -> None:
    """``observed_dir`` is ``observed/`` beside the data folder; ``read_observed`` returns
    ``None`` for an absent file and raises every problem of a bad one."""
    geo = tmp_path / "data" / "geo"
    geo.mkdir(parents=True)
    ds = SimpleNamespace(files={"places": str(geo / "places.csv")})
    folder = observed_dir(ds)
    assert folder == (tmp_path / "data" / "observed").resolve()
    folder.mkdir()
    assert read_observed(folder) == (None, None)
    (folder / "published_flows.csv").write_text("indicator,region_or_route\nflow_t,x\n")
    with pytest.raises(DataError):
        read_observed(folder)


def test_exits_are_read_by_level_name_not_position() -> None:
    """The exits' index is read by level name: ``(into, from_country)`` gives the same
    figures as ``(from_country, into)``."""
    pub = _published([c[0] for c in CASES[:4]])
    flipped = _exits().reorder_levels(["into", "from_country"])
    a = published_vs_modelled(pub, _graph(), _exits(), _journeys(), None, _cm())
    b = published_vs_modelled(pub, _graph(), flipped, _journeys(), None, _cm())
    pd.testing.assert_frame_equal(a, b)
    assert a["modelled"].iloc[0] == pytest.approx(3.0 / 4.75)
    cmp = _cmp([])
    pd.testing.assert_frame_equal(exits_vs_published(flipped, cmp),
                                  exits_vs_published(_exits(), cmp))
