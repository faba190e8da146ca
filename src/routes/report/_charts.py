"""Report charts as PNG (matplotlib, Agg backend), byte-identical on every run.

Figures are drawn on their own Agg canvas, without pyplot, so the library never touches
matplotlib's global state (backend, open figures).

Each chart function takes a table exactly as its analysis returned it and writes one PNG
atomically. The PNG carries no software or date metadata, so the same table gives the same
file. Labels from the data are drawn as plain text (``$`` is escaped, so no mathtext).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from ..io import atomic_path

__all__ = ["bar_chart", "paired_bar_chart", "grouped_bar_chart", "line_chart",
           "interval_chart", "series_chart", "save_png", "label"]

_DPI = 110
_BLUE, _RED, _GREY = "#2b6c9e", "#b5432f", "#888888"


def label(text: object, width: int = 42) -> str:
    r"""Return a chart label from data text: truncated to ``width`` characters, ``$`` escaped.

    Examples
    --------
    >>> label("Costs $5 at the post", width=12)
    'Costs \\$5 at…'
    """
    s = " ".join(str(text).split())
    if len(s) > width:
        s = s[: width - 1].rstrip() + "…"
    return s.replace("$", r"\$")


def _figure(width: float, height: float) -> tuple[Figure, Axes]:
    # Constrained layout makes room for a legend placed outside the axes ("outside ..."), so
    # that no legend ever covers the data.
    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig, fig.subplots()


def _legend_below(fig: Figure, ncol: int) -> None:
    """Put the figure's legend in one row under the axes, outside the data."""
    fig.legend(loc="outside lower center", ncol=ncol, frameon=False, fontsize=8)


def save_png(fig: Figure, path: Path) -> Path:
    """Save ``fig`` as PNG without metadata (byte-identical runs), atomically."""
    with warnings.catch_warnings():
        # a place name in a script the font lacks draws as boxes; not an error
        warnings.filterwarnings("ignore", message=r"Glyph \d+ .*missing from font")
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format="png", dpi=_DPI, metadata={"Software": None},
                        bbox_inches="tight")
    return Path(path)


def bar_chart(values: pd.Series, path: Path, *, title: str, xlabel: str,
              percent: bool = False, highlight: Sequence[bool] | None = None,
              colors: Sequence[str] | None = None) -> Path:
    """Horizontal bars, first value on top; ``highlight`` marks bars in red.

    ``colors`` gives one colour per bar (e.g. the palette's corridor colours).
    """
    n = max(len(values), 1)
    fig, ax = _figure(7.5, 0.32 * n + 1.2)
    y = list(range(len(values)))[::-1]
    if colors is None:
        colors = [_RED if h else _BLUE for h in highlight] if highlight is not None else _BLUE
    vals = values.to_numpy(dtype=float) * (100.0 if percent else 1.0)
    ax.barh(y, vals, color=colors)
    ax.set_yticks(y, [label(i) for i in values.index])
    ax.set_xlabel(xlabel)
    ax.set_title(label(title, 90), loc="left", fontsize=11)
    ax.grid(axis="x", color="#dddddd", linewidth=0.6)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return save_png(fig, path)


def paired_bar_chart(frame: pd.DataFrame, path: Path, *, title: str,
                     xlabels: tuple[str, str]) -> Path:
    """Two panels of horizontal bars sharing the rows, first row on top.

    ``frame`` has two columns: the first is drawn in red on the left, the second in blue on
    the right (e.g. the flow a closure leaves without a route, and the rise in route cost), so
    that every row with a value in either column has a visible bar.
    """
    return save_png(_paired_figure(frame, title=title, xlabels=xlabels), path)


def _paired_figure(frame: pd.DataFrame, *, title: str, xlabels: tuple[str, str]) -> Figure:
    n = max(len(frame), 1)
    fig = Figure(figsize=(9.0, 0.32 * n + 1.4), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, 2, sharey=True, width_ratios=(1, 1))
    y = list(range(len(frame)))[::-1]
    for ax, col, color, xl in zip(axes, frame.columns, (_RED, _BLUE), xlabels):
        ax.barh(y, frame[col].to_numpy(dtype=float), color=color)
        ax.set_xlabel(xl)
        ax.grid(axis="x", color="#dddddd", linewidth=0.6)
        ax.set_axisbelow(True)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
    axes[0].set_yticks(y, [label(i) for i in frame.index])
    fig.suptitle(label(title, 100), x=0.01, ha="left", fontsize=11)
    return fig


def line_chart(x: Sequence[float], y: Sequence[float], path: Path, *, title: str,
               xlabel: str, ylabel: str, step: bool = True,
               y2: Sequence[float] | None = None, y2label: str = "") -> Path:
    """Draw a (step) line with markers, e.g. a budget curve; ``y2`` adds a dashed comparison."""
    fig, ax = _figure(7.5, 4.0)
    style = "steps-post" if step else "default"
    ax.plot(list(x), list(y), color=_BLUE, label=ylabel, drawstyle=style)
    ax.plot(list(x), list(y), "o", color=_BLUE, markersize=4)
    if y2 is not None:
        ax.plot(list(x), list(y2), color=_GREY, linestyle="--", label=y2label, drawstyle=style)
        _legend_below(fig, 2)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(label(title, 90), loc="left", fontsize=11)
    ax.grid(color="#dddddd", linewidth=0.6)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return save_png(fig, path)


def interval_chart(frame: pd.DataFrame, path: Path, *, title: str, xlabel: str,
                   mid: str, lo: str, hi: str, base: str | None = None,
                   labels: tuple[str, str, str] | None = None) -> Path:
    """Draw one row per item: a ``lo``-``hi`` interval with ``mid`` marked (and ``base``).

    ``labels`` names the interval, the mid point and the base point in the legend.
    """
    names = labels or (f"{lo} to {hi}", mid, base or "")
    n = max(len(frame), 1)
    fig, ax = _figure(7.5, 0.32 * n + 1.2)
    y = list(range(len(frame)))[::-1]
    ax.hlines(y, frame[lo], frame[hi], color=_BLUE, linewidth=3, alpha=0.6, label=names[0])
    ax.plot(frame[mid], y, "o", color=_BLUE, label=names[1])
    if base is not None and base in frame:
        ax.plot(frame[base], y, "x", color=_RED, label=names[2])
    ax.set_yticks(y, [label(i) for i in frame.index])
    ax.set_xlabel(xlabel)
    ax.set_title(label(title, 90), loc="left", fontsize=11)
    _legend_below(fig, 3)
    ax.grid(axis="x", color="#dddddd", linewidth=0.6)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return save_png(fig, path)


def grouped_bar_chart(frame: pd.DataFrame, path: Path, *, title: str, xlabel: str,
                      percent: bool = False) -> Path:
    """Horizontal bars, one group per row and one bar per column (e.g. scenarios A and B)."""
    n, k = max(len(frame), 1), max(len(frame.columns), 1)
    fig, ax = _figure(7.5, 0.22 * n * k + 1.4)
    height = 0.8 / k
    colors = [_BLUE, _RED, _GREY]
    for j, col in enumerate(frame.columns):
        y = [len(frame) - 1 - i - 0.4 + height * (k - 1 - j) + height / 2
             for i in range(len(frame))]
        vals = frame[col].to_numpy(dtype=float) * (100.0 if percent else 1.0)
        ax.barh(y, vals, height=height, color=colors[j % len(colors)], label=label(col, 40))
    ax.set_yticks(list(range(len(frame)))[::-1], [label(i) for i in frame.index])
    ax.set_xlabel(xlabel)
    ax.set_title(label(title, 90), loc="left", fontsize=11)
    _legend_below(fig, k)
    ax.grid(axis="x", color="#dddddd", linewidth=0.6)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return save_png(fig, path)


#: Colours of the series of :func:`series_chart`, in order (colour-blind safe, Okabe-Ito).
_SERIES = ("#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#000000",
           "#999999", "#f0e442", "#7f3c8d")


def series_chart(frame: pd.DataFrame, path: Path, *, title: str, ylabel: str,
                 percent: bool = False, colors: dict[str, str] | None = None) -> Path:
    """One line per column over the index (e.g. dates), markers at each row; legend outside.

    ``colors`` maps a column to its colour (e.g. the palette's corridors); others take the
    series colours in order.
    """
    fig, ax = _figure(8.5, 4.2)
    x = list(range(len(frame)))
    colors = colors or {}
    for j, col in enumerate(frame.columns):
        vals = frame[col].to_numpy(dtype=float) * (100.0 if percent else 1.0)
        ax.plot(x, vals, marker="o", linestyle=("-", "--", "-.", ":")[j % 4],
                color=colors.get(str(col), _SERIES[j % len(_SERIES)]), markersize=3.5,
                linewidth=1.6, label=label(col, 34))
    ax.set_xticks(x, [label(i, 12) for i in frame.index], rotation=35, ha="right")
    ax.set_ylabel(ylabel)
    ax.set_title(label(title, 90), loc="left", fontsize=11)
    ax.legend(frameon=False, fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ax.grid(color="#dddddd", linewidth=0.6)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return save_png(fig, path)
