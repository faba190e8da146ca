"""Progress of a long command on stderr: a tqdm bar in a terminal, plain lines elsewhere.

Outside a terminal (a log file, a pipe, CI) a bar would write carriage-return frames into
the log: there each step is one plain line instead.
"""

from __future__ import annotations

import sys
from types import TracebackType
from typing import TextIO

from tqdm import tqdm

__all__ = ["StepProgress"]


class StepProgress:
    """Count ``total`` steps of a command; :meth:`step` after each, :meth:`note` within one.

    Examples
    --------
    >>> import io
    >>> out = io.StringIO()
    >>> with StepProgress(2, "curve", stream=out) as p:
    ...     p.step("budget 0 solved")
    ...     p.note("solving budget 1")
    ...     p.step("budget 1 solved")
    >>> print(out.getvalue(), end="")
    curve: budget 0 solved [1/2]
    curve: solving budget 1
    curve: budget 1 solved [2/2]
    """

    def __init__(self, total: int, desc: str, *, unit: str = "step", disable: bool = False,
                 stream: TextIO | None = None) -> None:
        self.total, self.desc, self.disable, self.n = total, desc, disable, 0
        self.stream = sys.stderr if stream is None else stream
        isatty = getattr(self.stream, "isatty", None)
        self.tty = bool(isatty and isatty())
        self.bar = tqdm(total=total, desc=desc, file=self.stream, unit=unit,
                        disable=disable or not self.tty, dynamic_ncols=True,
                        bar_format="{desc:<12}{bar:30} {n_fmt}/{total_fmt} [{elapsed}] "
                                   "{postfix}") if self.tty and not disable else None

    def step(self, message: str) -> None:
        """One step done (``message`` says which)."""
        self.n += 1
        if self.bar is not None:
            self.bar.set_postfix_str(message, refresh=False)
            self.bar.update(1)
        elif not self.disable:
            print(f"{self.desc}: {message} [{self.n}/{self.total}]", file=self.stream,
                  flush=True)

    def note(self, message: str) -> None:
        """Say what the current step is doing."""
        if self.bar is not None:
            self.bar.set_postfix_str(message)
        elif not self.disable:
            print(f"{self.desc}: {message}", file=self.stream, flush=True)

    def close(self) -> None:
        """Close the bar (plain lines need nothing)."""
        if self.bar is not None:
            self.bar.close()

    def __enter__(self) -> StepProgress:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
