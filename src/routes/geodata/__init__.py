"""The input data: read and validate countries, crossings, places and corridors.

Every reader returns a (Geo)DataFrame and never modifies its input file. Validation collects
every problem in every file, each with file, row and field, and raises one
:class:`~routes.DataError`.
"""

from ._load import (
    BORDER_TOLERANCE_KM,
    COAST_TOLERANCE_KM,
    CORRIDOR_ONEWAY,
    CROSSING_MODES,
    DATED_FILES,
    HISTORY_START,
    LAND_MODES,
    ROLES,
    STATUSES,
    Dataset,
    border_distances,
    coverage,
    dataset_as_of,
    link_within_countries,
    load_dataset,
    read_corridors,
    read_countries,
    read_crossings,
    read_places,
    validate_dataset,
)

__all__ = [
    "Dataset",
    "read_countries",
    "read_crossings",
    "read_places",
    "read_corridors",
    "load_dataset",
    "validate_dataset",
    "dataset_as_of",
    "coverage",
    "DATED_FILES",
    "HISTORY_START",
    "link_within_countries",
    "border_distances",
    "CROSSING_MODES",
    "STATUSES",
    "ROLES",
    "LAND_MODES",
    "BORDER_TOLERANCE_KM",
    "COAST_TOLERANCE_KM",
    "CORRIDOR_ONEWAY",
]
