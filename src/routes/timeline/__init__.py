"""How the routes changed through time: the network on a series of dates and the events between.

- :mod:`.timeline`
- :mod:`.events`
"""

import sys
import types
from typing import Any

from .events import (
    EVENT_COLUMNS,
    timeline_events,
)
from .timeline import (
    MEASURES,
    STEPS,
    TIMELINE_COLUMNS,
    Snapshot,
    observed_seizures,
    sample_dates,
    timeline,
    timeline_dates,
    timeline_frame,
    timeline_snapshots,
)

__all__ = [
    "EVENT_COLUMNS",
    "timeline_events",
    "STEPS",
    "MEASURES",
    "TIMELINE_COLUMNS",
    "Snapshot",
    "sample_dates",
    "timeline_dates",
    "timeline_snapshots",
    "timeline_frame",
    "timeline",
    "observed_seizures",
]


class _CallablePackage(types.ModuleType):
    """The package, callable: ``routes.timeline(ds, cm)`` runs :func:`.timeline.timeline`.

    ``routes.timeline`` was the function before the layout (the README calls it so).
    """

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return timeline(*args, **kwargs)


sys.modules[__name__].__class__ = _CallablePackage
