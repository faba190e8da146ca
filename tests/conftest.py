"""Shared fixtures: the shipped data, built once per test session."""

from __future__ import annotations

from collections.abc import Iterator

import networkx as nx
import pytest
from hypothesis import settings

from routes.costs import CostModel, load_cost_model
from routes.geodata import Dataset, load_dataset
from routes.network import network_from_data
from routes.settings import DATA_DIR, DEFAULT_COST_MODEL
from shared_support import digest

# No per-example deadline for the property tests: none of them checks timing, and on a loaded
# machine (CI has 2 cores and the suite runs ~18 minutes) a 200 ms deadline measures the
# machine, not the code. Without a deadline Hypothesis also allows 30 s (not 1 s) of input
# generation before its `too_slow` health check fails. Set here once; a test's own
# @settings(...) inherits it.
settings.register_profile("routes", deadline=None)
settings.load_profile("routes")


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Give the tests marked ``xdist_group(NAME)`` the node id suffix ``@NAME``.

    ``--dist loadgroup`` (``make test``) sends the tests whose node ids end in the same
    ``@NAME`` to one worker. pytest-xdist 3.8 adds the suffix by setting ``item._nodeid``,
    which pytest 9.2 no longer reads (the id is ``item._id``), so the groups were ignored
    and each worker built the shared report again; this does what xdist means to do. The
    closest mark wins: a test marked itself overrides its module's ``pytestmark`` (the tests
    of the hostile and the comparison reports form their own groups, so that each report is
    built once and the groups can run on different workers).
    """
    if not getattr(config.option, "loadgroup", False):   # set on the workers by xdist
        return
    from _pytest.nodeid import coerce_node_id

    for item in items:
        m = item.get_closest_marker("xdist_group")
        if m is None:
            continue
        name = str(m.args[0] if m.args else m.kwargs.get("name", "default"))
        if "@" not in item.nodeid.rpartition("]")[2]:
            item._id = coerce_node_id(f"{item.nodeid}@{name}")


@pytest.fixture(scope="session")
def cost_model() -> CostModel:
    return load_cost_model(DEFAULT_COST_MODEL)


@pytest.fixture(scope="session")
def dataset(cost_model: CostModel) -> Dataset:
    return load_dataset(DATA_DIR, classes=set(cost_model.classes))


@pytest.fixture(scope="session")
def _baseline(dataset: Dataset, cost_model: CostModel) -> Iterator[nx.DiGraph]:
    """The baseline network of the shipped data, built once per session and shared.

    Frozen (adding or removing a node or edge raises); a test that changed an attribute in
    place would make the session fail here at its end. Tests that change it use ``baseline``.
    """
    G = nx.freeze(network_from_data(dataset, cost_model))
    before = digest(G)
    yield G
    assert digest(G) == before, "a test changed the shared baseline network in place"


@pytest.fixture
def baseline(_baseline: nx.DiGraph) -> nx.DiGraph:
    """The baseline network of the shipped data (a fresh copy per test: mutate freely)."""
    return _baseline.copy()


@pytest.fixture(scope="session")
def browser():
    """Debian's headless chromium driven by Playwright, shared by the browser tests."""
    from pathlib import Path

    from browser_support import ARGS, CHROMIUM

    if not Path(CHROMIUM).exists():
        pytest.fail(f"chromium not found at {CHROMIUM}: the browser tests need a real browser. "
                    "Run `make browser` (apt-get install chromium) or set CHROMIUM=/path.")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()
