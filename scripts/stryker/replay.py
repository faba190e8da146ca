"""Re-judge mutants of a StrykerJS run alone, one at a time (make mutate-js, issue 24).

A mutant that StrykerJS reports as timed out may loop for real or may only have been slow on
a loaded machine. This script writes each chosen mutant into a copy of whatif.js (from the
run's JSON report, ``.mutate/stryker/mutation.json``), runs the judge
(scripts/stryker/whatif_judge.js) on it with the run's fixtures under a limit of processor
time (not wall time: a loaded machine slows a mutant, it does not make it loop), and prints
what it found: ``killed`` (the judge's reason), ``survived`` or ``loops`` (stopped at the
limit, many times the unmutated engine's ~1 s: a genuine timeout).

Usage: python scripts/stryker/replay.py [--status Timeout] [--cpu 8] [--id ID ...] [--jobs 2]
       [--report .mutate/stryker/mutation.json] [--fixtures .mutate/stryker/fixtures]
       [--rev REV]   (the judge and the Node harness as committed at REV, for a run's report
                     made before they changed)
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ENGINE = "src/routes/static/whatif.js"


def mutated(source: str, m: dict) -> str:
    """``source`` with mutant ``m`` applied (its location: 1-based lines, 0-based columns)."""
    lines = source.split("\n")
    start, end = m["location"]["start"], m["location"]["end"]

    def offset(pos: dict) -> int:
        return sum(len(x) + 1 for x in lines[:pos["line"] - 1]) + pos["column"] - 1

    a, b = offset(start), offset(end)
    return source[:a] + m["replacement"] + source[b:]


def harness(rev: str | None) -> dict[str, str]:
    """The judge and the Node harness, from the work tree or as committed at ``rev``."""
    out = {}
    for rel in ("tests/whatif_node.js", "scripts/stryker/whatif_judge.js"):
        out[rel] = (subprocess.run(["git", "-C", str(ROOT), "show", f"{rev}:{rel}"], check=True,
                                   capture_output=True, text=True).stdout
                    if rev else (ROOT / rel).read_text(encoding="utf-8"))
    return out


def judge(text: str, fixtures: Path, cpu: int, files: dict[str, str]) -> tuple[str, str]:
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))

    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        for rel, body in files.items():
            (t / rel).parent.mkdir(parents=True, exist_ok=True)
            (t / rel).write_text(body, encoding="utf-8")
        (t / ENGINE).parent.mkdir(parents=True, exist_ok=True)
        (t / ENGINE).write_text(text, encoding="utf-8")
        env = {**os.environ, "WHATIF_JUDGE_DIR": str(fixtures)}
        p = subprocess.run(["nice", "-n", "19", "node", str(t / "scripts/stryker/whatif_judge.js")],
                           env=env, capture_output=True, text=True, preexec_fn=limit)
    if p.returncode < 0:
        return "loops", f"stopped after {cpu} s of processor time (signal {-p.returncode})"
    out = (p.stdout + p.stderr).strip().splitlines()
    return ("survived" if p.returncode == 0 else "killed"), (out[-1] if out else "")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--report", type=Path, default=ROOT / ".mutate/stryker/mutation.json")
    ap.add_argument("--fixtures", type=Path, default=ROOT / ".mutate/stryker/fixtures")
    ap.add_argument("--status", default="Timeout")
    ap.add_argument("--id", nargs="*", default=None)
    ap.add_argument("--cpu", type=int, default=8)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--rev", default=None)
    args = ap.parse_args()
    report = json.loads(args.report.read_text(encoding="utf-8"))
    (name, f), = ((k, v) for k, v in report["files"].items() if k.endswith("whatif.js"))
    source = f["source"]
    chosen = [m for m in f["mutants"]
              if (m["id"] in args.id if args.id else m["status"] == args.status)]
    counts: dict[str, int] = {}
    with ThreadPoolExecutor(args.jobs) as pool:
        files = harness(args.rev)
        found = pool.map(lambda m: judge(mutated(source, m), args.fixtures, args.cpu, files),
                         chosen)
    for m, (what, why) in zip(chosen, found, strict=True):
        counts[what] = counts.get(what, 0) + 1
        loc = m["location"]["start"]
        print(f"{m['id']}\tline {loc['line']}\t{m['mutatorName']}\t{m['replacement']!r}\t"
              f"{what}\t{why}", flush=True)
    print(f"{len(chosen)} mutants: {counts}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
