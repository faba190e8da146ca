"""Ctrl-C during a budget curve, or during one solve, ends the process at once.

The hang this pins (issue 23): a curve solves its budgets in worker threads; on Ctrl-C the
main thread left the curve but ``ThreadPoolExecutor.shutdown`` (and the interpreter at exit)
joined the workers, which were inside HiGHS solves of up to 60 s each, so the process went on
for up to a minute after Ctrl-C (longer on a loaded machine, where solves are slower). Now the
running solves are asked to stop at HiGHS's next interrupt check (``priorities._cancel``).

The test makes the machine "slow" deterministically: in the child, each of HiGHS's interrupt
checks sleeps 0.2 s, so every solve of the shipped flow curve takes far longer than the 10 s
the test allows; the child says when both workers are inside a solve, then gets SIGINT.

A single solve outside a curve (``routes priorities --no-curve``, the trade-off's fronts) ran
in the main thread, where the ``KeyboardInterrupt`` waited for HiGHS to return; it now runs in
a helper thread that Ctrl-C stops (``priorities._cancel.run``): the second test.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time

CHILD = r"""
import sys, time
import routes.priorities._milp_solve as ms
from routes.costs import load_cost_model
from routes.geodata import load_dataset
from routes.network import network_from_data
from routes.priorities import budget_curve
from routes.settings import DATA_DIR, DEFAULT_COST_MODEL

make = ms._highs
started = []

def slow_highs():
    h = make()
    said = []
    def slow(e):                      # every interrupt check of this solve takes 0.2 s
        if not said:
            said.append(1)
            started.append(1)
            if len(started) == 2:
                print("both solving", flush=True)
        time.sleep(0.2)
    h.cbMipInterrupt.subscribe(slow)
    h.cbSimplexInterrupt.subscribe(slow)
    return h

ms._highs = slow_highs
cm = load_cost_model(DEFAULT_COST_MODEL)
G = network_from_data(load_dataset(DATA_DIR, classes=set(cm.classes)), cm)
print("ready", flush=True)
try:
    budget_curve(G, [6.0, 7.0, 8.0, 9.0, 10.0], objective="flow", cm=cm, workers=2)
except KeyboardInterrupt:
    print("interrupted", flush=True)
    sys.exit(130)
print("finished", flush=True)
"""


SINGLE = CHILD.replace("len(started) == 2", "len(started) == 1").replace(
    "both solving", "solving").replace(
    "budget_curve(G, [6.0, 7.0, 8.0, 9.0, 10.0], objective=\"flow\", cm=cm, workers=2)",
    "interdict_exact(G, 10.0, objective=\"flow\", cm=cm)").replace(
    "import budget_curve", "import interdict_exact")


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def _interrupted(child: str, said: str) -> tuple[str, str, int | None, float]:
    """Run ``child``, send SIGINT once it prints ``said``: its output and the seconds after."""
    p = subprocess.Popen([sys.executable, "-X", "faulthandler", "-c", child],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         preexec_fn=_default_sigint)
    try:
        assert p.stdout is not None
        assert p.stdout.readline() == "ready\n", p.communicate()
        line = p.stdout.readline()   # the solves have started
        assert line == said + "\n", (line, p.communicate())
        t0 = time.monotonic()
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=120)
        seconds = time.monotonic() - t0
    finally:
        if p.poll() is None:
            p.kill()
            p.communicate()
    return out, err, p.returncode, seconds


def test_ctrl_c_stops_a_curve_with_two_workers_inside_solves():
    out, err, code, seconds = _interrupted(CHILD, "both solving")
    assert "interrupted" in out and "finished" not in out, (out, err)
    assert code == 130
    assert "Traceback" not in err, err
    # Before the fix the process waited for both running solves: minutes at 0.2 s a check.
    assert seconds < 10, f"the curve went on for {seconds:.1f} s after Ctrl-C"


def test_ctrl_c_stops_a_single_solve_in_the_main_thread():
    assert "interdict_exact(G, 10.0" in SINGLE and "len(started) == 1" in SINGLE
    out, err, code, seconds = _interrupted(SINGLE, "solving")
    assert "interrupted" in out and "finished" not in out, (out, err)
    assert code == 130
    assert "Traceback" not in err, err
    # Before, the KeyboardInterrupt waited for the solve: its time limit at 0.2 s a check.
    assert seconds < 10, f"the solve went on for {seconds:.1f} s after Ctrl-C"
