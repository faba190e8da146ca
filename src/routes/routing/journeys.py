"""Whole journeys: origin to final market, through a wholesale hub where there is one.

The engines route ordinary origin-market pairs (:func:`routes.network.od_demand`): a journey
through a hub is two of them, ``origin -> hub`` and ``hub -> market`` (rule in
:mod:`routes.network`). This module joins them again:

- :func:`journey_routes`: every journey's routes, a leg-1 route followed by a leg-2 route,
  with flow ``flow(journey) * P(leg-1 route) * P(leg-2 route)`` (the two legs split
  independently, each by its pair's logit shares); the countries read as one journey
  (``AFG > PAK > NLD > DEU``);
- :func:`markets_beyond`: the final markets outside a country that journeys through it reach;
- :func:`link_coverage`: the share of observed country-to-country links (between countries of
  the network) that some modelled route with flow runs along, from the first country to the
  second (and how many of them directly, as consecutive countries);
- :func:`journey_detected_share`: the detected share if a consignment ran both legs (detected
  on leg 1, it never runs leg 2), beside the legs-as-consignments share that every engine
  optimises and reports: the size of that rule's difference.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable

import networkx as nx
import numpy as np
import pandas as pd
from scipy.sparse import csgraph

from ..costs import CostModel
from ..network import od_journeys

__all__ = ["JOURNEY_COLUMNS", "MIN_LINK_SHARE", "journey_routes", "markets_beyond", "link_coverage",
           "journey_detected_share"]

#: Least share of the routed flow on a link for :func:`link_coverage` to count it as used.
MIN_LINK_SHARE = 1e-6
#: Columns of :func:`journey_routes`.
JOURNEY_COLUMNS = ("origin", "hub", "market", "journey_flow", "rank", "rank_onward",
                   "corridor", "countries", "flow")


def _join(a: list[str], b: list[str]) -> list[str]:
    return a + (b[1:] if a and b and a[-1] == b[0] else b)


def journey_routes(G: nx.DiGraph, routes: pd.DataFrame) -> pd.DataFrame:
    """Every journey's routes with their flow (module notes).

    Parameters
    ----------
    G : networkx.DiGraph
        The network (its ``od_journeys``).
    routes : DataFrame
        A route table with ``choice_prob`` (:func:`routes.routing.flows.assign_flows`).

    Returns
    -------
    DataFrame
        :data:`JOURNEY_COLUMNS`: ``hub`` empty for a direct journey (``rank_onward`` 0);
        ``corridor`` of the first leg; ``countries`` joined by ``" > "``; sorted by flow,
        largest first (ties by origin, market, hub, ranks). A journey with a leg that has
        no route has no rows.

    Examples
    --------
    >>> G = nx.DiGraph(onward_share=0.25)
    >>> G.add_node("o", role="origin", supply=8.0, country="AFG")
    >>> G.add_node("h", role="market", demand=1.0, country="NLD", lon=4.9, lat=52.4,
    ...            hub_serves="m")
    >>> G.add_node("m", role="market", demand=1.0, country="DEU", lon=13.4, lat=52.5)
    >>> r = pd.DataFrame({"origin": ["o", "o", "h"], "market": ["h", "m", "m"],
    ...                   "rank": [1, 1, 1], "choice_prob": [1.0, 1.0, 1.0],
    ...                   "corridor": ["Southern", "Balkan", "Other"],
    ...                   "countries": [["AFG", "PAK", "NLD"], ["AFG", "IRN", "DEU"],
    ...                                 ["NLD", "DEU"]]})
    >>> for row in journey_routes(G, r)[["hub", "market", "countries", "flow"]].values:
    ...     print(*row)
     h AFG > PAK > NLD 4.0
     m AFG > IRN > DEU 3.0
    h m AFG > PAK > NLD > DEU 1.0
    """
    by_pair: dict[tuple[str, str], list[tuple[int, float, str, list[str]]]] = defaultdict(list)
    for o, m, rank, p, cor, cs in zip(routes["origin"], routes["market"], routes["rank"],
                                      routes["choice_prob"], routes["corridor"],
                                      routes["countries"]):
        by_pair[(o, m)].append((int(rank), float(p), str(cor), list(cs)))
    rows = []
    for o, h, m, f in od_journeys(G):
        first = by_pair.get((o, h or m), [])
        second = by_pair.get((h, m), []) if h else [(0, 1.0, "", [])]
        for r1, p1, cor, c1 in first:
            for r2, p2, _, c2 in second:
                rows.append({"origin": o, "hub": h, "market": m, "journey_flow": f,
                             "rank": r1, "rank_onward": r2, "corridor": cor,
                             "countries": " > ".join(_join(c1, c2)), "flow": f * p1 * p2})
    df = pd.DataFrame(rows, columns=list(JOURNEY_COLUMNS))
    df = df.sort_values(["flow", "origin", "market", "hub", "rank", "rank_onward"],
                        ascending=[False, True, True, True, True, True], kind="stable")
    return df.reset_index(drop=True)


def markets_beyond(G: nx.DiGraph, journeys: pd.DataFrame, country: str, *,
                   min_flow: float = 0.0) -> list[str]:
    """Return the final markets outside ``country`` that journeys through it reach with flow.

    Examples
    --------
    >>> G = nx.DiGraph()
    >>> for n, c in [("a", "PAK"), ("b", "NLD"), ("c", "DEU")]:
    ...     G.add_node(n, country=c)
    >>> j = pd.DataFrame({"market": ["a", "b", "c"], "flow": [1.0, 2.0, 0.0],
    ...                   "countries": ["AFG > PAK", "AFG > PAK > NLD", "AFG > PAK > DEU"]})
    >>> markets_beyond(G, j, "PAK")
    ['b']
    """
    out = set()
    for m, f, cs in zip(journeys["market"], journeys["flow"], journeys["countries"]):
        if f > min_flow and country in str(cs).split(" > ") and \
                G.nodes[m].get("country") != country:
            out.add(str(m))
    return sorted(out)


def link_coverage(G: nx.DiGraph, routes: pd.DataFrame, links: pd.DataFrame
                  ) -> tuple[float, pd.DataFrame]:
    """Share of observed links between network countries that the modelled routes carry.

    A link ``(from_iso3, to_iso3)`` (directed; duplicates counted once) is a seizure record's
    consignment moving from one country to another, the countries in between not recorded.
    It is *on the network* when both countries have a node of ``G``, and *covered* when the
    routes that pass through ``from_iso3`` and later ``to_iso3`` carry at least
    :data:`MIN_LINK_SHARE` of the routed flow (the logit gives each of a pair's k routes some
    flow, however costly: ``1e-97`` of a tonne is no route in use). ``direct`` says whether
    such routes also enter ``to_iso3`` straight from ``from_iso3`` (consecutive countries):
    the stricter reading, reported beside it.

    Returns
    -------
    (float, DataFrame)
        The covered share (NaN without a link on the network) and one row per distinct link:
        ``from_iso3``, ``to_iso3``, ``on_network``, ``covered``, ``direct``, ``flow`` (flow
        of the routes through both, in that order).

    Examples
    --------
    >>> G = nx.DiGraph()
    >>> for n, c in [("a", "PAK"), ("b", "NLD"), ("c", "DEU"), ("d", "BEL")]:
    ...     G.add_node(n, country=c)
    >>> r = pd.DataFrame({"flow": [2.0, 0.0], "countries": [["PAK", "BEL", "NLD"],
    ...                                                     ["NLD", "DEU"]]})
    >>> l = pd.DataFrame({"from_iso3": ["PAK", "NLD", "PAK"], "to_iso3": ["NLD", "DEU", "USA"]})
    >>> share, t = link_coverage(G, r, l)
    >>> share, t["covered"].tolist(), t["direct"].tolist()
    (0.5, [False, True, False], [False, False, False])
    """
    have = {str(d.get("country") or "") for _, d in G.nodes(data=True)}
    for _, d in G.nodes(data=True):
        have |= {str(d.get("country_a") or ""), str(d.get("country_b") or "")}
    later: dict[tuple[str, str], float] = defaultdict(float)
    direct: dict[tuple[str, str], float] = defaultdict(float)
    for cs, f in zip(routes["countries"], routes["flow"]):
        if f > 0:
            seq = list(cs)
            for a, b in {(seq[i], seq[j]) for i in range(len(seq))
                         for j in range(i + 1, len(seq))}:
                later[(a, b)] += float(f)
            for a, b in set(zip(seq[:-1], seq[1:])):
                direct[(a, b)] += float(f)
    least = MIN_LINK_SHARE * float(routes["flow"].sum())
    pairs = sorted({(str(a), str(b)) for a, b in zip(links["from_iso3"], links["to_iso3"])})

    def used(flows: dict[tuple[str, str], float], k: tuple[str, str]) -> bool:
        return flows.get(k, 0.0) > 0 and flows.get(k, 0.0) >= least

    rows = [{"from_iso3": a, "to_iso3": b, "on_network": a in have and b in have,
             "covered": used(later, (a, b)), "direct": used(direct, (a, b)),
             "flow": later.get((a, b), 0.0)} for a, b in pairs]
    t = pd.DataFrame(rows, columns=["from_iso3", "to_iso3", "on_network", "covered", "direct",
                                    "flow"])
    on = t[t["on_network"]]
    share = float(on["covered"].mean()) if len(on) else math.nan
    return share, t


def journey_detected_share(G: nx.DiGraph, posts: Iterable[str] = (), *,
                           cm: CostModel | None = None) -> tuple[float, float]:
    """``(legs rule, journey rule)`` detected shares of the flow, least-risk routes.

    Legs rule (what the MILP, the Python engine and the what-if page use): every ordinary
    pair is a consignment, ``sum f (1 - exp(-d)) / sum f`` over the pairs of
    :func:`routes.network.od_demand` with a route. Journey rule: a consignment runs its
    journey's legs in turn and, once detected, stops:
    ``sum a (1 - exp(-(d1 + d2))) / sum a`` over journeys whose legs all have a route.
    ``posts`` are upgraded first (their ``p_detect_upgraded``, as the priorities do).
    """
    from ..network import od_demand  # noqa: PLC0415 - same module family, kept local
    from ..priorities._instance import _Instance

    inst = _Instance(G, cm, None)
    x = inst.x_of(posts)
    w = inst.weights(x)
    ends = sorted({a for a, *_ in od_journeys(G)} | {h for _, h, *_ in od_journeys(G) if h})
    idx = np.array([inst.index[e] for e in ends], dtype=np.int64)
    D = csgraph.dijkstra(inst._csr(w), directed=True, indices=idx)
    row = {e: i for i, e in enumerate(ends)}

    def d(a: str, b: str) -> float:
        return float(D[row[a], inst.index[b]])

    num = den = 0.0
    for (a, b), f in od_demand(G).items():
        if a != b and f and math.isfinite(d(a, b)):
            num += f * -math.expm1(-d(a, b))
            den += f
    legs = num / den if den else math.nan
    num = den = 0.0
    for a, h, b, f in od_journeys(G):
        r = d(a, h) + d(h, b) if h else d(a, b)
        if math.isfinite(r):
            num += f * -math.expm1(-r)
            den += f
    return legs, (num / den if den else math.nan)
