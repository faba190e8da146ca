"""The timeline: dates, measures equal to the single-date analyses, events, CLI, map data."""

from __future__ import annotations

import dataclasses
from datetime import date

import pandas as pd
import pytest

from routes import timeline
from routes._errors import RoutesError
from routes.changes.timeline import (
    EVENT_COLUMNS,
    TIMELINE_COLUMNS,
    sample_dates,
    timeline_events,
    timeline_frame,
    timeline_snapshots,
)
from routes.cli import main
from routes.crossings.centrality import country_table, crossing_table
from routes.geodata import coverage, dataset_as_of
from routes.maps import map_html, timeline_data, timeline_map
from routes.maps._assets import external_references
from routes.network import network_from_data
from routes.priorities.interdiction import budget_curve
from routes.routing.flows import assign_flows
from routes.routing.paths import CORRIDORS
from test_maps import SCRIPT_END, XSS

D19 = "2019-06-30"
D23 = "2023-06-30"


@pytest.fixture(scope="module")
def last(dataset) -> str:
    return coverage(dataset)[1].isoformat()


@pytest.fixture(scope="module")
def snaps(dataset, cost_model, last):
    return timeline_snapshots(dataset, cost_model, dates=[D19, D23, last])


@pytest.fixture(scope="module")
def frame(snaps) -> pd.DataFrame:
    return timeline_frame(snaps)


def values(frame: pd.DataFrame, when: str, measure: str) -> pd.Series:
    f = frame[(frame["date"] == when) & (frame["measure"] == measure)]
    return f.set_index("key")["value"]


# --------------------------------------------------------------------------- dates
F, L = date(2018, 1, 1), date(2025, 12, 1)


def iso(ds: list[date]) -> list[str]:
    return [d.isoformat() for d in ds]


def test_year_steps_are_mid_year_then_the_last_covered_date():
    assert iso(sample_dates(F, L)) == [f"{y}-06-30" for y in range(2018, 2026)] + ["2025-12-01"]


def test_year_bounds_and_dates():
    assert iso(sample_dates(F, L, start=2023, end=2024)) == ["2023-06-30", "2024-06-30",
                                                            "2024-12-31"]
    assert iso(sample_dates(F, L, start="2024-07-01", end=2025)) == ["2025-06-30", "2025-12-01"]
    assert iso(sample_dates(F, L, start="2020-02-01", end="2020-03-15")) == ["2020-03-15"]


def test_quarter_steps():
    assert iso(sample_dates(F, L, start=2025, step="quarter")) == [
        "2025-03-31", "2025-06-30", "2025-09-30", "2025-12-01"]


@pytest.mark.parametrize(("kw", "match"), [
    ({"start": 2010}, r"outside the range the data covers \(2018-01-01 to 2025-12-01\)"),
    ({"end": "2026-01-05"}, "outside the range"),
    ({"start": 2024, "end": 2023}, "empty"),
    ({"step": "month"}, "unknown step"),
    ({"start": "next year"}, "not a year"),
])
def test_bad_ranges_are_clear_errors(kw, match):
    with pytest.raises(RoutesError, match=match):
        sample_dates(F, L, **kw)


def test_explicit_date_outside_the_data_fails_before_building(dataset, cost_model):
    with pytest.raises(RoutesError, match="outside the range the data covers"):
        timeline(dataset, cost_model, dates=["2019-06-30", "2031-01-01"])


# --------------------------------------------------------------------------- single date
def test_frame_is_tidy(frame, snaps):
    assert tuple(frame.columns) == TIMELINE_COLUMNS
    assert list(frame["date"].unique()) == [s.date.isoformat() for s in snaps]
    assert not frame.duplicated(["date", "measure", "key"]).any()
    for s in snaps:
        shares = values(frame, s.date.isoformat(), "corridor_share")
        assert list(shares.index) == list(CORRIDORS)
        assert shares.sum() == pytest.approx(1.0)


@pytest.mark.parametrize("when", [D19, D23])
def test_one_date_equals_the_single_date_functions(dataset, cost_model, frame, when):
    G = network_from_data(dataset_as_of(dataset, when), cost_model)
    fa = assign_flows(G, cost_model)
    assert values(frame, when, "corridor_share").to_dict() == fa.corridors["share"].to_dict()
    assert values(frame, when, "corridor_flow").to_dict() == fa.corridors["flow"].to_dict()
    assert values(frame, when, "routed_flow")[""] == fa.total_flow
    ct = crossing_table(G)
    assert values(frame, when, "crossing_flow_betweenness").to_dict() == \
        ct["flow_betweenness"].to_dict()
    assert values(frame, when, "crossing_rank").to_dict() == ct["rank"].astype(float).to_dict()
    co = country_table(G)
    assert values(frame, when, "transit_share").to_dict() == co["transit_share"].to_dict()
    curve = budget_curve(G, [0.0], objective="flow", cm=cost_model)
    assert values(frame, when, "detected_share")[""] == curve["value"].iloc[0]


def test_one_date_equals_the_commands(frame, last, tmp_path):
    """`routes paths --as-of` and `routes centrality --as-of` write the same numbers.

    The CLI writes 10 significant digits (routes.io.write_csv), hence rel=1e-9.
    """
    assert main(["paths", "--as-of", last, "--out", str(tmp_path)]) == 0
    assert main(["centrality", "--as-of", last, "--out", str(tmp_path)]) == 0
    corr = pd.read_csv(tmp_path / "baseline" / "corridors.csv", index_col="corridor")
    assert values(frame, last, "corridor_share").to_dict() == pytest.approx(
        corr["share"].to_dict(), rel=1e-9)
    cross = pd.read_csv(tmp_path / "baseline" / "centrality_crossings.csv", index_col="id")
    assert values(frame, last, "crossing_flow_betweenness").to_dict() == pytest.approx(
        cross["flow_betweenness"].to_dict(), rel=1e-9)
    ctry = pd.read_csv(tmp_path / "baseline" / "centrality_countries.csv", index_col="country")
    assert values(frame, last, "transit_share").to_dict() == pytest.approx(
        ctry["transit_share"].to_dict(), rel=1e-9)


def test_statuses_follow_the_history(frame, snaps, last):
    by_date = {s.date.isoformat(): s for s in snaps}
    assert by_date[D19].G.nodes["x_torkham_torkham"]["status"] == "open"
    assert by_date[last].G.nodes["x_torkham_torkham"]["status"] == "closed"
    assert values(frame, last, "crossing_flow_betweenness")["x_torkham_torkham"] == 0.0
    assert values(frame, D19, "crossing_flow_betweenness")["x_torkham_torkham"] > 0.0


def test_same_inputs_share_one_build(dataset, cost_model):
    """Two dates with the same statuses and figures are analysed once, each keeping its date."""
    a, b = timeline_snapshots(dataset, cost_model, dates=["2019-03-01", "2019-06-30"])
    assert (a.date, b.date) == (date(2019, 3, 1), date(2019, 6, 30))
    assert a.flows is b.flows


# --------------------------------------------------------------------------- events
def test_events_name_the_kyzyl_art_reopening_with_its_source(dataset, last):
    ev = timeline_events(dataset, ["2025-06-30", last])
    assert tuple(ev.columns) == EVENT_COLUMNS
    row = ev[ev["key"] == "x_kyzyl_art_kyzyl_art"].iloc[0]
    assert (row["kind"], row["from"], row["to"], row["effective"]) == (
        "status", "closed", "open", "2025-07-08")
    assert row["date"] == last and row["since"] == "2025-06-30"
    assert "24.kg" in row["source"] and "2025-07-08" in row["source"]
    torkham = ev[ev["key"] == "x_torkham_torkham"]
    assert torkham[["from", "to", "effective"]].values.tolist() == [
        ["open", "closed", "2025-10-12"]]


def _history(rows: list[tuple]) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=["crossing_id", "status", "valid_from", "valid_to", "note",
                                     "source"])
    df["valid_from"] = pd.to_datetime(df["valid_from"])
    df["valid_to"] = pd.to_datetime(df["valid_to"])
    return df


def test_events_between_hand_made_dates(dataset):
    """Every change inside an interval is listed (a closure and its reopening both)."""
    cid = str(dataset.crossings["id"].iloc[0])
    h = _history([(cid, "open", "2018-01-01", "2020-03-01", "", "A"),
                  (cid, "closed", "2020-03-02", "2020-04-30", "shut", "B"),
                  (cid, "open", "2020-05-01", "2020-12-31", "", "C"),
                  (cid, "open", "2021-01-01", "2021-01-31", "same status, new note", "D"),
                  (cid, "restricted", "2021-02-01", None, "freight only", "E")])
    supply = pd.DataFrame({"origin_id": ["o1", "o1", "o2"], "year": [2020.0, 2021.0, 2020.0],
                           "opium_t": [100.0, 60.0, 7.0], "source": ["S20", "S21", "S20"]})
    ds = dataclasses.replace(dataset, status_history=h, supply=supply, demand=None)
    ev = timeline_events(ds, ["2020-01-01", "2020-06-30", "2020-09-30", "2021-06-30"])
    got = ev[["date", "kind", "key", "from", "to", "effective", "source"]].values.tolist()
    assert got == [
        ["2020-06-30", "status", cid, "open", "closed", "2020-03-02", "B"],
        ["2020-06-30", "status", cid, "closed", "open", "2020-05-01", "C"],
        ["2021-06-30", "status", cid, "open", "restricted", "2021-02-01", "E"],
        ["2021-06-30", "supply", "o1", 100.0, 60.0, "2021", "S21"],
        ["2021-06-30", "supply", "o2", 7.0, 0.0, "2021", "S20"],
    ]
    assert ev["change"].iloc[3] == -40.0


# --------------------------------------------------------------------------- CLI
def test_cli_range_outside_the_data_is_exit_2_and_writes_nothing(tmp_path, capsys):
    assert main(["timeline", "--from", "2010", "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "routes timeline: error:" in err and "outside the range the data covers" in err
    assert not (tmp_path / "out").exists()


def test_cli_writes_the_files(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["timeline", "--from", "2024", "--offline", "--no-progress",
                 "--out", str(out)]) == 0
    files = sorted(p.name for p in (out / "baseline").iterdir())
    assert files == ["chart_timeline_corridors.png", "chart_timeline_crossings.png",
                     "events.csv", "timeline.csv", "timeline.html"]
    tl = pd.read_csv(out / "baseline" / "timeline.csv", keep_default_na=False)
    assert tl["date"].iloc[0] == "2024-06-30"
    assert "Corridor shares" in capsys.readouterr().out
    page = (out / "baseline" / "timeline.html").read_text(encoding="utf-8")
    assert external_references(page) == []


# --------------------------------------------------------------------------- map data
def test_map_data_writes_geometry_once_and_values_per_date(snaps):
    data = timeline_data(snaps)
    n_seg, n_x = len(data["segments"]), len(data["crossings"])
    assert len(data["values"]) == len(snaps) == len(data["dates"])
    for v in data["values"]:
        assert (len(v["f"]), len(v["x"]), len(v["s"]), len(v["c"])) == (n_seg, n_x, n_x,
                                                                        len(CORRIDORS))
    k = [c["id"] for c in data["crossings"]].index("x_torkham_torkham")
    assert [v["s"][k] for v in data["values"]] == [0, 0, 2]


def test_map_escapes_names_and_is_self_contained(snaps, dataset):
    s = snaps[-1]
    G = s.G.copy()
    G.nodes["x_torkham_torkham"]["name"] = XSS + SCRIPT_END
    hostile = [dataclasses.replace(s, G=G)]
    page = map_html(timeline_map(hostile, countries=dataset.countries, offline=True,
                                 title=XSS))
    assert XSS not in page and SCRIPT_END not in page
    assert external_references(page) == []
    # the offline basemap names the countries and the capitals, as on every offline map
    assert "routes.labels(" in page and "routes.capitals(" in page and '"Kabul"' in page


def test_timeline_is_exported():
    import routes
    import routes.analysis
    from routes.changes import timeline as fn
    from routes.changes import timeline_events

    assert routes.analysis.timeline is fn and fn.__module__ == "routes.changes.timeline"
    assert routes.timeline is fn
    assert routes.timeline_events is timeline_events


# --------------------------------------------------------------------------- report
def test_report_section_reuses_the_report_network(dataset, cost_model, frame, last, tmp_path):
    from routes.report import ReportOptions, ReportResults
    from routes.report._optional import _timeline

    G = network_from_data(dataset, cost_model)
    assert G.graph["as_of"] == last
    res = ReportResults(G=G, cm=cost_model, scenario=__import__("routes").BASELINE,
                        options=ReportOptions(runs=0), dataset=dataset)
    res.flows = assign_flows(G, cost_model)
    res.tables["crossings"] = crossing_table(G)
    res.tables["countries"] = country_table(G)
    a = _timeline(res.options)
    assert a is not None
    a.stage(res)
    snaps = res.extra["timeline"]
    assert snaps[-1].G is G and snaps[-1].flows is res.flows  # the last date is not rebuilt
    assert [s.date.isoformat() for s in snaps] == [f"{y}-06-30" for y in range(2018, 2026)] \
        + [last]
    tl = res.tables["timeline"]
    for when in (D19, D23, last):
        assert values(tl, when, "corridor_share").to_dict() == \
            values(frame, when, "corridor_share").to_dict()
    files = sorted(p.name for p in a.charts(res, tmp_path))
    assert files == ["chart_timeline_corridors.png", "chart_timeline_crossings.png",
                     "timeline.html"]
    sec = a.section(res)
    assert sec["title"] == "How the routes changed"
    kinds = [b["kind"] for b in sec["blocks"]]
    assert kinds == ["text", "chart", "table", "chart", "map", "table"]
    events = sec["blocks"][-1]
    assert events["csv"] == "events.csv" and events["total"] == len(res.tables["events"])
    assert any("Kyzyl-Art" in " ".join(r) for r in events["rows"])


# --------------------------------------------------------------------------- seizures
def test_observed_and_modelled_seizures_by_country(snaps, cost_model, monkeypatch):
    """Observed rows for each date's year (none when nothing was reported); modelled rows from
    the observation model on the same logit routes, when routes has one."""
    import sys
    import types

    observed = pd.DataFrame({"iso3": ["TJK", "IRN", "TJK"], "year": [2019, 2019, 2023],
                             "heroin_eq_kg": [1200.5, float("nan"), 310.0]})
    df = timeline_frame(snaps, observed)
    obs = df[df["measure"] == "seizures_observed_kg"]
    assert obs[["date", "key", "value"]].values.tolist() == [[D19, "TJK", 1200.5],
                                                             [D23, "TJK", 310.0]]
    fake = types.ModuleType("routes.calibration.observe")
    seen = []

    def modelled_seizures(G, cm, *, routes):
        seen.append(len(routes))
        return pd.DataFrame({"modelled_kg": [2.5, 7.0]},
                            index=pd.Index(["IRN", "TJK"], name="iso3"))

    fake.modelled_seizures = modelled_seizures
    monkeypatch.setitem(sys.modules, "routes.calibration.observe", fake)
    from routes.changes.timeline import _modelled_seizures

    s = snaps[0]
    got = _modelled_seizures(s.G, cost_model, s.flows)
    assert seen == [len(s.flows.routes)]
    rows = timeline_frame([dataclasses.replace(s, seizures=got)])
    rows = rows[rows["measure"] == "seizures_modelled_kg"]
    assert rows[["key", "value"]].values.tolist() == [["IRN", 2.5], ["TJK", 7.0]]
