"""Mutation testing of the modules where a silent error changes a result (``make mutate``).

Runs mutmut (3.x) one module at a time, each in its own work directory under ``.mutate/``
with its own test selection (the test files that exercise the module, plus the module's
doctests), so a module's run never waits on the whole suite. Within a module, mutmut runs
for each mutant only the tests that call the mutated function (it records that in a first,
clean run). Results are cached per module: a re-run only tests mutants whose function changed.

Prints, per module, the score (killed / mutants tested), the score without the survivors
explained as equivalent (an ``equivalent mutant`` comment on the mutated line or in the
comment lines right above it) and each surviving mutant as ``file:line: old -> new``
(``(explained)`` when so explained); then a table of every module run. Usage::

    python scripts/mutate.py [MODULE ...] [--timeout S] [--children N] [--fresh] [--recheck]

MODULE is a key of :data:`MODULES` (``costs``, ``routing/flows``...); all when omitted.
The machine may be shared: run it under ``nice`` (``make mutate`` does) with one worker.
"""

from __future__ import annotations

import argparse
import ast
import difflib
import json
import os
import random
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
WORK = REPO / ".mutate"
MUTMUT = Path(sys.executable).parent / "mutmut"

#: The tests of the priorities code (interdiction, exact, greedy, curves, brute force).
_PRIORITIES = ["tests/test_interdiction.py", "tests/test_priorities_rules.py"]
#: The tests of the MILP formulations (and the priorities' tests that solve through them).
_MILP = ["tests/test_milp.py", "tests/test_milp_rules.py", "tests/test_interdiction.py",
         "tests/test_priorities_rules.py"]
#: Module (path under src/routes, without .py) -> the test files that exercise it.
MODULES: dict[str, list[str]] = {
    "costs": ["tests/test_network.py", "tests/test_costs.py"],
    "network": ["tests/test_network.py", "tests/test_io.py"],
    "scenario": ["tests/test_network.py", "tests/test_scenario.py"],
    "engine": ["tests/test_engine.py", "tests/test_paths.py", "tests/test_flows.py",
               "tests/test_centrality.py", "tests/test_chokepoints.py"],
    "routing/flows": ["tests/test_flows.py", "tests/test_random.py"],
    "routing/paths": ["tests/test_paths.py"],
    "crossings/centrality": ["tests/test_centrality.py", "tests/test_random.py"],
    "crossings/chokepoints": ["tests/test_chokepoints.py", "tests/test_random.py"],
    "priorities/interdiction": _PRIORITIES,
    "priorities/_instance": [*_PRIORITIES, "tests/test_milp_rules.py"],
    "priorities/exact": [*_PRIORITIES, "tests/test_milp_rules.py"],
    # test_milp.py re-implements the greedy and checks brute force against both formulations;
    # test_curve_budgets.py is about the curve's budgets.
    "priorities/greedy": [*_PRIORITIES, "tests/test_milp.py"],
    "priorities/brute_force": [*_PRIORITIES, "tests/test_milp.py"],
    "priorities/curves": [*_PRIORITIES, "tests/test_curve_budgets.py"],
    "priorities/_milp": _MILP,
    "priorities/_milp_solve": _MILP,
    "priorities/_milp_plain": _MILP,
    "priorities/_milp_tight": _MILP,
    # test_cancel.py: the scope and the main-thread helper with stand-in solvers (fast); the
    # Ctrl-C tests of test_curve_interrupt.py run a child process, which mutants never reach.
    "priorities/_cancel": [*_PRIORITIES, "tests/test_cancel.py"],
    "priorities/tradeoff": ["tests/test_tradeoff.py"],
    "priorities/legit": ["tests/test_tradeoff.py"],
    "comparison/compare": ["tests/test_compare.py"],
    # Dask clusters (a LocalCluster, a scheduler address) would take minutes per mutant.
    "uncertainty/uncertainty": ["tests/test_uncertainty.py", "-k",
                                "not dask and not workers and not cluster and not scheduler"],
    "calibration/observe": ["tests/test_observe.py"],
    "calibration/calibrate": ["tests/test_calibrate.py", "-k", "not dask and not workers"],
    # the calibration's numbers: result tables, posterior, priors, the fast observation model
    "calibration/_calib_tables": ["tests/test_calibrate.py"],
    "calibration/_posterior": ["tests/test_calibrate.py"],
    "calibration/_priors": ["tests/test_calibrate.py"],
    "calibration/_fastobs": ["tests/test_observe.py", "tests/test_calibrate.py"],
    "calibration/_optimise": ["tests/test_calibrate.py"],
    "calibration/_holdout": ["tests/test_calibrate.py"],
    # the yearly balance, the published figures beside the model's, the calibrated file, the
    # shared networks
    "calibration/balance": ["tests/test_supplyside.py", "tests/test_balance.py"],
    "calibration/published": ["tests/test_shipped_targets.py", "tests/test_hubs_engines.py",
                              "tests/test_published.py"],
    "calibration/_calib_toml": ["tests/test_calibrate.py"],
    "calibration/_workspace": ["tests/test_calibrate.py", "-k", "not dask and not workers"],
    # the draws and weights, the runs' execution (Dask clusters excluded, as above)
    "uncertainty/_draws": ["tests/test_uncertainty.py", "-k",
                           "not dask and not workers and not cluster and not scheduler"],
    "uncertainty/_montecarlo": ["tests/test_uncertainty.py", "-k",
                                "not dask and not workers and not cluster and not scheduler"],
}

_STATUS = re.compile(r"^\s*(\S+): (survived|killed|timeout|no tests|suspicious|skipped|"
                     r"segfault|caught by type check|not checked|check was interrupted by user)$")


# mutmut keeps each mutant as a copy of its function, docstring included: without this the
# doctests would be collected once per mutant.
# Fastest tests first (durations from mutmut's clean run), so that a mutant a quick test kills
# never waits for the slow fixtures of the shipped network.
_CONFTEST = '''"""Written by scripts/mutate.py: doctests once, fast tests first, fixed examples."""

import json
from pathlib import Path

from hypothesis import settings

# The same examples for every mutant, and no example database: a random example that fails
# on the code as it is (or a failing example stored while testing one mutant) would otherwise
# "kill" every later mutant. tests/conftest.py's profile, registered after this one, inherits it.
settings.register_profile("mutate", deadline=None, derandomize=True, database=None)
settings.load_profile("mutate")


def pytest_collection_modifyitems(config, items):
    items[:] = [i for i in items if "__mutmut_" not in i.nodeid]
    stats = Path(__file__).parent / "mutmut-stats.json"
    if stats.exists():
        dur = json.loads(stats.read_text()).get("duration_by_test", {})
        items.sort(key=lambda i: dur.get(i.nodeid, 0.0))
'''


def _config(module: str, tests: list[str], folder: Path) -> str:
    # Test files that exist in the tests folder used (``--tests``: an older one may lack some),
    # and pytest options (a Dask cluster per mutant would be too slow).
    sel = [t for t in tests if not t.startswith("tests/") or (folder / t[6:]).exists()]
    sel.append(f"src/routes/{module}.py")
    conf = {
        "source_paths": ["src/"],
        "only_mutate": [f"src/routes/{module}.py"],
        "also_copy": ["benchmarks/", "conftest.py"],
        # Log lines only report; they change no result.
        "do_not_mutate_patterns": [r"^\s*log\.(debug|info|warning)\("],
        "pytest_add_cli_args_test_selection": sel,
        "pytest_add_cli_args": ["-p", "no:cacheprovider"],
    }
    # JSON strings and lists are valid TOML.
    return "\n[tool.mutmut]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in conf.items())


def _prepare(module: str, fresh: bool, tests: Path) -> Path:
    """A work directory with the sources linked and pyproject.toml carrying this module's
    mutmut configuration."""
    d = WORK / module.replace("/", "_")
    if fresh and d.exists():
        shutil.rmtree(d)
    d.mkdir(parents=True, exist_ok=True)
    for name, target in (("src", REPO / "src"), ("tests", tests),
                         ("benchmarks", REPO / "benchmarks")):
        link = d / name
        if link.is_symlink() and link.resolve() != target.resolve():
            link.unlink()
        if not link.is_symlink():
            link.symlink_to(target)
    conftest = d / "conftest.py"
    if not conftest.exists() or conftest.read_text() != _CONFTEST:
        conftest.write_text(_CONFTEST)
    text = (REPO / "pyproject.toml").read_text() + _config(module, MODULES[module], tests)
    p = d / "pyproject.toml"
    if not p.exists() or p.read_text() != text:
        p.write_text(text)
    # Copies of the tests are refreshed (mutmut copies them once); mutants are re-made from
    # the source when it changed.
    shutil.rmtree(d / "mutants" / "tests", ignore_errors=True)
    return d


def _diff(d: Path, module: str, name: str) -> str:
    """The change a mutant makes, as ``-old`` / ``+new`` lines (from mutmut's mutants file)."""
    path = d / "mutants" / "src" / "routes" / f"{module}.py"
    if path not in _FUNCS:
        src = path.read_text()
        lines = src.splitlines()
        _FUNCS[path] = {f.name: "\n".join(lines[f.lineno - 1:f.end_lineno])
                        for f in ast.walk(ast.parse(src))
                        if isinstance(f, ast.FunctionDef | ast.AsyncFunctionDef)}
    funcs = _FUNCS[path]
    short = name.rsplit(".", 1)[-1]
    orig = funcs.get(short.rsplit("__mutmut_", 1)[0] + "__mutmut_orig", "")
    mutant = funcs.get(short, "")
    out, at = [], 0   # ``@N``: the first changed line is line N of the body (after the def)
    for ln in difflib.ndiff(orig.splitlines()[1:], mutant.splitlines()[1:]):
        if ln[:2] == "- " and not out:
            out.append(f"@{at}")
        if ln[:2] in ("- ", "+ "):
            out.append(ln[0] + ln[2:])
        at += ln[:2] in ("  ", "- ")
    return "\n".join(out)


_FUNCS: dict[Path, dict[str, str]] = {}


def _locate(module: str, name: str, diff: str) -> tuple[int, str]:
    """``(line, change)`` of a mutant from mutmut's diff of its function."""
    src = (REPO / "src" / "routes" / f"{module}.py").read_text()
    func = name.rsplit("__mutmut_", 1)[0].split(".")[-1]
    parts = func[2:].split("ǁ") if func.startswith("xǁ") else [func[2:]]  # x_f or xǁCǁm
    parts = [p for p in parts if p]
    start, end = 1, len(src.splitlines())
    body: list[ast.stmt] = ast.parse(src).body
    for part in parts:
        for node in body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) \
                    and node.name == part:
                start, end = node.lineno, node.end_lineno or end
                body = node.body
                break
    old = [ln[1:] for ln in diff.splitlines() if ln.startswith("-") and not ln.startswith("---")]
    new = [ln[1:] for ln in diff.splitlines() if ln.startswith("+") and not ln.startswith("+++")]
    lines = src.splitlines()
    line = start
    at = [int(ln[1:]) for ln in diff.splitlines() if ln.startswith("@")]
    if at and old and lines[start + at[0]].strip() == old[0].strip():
        line = start + 1 + at[0]    # (identical lines in one function are told apart)
    elif old:
        for i in range(start - 1, end):
            if lines[i].strip() == old[0].strip():
                line = i + 1
                break
    change = f"{' / '.join(s.strip() for s in old)}  ->  {' / '.join(s.strip() for s in new)}"
    return line, change


def _results(d: Path, env: dict[str, str], prefix: str) -> list[tuple[str, str]]:
    out = subprocess.run([str(MUTMUT), "results", "--all", "true"], cwd=d, env=env,
                         capture_output=True, text=True, check=False).stdout
    return [(m.group(1), m.group(2)) for m in map(_STATUS.match, out.splitlines())
            if m and m.group(1).startswith(prefix)]


def _refresh(d: Path, env: dict[str, str]) -> None:
    """Let mutmut (re)make the mutants of changed functions and its test map, testing none."""
    subprocess.run([str(MUTMUT), "run", "--max-children", "1", "routes.no_such_mutant*"],
                   cwd=d, env=env, capture_output=True, check=False)


def _sample(d: Path, env: dict[str, str], module: str, n: int) -> set[str]:
    """A fixed random sample of ``n`` of the module's mutants (kept in sample.txt)."""
    keep = d / "sample.txt"
    if keep.exists():
        names = keep.read_text().split()
        if len(names) == n:
            return set(names)
    meta = d / "mutants" / "src" / "routes" / f"{module}.py.meta"
    if not meta.exists():
        _refresh(d, env)
    names = sorted(json.loads(meta.read_text())["exit_code_by_key"])
    pick = sorted(random.Random(0).sample(names, min(n, len(names))))
    keep.write_text("\n".join(pick) + "\n")
    return set(pick)


def _run(module: str, a: argparse.Namespace) -> tuple[int, int, list[str], float]:
    d = _prepare(module, a.fresh, Path(a.tests).resolve())
    env = dict(os.environ, ROUTES_DATA=str(REPO / "data" / "geo"))
    prefix = "routes." + module.replace("/", ".") + "."
    t0 = time.monotonic()
    sample = _sample(d, env, module, a.sample) if a.sample else None
    # mutmut keeps its verdicts; named mutants are tested again (with the tests of now).
    if a.recheck:
        # Mutants of functions edited since the last run are made again first (and their
        # verdicts forgotten), so that this run tests them too.
        _refresh(d, env)
        again = ("survived", "not checked", "no tests")
        names = [n for n, st in _results(d, env, prefix) if st in again
                 and (sample is None or n in sample)]
    elif sample:
        names = [n for n, st in _results(d, env, prefix) if n in sample and st == "not checked"]
    else:
        names = []
    log = d / "run.log"
    with log.open("w") as fh:
        try:
            if names or not (a.recheck or sample):
                subprocess.run([str(MUTMUT), "run", "--max-children", str(a.children), *names],
                               cwd=d, env=env, stdout=fh, stderr=subprocess.STDOUT,
                               timeout=a.timeout, check=False)
        except subprocess.TimeoutExpired:
            print(f"  {module}: stopped after {a.timeout:.0f} s (the verdicts so far are kept;"
                  " run again to go on)")
    secs = time.monotonic() - t0
    counts: dict[str, int] = {}
    survivors = []
    lines = (REPO / "src" / "routes" / f"{module}.py").read_text().splitlines()
    for name, status in _results(d, env, prefix):
        if sample is not None and name not in sample:
            continue
        counts[status] = counts.get(status, 0) + 1
        if status in ("survived", "no tests"):
            diff = _diff(d, module, name)
            line, change = _locate(module, name, diff)
            survivors.append((f"src/routes/{module}.py:{line}: {change}   [{name}"
                              f"{', no test calls it' if status == 'no tests' else ''}]",
                              status == "survived" and _explained(lines, line)))
    killed = counts.get("killed", 0) + counts.get("timeout", 0) + counts.get("segfault", 0) \
        + counts.get("caught by type check", 0)
    tested = killed + counts.get("survived", 0) + counts.get("no tests", 0) \
        + counts.get("suspicious", 0)
    if counts.get("not checked"):
        print(f"  {module}: {counts['not checked']} mutants not tested yet")
    return killed, tested, sorted(survivors, key=_line_key), secs


def _line_key(s: tuple[str, bool]) -> int:
    return int(s[0].split(":")[1])


def _explained(lines: list[str], line: int) -> bool:
    """Whether source line ``line`` (1-based) carries an ``equivalent mutant`` comment: on
    the line itself, or in the comment lines right above it."""
    def comment(text: str) -> str:
        return text.split("#", 1)[1].lower() if "#" in text else ""

    if "equivalent mutant" in comment(lines[line - 1]):
        return True
    i = line - 2
    while i >= 0 and lines[i].lstrip().startswith("#"):
        if "equivalent mutant" in lines[i].lower():
            return True
        i -= 1
    return False


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("modules", nargs="*", metavar="MODULE",
                    help=f"any of: {', '.join(MODULES)} (default: all)")
    ap.add_argument("--timeout", type=float, default=3600.0,
                    help="seconds per module before it is stopped (default 3600)")
    ap.add_argument("--fresh", action="store_true", help="forget cached results first")
    ap.add_argument("--recheck", action="store_true",
                    help="test the surviving mutants again (after adding tests)")
    ap.add_argument("--sample", type=int, default=0,
                    help="test only a fixed random sample of N mutants per module (0: all)")
    ap.add_argument("--children", type=int, default=1, help="mutants tested at once (1)")
    ap.add_argument("--tests", default=str(REPO / "tests"),
                    help="the tests folder to use (default tests/; another one measures the "
                         "score of older tests)")
    a = ap.parse_args(argv)
    unknown = [m for m in a.modules if m not in MODULES]
    if unknown:
        ap.error(f"unknown module(s) {', '.join(unknown)}; choose from {', '.join(MODULES)}")
    rows = []
    for module in a.modules or list(MODULES):
        print(f"== {module}", flush=True)
        killed, tested, survivors, secs = _run(module, a)
        explained = sum(e for _, e in survivors)
        score = 100.0 * killed / tested if tested else float("nan")
        honest = 100.0 * killed / (tested - explained) if tested > explained else float("nan")
        print(f"  {killed}/{tested} killed ({score:.1f}%; {honest:.1f}% without the {explained} "
              f"explained as equivalent) in {secs:.0f} s; {len(survivors)} survived", flush=True)
        for text, known in survivors:
            print(f"  survived{' (explained)' if known else ''} {text}", flush=True)
        rows.append((module, tested, killed, len(survivors), explained, score, honest, secs))
    print("\nmodule                    tested  killed  survived  explained  score  "
          "score w/o explained   time")
    for module, tested, killed, surv, explained, score, honest, secs in rows:
        print(f"{module:<26}{tested:>6}  {killed:>6}  {surv:>8}  {explained:>9}  {score:5.1f}%"
              f"  {honest:17.1f}%  {secs:5.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
