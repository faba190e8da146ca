"""What the tests' shared, session-wide outputs need: proof that no test changed them."""

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
