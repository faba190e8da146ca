"""Every command the README shows runs, on a copy of the shipped data, with outputs in tmp_path.

The ``sh`` blocks' ``routes ...`` lines are run in-process (``routes.cli.main``) as written,
from a temporary working folder holding a copy of ``data/`` (so ``data/geo/...`` paths, the
default data folder and the default ``reports/`` all point into it, and a command that writes
beside its data, such as ``routes calibrate``'s calibrated cost model, never touches the
repository), except that:

- an output path (``--out``, ``-o``, ``--output``) points into the temporary folder;
- placeholders for the reader's own files (``path/to/my/data``, ``my_region/``,
  ``my_ranges.toml``, a scheduler's address) are real files or a local Dask scheduler;
- options that only set an amount of work are bounded by :data:`SMALL_WORK` (for example
  ``--bootstrap 200`` runs as ``--bootstrap 4``, and a report's budget curve stops at 2):
  each entry states the option, the most the test runs, and the value added when a command
  of that name leaves the option out. The command still runs every stage it runs as
  written, on fewer draws (or budgets).

The README's ``toml`` blocks are loaded as scenarios and built, and its ``python`` blocks run.
"""

from __future__ import annotations

import re
import shlex
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from routes.cli import build_parser, main
from routes.settings import DATA_DIR

README = Path(__file__).resolve().parents[1] / "README.md"
HAND = Path(__file__).parent / "data" / "handworked"


@dataclass(frozen=True)
class SmallWork:
    """A work-size option run smaller: at most ``most``; ``added`` to ``commands`` without it.

    ``everywhere``: bounded in every command that has it, else only in ``commands``.
    """

    option: str
    most: int
    commands: tuple[str, ...] = ()
    added: int | None = None
    why: str = ""
    everywhere: bool = True


#: The small-work settings of the README test (options of any command, matched by name).
SMALL_WORK = (
    SmallWork("--runs", 20, ("report",), 20,
              "Monte-Carlo draws: 20 exercise the same code as 10,000"),
    SmallWork("--budget", 2, ("report",), 2,
              "largest budget of a report's budget curve and trade-off front: 2 solve the same "
              "MILPs (curve, priorities, epsilon-constraint front) as 10, fewer of them "
              "(`routes report` without --budget runs as --budget 2); in report only, where it "
              "sizes the work: in priorities and tradeoff it is the question asked",
              everywhere=False),
    SmallWork("--bootstrap", 4, ("calibrate",), 4,
              "bootstrap replicates of a calibration (a README line once asked for 200): each "
              "re-runs the same fit; 4 keep the intervals and the Dask path"),
)


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
    """A temporary working copy of data/, and real stand-ins for the reader's own files."""
    work = tmp_path / "work"
    data = work / "data" / "geo"
    shutil.copytree(DATA_DIR, data)
    monkeypatch.chdir(work)
    build_parser()   # imports every subcommand module, so that all defaults are patched
    for name, mod in list(sys.modules.items()):
        if name == "routes.cli" or name.startswith("routes.cli."):
            if hasattr(mod, "DATA_DIR"):
                monkeypatch.setattr(mod, "DATA_DIR", data)
            if hasattr(mod, "REPORTS_DIR"):
                monkeypatch.setattr(mod, "REPORTS_DIR", work / "reports")
    mine = tmp_path / "my_data"
    shutil.copytree(DATA_DIR, mine)
    region = tmp_path / "my_region"
    shutil.copytree(HAND, region)
    (region / "corridors.csv").unlink()
    ranges = tmp_path / "my_ranges.toml"
    ranges.write_text("[uncertainty]\np_detect = [0.8, 1.2]\n", encoding="utf-8")
    return {"path/to/my/data": str(mine), "my_region/": str(region),
            "my_ranges.toml": str(ranges), "out": tmp_path}


def _bounded(argv: list[str], places: dict[str, str], scheduler: str | None) -> list[str]:
    out = Path(places["out"])
    small = {w.option: w for w in SMALL_WORK}
    args: list[str] = []
    it = iter(argv)
    for a in it:
        if a in ("--out", "-o", "--output"):
            args += [a, str(out / "explicit" / Path(next(it)).name)]
        elif a in small and (small[a].everywhere or argv[0] in small[a].commands):
            v = next(it)
            args += [a, v if float(v) <= small[a].most else str(small[a].most)]
        elif a.startswith("tcp://"):
            assert scheduler is not None
            args.append(scheduler)
        else:
            args.append(places.get(a, a))
    for w in SMALL_WORK:
        if (args[0] in w.commands and w.option not in args and w.added is not None
                and w.option in _options(args[0])):
            args += [w.option, str(w.added)]
    return args


def _options(command: str) -> set[str]:
    """The option strings ``routes COMMAND`` accepts (an entry for a removed option is inert)."""
    sub = build_parser([command])._subparsers._group_actions[0].choices[command]  # type: ignore
    return {o for a in sub._actions for o in a.option_strings}


def test_small_work_rewrites_only_amounts():
    places = {"out": "/t"}
    assert _bounded(["calibrate", "--years", "2018-2020", "--bootstrap", "200", "--workers",
                     "2"], places, None) == ["calibrate", "--years", "2018-2020",
                                             "--bootstrap", "4", "--workers", "2"]
    if "--bootstrap" in _options("calibrate"):
        assert _bounded(["calibrate"], places, None) == ["calibrate", "--bootstrap", "4"]
    else:   # the option is gone (issue 20): nothing is added
        assert _bounded(["calibrate"], places, None) == ["calibrate"]
    assert _bounded(["uncertainty", "--runs", "1000", "--seed", "7"], places, None) == [
        "uncertainty", "--runs", "20", "--seed", "7"]
    assert _bounded(["report", "--scenario", "s.toml"], places, None) == [
        "report", "--scenario", "s.toml", "--runs", "20", "--budget", "2"]
    assert _bounded(["report", "--budget", "10"], places, None) == [
        "report", "--budget", "2", "--runs", "20"]
    assert _bounded(["report", "--budget", "1.5"], places, None) == [
        "report", "--budget", "1.5", "--runs", "20"]
    assert _bounded(["priorities", "--budget", "10"], places, None) == [
        "priorities", "--budget", "10"]
    assert _bounded(["map", "-o", "/tmp/m.html"], places, None) == [
        "map", "-o", "/t/explicit/m.html"]


def test_readme_leaves_the_repository_alone(places):
    """The working copy is where the commands run: data/ resolves into it."""
    import routes.cli._common as common

    assert Path("data/geo/cost_model.toml").resolve().is_relative_to(Path(places["out"]))
    assert common.DATA_DIR.is_relative_to(Path(places["out"]))


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
