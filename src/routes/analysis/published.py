"""Modelled exits and corridor shares beside the published figures of the same year.

The published figures are the rows of ``data/observed/published_flows.csv``
(:mod:`routes.supplyside`) with measure ``exit_share`` (subject: the ISO3 code of the country
entered on leaving Afghanistan, or ``Central Asia`` for Tajikistan, Uzbekistan and
Turkmenistan together, as the issue's targets and UNODC's northern-route estimates group them)
or ``corridor_share`` (subject: a corridor label of :data:`routes.analysis.paths.CORRIDORS`).
For a date, each subject shows the newest figure of a year at or before the date's year, else
its oldest (the rule of the demand figures), with the year it refers to and its source.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .._errors import DataError, Problem
from ..geodata import Dataset
from ..supplyside import read_heroin_links, read_published_flows

__all__ = ["CENTRAL_ASIA_EXITS", "observed_dir", "read_observed", "exits_vs_published",
           "corridors_vs_published", "published_for", "COMPARE_COLUMNS"]

#: The countries whose exits the ``Central Asia`` subject sums.
CENTRAL_ASIA_EXITS = ("TJK", "UZB", "TKM")
#: Columns of the comparison tables.
COMPARE_COLUMNS = ("modelled", "published", "low", "high", "published_year", "source")


def observed_dir(ds: Dataset) -> Path:
    """``data/observed`` beside the data folder ``ds`` was read from."""
    return Path(ds.files.get("places", "places.csv")).resolve().parent.parent / "observed"


def read_observed(folder: Path) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
    """Read ``published_flows.csv`` and ``heroin_links.csv`` of ``folder`` where present.

    Raises
    ------
    DataError
        With every problem of both files.
    """
    problems: list[Problem] = []
    pub = links = None
    if (folder / "published_flows.csv").exists():
        pub = read_published_flows(folder / "published_flows.csv", problems)
    if (folder / "heroin_links.csv").exists():
        links = read_heroin_links(folder / "heroin_links.csv", problems)
    if problems:
        raise DataError(problems)
    return pub, links


def published_for(published: pd.DataFrame | None, measure: str, year: int
                  ) -> dict[str, tuple[float, float, float, int, str]]:
    """``{subject: (value, low, high, year, source)}`` of ``measure`` for ``year``.

    The newest figure of a year at or before ``year``, else the oldest (module notes).

    Examples
    --------
    >>> p = pd.DataFrame({"year": [2010.0, 2017.0], "measure": ["exit_share"] * 2,
    ...                   "subject": ["PAK", "PAK"], "value": [0.4, np.nan],
    ...                   "low": [np.nan, 0.3], "high": [np.nan, 0.5], "source": ["a", "b"]})
    >>> published_for(p, "exit_share", 2019)["PAK"][1:]
    (0.3, 0.5, 2017, 'b')
    >>> published_for(p, "exit_share", 2012)["PAK"]
    (0.4, nan, nan, 2010, 'a')
    """
    if published is None or published.empty:
        return {}
    rows = published[published["measure"] == measure].dropna(subset=["year"])
    out = {}
    for subject, g in rows.sort_values("year", kind="stable").groupby("subject", sort=True):
        before = g[g["year"] <= year]
        r = before.iloc[-1] if len(before) else g.iloc[0]
        out[str(subject)] = (float(r["value"]), float(r["low"]), float(r["high"]),
                             int(r["year"]), str(r["source"]))
    return out


def _table(modelled: dict[str, float], pub: dict[str, tuple[float, float, float, int, str]],
           name: str) -> pd.DataFrame:
    keys = list(modelled) + [k for k in sorted(pub) if k not in modelled]
    rows = []
    for k in keys:
        v, lo, hi, y, src = pub.get(k, (np.nan, np.nan, np.nan, 0, ""))
        rows.append({name: k, "modelled": modelled.get(k, 0.0), "published": v, "low": lo,
                     "high": hi, "published_year": y or np.nan, "source": src})
    return pd.DataFrame(rows, columns=[name, *COMPARE_COLUMNS]).set_index(name)


def exits_vs_published(exits: pd.DataFrame, published: pd.DataFrame | None, year: int, *,
                       home: str = "AFG") -> pd.DataFrame:
    """Exit shares from ``home`` (:func:`routes.analysis.flows.exit_shares`) beside published.

    Rows: each country entered (largest share first), then ``Central Asia`` (the sum over
    :data:`CENTRAL_ASIA_EXITS`), then any published subject the model lacks; columns
    :data:`COMPARE_COLUMNS`, indexed by ``into``.

    Examples
    --------
    >>> idx = pd.MultiIndex.from_tuples([("AFG", "IRN"), ("AFG", "PAK"), ("AFG", "TJK")],
    ...                                 names=["from_country", "into"])
    >>> e = pd.DataFrame({"flow": [5.0, 3.0, 2.0], "share": [0.5, 0.3, 0.2]}, index=idx)
    >>> exits_vs_published(e, None, 2019)["modelled"].to_dict()
    {'IRN': 0.5, 'PAK': 0.3, 'TJK': 0.2, 'Central Asia': 0.2}
    """
    share: dict[str, float] = {}
    if len(exits) and home in exits.index.get_level_values("from_country"):
        own = exits.xs(home, level="from_country")["share"]
        share = {str(k): float(v) for k, v in own.items() if k}
    share["Central Asia"] = float(sum(share.get(c, 0.0) for c in CENTRAL_ASIA_EXITS))
    return _table(share, published_for(published, "exit_share", year), "into")


def corridors_vs_published(corridors: pd.DataFrame, published: pd.DataFrame | None,
                           year: int) -> pd.DataFrame:
    """Corridor shares (:func:`routes.analysis.flows.corridor_shares`) beside published."""
    share = {str(k): float(v) for k, v in corridors["share"].items()}
    return _table(share, published_for(published, "corridor_share", year), "corridor")
