"""Every command the README shows runs, on the shipped data, with its outputs in tmp_path.

The ``sh`` blocks' ``routes ...`` lines are run in-process (``routes.cli.main``) as written,
except that: the default output folder is a temporary one; an output path (``--out``, ``-o``)
points into it; placeholders for the reader's own files (``path/to/my/data``, ``my_region/``,
``my_ranges.toml``, a scheduler's address) are real files or a local Dask scheduler; and the
Monte-Carlo runs are bounded (``--runs`` at most 20), so that the slow commands stay short.
The README's ``toml`` blocks are loaded as scenarios and built, and its ``python`` blocks run.
"""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

import pytest

from routes.cli import main
from routes.settings import DATA_DIR

README = Path(__file__).resolve().parents[1] / "README.md"
HAND = Path(__file__).parent / "data" / "handworked"
MAX_RUNS = 20


def blocks(lang: str) -> list[str]:
    """The README's fenced code blocks of language ``lang``."""
    text = README.read_text(encoding="utf-8")
    return re.findall(rf"^```{lang}\n(.*?)^```", text, flags=re.S | re.M)


def commands() -> list[list[str]]:
    """``routes ...`` lines of the ``sh`` blocks, split as a shell would (comments dropped)."""
    return [shlex.split(line, comments=True)[1:] for block in blocks("sh")
            for line in block.splitlines() if line.startswith("routes ")]


def test_readme_has_commands():
    cmds = commands()
    assert len(cmds) > 20 and {c[0] for c in cmds} >= {"validate", "build", "report", "map"}


@pytest.fixture
def places(tmp_path, monkeypatch):
    """Temporary outputs, and real stand-ins for the reader's own files."""
    import routes.cli._common as common
    import routes.cli.map as cli_map

    out = tmp_path / "reports"
    monkeypatch.setattr(common, "REPORTS_DIR", out)
    monkeypatch.setattr(cli_map, "REPORTS_DIR", out)
    data = tmp_path / "my_data"
    shutil.copytree(DATA_DIR, data)
    region = tmp_path / "my_region"
    shutil.copytree(HAND, region)
    (region / "corridors.csv").unlink()
    ranges = tmp_path / "my_ranges.toml"
    ranges.write_text("[uncertainty]\np_detect = [0.8, 1.2]\n", encoding="utf-8")
    return {"path/to/my/data": str(data), "my_region/": str(region),
            "my_ranges.toml": str(ranges), "out": tmp_path}


def _bounded(argv: list[str], places: dict[str, str], scheduler: str | None) -> list[str]:
    out = Path(places["out"])
    args: list[str] = []
    it = iter(argv)
    for a in it:
        if a in ("--out", "-o", "--output"):
            args += [a, str(out / "explicit" / Path(next(it)).name)]
        elif a == "--runs":
            args += [a, str(min(int(next(it)), MAX_RUNS))]
        elif a.startswith("tcp://"):
            assert scheduler is not None
            args.append(scheduler)
        else:
            args.append(places.get(a, a))
    if args[0] == "report" and "--runs" not in args:
        args += ["--runs", str(MAX_RUNS)]
    return args


@pytest.mark.parametrize("argv", commands(), ids=lambda a: " ".join(a))
def test_readme_command_runs(argv, places, request):
    scheduler = None
    if any(a.startswith("tcp://") for a in argv):
        scheduler = request.getfixturevalue("local_scheduler")
    args = _bounded(argv, places, scheduler)
    assert main(args) == 0, f"routes {' '.join(argv)} failed (ran as routes {' '.join(args)})"


@pytest.fixture
def local_scheduler():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address="127.0.0.1:0",
                                  scheduler_kwargs={"dashboard": False},
                                  silence_logs=50) as cluster:
        yield cluster.scheduler_address


@pytest.mark.parametrize("text", blocks("toml"))
def test_readme_scenarios_build(text, tmp_path, dataset, cost_model):
    from routes.network import network_from_data
    from routes.scenario import load_scenario

    f = tmp_path / "readme.toml"
    f.write_text(text, encoding="utf-8")
    sc = load_scenario(f)
    G = network_from_data(dataset, cost_model, sc)
    for cid, vals in sc.crossings.items():
        if vals.get("status") == "closed":
            assert G.nodes[cid]["status"] == "closed"
        if vals.get("upgraded"):
            assert G.nodes[cid]["p_detect"] == G.nodes[cid]["p_detect_upgraded"]
            assert G.nodes[cid]["p_detect"] > cost_model.classes[
                G.nodes[cid]["crossing_class"]].p_detect


@pytest.mark.parametrize("code", blocks("python"))
def test_readme_python_runs(code):
    exec(compile(code, str(README), "exec"), {})
