"""Test helpers shared by several test files: proof that no test changed a shared output, and
the posts and roads of the small hand-built networks."""

from __future__ import annotations

import hashlib
import stat
from pathlib import Path

import networkx as nx


def digest(G: nx.DiGraph) -> str:
    """A hash of the graph's nodes, edges and every attribute (to tell that none changed)."""
    h = hashlib.sha256(repr(sorted(G.graph.items(), key=str)).encode())
    for n, d in G.nodes(data=True):
        h.update(repr((n, sorted(d.items(), key=str))).encode())
    for u, v, d in G.edges(data=True):
        h.update(repr((u, v, sorted(d.items(), key=str))).encode())
    return h.hexdigest()


def read_only(folder: Path) -> Path:
    """Make every file and folder under ``folder`` read-only (a shared output); return it."""
    for p in sorted(folder.rglob("*"), reverse=True):
        p.chmod(p.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    folder.chmod(folder.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    return folder


def add_posts_and_roads(G: nx.DiGraph, cm, posts, roads, *, corridor_ids: bool = False) -> None:
    """Add border posts ``(id, country_a, country_b, class, status)`` with the cost model's
    detection, delay and risk, then road edges ``(u, v, km)`` weighted by the cost model (a
    post's crossing terms on the edge into it), to a network whose places are already in."""
    from routes.costs import crossing_terms, edge_weights

    for x, a, b, cls, st in posts:
        delay, risk = crossing_terms(cm, cls, st)
        G.add_node(x, kind="crossing", country_a=a, country_b=b, crossing_class=cls,
                   status=st, p_detect=cm.classes[cls].p_detect, delay_h=delay,
                   crossing_risk=risk, lon=0.0, lat=0.0)
    for u, v, km in roads:
        nv = G.nodes[v]
        terms = (nv["delay_h"], nv["crossing_risk"]) if nv["kind"] == "crossing" else None
        extra = {"corridor_id": f"{u}-{v}"} if corridor_ids else {}
        G.add_edge(u, v, mode="road", **extra, **edge_weights(cm, "road", km, crossing=terms))
