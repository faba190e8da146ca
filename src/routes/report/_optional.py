"""Analyses a report shows when this version of routes has them.

Interdiction priorities (``routes.analysis.interdiction``) and rank stability
(``routes.analysis.uncertainty``) are built by separate work; each is wired in here through
its public functions as soon as its module provides them. A missing analysis leaves its
section out of the report; nothing is ever filled in by hand.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ._results import ReportOptions, ReportResults
from ._sections import Section

__all__ = ["OptionalAnalysis", "available", "optional_stages"]


@dataclass(frozen=True)
class OptionalAnalysis:
    """An analysis with its stage (computes tables), charts and section."""

    name: str
    stage: Callable[[ReportResults], None]
    charts: Callable[[ReportResults, Path], list[Path]]
    section: Callable[[ReportResults], Section]


def available(options: ReportOptions) -> list[OptionalAnalysis]:
    """The optional analyses this version of routes provides, in page order."""
    found: list[OptionalAnalysis] = []
    for probe in _PROBES:
        a = probe(options)
        if a is not None:
            found.append(a)
    return found


def optional_stages(options: ReportOptions
                    ) -> list[tuple[str, Callable[[ReportResults], None]]]:
    """(name, stage) of every available optional analysis."""
    return [(a.name, a.stage) for a in available(options)]


#: Probes: each returns its analysis when the module and its functions exist, else None.
_PROBES: tuple[Callable[[ReportOptions], OptionalAnalysis | None], ...] = ()
