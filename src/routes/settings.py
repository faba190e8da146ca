"""Settings in one place: where the shipped data lives, and run-wide defaults.

Parameters that change results (cost model, scenario, seed) are explicit arguments of the
functions that use them, never settings.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["DATA_DIR", "DEFAULT_COST_MODEL", "SCENARIO_DIR", "REPORTS_DIR", "ENGINE"]

_REPO = Path(__file__).resolve().parents[2]
#: Folder of the shipped data (override with the ROUTES_DATA environment variable).
DATA_DIR: Path = Path(os.environ.get("ROUTES_DATA", _REPO / "data" / "geo"))
#: The shipped cost model.
DEFAULT_COST_MODEL: Path = DATA_DIR / "cost_model.toml"
#: The shipped scenarios.
SCENARIO_DIR: Path = DATA_DIR / "scenarios"
#: Where the CLI writes by default.
REPORTS_DIR: Path = Path(os.environ.get("ROUTES_REPORTS", "reports"))
#: Default engine for the hot kernels: "igraph" (fast) or "networkx" (reference).
ENGINE: str = os.environ.get("ROUTES_ENGINE", "igraph")
