"""One small exception family for the whole package.

The library raises these; only the CLI turns them into a one-line message and exit code 2.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["RoutesError", "DataError", "Problem", "NoRouteError", "ScenarioError",
           "MAX_LISTED"]


class RoutesError(Exception):
    """Base class of every error raised by ``routes``."""


@dataclass(frozen=True)
class Problem:
    """One problem found in an input file.

    ``row`` is the 1-based line number in the file as a user sees it in an editor
    (the header is line 1, so the first data row is line 2); ``None`` for file-level problems.
    """

    file: str
    row: int | None
    field: str | None
    message: str

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f", row {self.row}"
        if self.field:
            where += f", field '{self.field}'"
        return f"{where}: {self.message}"


#: Most problems a :class:`DataError`'s message lists (all are in ``problems``).
MAX_LISTED = 50


class DataError(RoutesError, ValueError):
    """Invalid input data: carries every problem found, each with file, row and field.

    The message lists the first :data:`MAX_LISTED` problems and the count of the others,
    then the checks that could not run (``skipped``) and why.
    """

    def __init__(self, problems: list[Problem] | Problem, *, skipped: list[str] | None = None):
        if isinstance(problems, Problem):
            problems = [problems]
        self.problems: list[Problem] = list(problems)
        self.skipped: list[str] = list(skipped or [])
        first = self.problems[0] if self.problems else None
        self.file = first.file if first else None
        self.row = first.row if first else None
        self.field = first.field if first else None
        n = len(self.problems)
        lines = [f"  - {p}" for p in self.problems[:MAX_LISTED]]
        if n > MAX_LISTED:
            lines.append(f"  ... and {n - MAX_LISTED} more")
        lines += [f"  not checked: {s}" for s in self.skipped]
        head = f"{n} problem{'s' if n != 1 else ''} in the input data"
        super().__init__(head + ":\n" + "\n".join(lines))


class ScenarioError(DataError):
    """A scenario file that cannot be applied (unknown ids, bad values)."""


class NoRouteError(RoutesError):
    """No route exists between the requested origins and markets."""
