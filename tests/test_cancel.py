"""Stopping the solves of a budget curve, and Ctrl-C during a single solve (``priorities._cancel``).

Stand-in solvers (no HiGHS): an object with ``run()`` and HiGHS's three interrupt callback
lists (``cbMipInterrupt``, ``cbSimplexInterrupt``, ``cbIpmInterrupt``, each with ``callbacks``
and ``subscribe``), so each rule is seen directly and fast. The end-to-end Ctrl-C tests (a
child process solving the shipped network) are in ``test_curve_interrupt.py``.
"""

from __future__ import annotations

import _thread
import signal
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from routes.priorities import _cancel
from routes.priorities._cancel import Cancelled, CancelScope, run, running, within


class _Callback:
    def __init__(self) -> None:
        self.callbacks: list[Callable[[Any], None]] = []

    def subscribe(self, fn: Callable[[Any], None]) -> None:
        self.callbacks.append(fn)


class _Solver:
    """``run()`` calls ``body`` (if any) and records the thread it ran in."""

    def __init__(self, body: Callable[[_Solver], None] | None = None) -> None:
        self.cbMipInterrupt, self.cbSimplexInterrupt, self.cbIpmInterrupt = \
            _Callback(), _Callback(), _Callback()
        self.body = body
        self.threads: list[threading.Thread] = []

    def run(self) -> None:
        self.threads.append(threading.current_thread())
        if self.body is not None:
            self.body(self)

    def asked_to_stop(self) -> list[int]:
        """How many times ``_interrupt`` is subscribed to each of the three callbacks."""
        return [cb.callbacks.count(_cancel._interrupt)
                for cb in (self.cbMipInterrupt, self.cbSimplexInterrupt, self.cbIpmInterrupt)]


def _solve_until_asked_to_stop(h: _Solver, stopped: threading.Event) -> None:
    """A solve that goes on (up to 10 s) until asked to stop, then sets ``stopped``."""
    for _ in range(2000):
        if h.asked_to_stop() == [1, 1, 1]:
            stopped.set()
            return
        time.sleep(0.005)


class _Event:
    interrupt_called = 0

    def interrupt(self) -> None:
        self.interrupt_called += 1


def test_a_solve_outside_a_scope_is_not_registered():
    """``running`` does nothing without a scope: no Cancelled, nothing subscribed."""
    h = _Solver()
    with running(h):
        h.run()
    assert h.asked_to_stop() == [0, 0, 0]


def test_cancel_asks_a_running_solve_to_stop_once_then_raises_cancelled_after_it():
    """A cancel during a solve subscribes the interrupt to HiGHS's three interrupt
    callbacks (MIP, simplex, IPM), once each even when cancelled twice; the solve's end then
    raises Cancelled (its result is not used)."""
    scope = CancelScope()

    def body(h: _Solver) -> None:
        scope.cancel()
        scope.cancel()
        assert h.asked_to_stop() == [1, 1, 1]

    h = _Solver(body)
    with within(scope), pytest.raises(Cancelled), running(h):
        h.run()
    assert scope.cancelled is True and h.threads


def test_a_cancelled_scope_refuses_to_start_a_solve():
    """After a cancel, a new solve of the scope raises Cancelled before it runs."""
    scope = CancelScope()
    scope.cancel()
    h = _Solver()
    with within(scope), pytest.raises(Cancelled), running(h):
        h.run()
    assert h.threads == [] and h.asked_to_stop() == [0, 0, 0]


def test_a_finished_solve_is_not_asked_to_stop_and_scopes_nest():
    """A solve that ended leaves its scope (a later cancel does not touch it); ``within``
    restores the enclosing scope, and none after the outermost."""
    outer, inner = CancelScope(), CancelScope()
    h = _Solver()
    assert outer.cancelled is False
    with within(outer):
        with within(inner), running(h):
            h.run()
        inner.cancel()
        outer.cancel()
        assert h.asked_to_stop() == [0, 0, 0]
        with pytest.raises(Cancelled), running(_Solver()):   # outer is back, and cancelled
            pass
    with running(h):      # no scope any more: nothing raised
        h.run()


def test_the_interrupt_callback_interrupts_the_solver():
    """What is subscribed calls the event's ``interrupt()`` (HiGHS then stops)."""
    e = _Event()
    _cancel._interrupt(e)
    assert e.interrupt_called == 1


def test_run_in_the_main_thread_solves_in_a_helper_thread_and_reraises_its_error():
    """Outside a scope, in the main thread, the solve runs in a daemon thread named
    ``routes-highs`` (so Ctrl-C is seen at once); what it raises is raised to the caller."""
    h = _Solver()
    run(h)
    (t,) = h.threads
    assert t is not threading.main_thread() and t.name == "routes-highs" and t.daemon

    def fail(h: _Solver) -> None:
        raise ValueError("solver failed")

    with pytest.raises(ValueError, match="solver failed"):
        run(_Solver(fail))


def test_run_inside_a_scope_or_a_worker_thread_solves_in_place():
    """Inside a scope (a curve's worker) or outside the main thread, ``run`` calls
    ``h.run()`` in the caller's thread, registered with the scope."""
    h = _Solver()
    scope = CancelScope()
    scope.cancel()
    with within(scope), pytest.raises(Cancelled):
        run(h)
    assert h.threads == []
    g = _Solver()
    with within(CancelScope()):
        run(g)
    assert g.threads == [threading.main_thread()]
    w = _Solver()
    t = threading.Thread(target=run, args=(w,))
    t.start()
    t.join()
    assert w.threads == [t]


def test_ctrl_c_during_a_solve_stops_it_and_is_raised_at_once(monkeypatch):
    """Ctrl-C (``KeyboardInterrupt`` in the main thread) while a solve runs asks the solve to
    stop, waits for it to end (its Cancelled is not raised) and raises KeyboardInterrupt. The
    main thread looks for Ctrl-C at least every 0.1 s (the waits it polls with, via a spy)."""
    events: list[list[float | None]] = []     # the timeouts waited for, per event made

    class SpyEvent(threading.Event):
        def __init__(self) -> None:
            super().__init__()
            self.waits: list[float | None] = []
            events.append(self.waits)

        def wait(self, timeout: float | None = None) -> bool:
            self.waits.append(timeout)
            return super().wait(timeout)

    stopped, pause = threading.Event(), threading.Event()
    monkeypatch.setattr(_cancel.threading, "Event", SpyEvent)

    def body(h: _Solver) -> None:
        for _ in range(2000):                 # once the main thread waits for the solve,
            if events[0]:
                break
            pause.wait(0.005)
        _thread.interrupt_main()              # Ctrl-C
        _solve_until_asked_to_stop(h, stopped)

    h = _Solver(body)
    # Ctrl-C raises KeyboardInterrupt whatever handler the test runner left installed
    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with pytest.raises(KeyboardInterrupt):
            run(h)
    finally:
        signal.signal(signal.SIGINT, before)
    assert stopped.is_set()
    *polls, last = events[0]                  # the first event made is the solve's "done"
    assert polls and all(w is not None and w <= 0.1 for w in polls) and last is None


def test_a_curves_solve_run_in_place_can_be_stopped():
    """In a curve's worker (a scope), ``run`` registers the solve with the scope: a cancel
    while it runs asks that solver to stop, and its end raises Cancelled."""
    scope = CancelScope()

    def body(h: _Solver) -> None:
        scope.cancel()
        assert h.asked_to_stop() == [1, 1, 1]

    h = _Solver(body)
    with within(scope), pytest.raises(Cancelled):
        run(h)
    assert h.threads == [threading.main_thread()]


@pytest.mark.parametrize("alive", [True, False])
def test_ctrl_c_while_the_solve_thread_starts_stops_it(monkeypatch, alive):
    """Ctrl-C that arrives while the helper thread is being started (before the main thread
    polls) still cancels the solve: a thread already running is waited for and the solve
    stops; a thread not yet running is not waited for, and when it runs the cancelled scope
    refuses to start the solve. KeyboardInterrupt is raised either way."""
    started: list[threading.Thread] = []
    real_start = threading.Thread.start
    entered, stopped = threading.Event(), threading.Event()

    def start(self: threading.Thread) -> None:
        if alive:
            real_start(self)
            assert entered.wait(5)            # Ctrl-C once the solve is under way
        started.append(self)
        raise KeyboardInterrupt

    monkeypatch.setattr(threading.Thread, "start", start)

    def body(h: _Solver) -> None:
        entered.set()
        _solve_until_asked_to_stop(h, stopped)

    h = _Solver(body)
    with pytest.raises(KeyboardInterrupt):
        run(h)
    (t,) = started
    if alive:
        assert stopped.is_set() and not t.is_alive()
    else:
        monkeypatch.undo()
        t.start()                             # the thread runs late: no solve starts
        t.join(5)
        assert h.threads == [] and not t.is_alive()
