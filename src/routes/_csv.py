"""Table parsing shared by the readers of the input files.

Each helper appends one :class:`~routes._errors.Problem` per bad value (file, row, field)
instead of raising, so a reader can report every problem of a file at once. Row numbers are
the line numbers an editor shows (the header is line 1).
"""

from __future__ import annotations

import csv
import io
import math
import re
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from ._errors import Problem

__all__ = ["CONTROL_CHARS", "read_table", "check_required", "to_float", "check_enum",
           "check_unique", "check_date"]


#: Control characters refused in any text value (XML, hence GraphML, cannot hold them);
#: tab, line feed and carriage return are allowed (quoted multi-line values).
CONTROL_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def read_table(path: Path, fields: tuple[str, ...], problems: list[Problem], *,
               optional: frozenset[str] | set[str] = frozenset()) -> pd.DataFrame:
    """Read a CSV file as strings; append a :class:`Problem` per problem found.

    Every value is stripped; ``line_no`` holds the line of the file where each row starts,
    as an editor shows it (header = 1; blank lines and multi-line quoted values counted).
    Columns of ``fields`` that are absent are added empty. Problems: an unreadable file,
    bytes that are not UTF-8 (by line), a header not separated by commas, a missing required
    column, a row whose number of values differs from the header's, a control character in
    a value.
    """
    file = str(path)
    empty = pd.DataFrame(columns=[*fields, "line_no"])
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        problems.append(Problem(file, None, None, "file not found"))
        return empty
    except IsADirectoryError:
        problems.append(Problem(file, None, None, "is a folder, not a file"))
        return empty
    except OSError as exc:
        problems.append(Problem(file, None, None, f"cannot read: {exc.strerror or exc}"))
        return empty
    records = _records(_decode(raw, file, problems), file, problems)
    if not records:
        problems.append(Problem(file, None, None, "empty file: no header"))
        return empty
    _, header = records[0]
    header = [c.strip() for c in header]
    sep = _other_separator(header, fields)
    if sep:
        # the field is the first column expected: the whole header was read as its name
        required = ",".join(f for f in fields if f not in optional)
        extra = [f for f in fields if f in optional]
        also = f" (optional: {','.join(extra)})" if extra else ""
        problems.append(Problem(file, 1, fields[0], f"expected comma-separated columns "
                                                    f"{required}{also}; the header is "
                                                    f"separated by {sep!r} (save the file as "
                                                    "CSV with commas)"))
        return empty
    for f in fields:
        if f not in header and f not in optional:
            problems.append(Problem(file, 1, f, "required column missing from the header"))
    rows, lines = [], []
    for line, values in records[1:]:
        if len(values) != len(header):
            problems.append(_width_problem(file, line, values, header))
            continue
        rows.append(values)
        lines.append(line)
    df = pd.DataFrame(rows, columns=header, dtype=str) if rows else pd.DataFrame(
        columns=header, dtype=str)
    df = df.loc[:, ~df.columns.duplicated()]
    for f in fields:
        if f not in df.columns:
            df[f] = ""
    df = df.apply(lambda s: s.str.strip()).astype(object)
    df["line_no"] = np.array(lines, dtype=np.int64)
    _check_control(df, file, problems)
    return df


def _decode(raw: bytes, file: str, problems: list[Problem]) -> str:
    """Decode UTF-8 (a byte-order mark is dropped); name each line holding other bytes."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    for i, line in enumerate(raw.split(b"\n"), start=1):
        try:
            line.decode("utf-8")
        except UnicodeDecodeError as exc:
            if i == 1 and line.startswith(b"\xef\xbb\xbf"):
                continue
            problems.append(Problem(file, i, None,
                                    f"not UTF-8: byte 0x{line[exc.start]:02x} at column "
                                    f"{exc.start + 1}; save the file as UTF-8"))
    return raw.decode("utf-8-sig", errors="replace")


def _records(text: str, file: str, problems: list[Problem]) -> list[tuple[int, list[str]]]:
    """Return ``(first line, values)`` of each non-blank record."""
    reader = csv.reader(io.StringIO(text, newline=""))
    out: list[tuple[int, list[str]]] = []
    last = 0
    try:
        for values in reader:
            start, last = last + 1, reader.line_num
            if values:
                out.append((start, values))
    except csv.Error as exc:
        problems.append(Problem(file, last + 1, None, f"cannot parse CSV: {exc}"))
    return out


def _width_problem(file: str, line: int, values: list[str], header: list[str]) -> Problem:
    """Return the problem of a row whose width differs from the header's, naming a field.

    Fewer values: the first column left without one; more: the last column (the values
    beyond it have no column). A row separated by another character is said so.
    """
    n, m = len(values), len(header)
    field = header[n] if n < m else header[-1]
    sep = _other_separator(values[:1], ()) if n == 1 and m > 1 else ""
    if sep:
        why = f"the row is separated by {sep!r}, not by commas"
    elif n < m:
        why = f"no value from column {field!r} on"
    else:
        why = "values beyond the last column (a comma inside a value needs double quotes)"
    return Problem(file, line, field, f"{n} values but the header has {m} columns: {why}")


def _other_separator(header: list[str], fields: tuple[str, ...]) -> str:
    """Return ``;``, tab or ``|`` when the header is one column separated by it, else ``""``."""
    if len(header) != 1 or header[0] in fields:
        return ""
    for sep in (";", "\t", "|"):
        if sep in header[0]:
            return sep
    return ""


def _check_control(df: pd.DataFrame, file: str, problems: list[Problem]) -> None:
    for col in df.columns:
        if col == "line_no":
            continue
        bad = df[col].str.contains(CONTROL_CHARS, na=False)
        for i in df.index[bad.to_numpy()]:
            ch = CONTROL_CHARS.search(df.at[i, col])
            assert ch is not None
            problems.append(Problem(file, int(df.at[i, "line_no"]), col,
                                    f"control character U+{ord(ch.group()):04X} in the text; "
                                    "remove it"))


def check_required(df: pd.DataFrame, file: str, cols: tuple[str, ...],
                    problems: list[Problem]) -> None:
    for col in cols:
        for row in df.loc[df[col] == "", "line_no"]:
            problems.append(Problem(file, int(row), col, "empty; a value is required"))


def to_float(df: pd.DataFrame, file: str, col: str, problems: list[Problem], *,
              lo: float | None = None, hi: float | None = None,
              lo_open: bool = False) -> pd.Series:
    """Parse ``col`` as finite numbers in the range; a bad value is a problem and becomes NaN.

    Not a number, infinite (``inf``), or too large for a float (``1e400``) is "not a
    finite number"; outside ``lo``..``hi`` is "out of range". A bad value is returned as
    NaN (like an empty one), so that no later check computes with it.

    Examples
    --------
    >>> df = pd.DataFrame({"lat": ["45.5", "1e400", "x", "95", ""], "line_no": [2, 3, 4, 5, 6]})
    >>> probs = []
    >>> to_float(df, "f.csv", "lat", probs, lo=-90, hi=90).tolist()
    [45.5, nan, nan, nan, nan]
    >>> [str(p) for p in probs]  # doctest: +NORMALIZE_WHITESPACE
    ["f.csv, row 3, field 'lat': not a finite number: '1e400'",
     "f.csv, row 4, field 'lat': not a number: 'x'",
     "f.csv, row 5, field 'lat': 95.0 out of range [-90, 90]"]
    """
    out = pd.to_numeric(df[col].replace("", np.nan), errors="coerce").astype(float)
    for i in df.index:
        raw = df.at[i, col]
        if raw == "":
            continue
        v = out.at[i]
        row = int(df.at[i, "line_no"])
        if pd.isna(v) and raw.strip().lower() not in ("nan", "-nan", "+nan"):
            problems.append(Problem(file, row, col, f"not a number: {raw!r}"))
            out.at[i] = np.nan
            continue
        if not math.isfinite(v):
            problems.append(Problem(file, row, col, f"not a finite number: {raw!r}"))
            out.at[i] = np.nan
            continue
        too_low = lo is not None and (v <= lo if lo_open else v < lo)
        if too_low or (hi is not None and v > hi):
            left = "(" if lo_open else "["
            problems.append(Problem(file, row, col, f"{v} out of range {left}{lo}, {hi}]"))
            out.at[i] = np.nan
    return out


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
