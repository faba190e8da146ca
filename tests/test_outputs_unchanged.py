"""The outputs stay byte-identical: the report's files and the build's exports of the shipped data.

``tests/data/output_hashes.json`` holds the sha256 of every file that ``routes report`` and
``routes build`` write for the shipped data (written by ``scripts/output_hashes.py`` on the code
before the package layout by question, issue 23, and checked equal after it). The report is the
session's shared shipped report (:func:`test_report.shipped_report`, no extra report run); the
build runs once here. ``index.html``, ``report.md`` and ``provenance.json`` are hashed with the
run's timestamp and output folder replaced (see the script); every other file byte for byte.

After a deliberate model or output change, regenerate the snapshot and say so in the commit
message::

    .venv/bin/python scripts/output_hashes.py --update
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from routes.cli import main
from test_report import shipped_report

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
import output_hashes as oh  # noqa: E402

# The shared report is built once per worker: these tests run where test_report's do.
pytestmark = pytest.mark.xdist_group("report")


def _compare(got: dict[str, str], prefix: str) -> None:
    want = {k: v for k, v in json.loads(oh.SNAPSHOT.read_text(encoding="utf-8")).items()
            if k.startswith(prefix + "/")}
    assert sorted(got) == sorted(want), "files written differ from the snapshot"
    changed = sorted(k for k in want if got[k] != want[k])
    assert changed == [], ("outputs changed (run scripts/output_hashes.py --update if on "
                           f"purpose): {changed}")


def test_report_files_unchanged(tmp_path_factory: pytest.TempPathFactory) -> None:
    folder = shipped_report(tmp_path_factory)
    _compare(oh.folder_hashes(folder, folder.parent, "report"), "report")


def test_build_exports_unchanged(tmp_path: Path) -> None:
    out = tmp_path / "build"
    assert main(oh.build_args(out)) == 0
    _compare(oh.folder_hashes(out / "baseline", out, "build"), "build")
