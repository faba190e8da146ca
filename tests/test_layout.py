"""The package layout by question (see the README's "Layout"): small modules, one-way imports.

The import graph is the one :mod:`test_layers` reads with :mod:`ast` (function-level imports
included, ``if TYPE_CHECKING:`` ones included here too: a type-only import back up is still one).
"""

from __future__ import annotations

import ast

import networkx as nx

from test_layers import SRC, _modules, import_graph, layer

#: Modules allowed over 600 lines, with why (none: calibration/calibrate.py was split under
#: issue 20).
LONG_OK: set[str] = set()
MAX_LINES = 600
ANALYSES = ("routing", "crossings", "priorities", "calibration", "uncertainty", "changes",
            "comparison")


def test_no_module_over_600_lines():
    long = {m: len(p.read_text(encoding="utf-8").splitlines()) for m, p in _modules().items()}
    over = {m: n for m, n in long.items() if n > MAX_LINES and m not in LONG_OK}
    assert over == {}


def test_analysis_is_a_facade_only():
    assert [p.name for p in (SRC / "analysis").glob("*.py")] == ["__init__.py"]
    G = import_graph()
    users = sorted(a for a, b in G.edges if b == "routes.analysis")
    assert all(not u.startswith(tuple(f"routes.{p}" for p in ANALYSES)) for u in users), users


def test_no_type_checking_import_back_up():
    for name, path in _modules().items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                for imp in ast.walk(node):
                    if isinstance(imp, ast.ImportFrom) and imp.level and name != "routes":
                        mod = imp.module or ""
                        target = ".".join(name.split(".")[: -imp.level] + [mod]).rstrip(".")
                        if target in _modules() or target.rsplit(".", 1)[0] in _modules():
                            t = target if target in _modules() else target.rsplit(".", 1)[0]
                            assert layer(t) <= layer(name), (name, t)
                            assert t != name


def test_priorities_modules_form_no_cycle():
    G = import_graph().subgraph([m for m in _modules() if m.startswith("routes.priorities.")])
    assert list(nx.simple_cycles(G)) == []
    # the instance and the MILPs never import the solvers or curves above them
    for low in ("routes.priorities._instance", "routes.priorities._milp",
                "routes.priorities._milp_plain", "routes.priorities._milp_tight",
                "routes.priorities._milp_solve"):
        ups = [b for b in G.successors(low) if b.split(".")[-1] in
               ("interdiction", "exact", "greedy", "curves", "brute_force")]
        assert ups == [], (low, ups)


def test_stage_order_holds():
    order = {"routes.geodata": 1, "routes.scenario": 2, "routes.network": 3,
             **{f"routes.{p}": 4 for p in ANALYSES}, "routes.maps": 5, "routes.report": 6,
             "routes.cli": 7}
    for a in order:
        assert layer(a) == order[a], a
    up = [(a, b) for a, b in import_graph().edges if layer(b) > layer(a)]
    assert up == []
