"""Table parsing shared by the readers of the input files.

Each helper appends one :class:`~routes._errors.Problem` per bad value (file, row, field)
instead of raising, so a reader can report every problem of a file at once. Row numbers are
the line numbers an editor shows (the header is line 1).
"""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from ._errors import Problem

__all__ = ["read_table", "check_required", "to_float", "check_enum", "check_unique",
           "check_date"]


def read_table(path: Path, fields: tuple[str, ...], problems: list[Problem], *,
               optional: frozenset[str] | set[str] = frozenset()) -> pd.DataFrame:
    """Read a CSV file as strings; append a :class:`Problem` per missing required column.

    Every value is stripped; ``line_no`` holds each row's line in the file (header = 1).
    Columns of ``fields`` that are absent are added empty.
    """
    file = str(path)
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    except FileNotFoundError:
        problems.append(Problem(file, None, None, "file not found"))
        return pd.DataFrame(columns=[*fields, "line_no"])
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        problems.append(Problem(file, None, None, f"cannot parse CSV: {exc}"))
        return pd.DataFrame(columns=[*fields, "line_no"])
    df.columns = [c.strip() for c in df.columns]
    missing = [f for f in fields if f not in df.columns and f not in optional]
    for f in missing:
        problems.append(Problem(file, 1, f, "required column missing from the header"))
    for f in fields:
        if f not in df.columns:
            df[f] = ""
    df = df.apply(lambda s: s.str.strip())
    df["line_no"] = np.arange(len(df)) + 2
    return df


def check_required(df: pd.DataFrame, file: str, cols: tuple[str, ...],
                    problems: list[Problem]) -> None:
    for col in cols:
        for row in df.loc[df[col] == "", "line_no"]:
            problems.append(Problem(file, int(row), col, "empty; a value is required"))


def to_float(df: pd.DataFrame, file: str, col: str, problems: list[Problem], *,
              lo: float | None = None, hi: float | None = None,
              lo_open: bool = False) -> pd.Series:
    out = pd.to_numeric(df[col].replace("", np.nan), errors="coerce")
    for i in df.index:
        raw = df.at[i, col]
        if raw == "":
            continue
        v = out.at[i]
        row = int(df.at[i, "line_no"])
        if pd.isna(v) or not math.isfinite(v):
            problems.append(Problem(file, row, col, f"not a number: {raw!r}"))
            continue
        too_low = lo is not None and (v <= lo if lo_open else v < lo)
        if too_low or (hi is not None and v > hi):
            left = "(" if lo_open else "["
            problems.append(Problem(file, row, col, f"{v} out of range {left}{lo}, {hi}]"))
    return out.astype(float)


def check_enum(df: pd.DataFrame, file: str, col: str, allowed: tuple[str, ...] | set[str],
                problems: list[Problem]) -> None:
    for i in df.index:
        v = df.at[i, col]
        if v != "" and v not in allowed:
            problems.append(Problem(file, int(df.at[i, "line_no"]), col,
                                    f"{v!r} is not one of {', '.join(sorted(allowed))}"))


def check_unique(df: pd.DataFrame, file: str, col: str, problems: list[Problem],
                  seen: dict[str, str] | None = None) -> None:
    first: dict[str, int] = {}
    for i in df.index:
        v = df.at[i, col]
        row = int(df.at[i, "line_no"])
        if v == "":
            continue
        if v in first:
            problems.append(Problem(file, row, col,
                                    f"duplicate id {v!r} (first at row {first[v]})"))
        elif seen is not None and v in seen:
            problems.append(Problem(file, row, col, f"id {v!r} is already used in {seen[v]}"))
        else:
            first[v] = row
    if seen is not None:
        seen.update({k: file for k in first})


def check_date(df: pd.DataFrame, file: str, col: str, problems: list[Problem]) -> pd.Series:
    """Parse ``col`` as ISO dates (YYYY-MM-DD); empty stays ``NaT``, bad values are problems."""
    out = pd.Series(pd.NaT, index=df.index, dtype="datetime64[ns]")
    for i in df.index:
        raw = df.at[i, col]
        if raw == "":
            continue
        try:
            out.at[i] = pd.Timestamp(date.fromisoformat(raw))
        except ValueError:
            problems.append(Problem(file, int(df.at[i, "line_no"]), col,
                                    f"not an ISO date (YYYY-MM-DD): {raw!r}"))
    return out
