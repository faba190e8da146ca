"""The planner's view of the report in Chromium: key findings first, a page that fits, a brief.

The shipped-data report (built once per session, :func:`test_report.shipped_report`) opened
at the window sizes a planner uses; every request is routed through the test (nothing may
leave the report folder). The key findings' figures are read back from the page and compared
with the CSV files they cite.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from browser_support import visit
from test_report import shipped_report

# The shared reports are built once per worker: these tests run where test_report's do.
pytestmark = pytest.mark.xdist_group("report")

WIDTHS = (1024, 1400, 1920)


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    return shipped_report(tmp_path_factory)


def _open(browser, path: Path, width: int = 1400, height: int = 900):
    return visit(browser, path, local=path.parent.as_uri() + "/",
                 viewport={"width": width, "height": height})


def test_first_screen_has_the_key_findings(browser, report: Path) -> None:
    posts = pd.read_csv(report / "priority_posts.csv")["name"].astype(str).tolist()
    with _open(browser, report / "index.html") as v:
        assert v.outside == [] and v.errors == []
        seen = v.page.evaluate("""() => {
          const h = document.querySelector('#findings h2');
          const onScreen = e => { const r = e.getBoundingClientRect();
                                  return r.bottom > 0 && r.top < innerHeight && r.height > 0; };
          const links = [...document.querySelectorAll('#findings a.figure')].filter(onScreen);
          return {heading: h.textContent, top: h.getBoundingClientRect().top,
                  bottom: h.getBoundingClientRect().bottom,
                  first: document.querySelector('#findings li').getBoundingClientRect().top,
                  texts: links.map(a => a.textContent), height: innerHeight,
                  page: document.documentElement.scrollHeight};
        }""")
    assert seen["heading"] == "Key findings"
    assert 0 <= seen["top"] and seen["bottom"] <= seen["height"]
    assert seen["first"] < seen["height"]
    assert any(t in posts for t in seen["texts"]), (posts, seen["texts"])
    assert any(re.fullmatch(r"\d+\.\d%", t) for t in seen["texts"]), seen["texts"]


def _csv_value(folder: Path, table: str, key_col: str, key: str, col: str) -> object:
    df = pd.read_csv(folder / f"{table}.csv", dtype=str, keep_default_na=False)
    sel = df
    for c, k in zip(key_col.split("|"), key.split("|"), strict=True):
        sel = sel[sel[c] == k] if c != "#row" else sel.iloc[[int(k)]]
    assert len(sel) == 1, (table, key_col, key)
    return sel[col].iloc[0]


def _check(fig: dict, folder: Path) -> None:
    value = _csv_value(folder, fig["table"], fig["keyCol"], fig["key"], fig["col"])
    text, fmt = fig["text"], fig["fmt"]
    if fig.get("minus"):
        other = _csv_value(folder, fig["table"], fig["keyCol"], fig["minus"], fig["col"])
        assert fmt == "pp"
        diff = 100.0 * (float(value) - float(other))
        shown = float(text.replace("\u2212", "-").replace(" pp", ""))
        assert shown == pytest.approx(round(diff, 1), abs=1e-9), fig
    elif fmt == "pct":
        assert text == f"{100.0 * float(value):.1f}%", fig
    elif fmt == "f3":
        assert text == f"{float(value):.3f}", fig
    elif fmt == "g":
        assert float(text.replace(",", "")) == pytest.approx(float(value), rel=1e-3), fig
    else:
        assert text == value, fig


def _figures(page) -> list[dict]:
    return page.evaluate("""() => [...document.querySelectorAll('#findings a.figure')].map(a => ({
        text: a.textContent, table: a.dataset.table, keyCol: a.dataset.keyCol,
        key: a.dataset.key, col: a.dataset.col, fmt: a.dataset.fmt,
        minus: a.dataset.minus || null, href: a.getAttribute('href')}))""")


def test_key_findings_figures_equal_their_tables(browser, report: Path) -> None:
    with _open(browser, report / "index.html") as v:
        figs = _figures(v.page)
        tables = {f["table"] for f in figs}
        # the findings a planner needs, each from its table
        assert {"priority_posts", "budget_curve", "rank_stability", "corridors",
                "timeline_corridors", "crossings", "observation_fit", "pareto"} <= tables
        for f in figs:
            _check(f, report)
            # each figure links to its table on the page, else to its CSV file
            href = f["href"]
            if href.startswith("#"):
                assert v.page.locator(href).count() == 1, href
                assert v.page.locator(f"{href} table").count() >= 1, href
            else:
                assert href == f"{f['table']}.csv" and (report / href).is_file()
        assert len(figs) >= 15


def test_key_findings_in_markdown_cite_the_same_tables(report: Path) -> None:
    md = (report / "report.md").read_text(encoding="utf-8")
    head = md[md.index("## Key findings"):md.index("## The network at a glance")]
    links = re.findall(r"\]\(([a-z_]+\.csv)\)", head)
    assert "budget_curve.csv" in links and "corridors.csv" in links
    assert all((report / name).is_file() for name in links)


@pytest.mark.parametrize("width", WIDTHS)
def test_page_fits_the_window(browser, report: Path, width: int) -> None:
    with _open(browser, report / "index.html", width=width, height=900) as v:
        got = v.page.evaluate("""() => {
          const page = document.documentElement.scrollHeight;
          const tables = [...document.querySelectorAll('table')]
            .filter(t => !t.closest('details:not([open])'))
            .map(t => [t.closest('[id]') ? t.closest('[id]').id : '',
                       t.getBoundingClientRect().height]);
          const nav = [...document.querySelectorAll('nav a')].map(
            a => a.getBoundingClientRect().right);
          return {sw: document.documentElement.scrollWidth, w: innerWidth, page, tables, nav};
        }""")
    assert got["sw"] <= got["w"]
    assert max(got["nav"]) <= got["w"]   # every link of the navigation on screen
    tallest = max(got["tables"], key=lambda t: t[1])
    assert tallest[1] <= got["page"] / 4, tallest


def test_events_show_the_largest_changes_and_fold_the_rest(browser, report: Path) -> None:
    events = pd.read_csv(report / "events.csv")
    with _open(browser, report / "index.html") as v:
        got = v.page.evaluate("""() => {
          const box = document.querySelector('#table-events');
          const shown = box.querySelectorAll(':scope > .table-wrap tbody tr').length;
          const det = box.querySelector('details.all-rows');
          return {shown, open: det ? det.open : null,
                  all: det ? det.querySelectorAll('tbody tr').length : 0};
        }""")
    assert len(events) > 15
    assert got == {"shown": 15, "open": False, "all": len(events)}


def test_brief_prints_on_two_a4_pages(browser, report: Path) -> None:
    prov = pd.read_json(report / "provenance.json", typ="series")
    net = prov["network"]
    with _open(browser, report / "brief.html") as v:
        v.page.wait_for_load_state("load")
        assert v.outside == [] and v.errors == []
        text = v.page.inner_text("body")
        imgs = v.page.eval_on_selector_all(
            "img", "els => els.map(e => [e.getAttribute('src'), e.complete, e.naturalWidth])")
        figs = _figures(v.page)
        pdf = v.page.pdf(format="A4", print_background=True, prefer_css_page_size=True)
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
    assert 1 <= pages <= 2, pages
    assert net["data_hash"] in text and net["as_of"] in text
    assert prov["cost_model"]["name"] in text
    assert "Key findings" in text
    assert len(imgs) == 2 and all(done and w > 0 for _, done, w in imgs), imgs
    for f in figs:
        _check(f, report)
        assert f["href"].startswith(("index.html#", f"{f['table']}.csv"))


@pytest.mark.xdist_group("hostile_report")   # its own report, built once on one worker
def test_hostile_names_are_text_in_the_findings_and_the_brief(browser, tmp_path_factory):
    """A crossing named with markup shows as text in the key findings, the brief and the
    Markdown; nothing it holds runs."""
    from test_report import XSS, hostile_report

    out = hostile_report(tmp_path_factory)
    for name in ("index.html", "brief.html"):
        raw = (out / name).read_text(encoding="utf-8")
        assert XSS not in raw
        with _open(browser, out / name) as v:
            assert v.dialogs == [] and v.errors == [] and v.outside == []
            assert v.page.evaluate("document.querySelectorAll('img[src=\"x\"]').length") == 0
            assert v.page.locator("#findings li").count() >= 3
    md = (out / "report.md").read_text(encoding="utf-8")
    assert XSS not in md
