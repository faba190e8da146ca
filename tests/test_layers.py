"""The package's imports point one way: no import cycle, layers never import upward.

Every ``import`` and ``from ... import`` inside ``src/routes`` (also those inside functions) is
read with :mod:`ast`; the module graph must be acyclic and every edge must point down the
layers geodata -> scenario -> network -> analysis -> maps -> report -> cli.
"""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx
import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "routes"

#: The layers, bottom first; a module may import its own layer and the ones below it.
#: Top-level helpers (errors, version, settings, the cost model, the engine, exports) sit at
#: the layer of what they need.
LAYERS = {
    "routes._errors": 0, "routes._version": 0, "routes.settings": 0, "routes._csv": 0,
    "routes.costs": 0, "routes.engine": 0,
    "routes.geodata": 1, "routes.history": 1,   # history: the dated files geodata reads
    "routes.supplyside": 1,   # the rules applied to the flow files (issue 19)
    "routes.traffic": 1,                         # legitimate traffic, read like the data
    "routes.observed": 1,                        # observed seizures, read like the data
    "routes.flowfiles": 1,                       # hubs, stocks, published flows, heroin links
    "routes.scenario": 2,
    "routes.network": 3, "routes.io": 3,
    "routes.analysis": 4,   # the facade re-exporting the analysis packages below
    "routes.routing": 4, "routes.crossings": 4, "routes.priorities": 4,
    "routes.calibration": 4, "routes.uncertainty": 4, "routes.changes": 4,
    "routes.comparison": 4,
    "routes.maps": 5,
    "routes.report": 6,
    "routes.cli": 7, "routes.__main__": 7,
    "routes": 7,   # the package's __init__: the public API, re-exporting (lazily) from below
}


def _modules() -> dict[str, Path]:
    mods = {}
    for p in SRC.rglob("*.py"):
        parts = list(p.relative_to(SRC.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        mods[".".join(parts)] = p
    return mods


def _is_type_checking(node: ast.AST) -> bool:
    if not isinstance(node, ast.If):
        return False
    t = node.test
    return (isinstance(t, ast.Name) and t.id == "TYPE_CHECKING") or (
        isinstance(t, ast.Attribute) and t.attr == "TYPE_CHECKING")


def import_graph() -> nx.DiGraph:
    """Module -> module it imports, for every import of a ``routes`` module in the package."""
    mods = _modules()
    G = nx.DiGraph()
    G.add_nodes_from(mods)
    for name, path in mods.items():
        pkg = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
        tree = ast.parse(path.read_text(encoding="utf-8"))
        typing_only = {id(n) for t in ast.walk(tree) if _is_type_checking(t)
                       for b in t.body for n in ast.walk(b)}   # type: ignore[attr-defined]
        for node in ast.walk(tree):
            if id(node) in typing_only:   # `if TYPE_CHECKING:` imports never run
                continue
            targets: list[str] = []
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = pkg.split(".")[: len(pkg.split(".")) - node.level + 1]
                    mod = ".".join(base + ([node.module] if node.module else []))
                else:
                    mod = node.module or ""
                targets = [f"{mod}.{a.name}" if f"{mod}.{a.name}" in mods else mod
                           for a in node.names]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            for t in targets:
                if t in mods and t != name:
                    G.add_edge(name, t)
    return G


def layer(module: str) -> int:
    """The layer of ``module``: that of its longest listed prefix (``routes`` itself only for
    the package's ``__init__``, so that a new top-level module must be given its layer)."""
    if module == "routes":
        return LAYERS[module]
    parts = module.split(".")
    for k in range(len(parts), 1, -1):
        if ".".join(parts[:k]) in LAYERS:
            return LAYERS[".".join(parts[:k])]
    raise KeyError(f"{module} is in no layer: add it to LAYERS")


def test_graph_is_read():
    G = import_graph()
    assert G.has_edge("routes.network", "routes.geodata")
    assert G.has_edge("routes.cli.report", "routes.report._write")


def test_no_import_cycle():
    cycles = sorted(nx.simple_cycles(import_graph()))
    assert cycles == [], "import cycles: " + "; ".join(" -> ".join(c) for c in cycles)


def test_every_module_has_a_layer():
    for m in import_graph():
        layer(m)


def test_layers_point_one_way():
    up = [(a, b) for a, b in import_graph().edges if layer(b) > layer(a)]
    assert up == [], "imports pointing up the layers: " + ", ".join(f"{a} -> {b}" for a, b in up)


@pytest.mark.parametrize("lazy", [True, False])
def test_detects_cycles_and_upward_imports(tmp_path, monkeypatch, lazy):
    """The checks catch a cycle through a function-level import (the old report circle)."""
    pkg = tmp_path / "routes"
    (pkg / "report").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "report" / "__init__.py").write_text("")
    (pkg / "report" / "_a.py").write_text("from ._b import x\n")
    body = "def f():\n    from ._a import y\n" if lazy else "from ._a import y\n"
    (pkg / "report" / "_b.py").write_text(body)
    (pkg / "geodata.py").write_text("from .report import _a\n")
    monkeypatch.setitem(globals(), "SRC", pkg)
    G = import_graph()
    assert list(nx.simple_cycles(G)) and G.has_edge("routes.geodata", "routes.report._a")
