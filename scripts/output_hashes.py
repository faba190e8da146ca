"""Write (or check) the sha256 of every file a report and a build of the shipped data write.

The snapshot ``tests/data/output_hashes.json`` pins the outputs: ``tests/test_outputs_unchanged.py``
rebuilds them and compares. Usage::

    python scripts/output_hashes.py            # print the hashes of a fresh run
    python scripts/output_hashes.py --update   # rewrite tests/data/output_hashes.json

Run ``--update`` after a deliberate model or output change, and say so in the commit message.

Four report files hold the time of the run, the command that wrote it (the output folder) or
the absolute paths of the input files (the checkout's folder): ``index.html``, ``report.md``,
``brief.html`` and ``provenance.json``. They are hashed after replacing the timestamp
(``YYYY-MM-DDTHH:MM:SSZ``) by ``<generated>``, the output folder by ``<out>`` and the data
folder by ``<data>``, and the installed packages' versions by ``<version>`` (the path in its
HTML- and Markdown-escaped forms too); everything else is hashed byte for byte. No file is left
out.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import html
import json
import re
import sys
import tempfile
from pathlib import Path

from routes.settings import DATA_DIR

REPO = Path(__file__).resolve().parents[1]
SNAPSHOT = REPO / "tests" / "data" / "output_hashes.json"
#: Files that carry the run's time and output folder: hashed after normalising both.
STAMPED = frozenset({"index.html", "report.md", "brief.html", "provenance.json"})
_TIME = re.compile(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")

__all__ = ["SNAPSHOT", "STAMPED", "build_args", "folder_hashes", "report_args", "run"]


def report_args(out: Path) -> list[str]:
    """The ``routes`` arguments of the report run (the same as the tests' shipped report)."""
    return ["report", "--out", str(out), "--no-progress"]


def build_args(out: Path) -> list[str]:
    """The ``routes`` arguments of the build run (GraphML, GeoPackage, GeoJSON exports)."""
    return ["build", "--out", str(out)]


def _forms(path: str) -> list[bytes]:
    """A path as the report files write it: as is, HTML-escaped and Markdown-escaped.

    A checkout under ``/tmp/tests_run`` appears in ``report.md`` as ``/tmp/tests\\_run``.
    """
    from routes.report._render import md_escape

    return sorted({path.encode(), html.escape(path).encode(), md_escape(path).encode()},
                  key=len, reverse=True)


def _without_versions(data: bytes, versions: dict[str, str]) -> bytes:
    """Replace the installed packages' versions (the provenance table) by ``<version>``.

    A fresh install may resolve a newer patch release than the snapshot's machine had; the
    versions stay recorded in every report, but they are not the model's output.
    """
    for pkg, ver in versions.items():
        for form in (f'"{pkg}": "{ver}"', f"<th>{pkg}</th><td>{ver}</td>", f"| {pkg} | {ver} |"):
            data = data.replace(form.encode(), form.replace(ver, "<version>").encode())
    return data


def folder_hashes(folder: Path, out: Path, prefix: str) -> dict[str, str]:
    """sha256 of every file under ``folder``, keyed ``prefix/relative/path``.

    ``out`` is the output folder given on the command line (replaced by ``<out>`` in the
    :data:`STAMPED` files, with the run's timestamp and the data folder).
    """
    hashes = {}
    prov = folder / "provenance.json"
    versions = json.loads(prov.read_text())["versions"] if prov.exists() else {}
    for p in sorted(folder.rglob("*")):
        if not p.is_file():
            continue
        data = p.read_bytes()
        if p.name in STAMPED:
            for path, token in ((out, b"<out>"), (DATA_DIR, b"<data>")):
                for form in _forms(str(path)):
                    data = data.replace(form, token)
            data = _TIME.sub(b"<generated>", data)
            data = _without_versions(data, versions)
        hashes[f"{prefix}/{p.relative_to(folder).as_posix()}"] = hashlib.sha256(data).hexdigest()
    return hashes


def run(tmp: Path) -> dict[str, str]:
    """Run the report and the build of the shipped data into ``tmp``; return all hashes."""
    from routes.cli import main

    rep, bld = tmp / "report", tmp / "build"
    assert main(report_args(rep)) == 0
    assert main(build_args(bld)) == 0
    return {**folder_hashes(rep / "baseline", rep, "report"),
            **folder_hashes(bld / "baseline", bld, "build")}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--update", action="store_true", help=f"rewrite {SNAPSHOT.relative_to(REPO)}")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp, contextlib.redirect_stdout(sys.stderr):
        hashes = run(Path(tmp))   # the commands' own output goes to stderr
    text = json.dumps(hashes, indent=2, sort_keys=True) + "\n"
    if args.update:
        SNAPSHOT.write_text(text, encoding="utf-8")
        print(f"wrote {len(hashes)} hashes to {SNAPSHOT.relative_to(REPO)}")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
