"""The legend: what each symbol means, built from the layers actually drawn.

Every piece of text is escaped here (titles, scenario names and hashes can come from files).
"""

from __future__ import annotations

from html import escape

from ._labels import CAPITAL_MIN_ZOOM
from ._layers import LayerData
from ._translate import (
    _BETWEENNESS,
    _FLOW,
    _RANK,
    _SHARE,
    MODE_COLOURS,
    MODE_DASH,
    RANK_CLASSES,
    ROLE_COLOURS,
    ROUTE_COLOURS,
    SHARE_CLASSES,
    STATUS_FILLS,
    STATUS_STYLES,
    MapAnalyses,
    _pick,
)

__all__ = ["legend_html"]


def _circle(fill: str, stroke: str = "#222", *, r: float = 5, width: float = 1,
            dash: str = "", fill_opacity: float = 0.9) -> str:
    size = int(2 * r + 2 * width + 2)
    c = size / 2
    dash_attr = f' stroke-dasharray="{escape(dash)}"' if dash else ""
    return (f'<svg class="routes-swatch" width="{size}" height="{size}">'
            f'<circle cx="{c}" cy="{c}" r="{r}" fill="{escape(fill)}" '
            f'fill-opacity="{fill_opacity}" stroke="{escape(stroke)}" stroke-width="{width}"'
            f'{dash_attr}/></svg>')


def _line(colour: str, *, width: float = 3, dash: str = "") -> str:
    dash_attr = f' stroke-dasharray="{escape(dash)}"' if dash else ""
    return (f'<svg class="routes-swatch" width="26" height="12"><line x1="1" y1="6" x2="25" '
            f'y2="6" stroke="{escape(colour)}" stroke-width="{width}"{dash_attr}/></svg>')


def _box(colour: str) -> str:
    return (f'<span class="routes-swatch" style="width:14px;height:10px;background:'
            f'{escape(colour)};border:1px solid #999"></span>')


def _row(symbol: str, text: str) -> str:
    return f'<div class="routes-legend-row">{symbol}<span>{escape(text)}</span></div>'


def _section(text: str) -> str:
    return f'<div class="routes-legend-section">{escape(text)}</div>'


def legend_html(title: str, provenance: str, layers: dict[str, LayerData], an: MapAnalyses,
                *, offline: bool, open: bool = True) -> str:
    """Legend markup (escaped) for the drawn ``layers``.

    Examples
    --------
    >>> "&lt;b&gt;" in legend_html("<b>", "", {}, MapAnalyses(), offline=False)
    True
    """
    out = [f"<details{' open' if open else ''}><summary><h4>{escape(title)}</h4></summary>"]
    if provenance:
        out.append(f'<div class="routes-legend-meta">{escape(provenance)}</div>')
    if "crossings" in layers:
        rcol, bcol = _pick(an.crossings, _RANK), _pick(an.crossings, _BETWEENNESS)
        out.append(_section("Border crossings"))
        if rcol:
            out += [_row(_circle(col), label) for _, col, label in RANK_CLASSES]
            out.append(_row(_circle("#bdbdbd"), "not ranked"))
        if bcol:
            out.append(_row(_circle("#ffffff", r=3) + _circle("#ffffff", r=7),
                            f"size: {bcol.replace('_', ' ')}"))
        out.append(_section("Outline: status"))
        for status, st in STATUS_STYLES.items():
            out.append(_row(_circle(STATUS_FILLS[status],
                                    st["color"], width=st["weight"],
                                    dash=st.get("dashArray", ""),
                                    fill_opacity=st.get("fillOpacity", 0.9)), status))
    places = [k for k in ("origins", "markets", "places") if k in layers and len(layers[k])]
    if places:
        out.append(_section("Places"))
        if "origins" in places:
            out.append(_row(_circle(ROLE_COLOURS["origin"], "#fff"), "origin (size: supply)"))
        if "markets" in places:
            out.append(_row(_circle(ROLE_COLOURS["market"], "#fff"), "market (size: demand)"))
        if "places" in places:
            out += [_row(_circle(ROLE_COLOURS[r], "#fff", r=4), r)
                    for r in ("staging", "transit", "port")]
    if "corridors" in layers and len(layers["corridors"]):
        out.append(_section("Corridors"))
        out += [_row(_line(c, dash=MODE_DASH.get(m, "")), m) for m, c in MODE_COLOURS.items()]
        if _pick(an.edges, _FLOW) or (an.edges is not None):
            out.append(_row(_line("#5a5a5a", width=1.5) + _line("#5a5a5a", width=8),
                            "width: assigned flow"))
    if "routes" in layers and len(layers["routes"]):
        out.append(_section(f"k best routes ({len(layers['routes'])})"))
        routes = an.routes
        if routes is not None and "rank" in routes.columns:
            top = int(min(routes["rank"].max(), len(ROUTE_COLOURS)))
            out += [_row(_line(ROUTE_COLOURS[r - 1], width=4), f"rank {r} of its pair")
                    for r in range(1, top + 1)]
        if _pick(routes, _FLOW):
            out.append(_row(_line(ROUTE_COLOURS[0], width=2) + _line(ROUTE_COLOURS[0], width=7),
                            "width: flow"))
    if "countries" in layers and _pick(an.countries, _SHARE):
        out.append(_section("Transit share (countries)"))
        lo = 0.0
        for hi, col in SHARE_CLASSES:
            label = f"{lo:.0%}\u2013{hi:.0%}" if hi != float("inf") else f"> {lo:.0%}"
            out.append(_row(_box(col), label))
            lo = hi
    if offline:
        out.append('<div class="routes-legend-meta">Offline map: basemap drawn from the '
                   'country polygons; capitals (GeoNames) named from zoom '
                   f'{CAPITAL_MIN_ZOOM:g} on.</div>')
    out.append("</details>")
    return "".join(out)
