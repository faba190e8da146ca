"""The report: built from the shipped data, its tables equal the analyses, deterministic, escaped.

The shipped-data report is built once per session (:func:`shipped_report`, shared with the
browser tests) through the CLI, in-process, and made read-only; with pytest-xdist the tests
that share it run on one worker (``xdist_group("report")``, ``make test`` runs
``--dist loadgroup``), so it is built once.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import sys
import tomllib
from pathlib import Path

import geopandas as gpd
import networkx as nx
import pandas as pd
import pyogrio
import pytest

from routes.cli import main
from routes.crossings.centrality import country_table, crossing_table
from routes.crossings.chokepoints import chokepoint_table
from routes.network import network_to_gdfs
from routes.report import (
    FLOAT_FORMAT,
    ReportOptions,
    collect_results,
    csv_frame,
    parameter_table,
    read_toml_notes,
    write_report,
)
from routes.report._render import md_escape
from routes.report._tables import format_value
from routes.routing.flows import assign_flows
from routes.settings import DATA_DIR, DEFAULT_COST_MODEL, SCENARIO_DIR
from shared_support import read_only

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
import output_hashes as oh  # noqa: E402

pytestmark = pytest.mark.xdist_group("report")

XSS = "<img src=x onerror=alert(1)>"
SCRIPT = "<script>alert('x')</script>"
CORE_FILES = {
    "index.html", "report.md", "map.html", "whatif.html", "report.gpkg", "provenance.json",
    "summary.csv", "crossings.csv", "chokepoints.csv", "countries.csv", "country_flows.csv",
    "corridors.csv", "routes.csv", "parameters.csv", "inputs.csv", "scenario_changes.csv",
    "chart_crossings.png", "chart_chokepoints.png", "chart_countries.png",
    "chart_corridors.png", "brief.html", "chart_brief_map.png",
}
_CACHE: dict[str, Path] = {}


def build(out: Path, *extra: str, data: Path | None = None) -> Path:
    """Run ``routes report`` in-process; return the report folder."""
    args = ["report", "--out", str(out), "--no-progress", *extra]
    if data is not None:
        args += ["--data", str(data)]
    assert main(args) == 0
    return out / "baseline"


def shipped_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The report of the shipped data, built once per test session."""
    if "shipped" not in _CACHE:
        _CACHE["shipped"] = read_only(build(tmp_path_factory.mktemp("report")))
    return _CACHE["shipped"]


def hostile_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A report of a copy of the data whose texts hold HTML (a place, a crossing, the model)."""
    if "hostile" not in _CACHE:
        data = tmp_path_factory.mktemp("hostile_data")
        for f in DATA_DIR.iterdir():
            if f.is_file():
                shutil.copy(f, data / f.name)
        places = pd.read_csv(data / "places.csv", dtype=str, keep_default_na=False)
        origin = places.index[places["role"] == "origin"][0]
        places.loc[origin, "name"] = XSS
        places.to_csv(data / "places.csv", index=False)
        crossings = pd.read_csv(data / "crossings.csv", dtype=str, keep_default_na=False)
        top = crossings.index[crossings["id"] == "x_hairatan_termez"][0]
        crossings.loc[top, "name"] = XSS + " & " + SCRIPT
        crossings.to_csv(data / "crossings.csv", index=False)
        text = (data / "cost_model.toml").read_text(encoding="utf-8")
        text = text.replace("# Loading, transfers and rests per leg: assumption.",
                            f"# Loading {SCRIPT} | {XSS} per leg: assumption.")
        text = re.sub(r'^description = ".*"$', f'description = "{XSS}"', text, count=1,
                      flags=re.M)
        (data / "cost_model.toml").write_text(text, encoding="utf-8")
        _CACHE["hostile"] = read_only(build(tmp_path_factory.mktemp("hostile_report"),
                                            "--budget", "1", "--runs", "0", data=data))
    return _CACHE["hostile"]


COMPARE_B = SCENARIO_DIR / "afpak_border_reopened.toml"


def compare_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The comparison report of the baseline with :data:`COMPARE_B`, built once."""
    if "compare" not in _CACHE:
        out = tmp_path_factory.mktemp("compare")
        assert main(["report", "--compare", "baseline", str(COMPARE_B), "--out", str(out),
                     "--no-progress", "--budget", "2", "--runs", "0"]) == 0
        _CACHE["compare"] = read_only(out / f"compare_baseline_vs_{COMPARE_B.stem}")
    return _CACHE["compare"]


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return shipped_report(tmp_path_factory)


@pytest.fixture(scope="module")
def results(baseline_graph, cost_model, dataset):
    """The report's results in memory, without the stages its users here do not read (the
    Monte-Carlo runs, the timeline, the trade-off front; a budget curve to 1): the tables
    they check (crossings, corridors, routes) and the core files do not depend on them."""
    return collect_results(baseline_graph, cost_model, dataset=dataset,
                           options=ReportOptions(map=False, runs=0, budget=1.0, timeline=False,
                                                 tradeoff_budget=0.0))


@pytest.fixture(scope="module")
def baseline_graph(_baseline: nx.DiGraph) -> nx.DiGraph:
    return _baseline


def expected_csv(df: pd.DataFrame) -> str:
    """What ``routes report`` must write for the analysis result ``df``."""
    frame = csv_frame(df)
    return frame.to_csv(index=frame.index.name is not None, lineterminator="\n",
                        float_format=FLOAT_FORMAT)


# --------------------------------------------------------------------------- files
def test_report_builds_from_the_shipped_data(report: Path) -> None:
    names = {p.name for p in report.iterdir()}
    assert CORE_FILES <= names
    assert {"budget_curve.csv", "chart_budget.png", "priority_posts.csv"} <= names
    assert not [n for n in names if n.startswith(".")]  # no temporary files left behind
    html = (report / "index.html").read_text(encoding="utf-8")
    for section in ("glance", "crossings", "countries", "corridors", "priorities", "map",
                    "methods", "scenario", "provenance", "files"):
        assert f'id="{section}"' in html
    assert '<iframe class="map" src="map.html"' in html
    assert '<a href="whatif.html">whatif.html</a>' in html
    assert "(whatif.html)" in (report / "report.md").read_text(encoding="utf-8")
    brief = (report / "brief.html").read_text(encoding="utf-8")
    for png in (p for p in report.iterdir() if p.suffix == ".png"):
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        # every chart on a page: the report's, or the brief's map
        assert f'src="{png.name}"' in (brief if png.name == "chart_brief_map.png" else html)


def test_every_table_has_its_csv_linked(report: Path) -> None:
    html = (report / "index.html").read_text(encoding="utf-8")
    md = (report / "report.md").read_text(encoding="utf-8")
    for csv in report.glob("*.csv"):
        assert f'href="{csv.name}"' in html
        assert f"]({csv.name})" in md


# --------------------------------------------------------------------------- figures
def test_tables_equal_the_analysis_functions(report: Path, baseline_graph, cost_model) -> None:
    G = baseline_graph
    fa = assign_flows(G, cost_model)
    expected = {
        "crossings": crossing_table(G),
        "countries": country_table(G),
        "chokepoints": chokepoint_table(G, cost_model),
        "corridors": fa.corridors,
        "country_flows": fa.countries,
        "routes": fa.routes,
        "parameters": parameter_table(DEFAULT_COST_MODEL),
    }
    for name, df in expected.items():
        assert (report / f"{name}.csv").read_text(encoding="utf-8") == expected_csv(df), name


def test_priority_tables_equal_the_interdiction_functions(report: Path, baseline_graph,
                                                          cost_model) -> None:
    from routes.priorities import interdiction

    G = baseline_graph
    # The report's default objective is the flow-weighted one (the informative one here).
    curve = interdiction.budget_curve(G, 10.0, objective="flow", cm=cost_model)
    sol = interdiction.interdict(G, 10.0, objective="flow", cm=cost_model)
    assert len(curve) == 11 and bool(curve["optimal"].all())
    assert (report / "budget_curve.csv").read_text() == expected_csv(curve)
    assert (report / "priority_posts.csv").read_text() == expected_csv(
        interdiction.post_effectiveness(G, sol, cm=cost_model))
    from routes.comparison import compare

    table = compare.priority_table(G, cost_model, objective="flow", solution=sol)
    assert (report / "priorities.csv").read_text() == expected_csv(table)
    assert (report / "priority_correlations.csv").read_text() == expected_csv(
        compare.rank_correlations(table))


def test_rank_stability_equals_the_uncertainty_function(report: Path, baseline_graph,
                                                        cost_model) -> None:
    from routes.report import DEFAULT_SEED
    from routes.report._optional import TOP_K
    from routes.uncertainty import uncertainty as unc

    u = unc.rank_stability(baseline_graph, cost_model, runs=200, seed=DEFAULT_SEED,
                           top_k=TOP_K, weight="cost")
    assert (report / "rank_stability.csv").read_text() == expected_csv(u.crossings)
    assert (report / "mc_runs.csv").read_text() == expected_csv(u.runs)
    html = (report / "index.html").read_text(encoding="utf-8")
    assert 'id="stability"' in html and 'src="chart_stability.png"' in html


def test_csv_figures_read_back(report: Path, baseline_graph) -> None:
    got = pd.read_csv(report / "crossings.csv", index_col="id")
    want = crossing_table(baseline_graph)
    assert list(got.index) == list(want.index)
    for col in ("flow_betweenness", "share", "betweenness", "closeness"):
        assert got[col].to_numpy() == pytest.approx(want[col].to_numpy(), rel=1e-9, abs=1e-12)
    summary = pd.read_csv(report / "summary.csv", index_col="measure")["value"]
    kinds = [d["kind"] for _, d in baseline_graph.nodes(data=True)]
    assert summary["crossings"] == kinds.count("crossing")
    assert summary["places"] == kinds.count("place")
    assert summary["directed_edges"] == baseline_graph.number_of_edges()


def test_html_shows_the_figures(report: Path, baseline_graph) -> None:
    html = (report / "index.html").read_text(encoding="utf-8")
    top = crossing_table(baseline_graph).iloc[0]
    assert f"<td>{top.name}</td>" in html
    assert f'<td class="num">{top["share"]:.1%}</td>' in html


def test_results_hold_the_analysis_tables(results, baseline_graph, cost_model) -> None:
    pd.testing.assert_frame_equal(results.tables["crossings"], crossing_table(baseline_graph))
    pd.testing.assert_frame_equal(results.tables["corridors"],
                                  assign_flows(baseline_graph, cost_model).corridors)
    assert results.routes is not None and len(results.routes) == len(results.tables["routes"])


# --------------------------------------------------------------------------- determinism
def test_two_runs_give_byte_identical_tables_charts_and_geopackage(report: Path) -> None:
    """This run of the report equals another run byte for byte: the run recorded in
    ``tests/data/output_hashes.json`` by ``scripts/output_hashes.py`` (the same command, the
    same data and options, in another process, so with another hash seed and nothing cached
    from this one). Tables, charts and the GeoPackage byte for byte; the pages differ only in
    their one timestamp (and the output folder and package versions, which they do not hold:
    see below). Re-running the report here would only repeat that comparison within one
    process, at the price of a second report build (40 s of the suite).
    """
    want = json.loads(oh.SNAPSHOT.read_text(encoding="utf-8"))
    got = oh.folder_hashes(report, report.parent, "report")
    for f in sorted(report.iterdir()):
        if f.suffix in (".csv", ".png", ".gpkg"):
            assert got[f"report/{f.name}"] == want[f"report/{f.name}"], f.name
    stamp = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
    for name in ("index.html", "report.md"):
        a = (report / name).read_text(encoding="utf-8")
        assert len(stamp.findall(a)) == 1
        folder = str(report.parent)
        assert all(f not in a for f in (folder, html.escape(folder), md_escape(folder)))
        assert got[f"report/{name}"] == want[f"report/{name}"], name


# --------------------------------------------------------------------------- geopackage
def test_geopackage_layers_read_back(report: Path, baseline_graph, cost_model) -> None:
    path = report / "report.gpkg"
    layers = {name for name, _ in pyogrio.list_layers(path)}
    assert layers == {"nodes", "edges", "crossings", "routes"}
    nodes, edges = network_to_gdfs(baseline_graph)
    gn = gpd.read_file(path, layer="nodes")
    assert sorted(gn["id"]) == sorted(nodes.index)
    assert gn.crs.to_epsg() == 4326
    ge = gpd.read_file(path, layer="edges")
    assert len(ge) == baseline_graph.number_of_edges()
    assert set(zip(ge["u"], ge["v"])) == set(baseline_graph.edges)
    gc = gpd.read_file(path, layer="crossings").set_index("id")
    want = chokepoint_table(baseline_graph, cost_model)
    assert set(gc.index) == set(want.index)
    assert gc.loc[want.index, "flow_betweenness"].to_numpy() == pytest.approx(
        want["flow_betweenness"].to_numpy())
    assert gc.loc[want.index, "priority_rank"].tolist() == want["priority_rank"].tolist()
    x = want.index[0]
    pt = gc.geometry[x]
    assert (pt.x, pt.y) == pytest.approx((baseline_graph.nodes[x]["lon"],
                                          baseline_graph.nodes[x]["lat"]))
    gr = gpd.read_file(path, layer="routes")
    routes = assign_flows(baseline_graph, cost_model).routes
    assert len(gr) == len(routes)
    assert gr.geom_type.eq("LineString").all()
    assert gr["flow"].sum() == pytest.approx(routes["flow"].sum())


# --------------------------------------------------------------------------- methods
def test_methods_list_every_parameter_with_its_rationale(report: Path) -> None:
    raw = tomllib.loads(DEFAULT_COST_MODEL.read_text(encoding="utf-8"))

    def leaves(d: dict, prefix: str = "") -> set[str]:
        out = set()
        for k, v in d.items():
            key = f"{prefix}.{k}" if prefix else k
            out |= leaves(v, key) if isinstance(v, dict) else {key}
        return out

    params = pd.read_csv(report / "parameters.csv", keep_default_na=False)
    assert set(params["parameter"]) == leaves(raw)
    row = params.set_index("parameter").loc["modes.road.detour_factor"]
    assert row["value"] == "1.35" and "Ballou" in row["rationale"]
    assert row["rationale_from"] == "key"
    html = (report / "index.html").read_text(encoding="utf-8")
    assert "modes.road.detour_factor" in html and "Ballou, Rahardja &amp; Sakai 2002" in html
    assert "length_km = geodesic(u, v) * modes.m.detour_factor" in html  # the preamble


def test_toml_notes_attach_to_keys_tables_and_sections() -> None:
    text = """# Model notes.
#   formula = a * b

name = "m"

# -----------
# Travel. Speeds and delays.
# -----------
[modes.road]
# Roads wind (Ballou 2002).
# Second line.
detour = 1.3

# detached comment

speed = 45.0
ranges = [
  1.0,  # inner comment
  2.0,
]
# Before the table.
[flow]
k = 5
"""
    notes = read_toml_notes(text)
    assert notes.preamble == "Model notes.\n  formula = a * b"
    assert notes.keys[("modes.road", "detour")] == "Roads wind (Ballou 2002). Second line."
    assert ("modes.road", "speed") not in notes.keys
    assert notes.sections["modes.road"] == "Travel"
    assert notes.section_notes["Travel"] == "Speeds and delays."
    assert notes.tables["flow"] == "Before the table."
    assert ("modes.road", "1.0") not in notes.keys


def test_format_value_and_md_escape() -> None:
    assert format_value(-1e-17, "+.1%") == "+0.0%"
    assert format_value(float("nan"), ".2f") == ""
    assert format_value("text", ".2f") == "text"
    assert md_escape("[a](javascript:x)") == "\\[a\\](javascript:x)"


# --------------------------------------------------------------------------- escaping
@pytest.mark.xdist_group("hostile_report")   # its own report, built once on one worker
def test_data_text_is_escaped(tmp_path_factory: pytest.TempPathFactory) -> None:
    out = hostile_report(tmp_path_factory)
    html = (out / "index.html").read_text(encoding="utf-8")
    assert XSS not in html and "<script>alert" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html  # the model's comment
    md = (out / "report.md").read_text(encoding="utf-8")
    assert XSS not in md and "<script>" not in md
    assert "&lt;img src=x onerror=alert(1)&gt;" in md
    assert (out / "crossings.csv").read_text(encoding="utf-8").count(XSS) == 1  # data kept
    assert XSS not in (out / "map.html").read_text(encoding="utf-8")
    assert XSS not in (out / "whatif.html").read_text(encoding="utf-8")


# --------------------------------------------------------------------------- CLI
def test_cli_progress_goes_to_stderr(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    # the hand-worked network: one origin, one crossing, one market
    data = Path(__file__).parent / "data" / "handworked"
    assert main(["report", "--data", str(data), "--out", str(tmp_path), "--no-map",
                 "--budget", "1"]) == 0
    cap = capsys.readouterr()
    # The stage running is named (before it runs); plain lines outside a terminal.
    last = re.search(r"report \[(\d+)/(\d+)\]: pages \.\.\.\n", cap.err)
    assert last and last.group(1) == last.group(2) and "\r" not in cap.err
    assert "report baseline:" in cap.out and "index.html" in cap.out
    html = (tmp_path / "baseline" / "index.html").read_text(encoding="utf-8")
    assert 'id="map"' not in html and not (tmp_path / "baseline" / "map.html").exists()
    assert not (tmp_path / "baseline" / "whatif.html").exists()


@pytest.mark.xdist_group("compare_report")   # its own report, built once on one worker
def test_compare_report(tmp_path_factory: pytest.TempPathFactory, cost_model, dataset) -> None:
    out = compare_report(tmp_path_factory)
    b = COMPARE_B
    names = {p.name for p in out.iterdir()}
    assert {"index.html", "report.md", "map.html", "corridors.csv", "crossings.csv",
            "countries.csv", "summary.csv", "chart_corridors.png",
            "provenance.json"} <= names
    from routes.network import network_from_data
    from routes.scenario import load_scenario

    sb = load_scenario(b)
    GA = network_from_data(dataset, cost_model)
    GB = network_from_data(dataset, cost_model, sb)
    corr = pd.read_csv(out / "corridors.csv", index_col="corridor")
    assert corr["share_a"].to_numpy() == pytest.approx(
        assign_flows(GA, cost_model).corridors["share"].to_numpy())
    assert corr["share_b"].to_numpy() == pytest.approx(
        assign_flows(GB, cost_model).corridors["share"].to_numpy())
    html = (out / "index.html").read_text(encoding="utf-8")
    assert "afpak-border-reopened" in html and sb.source_hash in html
    summary = pd.read_csv(out / "summary.csv", index_col="measure")
    assert summary.loc["crossings_closed", "change"] == -5


def test_bad_scenario_is_one_clean_error(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[scenario]\nname = 'x'\n[crossings.x_nope]\nstatus = 'open'\n")
    assert main(["report", "--scenario", str(bad), "--out", str(tmp_path),
                 "--no-progress"]) == 2
    assert "routes report: error:" in capsys.readouterr().err


def test_write_report_into_a_new_folder(results, tmp_path: Path) -> None:
    files = write_report(results, tmp_path / "a" / "b")
    assert all(f.parent == tmp_path / "a" / "b" for f in files)
    assert {f.name for f in files} >= CORE_FILES - {"map.html", "whatif.html"}


def test_readme_headline_figures_are_the_demo_reports(report):
    """The README's headline block is what scripts/readme_figures.py writes from the report of
    the shipped data with the default options (the run `make demo` makes): no typed figures."""
    import importlib.util

    root = Path(__file__).resolve().parents[1]
    spec = importlib.util.spec_from_file_location("readme_figures",
                                                  root / "scripts" / "readme_figures.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    readme = (root / "README.md").read_text(encoding="utf-8")
    assert mod.readme_block(readme) == mod.figures(report)
