"""How the routes changed through time: the network on a series of dates and the events between.

- :mod:`.timeline`
- :mod:`.events`
"""

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

