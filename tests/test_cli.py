"""The CLI: every subcommand has help and is documented in the README."""

from __future__ import annotations

from pathlib import Path

import pytest

from routes.cli import COMMANDS, build_parser, main

README = Path(__file__).resolve().parents[1] / "README.md"


@pytest.mark.parametrize("cmd", COMMANDS)
def test_every_command_has_help(cmd, capsys):
    with pytest.raises(SystemExit) as ei:
        main([cmd, "--help"])
    assert ei.value.code == 0
    out = capsys.readouterr().out
    assert f"usage: routes {cmd}" in out and len(out) > 200


@pytest.mark.parametrize("cmd", COMMANDS)
def test_every_command_in_readme(cmd):
    assert f"routes {cmd}" in README.read_text(encoding="utf-8")


def test_no_command_prints_help(capsys):
    assert main([]) == 1
    assert "COMMAND" in capsys.readouterr().out


def test_parser_lists_all_commands():
    text = build_parser().format_help()
    for cmd in COMMANDS:
        assert cmd in text


def test_build_writes_exports(tmp_path, capsys):
    assert main(["build", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "nodes" in out and "edges" in out
    names = sorted(p.name for p in (tmp_path / "baseline").iterdir())
    assert names == ["network.gpkg", "network.graphml", "network_edges.geojson",
                     "network_nodes.geojson"]


def test_python_m_routes():
    import subprocess
    import sys

    r = subprocess.run([sys.executable, "-m", "routes", "--version"], capture_output=True,
                       text=True, check=True)
    assert r.stdout.startswith("routes ")


def test_version_is_fast_and_light():
    """``routes --version`` imports no subcommand, hence neither pandas nor geopandas."""
    import subprocess
    import sys

    code = ("import sys\nfrom routes.cli import main\ntry:\n    main(['--version'])\n"
            "except SystemExit:\n    pass\n"
            "print(sorted(m for m in ('pandas', 'geopandas', 'networkx', 'numpy', "
            "'routes.cli.map', 'routes.report') if m in sys.modules))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert r.stdout.startswith("routes ")
    assert r.stdout.splitlines()[-1] == "[]"


def test_only_the_command_run_is_imported():
    import subprocess
    import sys

    code = ("import sys\nfrom routes.cli import main\ntry:\n    main(['validate', '--help'])\n"
            "except SystemExit:\n    pass\n"
            "print(sorted(m for m in sys.modules if m.startswith('routes.cli.')))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert r.stdout.splitlines()[-1] == "['routes.cli._common', 'routes.cli.validate']" or \
        r.stdout.splitlines()[-1] == "['routes.cli.validate']"


@pytest.mark.parametrize("cmd", ["priorities", "compare", "report", "uncertainty"])
def test_one_objective_default(cmd):
    """Every command with ``--objective`` defaults to the meaningful ``flow`` (issue 13, 10)."""
    sub = build_parser()._subparsers._group_actions[0].choices[cmd]
    action = next(a for a in sub._actions if "--objective" in a.option_strings)
    assert action.default == "flow"


def test_one_default_seed():
    """``routes uncertainty`` and ``routes report`` draw with the same default seed (item 16)."""
    import inspect

    from routes.uncertainty.uncertainty import DEFAULT_SEED, rank_stability

    subs = build_parser()._subparsers._group_actions[0].choices
    seeds = {cmd: next(a.default for a in subs[cmd]._actions if "--seed" in a.option_strings)
             for cmd in ("uncertainty", "report")}
    assert seeds == {"uncertainty": DEFAULT_SEED, "report": DEFAULT_SEED}
    assert inspect.signature(rank_stability).parameters["seed"].default == DEFAULT_SEED
