"""Stopping the MILPs of a budget curve that are still solving (Ctrl-C, an error).

A budget curve solves its budgets in worker threads (:mod:`routes.priorities.curves`). When
the caller stops waiting (Ctrl-C raises ``KeyboardInterrupt`` in the main thread; or another
budget failed), the budgets not started are cancelled and the solves in progress are asked
to stop at HiGHS's next interrupt check; a worker whose solve was stopped ends with
:class:`Cancelled`. Without this, leaving the curve waited for every running solve (each up
to its time limit, 60 s by default): ``ThreadPoolExecutor.shutdown`` joins its threads, and
so does the interpreter at exit, so a Ctrl-C did not end the process until they finished.

The scope is per curve and reaches the solver through a thread-local, so the MILP code needs
no extra argument: :func:`running` wraps ``Highs.run`` and does nothing outside a scope.

A solve outside a curve (``routes priorities --no-curve``, the trade-off's fronts, the report's
single solves) runs in the main thread, where Python only handles Ctrl-C between bytecodes:
the ``KeyboardInterrupt`` waited for ``Highs.run`` to return, up to its time limit.
:func:`run` therefore runs such a solve in a helper thread under a scope of its own and
waits for it in small steps, so Ctrl-C stops the solve at HiGHS's next interrupt check and is
raised at once. In a worker thread (or inside a scope) it calls ``Highs.run`` directly.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any

__all__ = ["Cancelled", "CancelScope", "within", "running", "run"]

_LOCAL = threading.local()


class Cancelled(Exception):
    """A solve stopped because its curve was cancelled (never seen by a caller)."""


class CancelScope:
    """The solves of one curve: running ones can be asked to stop, later ones refuse to start."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running: set[Any] = set()
        self.cancelled = False

    def cancel(self) -> None:
        """Refuse new solves and ask each running one to stop at its next interrupt check."""
        with self._lock:
            self.cancelled = True
            running = list(self._running)
        for h in running:
            _ask_to_stop(h)

    def _enter(self, h: Any) -> None:
        with self._lock:
            if self.cancelled:
                raise Cancelled
            self._running.add(h)

    def _leave(self, h: Any) -> None:
        with self._lock:
            self._running.discard(h)
            if self.cancelled:
                raise Cancelled


def _interrupt(e: Any) -> None:
    e.interrupt()


def _ask_to_stop(h: Any) -> None:
    """Subscribe HiGHS's interrupt callbacks (MIP, simplex, IPM) to stop the solve now.

    Called from another thread while ``h.run()`` holds no GIL: subscribing only sets the
    solver's callback flags (under the GIL, as the solver's own callbacks are run).
    """
    for cb in (h.cbMipInterrupt, h.cbSimplexInterrupt, h.cbIpmInterrupt):
        if _interrupt not in cb.callbacks:
            cb.subscribe(_interrupt)


@contextlib.contextmanager
def within(scope: CancelScope) -> Iterator[None]:
    """Run the block's solves (in this thread) under ``scope``."""
    prev = getattr(_LOCAL, "scope", None)
    _LOCAL.scope = scope
    try:
        yield
    finally:
        _LOCAL.scope = prev


@contextlib.contextmanager
def running(h: Any) -> Iterator[None]:
    """Wrap ``h.run()``: registered with the thread's scope, if any, while it runs.

    Raises :class:`Cancelled` before a solve of a cancelled scope starts, and after one that
    was stopped (its result is not used).
    """
    scope: CancelScope | None = getattr(_LOCAL, "scope", None)
    if scope is None:
        yield
        return
    scope._enter(h)
    try:
        yield
    finally:
        scope._leave(h)


#: Seconds between the main thread's checks for Ctrl-C while a solve runs (:func:`run`).
POLL_S = 0.05


def run(h: Any) -> None:
    """Run ``h.run()`` so that Ctrl-C in the main thread stops it at once (module notes).

    Raises :class:`Cancelled` if the thread's scope was cancelled, ``KeyboardInterrupt``
    after stopping the solve on Ctrl-C, and re-raises what the solve raised.
    """
    if getattr(_LOCAL, "scope", None) is not None \
            or threading.current_thread() is not threading.main_thread():
        with running(h):
            h.run()
        return
    scope = CancelScope()
    failed: list[BaseException] = []
    # Completion is an Event, not Thread.join: in Python 3.11 a join that Ctrl-C interrupts
    # can leave the thread marked stopped, so a second join returned while it was still in
    # HiGHS, and the interpreter then aborted at exit ("terminate called without an active
    # exception") when that thread came back for the GIL.
    done = threading.Event()

    def solve() -> None:
        try:
            with within(scope), running(h):
                h.run()
        except Cancelled:   # stopped on Ctrl-C: the main thread raises KeyboardInterrupt
            pass
        except BaseException as e:  # noqa: BLE001 - handed to the main thread
            failed.append(e)
        finally:
            done.set()

    t = threading.Thread(target=solve, name="routes-highs", daemon=True)
    try:
        t.start()   # (inside the try: a Ctrl-C while the thread starts stops it too)
        while not done.wait(POLL_S):
            pass
    except KeyboardInterrupt:
        scope.cancel()
        # A thread not yet running never enters the solver: the cancelled scope refuses it.
        if t.is_alive():
            done.wait()
        raise
    if failed:
        raise failed[0]
