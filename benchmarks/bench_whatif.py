"""The what-if page: its size, and the time of one update per click in headless chromium.

The page of the shipped baseline is written once; then each of the 20 crossings with the most
flow is closed and reopened, and upgraded and restored where it can be (80 clicks). For each
click the page's own timer gives the update (routes, flows, detected share, panel, map
styles: the JavaScript run) and the time until the map has been repainted (the next animation
frame). Beside them, what the same answer costs through Python for one click: building the
network of the changed scenario and running the logit assignment and the flow objective.

Run with ``make bench`` or ``python -m benchmarks whatif``.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from routes.costs import load_cost_model
from routes.geodata import load_dataset
from routes.maps import whatif_data, whatif_html
from routes.network import network_from_data
from routes.priorities.interdiction import interdict
from routes.routing.flows import assign_flows
from routes.scenario import BASELINE
from routes.settings import DATA_DIR, DEFAULT_COST_MODEL

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
N_CROSSINGS = 20

CLICK_JS = """([id, state]) => new Promise(done => {
  whatif.set(id, state);
  requestAnimationFrame(() => requestAnimationFrame(() => {
    const s = whatif.summary(); done([s.ms, s.frameMs]); }));
})"""


def _renderer_cpu_s() -> float | None:
    """CPU seconds used so far by chromium's renderer processes (Linux /proc; else None).

    Wall times on a busy machine measure the machine; the renderer's CPU time per click is
    what the page costs.
    """
    total, found = 0.0, False
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    for pid in (p for p in os.listdir("/proc") if p.isdigit()) if Path("/proc").exists() else ():
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
            if b"--type=renderer" not in cmd:
                continue
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick
        found = True
    return total if found else None


def _stats(label: str, ms: list[float]) -> str:
    q = statistics.quantiles(ms, n=10)
    return (f"   {label:<34} median {statistics.median(ms):7.1f} ms   p90 {q[-1]:7.1f} ms   "
            f"max {max(ms):7.1f} ms")


def main() -> None:
    cm = load_cost_model(DEFAULT_COST_MODEL)
    ds = load_dataset(DATA_DIR, classes=set(cm.classes))
    t0 = time.perf_counter()
    data = whatif_data(ds, cm)
    page = whatif_html(data)
    build_s = time.perf_counter() - t0
    G = network_from_data(ds, cm)
    flows = assign_flows(G, cm).crossings
    top = [x for x in flows.index if G.nodes[x]["status"] != "closed"][:N_CROSSINGS]
    upgradable = {n["id"] for n in data["nodes"] if n.get("upgradable")}
    print(f"   page of the shipped baseline: {len(page.encode()) / 1e6:.2f} MB, built in "
          f"{build_s:.1f} s; {G.number_of_nodes()} nodes, {len(top)} crossings clicked")
    if not Path(CHROMIUM).exists():
        print(f"   (no chromium at {CHROMIUM}: page timings skipped; `make browser`)")
        return
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        path = Path(tmp) / "whatif.html"
        path.write_text(page, encoding="utf-8")
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        tab = browser.new_page(viewport={"width": 1400, "height": 900})
        t0 = time.perf_counter()
        tab.goto(path.as_uri())
        tab.wait_for_function("window.whatif !== undefined")
        load_s = time.perf_counter() - t0
        run, frame = [], []
        cpu0 = _renderer_cpu_s()
        for x in top:
            states = ["closed", "open"] + (["upgraded", "open"] if x in upgradable else [])
            for s in states:
                ms, fm = tab.evaluate(CLICK_JS, [x, s])
                run.append(ms)
                frame.append(fm if fm is not None else ms)
        cpu1 = _renderer_cpu_s()
        browser.close()
    print(f"   page load until the first result: {load_s:.2f} s")
    print(_stats(f"update per click ({len(run)} clicks)", run))
    print(_stats("update until repainted", frame))
    if cpu0 is not None and cpu1 is not None:
        print(f"   renderer CPU time per click (update and repaint): "
              f"{1000 * (cpu1 - cpu0) / len(run):.1f} ms; load average "
              f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    t0 = time.perf_counter()
    Gc = network_from_data(ds, cm, replace(BASELINE, crossings={top[0]: {"status": "closed"}}))
    assign_flows(Gc, cm)
    interdict(Gc, 0.0, objective="flow", cm=cm)
    print(f"   the same answer through Python (build, logit assignment, flow objective): "
          f"{time.perf_counter() - t0:.2f} s")
