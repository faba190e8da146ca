"""How the report shows its figures: charts, table formats, headings (issue 13, item 15)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from matplotlib.colors import to_hex

from routes.cli import main
from routes.report import _charts
from routes.report._compare import _SPECS as COMPARE_SPECS
from routes.report._render import render_html, render_markdown
from routes.report._tables import TABLE_SPECS, display_rows

HAND = Path(__file__).parent / "data" / "handworked"


def test_top_chokepoint_has_a_visible_red_bar():
    """A crossing that strands flow but raises no route cost (Le Perthus) still shows, red."""
    frame = pd.DataFrame({"stranded": [0.85, 0.0, 0.0], "rise": [0.0, 10.7, 3.4]},
                         index=["Le Perthus", "Baramcha", "Swiecko"])
    fig = _charts._paired_figure(frame, title="t", xlabels=("stranded", "rise"))
    left, right = fig.axes[:2]
    top = max(left.patches, key=lambda r: r.get_y())     # first row is drawn on top
    assert top.get_width() == pytest.approx(0.85) and to_hex(top.get_facecolor()) == "#b5432f"
    assert [round(r.get_width(), 1) for r in right.patches] == [0.0, 10.7, 3.4]


def test_report_chokepoint_chart_uses_both_panels():
    src = Path(_charts.__file__).with_name("_sections.py").read_text(encoding="utf-8")
    assert "paired_bar_chart(" in src and '"unserved_share"' in src


@pytest.mark.parametrize("draw", ["interval", "line", "grouped"])
def test_legends_never_cover_the_data(monkeypatch, tmp_path, draw):
    figs = []
    monkeypatch.setattr(_charts, "save_png", lambda fig, path: figs.append(fig) or path)
    frame = pd.DataFrame({"rank_p05": [1.0, 1.0, 2.0, 3.0], "median_rank": [1.0, 2.0, 3.0, 4.0],
                          "rank_p95": [2.0, 4.0, 6.0, 12.0], "baseline_rank": [1, 2, 3, 4]},
                         index=["a", "b", "c", "d"])
    if draw == "interval":
        _charts.interval_chart(frame, tmp_path / "x.png", title="t", xlabel="rank",
                               mid="median_rank", lo="rank_p05", hi="rank_p95",
                               base="baseline_rank")
    elif draw == "line":
        _charts.line_chart([0, 1, 2], [0.1, 0.2, 0.3], tmp_path / "x.png", title="t",
                           xlabel="b", ylabel="v", y2=[0.1, 0.15, 0.3], y2label="greedy")
    else:
        _charts.grouped_bar_chart(frame[["rank_p05", "rank_p95"]], tmp_path / "x.png",
                                  title="t", xlabel="x")
    fig = figs[0]
    fig.canvas.draw()
    r = fig.canvas.get_renderer()
    legends = fig.legends + [a.get_legend() for a in fig.axes if a.get_legend()]
    assert legends
    for leg in legends:
        box = leg.get_window_extent(r)
        for ax in fig.axes:
            assert not box.overlaps(ax.get_window_extent(r)), "legend over the data"


def test_no_mid_word_wraps_in_tables():
    """Cells break between words (ISO codes, metric names), never inside one."""
    css = (Path(_charts.__file__).parents[1] / "templates" / "report.html.j2").read_text()
    assert "overflow-wrap: anywhere" not in css and "word-break: break-all" not in css


def test_compare_tables_are_rounded():
    df = pd.DataFrame({"a": [96850.469708], "b": [95179.421734], "change": [-1671.047974]},
                      index=pd.Index(["routed_cost"], name="measure"))
    _, rows = display_rows(df, COMPARE_SPECS["summary"], None)
    assert rows == [["routed_cost", "96,850.5", "95,179.4", "-1,671.05"]]
    _, rows = display_rows(pd.DataFrame({"value": [320.12345678]}, index=pd.Index(
        ["total_supply"], name="measure")), TABLE_SPECS["summary"], None)
    assert rows == [["total_supply", "320.123"]]


def test_headings_never_repeat():
    sections = [{"id": "glance", "title": "The network at a glance", "intro": "",
                 "blocks": [{"kind": "table", "title": "The network at a glance", "about": "",
                             "labels": ["a"], "rows": [["1"]], "csv": "s.csv", "total": 1}]}]
    prov = {"scenario": {"name": "", "file": "", "sha256": ""},
            "cost_model": {"name": "", "file": "", "sha256": ""},
            "network": {"name": "", "data_hash": "", "crs": ""}, "options": {}, "inputs": [],
            "versions": {"routes": "0"}, "generated": "now", "command": None}
    html = render_html("t", [], sections, prov, [])
    assert html.count("The network at a glance") == 2      # the nav link and one heading
    md = render_markdown("t", [], sections, prov, [])
    assert md.count("The network at a glance") == 1


def test_chokepoints_column_named_by_weight(tmp_path, capsys):
    argv = ["chokepoints", "--data", str(HAND), "--cost-model", str(HAND / "cost_model.toml"),
            "--out", str(tmp_path), "--weight", "risk"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    cols = pd.read_csv(tmp_path / "baseline" / "chokepoints.csv").columns
    assert "risk_rise_pct" in cols and "cost_rise_pct" not in cols
    assert "risk_rise_pct" in out and "cost_rise_pct" not in out
