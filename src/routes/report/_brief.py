"""The planner's brief (``brief.html``): the key findings, one map and one chart, two A4 pages.

The brief repeats the report's key findings (:mod:`routes.report._findings`, each figure
linked to its table in ``index.html``), draws one static map (``chart_brief_map.png``: the
corridors as wide as their flow, the posts to strengthen, origins and markets, in the
colours of every routes page) and shows one chart (the budget curve, else the corridor
shares), with the data hash, the date the network describes and the cost model. Its print
stylesheet lays it out on at most two A4 pages.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
from matplotlib.collections import LineCollection

from ..maps._palette import PALETTE
from ._charts import _figure, label, save_png
from ._model import ReportResults

__all__ = ["brief_map", "brief_context", "BRIEF_FILE", "BRIEF_MAP"]

BRIEF_FILE = "brief.html"
BRIEF_MAP = "chart_brief_map.png"


def _pairs(res: ReportResults) -> dict[tuple[str, str], float]:
    """Flow per undirected edge (both directions summed) of the logit assignment."""
    out: dict[tuple[str, str], float] = {}
    if res.flows is None:
        return out
    e = res.flows.edges
    for u, v, f in zip(e["u"], e["v"], e["flow"]):
        k = (u, v) if str(u) < str(v) else (v, u)
        out[k] = out.get(k, 0.0) + float(f)
    return out


def brief_map(res: ReportResults, path: Path) -> Path | None:
    """Draw the brief's map into ``path``; ``None`` when the network has no coordinates."""
    G: nx.DiGraph = res.G
    pos = {n: (float(d["lon"]), float(d["lat"])) for n, d in G.nodes(data=True)
           if "lon" in d and "lat" in d}
    if not pos:
        return None
    fig, ax = _figure(7.6, 4.3)
    lons = np.array([p[0] for p in pos.values()])
    lats = np.array([p[1] for p in pos.values()])
    x0, x1, y0, y1 = lons.min() - 1, lons.max() + 1, lats.min() - 1, lats.max() + 1
    base = PALETTE["basemap"]
    ax.set_facecolor(base["sea"])
    if res.dataset is not None and res.dataset.countries is not None:
        res.dataset.countries.plot(ax=ax, color=base["land"], edgecolor=base["outline"],
                                   linewidth=0.4)
    flows = _pairs(res)
    fmax = max(flows.values(), default=0.0) or 1.0
    segs, widths = [], []
    for (u, v), f in sorted(flows.items()):
        if f > 0 and u in pos and v in pos:
            segs.append([pos[u], pos[v]])
            widths.append(0.4 + 5.0 * np.sqrt(f / fmax))
    ax.add_collection(LineCollection(segs, linewidths=widths, colors=PALETTE["flow"],
                                     alpha=0.7, capstyle="round", label="flow (width)"))
    for role, size in (("origin", 36), ("market", 22)):
        pts = [pos[n] for n, d in G.nodes(data=True)
               if d.get("kind") == "place" and d.get("role") == role and n in pos]
        if pts:
            ax.scatter([p[0] for p in pts], [p[1] for p in pts], s=size,
                       color=PALETTE["roles"][role], edgecolor="white", linewidth=0.6,
                       zorder=3, label=f"{role}s")
    sol = res.extra.get("interdiction")
    posts = [p for p in (getattr(sol, "posts", ()) or ()) if p in pos]
    top = PALETTE["priority"][0][1]
    if posts:
        ax.scatter([pos[p][0] for p in posts], [pos[p][1] for p in posts], s=60, marker="D",
                   color=top, edgecolor="black", linewidth=0.6, zorder=4,
                   label="posts to strengthen")
        placed: list[tuple[float, float]] = []
        for p in sorted(posts, key=lambda q: (pos[q][1], pos[q][0])):
            # a label near an earlier one goes one line up, so that neighbours stay readable
            near = sum(1 for x, y in placed if abs(x - pos[p][0]) < 6 and abs(y - pos[p][1]) < 2)
            placed.append(pos[p])
            ax.annotate(label(G.nodes[p].get("name", p), 26), pos[p], fontsize=6.5,
                        xytext=(5, 3 + 8 * near), textcoords="offset points", zorder=5)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect(1.0 / np.cos(np.radians((y0 + y1) / 2)))
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("")
    ax.set_ylabel("")
    ax.legend(loc="lower left", fontsize=7, frameon=True, framealpha=0.9)
    ax.set_title("Routed flow (logit split over the k best routes) and the posts to "
                 "strengthen", loc="left", fontsize=9.5)
    return save_png(fig, path)


def brief_context(res: ReportResults, findings: list[dict[str, Any]], prov: dict[str, Any],
                  *, map_file: str | None, chart: tuple[str, str] | None) -> dict[str, Any]:
    """Return what ``brief.html.j2`` shows; figures link to their table in ``index.html``."""
    items = []
    for f in findings:
        parts = []
        for p in f["parts"]:
            if isinstance(p, dict):
                href = p["href"]
                p = {**p, "href": f"index.html{href}" if href.startswith("#") else href}
            parts.append(p)
        items.append({**f, "parts": parts})
    net = prov["network"]
    return {"title": f"routes brief: {res.scenario.label}", "findings": items,
            "scenario": res.scenario.label, "as_of": net.get("as_of") or "",
            "data_hash": net.get("data_hash") or "", "cost_model": prov["cost_model"]["name"],
            "cost_model_sha": prov["cost_model"]["sha256"], "generated": prov["generated"],
            "version": prov["versions"].get("routes", ""), "map": map_file, "chart": chart,
            "budget": f"{res.options.budget:g}", "objective": res.options.objective}
