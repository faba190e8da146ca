"""Reports: one command from the data to a citable report (HTML, Markdown, CSV, GeoPackage).

:func:`collect_results` runs every analysis a report shows and keeps their tables in a
:class:`ReportResults`; :func:`write_report` writes the report folder (``index.html``,
``report.md``, a CSV per table, ``report.gpkg``, PNG charts, the offline ``map.html``,
``provenance.json``). :func:`build_report` does both from a data folder;
:func:`write_compare_report` puts two scenarios side by side.

The methods section is generated from the cost model file (:func:`parameter_table` reads the
comment above every parameter), and the provenance section records the input files' hashes,
the scenario, the options, the seed, the package versions and the date.
"""

from ._methods import parameter_table, read_toml_notes
from ._provenance import inputs_table, package_versions, provenance, scenario_changes
from ._results import (
    DEFAULT_SEED,
    ReportOptions,
    ReportResults,
    analysis_stages,
    collect_results,
)
from ._tables import FLOAT_FORMAT, TABLE_SPECS, csv_frame
from ._timeline import timeline_charts
from ._write import CSV_TABLES, WRITE_STAGES, report_layers, write_report

__all__ = [
    "CSV_TABLES",
    "DEFAULT_SEED",
    "FLOAT_FORMAT",
    "TABLE_SPECS",
    "WRITE_STAGES",
    "ReportOptions",
    "ReportResults",
    "analysis_stages",
    "collect_results",
    "csv_frame",
    "inputs_table",
    "package_versions",
    "parameter_table",
    "provenance",
    "read_toml_notes",
    "report_layers",
    "scenario_changes",
    "timeline_charts",
    "write_report",
]
