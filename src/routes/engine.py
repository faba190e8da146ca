"""Hot kernels on a compiled engine, proven equal to networkx.

:class:`Engine` converts a route network to igraph **once** and then answers many questions on
it, each with any weight vector, without rebuilding anything: shortest-path distances, the
shortest routes themselves, the k best routes (Yen), plain betweenness, and the route-restricted
flow-weighted betweenness that the analyses are built on.

Fixed-point weights
-------------------
Every weight is converted to an integer number of ``1 / SCALE`` units
(``SCALE = 10**6``: a micro-hour, a millimetre, a millionth of risk) before any path is
computed, by both engines. The reason is ties: igraph compares float path lengths with a
tolerance and networkx compares them exactly, so with float weights (``0.1 + 0.2`` against
``0.3``) they count different sets of shortest paths, and betweenness can differ by tens of
percent. On integers both are exact and agree to the last bit. One unit is far below any
difference the cost model means (and far above float noise), and route lengths stay exact
integers below 2**53 for any route shorter than ~9e9 units of its weight. A zero weight becomes
one unit, so that shortest paths stay well defined (no zero-weight cycles; among routes of
equal length the one with fewer zero-weight legs wins); negative or missing weights raise
:class:`~routes._errors.RoutesError`.

The flow-weighted kernel
------------------------
For origins ``o`` and targets ``t`` with pair flows ``f(o, t)`` the route-restricted,
flow-weighted betweenness of node ``v`` is
``sum over (o, t) of f(o, t) * sigma_ot(v) / sigma_ot`` (``v`` not an endpoint) and of edge
``e`` ``sum of f(o, t) * sigma_ot(e) / sigma_ot``, with ``sigma`` counting shortest paths:
the all-or-nothing assignment of the flows with ties split evenly over the shortest paths.
igraph's subset betweenness counts every pair once, so it cannot weight pairs; instead the
engine takes igraph's distances from all origins in one call (C), marks the edges that lie on a
shortest path (``d(o, u) + w(u, v) == d(o, v)``, exact on integers) and solves, for all origins
at once, two sparse triangular systems over that shortest-path DAG with SuperLU
(:func:`scipy.sparse.linalg.spsolve_triangular`):

- path counts: ``sigma = e_o + A.T @ sigma``;
- flow per path: ``g = f(o, .) / sigma + A @ g``,

where ``A`` is the 0/1 adjacency of the DAG. Then the flow through (or ending at) ``v`` is
``sigma[v] * g[v]`` and the flow on DAG edge ``(u, v)`` is ``sigma[u] * g[v]``; this is
Brandes' dependency accumulation [1]_ with each target weighted by its flow, written as linear
algebra so that it runs in compiled code. ``engine="networkx"`` runs the same quantity with
networkx's own single-source shortest-path counting and a pure-Python accumulation; the tests
prove both equal ``sum f(o, t) * networkx.betweenness_centrality_subset(G, [o], [t])``.

Re-weighted runs (Monte Carlo) reuse the engine: ``Engine.flow_betweenness(weights=array)``
with an array in :attr:`Engine.edges` order costs one multi-source Dijkstra and two triangular
solves, about a millisecond on the shipped network.

References
----------
.. [1] U. Brandes, "On variants of shortest-path betweenness centrality and their generic
   computation", Social Networks 30(2), 136-145, 2008.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import networkx as nx
import numpy as np
import scipy.sparse as sp
from networkx.algorithms.centrality.betweenness import _single_source_dijkstra_path_basic
from scipy.sparse import csgraph
from scipy.sparse.linalg import spsolve_triangular

from ._errors import RoutesError
from .settings import ENGINE

__all__ = ["Engine", "SCALE", "ENGINES", "quantize", "check_engine"]

#: Fixed-point scale: weights are integers in units of 1 / SCALE (see the module notes).
SCALE = 10**6
#: The engines every kernel offers.
ENGINES = ("igraph", "networkx")

Weights = str | np.ndarray | Sequence[float]


def check_engine(engine: str | None) -> str:
    """Return ``engine`` (``None`` -> :data:`routes.settings.ENGINE`) or raise RoutesError.

    Examples
    --------
    >>> check_engine("networkx")
    'networkx'
    """
    engine = ENGINE if engine is None else engine
    if engine not in ENGINES:
        raise RoutesError(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}")
    return engine


def quantize(weights: np.ndarray | Sequence[float]) -> np.ndarray:
    """Return float weights as int64 fixed-point units of ``1 / SCALE`` (at least 1).

    Examples
    --------
    >>> quantize([0.1 + 0.2, 0.3, 0.0, 2.0]).tolist()
    [300000, 300000, 1, 2000000]
    """
    w = np.asarray(weights, dtype=float)
    if w.size and not (np.isfinite(w).all() and (w >= 0).all()):
        raise RoutesError("edge weights must be finite and >= 0 (found negative, inf or NaN)")
    q = np.rint(w * SCALE).astype(np.int64)
    return np.maximum(q, 1)


class Engine:
    """A route network converted once for fast repeated path computations.

    Nodes are numbered in id order (:attr:`nodes`); edges in ``(u, v)`` id order
    (:attr:`edges`, :attr:`u`, :attr:`v`). Every method takes ``weights``: the name of an edge
    attribute, or an array of floats in :attr:`edges` order (a re-weighted copy of the
    network, without rebuilding it). Distances come back in fixed-point units
    (divide by :data:`SCALE`).

    Parameters
    ----------
    G : networkx.DiGraph
        The route network (an undirected graph is read as its two-way directed version).
    engine : {"igraph", "networkx"}, optional
        Which engine runs the kernels (default :data:`routes.settings.ENGINE`).

    Examples
    --------
    >>> G = nx.DiGraph()
    >>> G.add_weighted_edges_from([("o", "a", 1), ("o", "b", 1), ("a", "m", 1),
    ...                            ("b", "m", 1)], weight="cost")
    >>> E = Engine(G)
    >>> node, edge = E.flow_betweenness(weights="cost", flows={("o", "m"): 10.0})
    >>> dict(zip(E.nodes, node.tolist()))
    {'a': 5.0, 'b': 5.0, 'm': 0.0, 'o': 0.0}
    >>> E.distances(["o"], ["m"], weights="cost") / SCALE
    array([[2.]])
    """

    def __init__(self, G: nx.DiGraph, *, engine: str | None = None) -> None:
        self.engine = check_engine(engine)
        H = G if G.is_directed() else G.to_directed()
        self.graph = H
        self.nodes: list[Any] = sorted(H.nodes)
        self.index: dict[Any, int] = {n: i for i, n in enumerate(self.nodes)}
        self.edges: list[tuple[Any, Any]] = sorted(H.edges())
        self.n = len(self.nodes)
        self.m = len(self.edges)
        self.u = np.fromiter((self.index[a] for a, _ in self.edges), dtype=np.int64,
                             count=self.m)
        self.v = np.fromiter((self.index[b] for _, b in self.edges), dtype=np.int64,
                             count=self.m)
        self.edge_index: dict[tuple[Any, Any], int] = {
            e: i for i, e in enumerate(self.edges)}
        self._attr_cache: dict[str, np.ndarray] = {}
        self._pairs_cache: tuple[dict, tuple[np.ndarray, np.ndarray, np.ndarray]] | None = None
        self._walk_cache: tuple[np.ndarray, tuple[np.ndarray, ...]] | None = None
        if self.engine == "igraph":
            import igraph as ig  # imported on first use: igraph loads matplotlib (~1.5 s)

            self._ig = ig.Graph(n=self.n, edges=list(zip(self.u.tolist(), self.v.tolist())),
                                directed=True)
            # CSR adjacency for scipy's Dijkstra, built once: edges are sorted by (u, v), which
            # is CSR order, so a new weight vector only replaces ``data``.
            # (scipy casts indptr to its own index type: without the astype it is the same)
            indptr = np.searchsorted(self.u, np.arange(self.n + 1)).astype(np.int32)
            self._csr = sp.csr_array((np.ones(self.m), self.v.astype(np.int32), indptr),
                                     shape=(self.n, self.n))
            self._keys = self.u * self.n + self.v          # sorted: edge id lookup
            # In-edges of each node; their order within a node is never used, so any sort
            # kind gives the same results (a mutated kind is equivalent).
            by_v = np.argsort(self.v, kind="stable")
            self._in_eid = by_v
            self._in_ptr = np.searchsorted(self.v[by_v], np.arange(self.n + 1))
            self._in_u = self.u[by_v]
            self._in_deg = np.diff(self._in_ptr)
        else:
            self._nx = nx.DiGraph()
            self._nx.add_nodes_from(range(self.n))
            self._nx.add_edges_from(zip(self.u.tolist(), self.v.tolist()))

    # ------------------------------------------------------------------ weights
    def edge_attr(self, name: str) -> np.ndarray:
        """Return edge attribute ``name`` as a float array in :attr:`edges` order."""
        if name not in self._attr_cache:
            try:
                vals = [self.graph.edges[e][name] for e in self.edges]
            except KeyError:
                raise RoutesError(f"edges have no weight attribute {name!r}") from None
            self._attr_cache[name] = np.asarray(vals, dtype=float)
        return self._attr_cache[name].copy()

    def fixed_point(self, weights: Weights) -> np.ndarray:
        """Return ``weights`` (attribute name or float array) as int64 fixed-point units."""
        w = self.edge_attr(weights) if isinstance(weights, str) else np.asarray(weights,
                                                                                 dtype=float)
        if w.shape != (self.m,):
            raise RoutesError(f"weights must have one value per edge ({self.m}), got {w.shape}")
        return quantize(w)

    def _ids(self, nodes: Iterable[Any] | None) -> np.ndarray:
        if nodes is None:
            return np.arange(self.n)
        try:
            return np.array([self.index[x] for x in nodes], dtype=np.int64)
        except KeyError as exc:
            raise RoutesError(f"node {exc.args[0]!r} is not in the network") from None

    def _nx_set(self, wq: np.ndarray) -> None:
        for a, b, w in zip(self.u.tolist(), self.v.tolist(), wq.tolist()):
            self._nx._adj[a][b]["w"] = w

    # ------------------------------------------------------------------ distances
    def _dist(self, src: np.ndarray, tgt: np.ndarray | None, wq: np.ndarray,
              *, predecessors: bool = False) -> Any:
        """Distances (float; exact integers, inf if unreachable) from ``src`` rows.

        With ``predecessors`` (compiled engine only) also return one shortest-path
        predecessor per node (-9999 where none).
        """
        if len(src) == 0:
            return np.zeros((0, self.n if tgt is None else len(tgt)))
        if self.engine == "igraph":
            # scipy's csgraph Dijkstra on the CSR built once: 2-3x faster than igraph's own
            # weighted Dijkstra on road-like graphs (benchmarks/bench_betweenness.py).
            A = self._csr.copy()
            A.data = wq.astype(float)
            res = csgraph.dijkstra(A, directed=True, indices=src,
                                   return_predecessors=predecessors)
            if predecessors:
                return res
            return res if tgt is None else res[:, tgt]
        self._nx_set(wq)
        out = np.full((len(src), self.n), np.inf)
        for i, s in enumerate(src.tolist()):
            for t, dist in nx.single_source_dijkstra_path_length(self._nx, s, weight="w").items():
                out[i, t] = dist
        return out if tgt is None else out[:, tgt]

    def distances(self, sources: Iterable[Any] | None = None,
                  targets: Iterable[Any] | None = None, *, weights: Weights,
                  without: Iterable[Any] = ()) -> np.ndarray:
        """Shortest-path lengths, ``len(sources) x len(targets)``, in fixed-point units.

        ``inf`` where no path exists; ``None`` means every node (in :attr:`nodes` order).
        ``without``: nodes to treat as removed (for closures), without rebuilding the graph:
        their edges get a weight larger than any simple route, and lengths that large count
        as no path.
        """
        wq = self.fixed_point(weights)
        tgt = None if targets is None else self._ids(targets)
        src = self._ids(sources)
        gone = self._ids(without)
        if len(gone) == 0:
            return self._dist(src, tgt, wq)
        if self.engine == "networkx":
            keep = np.ones(self.n, dtype=bool)
            keep[gone] = False
            full = np.full((len(src), self.n), np.inf)
            self._nx_set(wq)
            view = nx.restricted_view(self._nx, gone.tolist(), [])
            for i, s in enumerate(src.tolist()):
                if keep[s]:
                    for t, d in nx.single_source_dijkstra_path_length(view, s,
                                                                      weight="w").items():
                        full[i, t] = d
            return full if tgt is None else full[:, tgt]
        big = int(wq.sum()) + 1
        blocked = np.isin(self.u, gone) | np.isin(self.v, gone)
        w2 = wq.copy()
        w2[blocked] = big
        D = self._dist(src, tgt, w2)
        D[D >= big] = np.inf
        if tgt is not None:
            D[:, np.isin(tgt, gone)] = np.inf
        D[np.isin(src, gone), :] = np.inf
        return D

    # ------------------------------------------------------------------ shortest routes
    def shortest_paths(self, pairs: Iterable[tuple[Any, Any]], *, weights: Weights
                       ) -> dict[tuple[Any, Any], list[Any]]:
        """One shortest path per pair (node ids), ties broken by id.

        Walking back from the target, each step takes the predecessor with the smallest id
        among those on a shortest path, so the answer does not depend on the engine.
        Unreachable pairs are left out.
        """
        wq = self.fixed_point(weights)
        pairs = list(pairs)
        srcs = sorted({s for s, _ in pairs}, key=lambda x: self.index.get(x, -1))
        src = self._ids(srcs)
        D = self._dist(src, None, wq)
        row = {s: i for i, s in enumerate(srcs)}
        pred = np.full((len(src), self.n), self.n, dtype=np.int64)
        for i in range(len(src)):
            du = D[i, self.u]
            tight = np.isfinite(du) & (du + wq == D[i, self.v])
            np.minimum.at(pred[i], self.v[tight], self.u[tight])
        out: dict[tuple[Any, Any], list[Any]] = {}
        for s, t in pairs:
            i, ti = row[s], self.index[t]
            if not np.isfinite(D[i, ti]) or s == t:
                continue
            path = [ti]
            while path[-1] != src[i]:
                path.append(int(pred[i, path[-1]]))
            out[(s, t)] = [self.nodes[x] for x in reversed(path)]
        return out

    def k_shortest_paths(self, source: Any, target: Any, k: int, *,
                         weights: Weights) -> list[tuple[int, list[Any]]]:
        """Return the ``k`` shortest loopless paths (Yen [2]_), as ``(length in units, node ids)``.

        Ties are broken by id: all paths as short as the k-th are found and sorted by
        ``(length, node ids)`` before the first ``k`` are kept, so both engines return the
        same list.

        References
        ----------
        .. [2] J. Y. Yen, "Finding the k shortest loopless paths in a network", Management
           Science 17(11), 712-716, 1971.
        """
        if k < 1:
            raise RoutesError(f"k must be >= 1, got {k}")
        wq = self.fixed_point(weights)
        s, t = self.index[source], self.index[target]
        if s == t or not np.isfinite(self._dist(np.array([s]), np.array([t]), wq)[0, 0]):
            return []
        found = self._kpaths(s, t, k, wq)
        out = sorted((c, [self.nodes[x] for x in p]) for c, p in found)
        if len(out) > k:
            kth = out[k - 1][0]
            out = [r for r in out if r[0] <= kth][:k]
        return out

    def _kpaths(self, s: int, t: int, k: int, wq: np.ndarray) -> list[tuple[int, list[int]]]:
        """At least k paths (or all), including every path tied with the k-th."""
        wl = wq.tolist()
        if self.engine == "igraph":
            ask = k + 1
            while True:
                eps = self._ig.get_k_shortest_paths(s, to=t, k=ask, weights=[float(x) for x
                                                                             in wl],
                                                    output="epath")
                eps = [p for p in eps if p]
                res = [(int(sum(wl[e] for e in p)), [s] + [int(self.v[e]) for e in p])
                       for p in eps]
                costs = sorted(c for c, _ in res)
                if len(res) < ask or len(costs) <= k or costs[-1] > costs[k - 1]:
                    return res
                ask *= 2
        self._nx_set(wq)
        gen = nx.shortest_simple_paths(self._nx, s, t, weight="w")
        res = []
        try:
            for p in gen:
                c = sum(self._nx._adj[a][b]["w"] for a, b in itertools.pairwise(p))
                if len(res) >= k and c > res[k - 1][0]:
                    break
                res.append((c, list(p)))
        except nx.NetworkXNoPath:
            return []
        return res

    # ------------------------------------------------------------------ betweenness
    def betweenness(self, *, weights: Weights) -> tuple[np.ndarray, np.ndarray]:
        """Plain weighted betweenness over all ordered pairs: ``(node, edge)`` arrays.

        Unnormalised, directed: networkx's ``betweenness_centrality(normalized=False)`` and
        ``edge_betweenness_centrality(normalized=False)``.
        """
        wq = self.fixed_point(weights)
        if self.engine == "igraph":
            wf = wq.astype(float).tolist()
            node = np.asarray(self._ig.betweenness(directed=True, weights=wf), dtype=float)
            edge = np.asarray(self._ig.edge_betweenness(directed=True, weights=wf),
                              dtype=float)
            return node, edge
        self._nx_set(wq)
        bn = nx.betweenness_centrality(self._nx, weight="w", normalized=False)
        be = nx.edge_betweenness_centrality(self._nx, weight="w", normalized=False)
        node = np.array([bn[i] for i in range(self.n)], dtype=float)
        edge = np.array([be[(a, b)] for a, b in zip(self.u.tolist(), self.v.tolist())],
                        dtype=float)
        return node, edge

    def _pairs(self, flows: Mapping[tuple[Any, Any], float]
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Origins, targets (index arrays) and flow matrix of ``flows``: read-only, kept."""
        key = flows if type(flows) is dict else dict(flows)
        cached = self._pairs_cache
        if cached is not None and cached[0] == key:
            return cached[1]
        bad = [x for pair in key for x in pair if x not in self.index]
        if bad:
            raise RoutesError(f"node {bad[0]!r} is not in the network")
        index = self.index
        items = [(index[o], index[t], float(f)) for (o, t), f in key.items() if f and o != t]
        a, b, fl = (np.array(c) for c in zip(*items)) if items else (np.zeros(0),) * 3
        src, ra = np.unique(a.astype(np.int64), return_inverse=True)
        tgt, rb = np.unique(b.astype(np.int64), return_inverse=True)
        F = np.zeros((len(src), len(tgt)))
        np.add.at(F, (ra, rb), fl)
        out = (src, tgt, F)
        for arr in out:
            arr.flags.writeable = False
        self._pairs_cache = (dict(key), out)
        return out

    def flow_betweenness(self, *, weights: Weights,
                         flows: Mapping[tuple[Any, Any], float]
                         ) -> tuple[np.ndarray, np.ndarray]:
        """Route-restricted, flow-weighted betweenness: ``(node, edge)`` arrays.

        ``node[i]`` is the flow passing through :attr:`nodes` ``[i]`` (not starting or ending
        there) and ``edge[j]`` the flow on :attr:`edges` ``[j]``, when each ``(origin, target)``
        pair's flow is split evenly over its shortest paths (module notes). Unreachable pairs
        carry nothing.

        Parameters
        ----------
        weights : str or ndarray
            Edge attribute name, or floats in :attr:`edges` order.
        flows : mapping
            ``{(origin, target): flow}``, e.g. :func:`routes.network.od_demand`.
        """
        wq = self.fixed_point(weights)
        src, tgt, F = self._pairs(flows)
        if len(src) == 0:
            return np.zeros(self.n), np.zeros(self.m)
        if self.engine == "igraph":
            return self._flow_betweenness_fast(src, tgt, F, wq)
        return self._flow_betweenness_nx(src, tgt, F, wq)

    def _flow_betweenness_fast(self, src: np.ndarray, tgt: np.ndarray, F: np.ndarray,
                               wq: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Tree walk where shortest routes are unique, DAG solve for origins with ties.

        On road-like data with real-valued weights almost every shortest route is unique: then
        each pair's flow simply runs back along Dijkstra's predecessor tree. The trees of all
        origins are numbered as one forest (node ``v`` of origin row ``r`` is ``r * n + v``)
        and all pairs walk back together, one ``take`` per hop. Each visit adds the pair's
        flow to the node (after the first step) and to the tree edge into it, in hop order as
        before (the same sums to the last bit). An origin for which some node on those routes
        has two or more shortest-path predecessors (a tie) goes to the DAG solve instead.
        """
        n, k = self.n, len(src)
        D, P = self._dist(src, None, wq, predecessors=True)
        f, offs, start, roots, home, col, col_x = self._walk_plan(src, tgt, F)
        Df = D.ravel()
        keep = np.isfinite(Df.take(start))
        if not keep.all():
            start, f, home = start[keep], f[keep], home[keep]
        if len(start) == 0:
            return np.zeros(n), np.zeros(self.m)
        # The forest's parent pointers; each origin is its own parent, so a walker that got
        # home stays there and one take per hop moves them all.
        par = (P + offs[:, None]).ravel()
        par[roots] = roots
        steps, cur = [start], start
        while not (cur == home).all():
            for _ in range(8):  # check for the end every 8 hops: parked walkers stay put
                cur = par.take(cur)
                steps.append(cur)
        visits = np.concatenate(steps)                  # hop-major; the first hop: targets
        on = np.zeros(k * n, dtype=bool)
        on[visits], on[roots] = True, False
        xs = np.flatnonzero(on)                         # the forest nodes on the routes
        eid, tied = self._tree_edges(Df, xs, col.take(xs), wq)
        # Visits of a root (parked walkers) and, with ties, of a tied row (whose flow comes
        # from the DAG solve) count in a spare last bin, dropped: no other sum changes.
        bin_node = col_x
        if len(tied):
            bin_node = col_x.copy()
            bin_node.reshape(k, n)[tied] = n
            eid[eid < 0] = self.m
        bin_edge = np.full(k * n, self.m, dtype=np.int64)
        bin_edge[xs] = eid
        w, first = np.tile(f, len(steps)), len(start)
        node = np.bincount(bin_node.take(visits[first:]), w[first:], minlength=n + 1)[:n]
        edge = np.bincount(bin_edge.take(visits), weights=w, minlength=self.m + 1)[:self.m]
        if len(tied):
            nd, ed = self._flow_betweenness_dag(src[tied], tgt, F[tied], wq, D[tied])
            node += nd
            edge += ed
        return node, edge

    def _walk_plan(self, src: np.ndarray, tgt: np.ndarray, F: np.ndarray
                   ) -> tuple[np.ndarray, ...]:
        """Return ``(f, offs, start, roots, home, col, col_x)`` for :meth:`_pairs`'s ``F``.

        Each positive pair's flow (row-major), each origin row's forest offset, each pair's
        start (target) and home (origin) forest node, the roots, the node of every forest
        index, and the same with ``n`` (a spare bin) at the roots; kept for a read-only F.
        """
        cached = self._walk_cache
        if cached is not None and cached[0] is F:
            return cached[1]
        n, k = self.n, len(src)
        (ko, kt), offs = np.nonzero(F > 0), np.arange(k, dtype=np.int64) * n
        roots = offs + src
        col = np.tile(np.arange(n, dtype=np.int64), k)
        col_x = col.copy()
        col_x[roots] = n
        plan = (F[ko, kt], offs, offs[ko] + tgt[kt], roots, roots[ko], col, col_x)
        if not F.flags.writeable:
            self._walk_cache = (F, plan)
        return plan

    def _tree_edges(self, Df: np.ndarray, xs: np.ndarray, v: np.ndarray, wq: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray]:
        """Return each forest node's tree in-edge (-1 in a tied row) and the tied rows.

        ``xs``: forest nodes (node ``v``); a row is tied where one has two or more tight
        in-edges (``d(u) + w(u, v) == d(v)`` on the flat distances ``Df``, exact on integers).
        """
        none = np.zeros(0, dtype=np.int64)
        if len(xs) == 0:
            return none, none
        cnt = self._in_deg.take(v)                      # >= 1: xs are reached
        ends = cnt.cumsum()
        # Every in-edge of every node of xs, as positions into the in-edge order.
        pos = np.repeat(self._in_ptr.take(v) - ends + cnt, cnt)
        pos += np.arange(len(pos))
        du = Df.take(np.repeat(xs - v, cnt) + self._in_u.take(pos))
        tight = du + wq.take(self._in_eid).take(pos) == np.repeat(Df.take(xs), cnt)
        if np.count_nonzero(tight) == len(xs):          # one tight in-edge each: no tie
            return self._in_eid.take(pos.take(np.flatnonzero(tight))), none
        many = np.add.reduceat(tight.astype(np.int64), ends - cnt) > 1
        row = (xs - v) // self.n
        tied = np.unique(row[many])
        eid = np.full(len(xs), -1, dtype=np.int64)
        ok = ~np.isin(row, tied)
        # In a row without ties each node's one tight in-edge is its tree edge.
        eid[ok] = self._in_eid.take(pos[tight & np.repeat(ok, cnt)])
        return eid, tied

    def _flow_betweenness_dag(self, src: np.ndarray, tgt: np.ndarray, F: np.ndarray,
                              wq: np.ndarray, D: np.ndarray | None = None
                              ) -> tuple[np.ndarray, np.ndarray]:
        """Exact for any ties: triangular solves over the shortest-path DAGs (module notes)."""
        n, k = self.n, len(src)
        if D is None:
            D = self._dist(src, None, wq)                               # k x n
        du = D[:, self.u]
        tight = np.isfinite(du) & (du + wq == D[:, self.v])            # k x m
        # Number the nodes of each origin's block in distance order: DAG edges then go from a
        # lower to a strictly higher number (weights >= 1), so the system is triangular.
        order = np.argsort(D, axis=1, kind="stable")
        pos = np.empty_like(order)
        np.put_along_axis(pos, order, np.arange(n)[None, :], axis=1)
        gid = pos + (np.arange(k) * n)[:, None]                         # k x n
        ko, ke = np.nonzero(tight)
        a = gid[ko, self.u[ke]]
        b = gid[ko, self.v[ke]]
        N = k * n
        diag = np.arange(N)
        # L = I - A.T (lower triangular): row b, column a for DAG edge a -> b.
        L = sp.csr_array((np.concatenate([np.ones(N), -np.ones(len(a))]),
                          (np.concatenate([diag, b]), np.concatenate([diag, a]))),
                         shape=(N, N))
        e = np.zeros(N)
        e[gid[np.arange(k), src]] = 1.0
        # L stores its unit diagonal, so unit_diagonal=False would give the same solution.
        sigma = spsolve_triangular(L, e, lower=True, unit_diagonal=True)
        rhs = np.zeros(N)
        tg = gid[:, tgt]                                                # k x len(tgt)
        st = sigma[tg]
        with np.errstate(divide="ignore", invalid="ignore"):
            rhs[tg.ravel()] = np.where(st > 0, F / st, 0.0).ravel()
        g = spsolve_triangular(L.T.tocsr(), rhs, lower=False, unit_diagonal=True)
        # Flow through v (not ending there): sigma * (g - f / sigma) = sigma * sum of g over
        # the DAG successors of v.
        node_blocks = (sigma * (g - rhs))[gid]
        node_blocks[np.arange(k), src] = 0.0
        node = node_blocks.sum(axis=0)
        edge = np.bincount(ke, weights=sigma[a] * g[b], minlength=self.m)
        return node, edge

    def _flow_betweenness_nx(self, src: np.ndarray, tgt: np.ndarray, F: np.ndarray,
                             wq: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        self._nx_set(wq)
        node = np.zeros(self.n)
        edge = np.zeros(self.m)
        eidx = {(a, b): j for j, (a, b) in enumerate(zip(self.u.tolist(), self.v.tolist()))}
        tl = tgt.tolist()
        for i, s in enumerate(src.tolist()):
            S, P, sigma, _ = _single_source_dijkstra_path_basic(self._nx, s, "w")
            flow = {t: F[i, j] for j, t in enumerate(tl) if t != s}
            delta = dict.fromkeys(S, 0.0)
            while S:
                w = S.pop()
                coeff = (delta[w] + flow.get(w, 0.0)) / sigma[w]
                for v in P[w]:
                    c = sigma[v] * coeff
                    edge[eidx[(v, w)]] += c
                    delta[v] += c
                if w != s:
                    node[w] += delta[w]
        return node, edge
