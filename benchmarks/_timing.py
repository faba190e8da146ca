"""Timing helpers shared by the benchmarks."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any


def median_time(fn: Callable[[], Any], *, repeat: int = 3) -> float:
    """Median wall time in seconds of ``repeat`` calls of ``fn``."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def row(label: str, base_s: float, ours_s: float, width: int = 44) -> str:
    """One table row: label, baseline time, our time, ratio."""
    return f"{label:<{width}} {base_s:10.4f} s {ours_s:10.4f} s {base_s / ours_s:8.1f}x"
