"""Observed data the model is confronted with: reported seizures by country and year.

``data/geo/seizures.csv`` (made by ``scripts/make_seizures.py`` from UNODC's Drug seizures
table) has one row per country and year: ``iso3``, ``country``, ``year``, ``heroin_eq_kg``
(heroin-equivalent kilograms) and the raw kilograms by drug (``heroin_kg``, ``opium_kg``,
``morphine_kg``, ...). An empty cell means nothing was reported, which is not zero seized: it
stays NaN.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from ._errors import DataError, Problem

__all__ = ["read_seizures", "SEIZURE_FILE_COLUMNS"]

#: Columns every seizures file must have.
SEIZURE_FILE_COLUMNS = ("iso3", "year", "heroin_eq_kg")


def _kg_columns(df: pd.DataFrame) -> list[str]:
    return [c for c in df.columns if c.endswith("_kg")]


def read_seizures(path: str | Path, *, countries: Iterable[str] | None = None,
                  years: tuple[int, int] | None = None) -> pd.DataFrame:
    """Read and check a seizures file.

    Parameters
    ----------
    path : path
        CSV with at least :data:`SEIZURE_FILE_COLUMNS` (module notes).
    countries : iterable of str, optional
        The ISO3 codes of the network; any other is an error.
    years : (first, last), optional
        The years the network covers; a year outside is an error.

    Returns
    -------
    DataFrame
        The rows (``year`` as int, kilogram columns as float, empty cells NaN); ``attrs``
        holds ``path`` and ``sha256`` (of the file's bytes).

    Raises
    ------
    DataError
        Every problem found, each with file, row (line in the file) and field: unknown
        country, year not an integer or outside ``years``, a negative or non-numeric
        kilogram figure (``inf``, ``nan`` and ``1e400`` included), a country-year given
        twice, and an empty year (a year whose rows report nothing at all).
    """
    path = Path(path)
    file = str(path)
    try:
        data = path.read_bytes()
        df = pd.read_csv(path, dtype={"iso3": str}, keep_default_na=True)
        raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError
            ) as exc:
        raise DataError(Problem(file, None, None, f"cannot read: {exc}")) from None
    missing = [c for c in SEIZURE_FILE_COLUMNS if c not in df.columns]
    if missing:
        raise DataError([Problem(file, None, c, "missing column") for c in missing])
    problems: list[Problem] = []
    known = set(countries) if countries is not None else None
    line = np.arange(len(df)) + 2
    year = pd.to_numeric(df["year"], errors="coerce")
    for i, (iso, y) in enumerate(zip(df["iso3"], year)):
        if known is not None and iso not in known:
            problems.append(Problem(file, int(line[i]), "iso3",
                                    f"unknown country {iso!r} (not a country of the network)"))
        if not np.isfinite(y) or y != int(y):
            problems.append(Problem(file, int(line[i]), "year",
                                    f"must be an integer year, got {df['year'].iloc[i]!r}"))
        elif years is not None and not years[0] <= int(y) <= years[1]:
            problems.append(Problem(file, int(line[i]), "year",
                                    f"year {int(y)} is outside the network's dates "
                                    f"({years[0]}-{years[1]})"))
    kg = {}
    for col in _kg_columns(df):
        vals = pd.to_numeric(df[col], errors="coerce").astype(float)
        for j in np.flatnonzero((vals.isna() & df[col].notna()).to_numpy()).tolist():
            problems.append(Problem(file, int(line[j]), col,
                                    f"must be a number of kilograms, got {df[col].iloc[j]!r}"))
        # inf, 1e400 (too large for a float, read as inf) and a spelt-out nan (read as an
        # empty cell) are not figures: only an empty cell means "not reported"
        text = raw[col].str.strip().str.lower() if col in raw else pd.Series("", df.index)
        spelt_nan = text.isin(["nan", "-nan", "+nan"]).to_numpy()
        for j in np.flatnonzero(np.isinf(vals.to_numpy()) | spelt_nan).tolist():
            problems.append(Problem(file, int(line[j]), col, "must be a finite number of "
                                    f"kilograms, got {raw[col].iloc[j]!r}"))
            vals.iloc[j] = np.nan
        for j in np.flatnonzero((vals < 0).to_numpy()).tolist():
            problems.append(Problem(file, int(line[j]), col,
                                    f"must be >= 0 kg, got {vals.iloc[j]:g}"))
        kg[col] = vals.astype(float)
    dup = df.assign(year=year).duplicated(["iso3", "year"], keep="first").to_numpy()
    for j in np.flatnonzero(dup).tolist():
        problems.append(Problem(file, int(line[j]), "year",
                                f"{df['iso3'].iloc[j]} {df['year'].iloc[j]} is given twice"))
    heq = kg.get("heroin_eq_kg", pd.Series(np.nan, index=df.index))
    for y in sorted({int(v) for v in year.dropna() if v == int(v)}):
        rows = np.flatnonzero((year == y).to_numpy())
        if heq.iloc[rows].isna().all():
            problems.append(Problem(file, int(line[rows[0]]), "heroin_eq_kg",
                                    f"year {y} is empty: no country reports any seizure"))
    if problems:
        raise DataError(problems)
    out = df.copy()
    out["year"] = year.astype(int)
    for col, vals in kg.items():
        out[col] = vals
    out.attrs["path"] = file
    out.attrs["sha256"] = hashlib.sha256(data).hexdigest()
    return out
