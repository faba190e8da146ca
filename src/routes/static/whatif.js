/* routes what-if: close, reopen or upgrade border crossings and watch the flow re-route.
 *
 * Written for the `routes` package (src/routes/maps/_whatif.py embeds the network as JSON in
 * the page). The computation follows the Python engine's definitions:
 *   - routes: the k best loopless routes of each origin-market pair by cost, on the engine's
 *     fixed-point weights (Yen); every route as short as the k-th is found, the routes are
 *     sorted by (length, node ids) and the first k kept (routes.engine.Engine.k_shortest_paths);
 *   - flows: the logit split P(r) = exp(-theta * (c_r / c_min - 1)) / sum, c = the route's
 *     cost (routes.routing.flows.logit_shares), each pair's flow split over its routes;
 *   - corridors: the labelling rules of routes.routing.paths.corridor_of_route; the onward
 *     legs from wholesale hubs (a pair's 4th field) are left out of the corridor shares, as
 *     in routes.routing.flows.corridor_shares;
 *   - detected share: sum flow(o, m) * (1 - exp(-d_om)) / routed flow, d_om the least risk
 *     from o to m (the flow objective of routes.priorities).
 * A crossing's state changes only the weights of the edges entering it (closed: no edges at
 * all); the weights of each state come with the data, computed by the Python network build.
 * Every text from the data is put on the page as text (textContent), never as markup.
 */
(function () {
  "use strict";

  var DATA = JSON.parse(document.getElementById("whatif-data").textContent);
  var NODES = DATA.nodes, EDGES = DATA.edges, PARAMS = DATA.params;
  var CORRIDORS = ["Southern", "Caucasus", "Northern", "Balkan", "Other"];
  var SOUTH_CAUCASUS = ["ARM", "AZE", "GEO"], CENTRAL_ASIA = ["TJK", "UZB", "KGZ", "TKM"];
  var NOT_SOUTHERN_BEFORE_SEA = ["TUR", "RUS", "KAZ"].concat(SOUTH_CAUCASUS);

  /* ------------------------------------------------------------------ the network */

  /* The network in a state ({node index: "open" | "upgraded" | "closed"}): out- and in-edges
   * of each node (in (u, v) order) with their cost in fixed-point units, cost and risk.
   * `trees`: the shortest-path trees into each market, built once (kShortest). The work the
   * searches do is counted (`run`: searches, `scans`: edges looked at, `cands`: candidate
   * routes found, `held`: candidates looked at when the next route is picked): make
   * mutate-js holds it to the unmutated engine's, so a mutant that only undoes a speed-up
   * is caught. */
  function network(state) {
    var n = NODES.length, wq = [], cost = [], risk = [], on = [], idx = {};
    var out = NODES.map(function () { return []; }), inn = NODES.map(function () { return []; });
    EDGES.forEach(function (e, j) {
      var su = state[e[0]], sv = state[e[1]];
      var w = sv === "upgraded" && e[5] ? e[5] : e[4];
      cost.push(w[0]); wq.push(w[1]); risk.push(w[2]);
      on.push(su !== "closed" && sv !== "closed");
      if (on[j]) { out[e[0]].push(j); inn[e[1]].push(j); idx[e[0] * n + e[1]] = j; }
    });
    var tail = new Int32Array(EDGES.map(function (e) { return e[0]; }));
    var head = new Int32Array(EDGES.map(function (e) { return e[1]; }));
    return {n: n, out: out, inn: inn, tail: tail, head: head, wq: wq, cost: cost, risk: risk,
            on: on,
            edge: function (u, v) { return idx[u * n + v]; },
            dist: new Float64Array(n), pred: new Int32Array(n), seen: new Uint32Array(n),
            done: new Uint32Array(n), trees: {}, run: 0, scans: 0, cands: 0, held: 0};
  }

  /* A binary heap of nodes by key (smallest first). */
  function Heap() { this.k = []; this.v = []; }
  Heap.prototype.push = function (key, node) {
    var k = this.k, v = this.v, i = k.length;
    k.push(key); v.push(node);
    while (i > 0) {
      var p = (i - 1) >> 1;
      // Tie order: `<` here (`<=` / `>` in pop) only orders equal keys, picking among equally
      // short routes; kShortest finds every route as short as the k-th and sorts them by node
      // ids, and distances do not depend on it (make mutate-js kills these by the work check).
      if (k[p] <= key) { break; }
      k[i] = k[p]; v[i] = v[p]; i = p;
    }
    k[i] = key; v[i] = node;
  };
  Heap.prototype.pop = function () {
    var k = this.k, v = this.v, top = v[0], lk = k.pop(), lv = v.pop(), n = k.length, i = 0;
    if (!n) { return top; }
    for (;;) {
      var l = 2 * i + 1, r = l + 1, m = l;
      if (l >= n) { break; }
      // equivalent mutant: `r <= n` or `true` for `r < n`: k[n] is undefined after the pop and
      // `undefined < x` is false. And `k[r] <= k[l]`: the order of equal keys (see push).
      if (r < n && k[r] < k[l]) { m = r; }
      // `>`: the order of equal keys (see push).
      if (k[m] >= lk) { break; }
      k[i] = k[m]; v[i] = v[m]; i = m;
    }
    k[i] = lk; v[i] = lv;
    return top;
  };

  /* Dijkstra from s on edge weights w, over `edges` (net.out; net.inn walks backwards).
   * Returns the distances, or with a target t the shortest {len, path} (null if none):
   * then `h` (a lower bound of the distance to t, e.g. the distance in the whole network)
   * guides the search (A*), banned nodes and edges are skipped (Yen's spur paths) and
   * routes longer than `limit` are given up (null).
   * The work arrays are the network's, reused: a node's entries count only when its stamp
   * is this search's. */
  function dijkstra(net, w, s, t, opts) {
    opts = opts || {};
    var back = opts.back, edges = back ? net.inn : net.out, h = opts.h;
    var ends = back ? net.tail : net.head;
    // `limit` comes with `h` (spurPath): a plain search has neither.
    var bannedNode = opts.bannedNode, bannedEdge = opts.bannedEdge, limit = opts.limit;
    var dist = net.dist, pred = net.pred, seen = net.seen, done = net.done;
    var run = ++net.run, heap = new Heap();
    dist[s] = 0; seen[s] = run;
    heap.push(0, s);  // popped first, alone: its key is compared with none
    while (heap.k.length) {
      var u = heap.pop();
      // A stale entry (a node reached again by a shorter way) is not expanded twice.
      if (done[u] === run) { continue; }
      // A* with a limit: every route through u is longer than `limit` (a longer spur route
      // would be a candidate beyond the bound, which kShortest drops).
      if (h && dist[u] + h[u] > limit) { return null; }
      done[u] = run;
      if (u === t) { break; }
      var es = edges[u];
      net.scans += es.length;
      for (var i = 0; i < es.length; i++) {
        var e = es[i], v = ends[e];
        // A node that cannot reach t (h Infinity) is not pushed: it would be popped after t,
        // and expanded when t cannot be reached (regression case "the A* spur search leaves a
        // dead end alone", by the work it would do). Killed (make mutate-js): `false` for this
        // whole test (the A* spur search ignoring bans finds a route already found again) by
        // the regression case "the A* spur search skips banned nodes and edges"
        // (tests/data/whatif_regressions.json).
        if ((bannedEdge && bannedEdge[e]) || (bannedNode && bannedNode[v]) ||
            (h && h[v] === Infinity)) { continue; }
        // A node already done is not improved here: its distance is final (weights >= 0, and
        // h, the distances in the whole network, never overestimates along an edge).
        var d = dist[u] + w[e];
        // `d <= dist[v]`: only the choice among equally short routes (tie order, see Heap).
        if (seen[v] !== run || d < dist[v]) {
          dist[v] = d; pred[v] = u; seen[v] = run;
          heap.push(h ? d + h[v] : d, v);
        }
      }
    }
    if (t === undefined) {
      return dist.map(function (d, x) { return seen[x] === run ? d : Infinity; });
    }
    if (seen[t] !== run) { return null; }
    var path = [t];
    while (path[path.length - 1] !== s) { path.push(pred[path[path.length - 1]]); }
    return {len: dist[t], path: path.reverse()};
  }

  /* Routes from s to t compare by (length, node ids); node indices follow the ids' order.
   * Two loopless routes from s to t differ before either ends (neither is a prefix of the
   * other: t comes only at the end), so the loop reads past a route only when a is b. */
  function compareRoutes(a, b) {
    if (a.len !== b.len) { return a.len - b.len; }
    // equivalent mutant: `i <= a.path.length`: past the end of a route and of the same route
    // both nodes are undefined.
    for (var i = 0; i < a.path.length; i++) {
      if (a.path[i] !== b.path[i]) { return a.path[i] - b.path[i]; }
    }
    return 0;
  }

  /* The shortest-path tree into t: each node's distance to t and its next step on a
   * shortest route there (Dijkstra backwards from t). */
  function treeTo(net, t) {
    var dist = dijkstra(net, net.wq, t, undefined, {back: true});
    return {t: t, dist: dist, next: net.pred.slice()};
  }

  /* The shortest route from v to the tree's target that avoids the banned nodes, the banned
   * edges (all out of v) and v itself after the start. Usually the best first leg followed by
   * the tree's route from there is clean, and then it is the answer: any other first leg w
   * costs at least w(v, w) + dist(w), however the rest avoids the bans. Otherwise: A* search,
   * guided by the distances to t (they can only grow when nodes are banned). Routes longer
   * than `limit` are not wanted: null. */
  function spurPath(net, tree, v, bannedNode, bannedEdge, limit) {
    var h = tree.dist, es = net.out[v], best = -1, len = Infinity;
    net.scans += es.length;
    // (a leg to a node that cannot reach t sums to Infinity, never `< len`)
    es.forEach(function (e) {
      var w = net.head[e], d = net.wq[e] + h[w];
      // `d <= len`: another of equally short first legs (tie order, see Heap).
      if (!bannedEdge[e] && !bannedNode[w] && d < len) { len = d; best = e; }
    });
    if (best < 0 || len > limit) { return null; }  // none, or none short enough
    var path = [v];
    for (var x = net.head[best]; ; x = tree.next[x]) {
      if (bannedNode[x] || x === v) {
        return dijkstra(net, net.wq, v, tree.t, {h: h, bannedNode: bannedNode,
                                                 bannedEdge: bannedEdge, limit: limit});
      }
      path.push(x);
      if (x === tree.t) { return {len: len, path: path}; }
    }
  }

  /* The k-th smallest length among routes found and candidates (Infinity if fewer): no route
   * longer than it can be among the k best. */
  function kthBound(A, B, k) {
    // A bound of Infinity would only prune less (same routes, more work: make mutate-js's
    // work check catches it); the bound cuts spur searches and candidates never needed.
    if (A.length + B.length < k) { return Infinity; }
    var lens = A.concat(B).map(function (r) { return r.len; });
    lens.sort(function (a, b) { return a - b; });
    return lens[k - 1];
  }

  /* The k shortest loopless paths from s to t (s !== t) on the fixed-point weights (Yen
   * 1971), ties broken by node ids exactly as routes.engine.Engine.k_shortest_paths does. The
   * shortest-path tree into t (treeTo) is built once per network and market (net.trees).
   * Each candidate stands for the routes that share its root and avoid the legs banned when
   * it was found, and is the shortest of them (Lawler's view of Yen): a candidate longer than
   * the k-th shortest length known so far is never needed, nor is anything it stands for, so
   * such spur searches are cut short. */
  function kShortest(net, s, t, k) {
    var tree = net.trees[t] || (net.trees[t] = treeTo(net, t));
    if (tree.dist[s] === Infinity) { return []; }
    var bannedNode = new Uint8Array(net.n), bannedEdge = new Uint8Array(EDGES.length);
    var first = spurPath(net, tree, s, bannedNode, bannedEdge, Infinity);
    first.dev = 0;
    var A = [first], B = [], i, j;
    for (;;) {
      var cur = A[A.length - 1], last = cur.path, rootLen = 0, bound = kthBound(A, B, k);
      var same = A;  // the routes found that share the root last[0..i]
      for (i = 0; i < last.length - 1; i++) {
        same = same.filter(function (r) { return r.path[i] === last[i]; });
        // Lawler (1972): before the node where this route left its parent, the spur search
        // is the parent's own (same root, same banned legs) and finds nothing new.
        if (i >= cur.dev) {
          // The next leg of every route sharing the root is banned (a route that shares
          // last[0..i] goes on past last[i]: it is not t); an edge may be listed twice.
          var banned = same.map(function (r) { return net.edge(r.path[i], r.path[i + 1]); });
          banned.forEach(function (e) { bannedEdge[e] = 1; });
          var spur = spurPath(net, tree, last[i], bannedNode, bannedEdge, bound - rootLen);
          banned.forEach(function (e) { bannedEdge[e] = 0; });
          // A route found before is banned here, and no candidate is met twice: each spur
          // search keeps to its own part of Lawler's partition.
          if (spur) {
            B.push({len: rootLen + spur.len, path: last.slice(0, i).concat(spur.path), dev: i});
            net.cands++;
          }
        }
        bannedNode[last[i]] = 1;  // the root last[0..i] is not revisited
        rootLen += net.wq[net.edge(last[i], last[i + 1])];
      }
      last.forEach(function (x) { bannedNode[x] = 0; });
      // Longer candidates are not needed. Once k routes are found this keeps only those as
      // short as the k-th (Yen finds routes in order of length: the k-th smallest length is
      // then at most the k-th route's), and the search stops when none is left: every route
      // as short as the k-th is then known.
      bound = kthBound(A, B, k);
      B = B.filter(function (r) { return r.len <= bound; });
      if (!B.length) { break; }
      var best = 0;
      net.held += B.length;
      // equivalent mutant: `<= 0`: compareRoutes is 0 only for the same route (the candidates
      // are distinct routes).
      for (j = 1; j < B.length; j++) { if (compareRoutes(B[j], B[best]) < 0) { best = j; } }
      A.push(B.splice(best, 1)[0]);
    }
    A.sort(compareRoutes);
    return A.slice(0, k);  // sorted: the first k are no longer than the k-th
  }

  /* ------------------------------------------------------------------ routes and corridors */

  function has(list, x) { return list.indexOf(x) >= 0; }
  function meets(set, list) { return list.some(function (c) { return set[c]; }); }

  /* Countries a route crosses, in order (routes.routing.paths.route_countries). */
  function routeCountries(path) {
    var out = [];
    path.forEach(function (i) {
      var d = NODES[i], pair;
      if (d.kind === "crossing") {
        pair = out.length && out[out.length - 1] === d.country_b
          ? [d.country_b, d.country_a] : [d.country_a, d.country_b];
      } else { pair = [d.country]; }
      pair.forEach(function (c) {
        if (c && (!out.length || out[out.length - 1] !== c)) { out.push(String(c)); }
      });
    });
    return out;
  }

  /* Corridor label (routes.routing.paths.corridor_of_route). */
  function corridorOf(countries, modes, before) {
    var cs = {};
    countries.forEach(function (c) { cs[c] = true; });
    if (has(modes, "sea")) {
      var bs = {};
      (before || countries).forEach(function (c) { bs[c] = true; });
      if (!meets(bs, NOT_SOUTHERN_BEFORE_SEA)) { return "Southern"; }
    }
    if (cs.PAK && !meets(cs, NOT_SOUTHERN_BEFORE_SEA.concat(CENTRAL_ASIA, ["IRN"]))) {
      return "Southern";
    }
    if (meets(cs, SOUTH_CAUCASUS)) { return "Caucasus"; }
    if (meets(cs, ["RUS", "KAZ"]) || (meets(cs, CENTRAL_ASIA) && !cs.IRN)) { return "Northern"; }
    if (meets(cs, ["TUR", "IRN"])) { return "Balkan"; }
    return "Other";
  }

  function routeRow(net, o, m, rank, r) {
    var edges = [], modes = [], cost = 0, risk = 0;
    for (var i = 0; i + 1 < r.path.length; i++) {
      var e = net.edge(r.path[i], r.path[i + 1]);
      edges.push(e); modes.push(EDGES[e][3]);
      cost += net.cost[e]; risk += net.risk[e];
    }
    var countries = routeCountries(r.path), sea = modes.indexOf("sea");
    // the countries up to the first sea leg's port ([] without one: then corridorOf ignores it)
    var before = routeCountries(r.path.slice(0, sea + 1));
    return {origin: o, market: m, rank: rank, path: r.path, edges: edges, cost: cost,
            risk: risk, countries: countries, corridor: corridorOf(countries, modes, before)};
  }

  /* Logit shares of routes with these costs (routes.routing.flows.logit_shares). */
  function logitShares(costs, theta) {
    var cmin = Math.min.apply(null, costs), u, total = 0;
    if (cmin <= 0) {
      u = costs.map(function (c) { return c === cmin ? 1 : 0; });
    } else {
      // equivalent mutant: `c / cmin + 1`: the factor exp(-2 theta) cancels in the shares.
      u = costs.map(function (c) { return Math.exp(-theta * (c / cmin - 1)); });
    }
    u.forEach(function (x) { total += x; });
    return u.map(function (x) { return x / total; });
  }

  /* Least risk from each origin to each market -> the expected detected share of the flow. */
  function detectedShare(net) {
    var D = {}, F = [], routed = 0, detected = 0;
    DATA.pairs.forEach(function (p) {
      var o = p[0], m = p[1];
      if (!p[2]) { return; }  // a pair without flow adds nothing: no search for it
      if (!D[o]) { D[o] = dijkstra(net, net.risk, o); }
      if (D[o][m] < Infinity) { F.push([p[2], D[o][m]]); }
    });
    F.forEach(function (x) { routed += x[0]; });
    F.forEach(function (x) { detected += x[0] * -Math.expm1(-x[1]); });
    return routed > 0 ? detected / routed : 0;
  }

  /* Everything the page shows, for crossings in `state`. */
  function compute(state) {
    var net = network(state), routes = [];
    var total = 0, unserved = 0;
    DATA.pairs.forEach(function (p) {  // no pair is a place with itself (od_demand's pairs)
      var o = p[0], m = p[1], f = p[2];
      var found = kShortest(net, o, m, PARAMS.k);
      if (!found.length) { unserved += f; return; }
      total += f;
      var rows = found.map(function (r, i) { return routeRow(net, o, m, i + 1, r); });
      var probs = logitShares(rows.map(function (r) { return r.cost; }), PARAMS.theta);
      rows.forEach(function (r, i) {
        r.prob = probs[i]; r.flow = f * probs[i]; r.onward = !!p[3]; routes.push(r);
      });
    });
    var node = new Float64Array(NODES.length), edge = new Float64Array(EDGES.length);
    var corridor = {};
    CORRIDORS.forEach(function (c) { corridor[c] = {flow: 0, share: 0}; });
    routes.forEach(function (r) {
      for (var i = 1; i + 1 < r.path.length; i++) { node[r.path[i]] += r.flow; }
      r.edges.forEach(function (e) { edge[e] += r.flow; });
      if (!r.onward) { corridor[r.corridor].flow += r.flow; }
    });
    var ctotal = 0;
    CORRIDORS.forEach(function (c) { ctotal += corridor[c].flow; });
    CORRIDORS.forEach(function (c) {
      corridor[c].share = ctotal > 0 ? corridor[c].flow / ctotal : 0;
    });
    var budget = 0, changes = [], legitH = 0, legitUsd = 0, legitImputed = 0;
    // Only crossings have a state and a start (a place has neither: it adds nothing).
    NODES.forEach(function (d, i) {
      if (state[i] === "upgraded") {
        budget += d.upgrade_cost;
        /* the delay the upgrade adds for legitimate traffic (routes tradeoff's); a crossing
         * starts open or closed (routes.maps._whatif), never upgraded */
        legitH += d.legit_h || 0; legitUsd += d.legit_usd || 0;
        if (d.legit_imputed) { legitImputed += 1; }
      }
      if (state[i] !== d.start) { changes.push(i); }
    });
    var detected = detectedShare(net);
    return {routes: routes, node: node, edge: edge, on: net.on, corridors: corridor,
            total: total, unserved: unserved, detected: detected, budget: budget,
            changes: changes, legitH: legitH, legitUsd: legitUsd, legitImputed: legitImputed,
            work: {run: net.run, scans: net.scans, cands: net.cands, held: net.held}};
  }

  /* ------------------------------------------------------------------ scenario TOML */

  function tomlString(s) {
    return '"' + String(s).replace(/[\\"\u0000-\u001f\u007f]/g, function (c) {
      return c === "\\" || c === '"' ? "\\" + c
        : "\\u" + ("000" + c.charCodeAt(0).toString(16)).slice(-4);
    }) + '"';
  }
  function tomlValue(v) {
    if (typeof v === "boolean") { return v ? "true" : "false"; }
    if (typeof v === "number") {
      var s = String(v);
      return /^-?\d+$/.test(s) ? s + ".0" : s;
    }
    if (Array.isArray(v)) { return "[" + v.map(tomlValue).join(", ") + "]"; }
    return tomlString(v);
  }
  function oneLine(s) {
    return String(s).replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, " ");
  }

  /* The scenario of `state`: the starting scenario's overlay plus the page's changes. */
  function scenarioToml(state) {
    var sc = DATA.scenario, lines = [], crossings = {}, words = [];
    Object.keys(sc.crossings).forEach(function (k) {
      crossings[k] = Object.assign({}, sc.crossings[k]);
    });
    NODES.forEach(function (d, i) {
      if (d.kind !== "crossing" || state[i] === d.start) { return; }
      var c = crossings[d.id] || (crossings[d.id] = {});
      if (state[i] === "closed") {
        c.status = "closed";
      } else {
        if (d.start === "closed") { c.status = d.reopen; }
        if (state[i] === "upgraded") {
          // upgraded = true replaces a p_detect the starting scenario gives the post (the
          // page's upgraded weights are built the same way; a file cannot give both).
          delete c.p_detect;
          c.upgraded = true;
        }
      }
      words.push((state[i] === "open" ? "reopened " : state[i] + " ") + d.id);
    });
    lines.push("# Written by the routes what-if page over scenario " + oneLine(sc.name) + ".");
    lines.push("# An upgrade is upgraded = true: the post's p_detect becomes its " +
               "p_detect_upgraded (replacing");
    lines.push("# any p_detect the starting scenario gave it).");
    NODES.forEach(function (d, i) {
      if (d.kind === "crossing" && state[i] !== d.start) {
        lines.push("#   " + d.id + ": " + state[i] + " (" + oneLine(d.name) + ")");
      }
    });
    lines.push("[scenario]");
    lines.push("name = " + tomlString(oneLine(sc.name + "-whatif")));
    lines.push("description = " + tomlString(oneLine(
      (sc.description ? sc.description + " " : "") + "What-if changes: " +
      (words.length ? words.join("; ") : "none") + ".")));
    if (sc.as_of) { lines.push("as_of = " + tomlString(sc.as_of)); }
    // The cost model the page priced the routes with: `routes` warns when a command runs
    // this scenario with another one.
    if (DATA.meta.cost_model_sha256) {
      lines.push("cost_model = " + tomlString(oneLine(DATA.meta.cost_model_file || "")));
      lines.push("cost_model_sha256 = " + tomlString(DATA.meta.cost_model_sha256));
    }
    if (sc.sources.length) { lines.push("sources = " + tomlValue(sc.sources)); }
    [["crossings", crossings], ["classes", sc.classes], ["places", sc.places]].forEach(
      function (t) {
        Object.keys(t[1]).sort().forEach(function (id) {
          lines.push("", "[" + t[0] + "." + tomlString(id) + "]");
          Object.keys(t[1][id]).sort().forEach(function (key) {
            lines.push(key + " = " + tomlValue(t[1][id][key]));
          });
        });
      });
    return lines.join("\n") + "\n";
  }

  /* ------------------------------------------------------------------ the page */

  /* Colours: the one palette of every routes page (palette.json, via routes_common.js). */
  var C = window.routesCommon, PAL = C.palette;
  var STATE_STYLE = {open: PAL.status.open, upgraded: PAL.status.upgraded,
                     closed: PAL.status.closed};
  var CORRIDOR_COLOUR = PAL.corridors;
  var ROLE_COLOUR = PAL.roles;
  /* The name of the page's crossing flow (not the report's flow betweenness). */
  var FLOW_K = "flow over the k best routes";

  function el(tag, attrs, text) {
    var x = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { x.setAttribute(k, attrs[k]); });
    if (text !== undefined) { x.textContent = text; }
    return x;
  }
  function pct(x) { return (100 * x).toFixed(2) + "%"; }
  function pp(x) { return (x >= 0 ? "+" : "\u2212") + Math.abs(100 * x).toFixed(3) + " pp"; }
  function num(x) { return x.toFixed(1); }
  function signed(x) { return (x >= 0 ? "+" : "\u2212") + Math.abs(x).toFixed(1); }

  var map = L.map("whatif-map", {preferCanvas: true, zoomSnap: 0.25});
  var renderer = L.canvas({padding: 0.5});
  map.attributionControl.setPrefix(false);
  L.geoJSON(DATA.basemap, {interactive: false, pane: C.pane(map, "routesBasemap"), style: {
    fillColor: PAL.basemap.land, fillOpacity: 1, color: PAL.basemap.outline, weight: 0.7}})
    .addTo(map);
  map.getContainer().style.background = PAL.basemap.sea;
  // Place names of the offline basemap, as on every routes map (routes_common.js).
  C.placeNames(map, DATA.labels || {}, {country: "whatif-country-label",
                                        capital: "whatif-capital-label",
                                        credit: (DATA.labels || {}).credit});

  var ll = function (i) { return [NODES[i].lat, NODES[i].lon]; };
  var corridorLines = {}, corridorEdges = {};
  EDGES.forEach(function (e, j) {
    var id = e[2];
    if (!corridorEdges[id]) {
      corridorEdges[id] = [];
      corridorLines[id] = L.polyline([ll(e[0]), ll(e[1])], {renderer: renderer,
        interactive: false});
    }
    corridorEdges[id].push(j);
  });
  var corridorLayer = L.layerGroup(Object.keys(corridorLines).map(function (k) {
    return corridorLines[k];
  })).addTo(map);
  var routeLayer = L.layerGroup().addTo(map);
  var crossingLayer = L.layerGroup().addTo(map), placeLayer = L.layerGroup().addTo(map);
  var markers = {};
  NODES.forEach(function (d, i) {
    if (d.kind === "crossing") {
      var mk = L.circleMarker(ll(i), {renderer: renderer, weight: 1.5, fillOpacity: 0.9});
      mk.bindTooltip(function () { return document.createTextNode(d.name); });
      mk.bindPopup(function () { return popup(i); }, {maxWidth: 320});
      mk.whatifId = d.id;
      markers[i] = mk.addTo(crossingLayer);
    } else if (d.role === "origin" || d.role === "market") {
      L.circleMarker(ll(i), {renderer: renderer, radius: 5, weight: 1.5, color: "#ffffff",
        fillColor: ROLE_COLOUR[d.role], fillOpacity: 1})
        .bindTooltip(function () { return document.createTextNode(d.name + " (" + d.role + ")"); })
        .addTo(placeLayer);
    }
  });
  L.control.layers(null, {"Corridors (flow)": corridorLayer, "Best route of each pair":
    routeLayer, "Border crossings": crossingLayer, "Origins and markets": placeLayer},
    {collapsed: true}).addTo(map);
  L.control.scale().addTo(map);
  map.fitBounds(NODES.map(function (d) { return [d.lat, d.lon]; }), {padding: [10, 10]});

  var START = {}, state = {};
  NODES.forEach(function (d, i) { if (d.kind === "crossing") { START[i] = d.start; } });
  var base = compute(START), current = base, openPopup = null;
  var lastMs = 0, frameMs = null, updates = 0;

  /* The popup of crossing i: its figures and the buttons that change its state. */
  function popup(i) {
    var d = NODES[i], box = el("div", {"class": "whatif-popup"}), s = state[i];
    box.appendChild(el("div", {"class": "whatif-popup-title"}, d.name));
    var t = el("table");
    [["state", s + (s !== d.start ? " (start: " + d.start + ")" : "")],
     ["countries", d.country_a + " \u2192 " + d.country_b],
     ["detection", (100 * d.p_detect).toFixed(1) + "%" + (d.upgradable ? ", upgraded " +
       (100 * d.p_detect_upgraded).toFixed(1) + "%" : "")],
     ["upgrade cost", String(d.upgrade_cost)],
     [FLOW_K, num(current.node[i]) + " (start " + num(base.node[i]) + ")"],
     ["cost model", DATA.meta.cost_model]
    ].forEach(function (r) {
      var tr = el("tr");
      tr.appendChild(el("th", {}, r[0])); tr.appendChild(el("td", {}, r[1]));
      t.appendChild(tr);
    });
    box.appendChild(t);
    var actions = s === "closed" ? [["open", "Reopen"]]
      : [[s === "upgraded" ? "open" : "upgraded", s === "upgraded" ? "Remove upgrade"
        : "Upgrade"], ["closed", "Close"]];
    actions.forEach(function (a) {
      if (a[0] === "upgraded" && !d.upgradable) { return; }
      var b = el("button", {type: "button", "class": "whatif-action", "data-state": a[0]}, a[1]);
      // The click stops here: the update redraws this popup, so the button leaves the page
      // before the click could reach the map, which would take it for its own and close
      // the popup.
      L.DomEvent.disableClickPropagation(b);
      b.addEventListener("click", function () { set(d.id, a[0]); });
      box.appendChild(b);
    });
    openPopup = i;
    return box;
  }

  var BY_ID = {};
  NODES.forEach(function (d, i) { BY_ID[d.id] = i; });

  /* Put crossing `id` in `s` ("open", "upgraded", "closed"), recompute, redraw. */
  function set(id, s) {
    var i = BY_ID[id];
    if (i === undefined || NODES[i].kind !== "crossing") { throw new Error("no crossing " + id); }
    if (s === "upgraded" && !NODES[i].upgradable) { throw new Error(id + " cannot be upgraded"); }
    if (["open", "upgraded", "closed"].indexOf(s) < 0) { throw new Error("bad state " + s); }
    state[i] = s;
    return update();
  }

  function reset() {
    Object.keys(START).forEach(function (i) { state[i] = START[i]; });
    return update();
  }

  function update(known) {
    var t0 = performance.now();
    frameMs = null;
    current = known || compute(state);
    draw(current);
    panel(current);
    lastMs = performance.now() - t0;
    var shown = document.getElementById("whatif-ms"), run = ++updates;
    shown.textContent = "updated in " + lastMs.toFixed(1) + " ms";
    // The map's canvas repaints in the next animation frame: time that too.
    requestAnimationFrame(function () {
      if (run !== updates) { return; }
      frameMs = performance.now() - t0;
      shown.textContent = "updated in " + lastMs.toFixed(1) + " ms, drawn in " +
        frameMs.toFixed(1) + " ms";
    });
    // An open popup is redrawn from the current state. Its content stays the function bound
    // at start (setPopupContent(popup(i)) would store a fixed copy that a later opening shows
    // again, stale: e.g. "closed" after a Reset).
    if (openPopup !== null && markers[openPopup].isPopupOpen()) {
      markers[openPopup].getPopup().update();
    }
    return summary();
  }

  function draw(res) {
    var max = 0;
    Object.keys(corridorEdges).forEach(function (id) {
      var f = 0, on = false;
      corridorEdges[id].forEach(function (j) { f += res.edge[j]; on = on || res.on[j]; });
      corridorLines[id].whatifFlow = f;
      corridorLines[id].whatifOn = on;
      max = Math.max(max, f);
    });
    Object.keys(corridorLines).forEach(function (id) {
      var line = corridorLines[id], f = line.whatifFlow;
      line.setStyle(line.whatifOn ? {color: f > 0 ? PAL.flow : PAL.idle, opacity: f > 0 ? 0.75
        : 0.45, weight: 1 + (max > 0 ? 11 * Math.sqrt(f / max) : 0), dashArray: null}
        : {color: PAL.idle, opacity: 0.6, weight: 1, dashArray: "4 4"});
    });
    routeLayer.clearLayers();
    res.routes.forEach(function (r) {
      if (r.rank === 1) {
        routeLayer.addLayer(L.polyline(r.path.map(ll), {renderer: renderer, interactive: false,
          color: CORRIDOR_COLOUR[r.corridor], weight: 2, opacity: 0.8}));
      }
    });
    var nmax = 0;
    Object.keys(markers).forEach(function (i) { nmax = Math.max(nmax, res.node[i]); });
    Object.keys(markers).forEach(function (i) {
      var s = state[i], style = STATE_STYLE[s];
      markers[i].setStyle({color: style.color, fillColor: style.fillColor,
        weight: s !== START[i] ? 3 : 1.5, fillOpacity: s === "closed" ? 0.3 : 0.9});
      markers[i].setRadius(s === "closed" ? 4 : 4 + (nmax > 0 ? 10 * Math.sqrt(res.node[i] / nmax)
        : 0));
    });
  }

  function row(table, cells, cls) {
    var tr = el("tr", cls ? {"class": cls} : {});
    cells.forEach(function (c, j) { tr.appendChild(el(j ? "td" : "th", {}, c)); });
    table.appendChild(tr);
  }

  function panel(res) {
    var p = document.getElementById("whatif-body");
    p.textContent = "";
    var t = el("table", {"class": "whatif-summary"});
    row(t, ["", "start", "now", "change"], "whatif-head");
    row(t, ["Detected share", pct(base.detected), pct(res.detected),
            pp(res.detected - base.detected)], "whatif-detected");
    row(t, ["Added delay to legitimate traffic, h/day" + (res.legitImputed ? " (" +
            res.legitImputed + " post(s) on imputed traffic)" : ""), "0", num(res.legitH),
            signed(res.legitH)], "whatif-legit-h");
    row(t, ["Its value, USD/day", "0", num(res.legitUsd), signed(res.legitUsd)],
        "whatif-legit-usd");
    row(t, ["Routed flow", num(base.total), num(res.total), signed(res.total - base.total)]);
    row(t, ["Unserved flow", num(base.unserved), num(res.unserved),
            signed(res.unserved - base.unserved)]);
    row(t, ["Budget spent", "0", String(res.budget), "+" + String(res.budget)], "whatif-budget");
    p.appendChild(el("h3", {}, "Outcome"));
    p.appendChild(t);
    var c = el("table", {"class": "whatif-corridors"});
    row(c, ["Corridor", "start", "now", "change"], "whatif-head");
    CORRIDORS.forEach(function (k) {
      row(c, [k, pct(base.corridors[k].share), pct(res.corridors[k].share),
              pp(res.corridors[k].share - base.corridors[k].share)]);
    });
    p.appendChild(el("h3", {}, "Corridor shares of the routed flow"));
    p.appendChild(c);
    p.appendChild(el("h3", {}, "Changes (" + res.changes.length + ")"));
    var ul = el("ul", {"class": "whatif-changes"});
    res.changes.forEach(function (i) {
      var li = el("li", {}, NODES[i].name + ": " + state[i] + " ");
      var undo = el("button", {type: "button", "class": "whatif-undo"}, "undo");
      undo.addEventListener("click", function () { set(NODES[i].id, START[i]); });
      li.appendChild(undo);
      ul.appendChild(li);
    });
    if (!res.changes.length) { ul.appendChild(el("li", {}, "none: the starting scenario")); }
    p.appendChild(ul);
    var top = Object.keys(markers).map(Number).sort(function (a, b) {
      return res.node[b] - res.node[a] || (NODES[a].id < NODES[b].id ? -1 : 1);
    }).slice(0, 10);
    var x = el("table", {"class": "whatif-crossings"});
    row(x, ["Crossing", "flow (k routes)", "change"], "whatif-head");
    top.forEach(function (i) {
      row(x, [NODES[i].name, num(res.node[i]), signed(res.node[i] - base.node[i])]);
    });
    p.appendChild(el("h3", {}, "Top crossings by " + FLOW_K));
    p.appendChild(x);
  }

  /* What the colours mean: a control on the map, open, so it shows without scrolling. */
  function legend() {
    var box = el("details", {"class": "whatif-legend", open: ""});
    box.appendChild(el("summary", {}, "Legend"));
    function item(sample, text) {
      var d = el("div", {"class": "whatif-legend-row"});
      d.appendChild(sample);
      d.appendChild(document.createTextNode(text));
      box.appendChild(d);
    }
    ["open", "upgraded", "closed"].forEach(function (s) {
      var st = STATE_STYLE[s];
      item(C.swatch("circle", {fill: st.fillColor, stroke: st.color, width: st.weight,
                               dash: st.dashArray, fillOpacity: s === "closed" ? 0.3 : 0.9}),
           "crossing " + s + (s === "closed" ? "" : " (size: " + FLOW_K + ")"));
    });
    item(C.swatch("circle", {fill: ROLE_COLOUR.origin, stroke: "#fff", width: 1.5}), "origin");
    item(C.swatch("circle", {fill: ROLE_COLOUR.market, stroke: "#fff", width: 1.5}), "market");
    item(C.swatch("line", {colour: PAL.flow, width: 4}), "corridor (width: " + FLOW_K +
         ", both ways)");
    item(C.swatch("line", {colour: PAL.idle, width: 1, dash: "4 4"}), "corridor closed");
    CORRIDORS.forEach(function (c) {
      item(C.swatch("line", {colour: CORRIDOR_COLOUR[c], width: 2}), "best route: " + c);
    });
    var Ctl = L.Control.extend({options: {position: "bottomleft"}, onAdd: function () {
      L.DomEvent.disableClickPropagation(box);
      L.DomEvent.disableScrollPropagation(box);
      return box;
    }});
    new Ctl().addTo(map);
    return box;
  }

  /* Find a crossing by name (routes_common.js): centre it and open its popup. */
  C.search({placeholder: "Find a crossing…", index: function () {
    return Object.keys(markers).map(function (i) {
      return {name: NODES[i].name, kind: NODES[i].country_a + " → " + NODES[i].country_b,
              i: Number(i)};
    });
  }, pick: function (m, it) {
    m.setView(markers[it.i].getLatLng(), Math.max(m.getZoom(), 7), {animate: false});
    setTimeout(function () { markers[it.i].openPopup(); }, 0);
  }}).addTo(map);

  /* The panel's frame: title, provenance, buttons; the body is redrawn on each update. */
  (function frame() {
    var side = document.getElementById("whatif-panel"), m = DATA.meta;
    side.appendChild(el("h2", {}, m.title));
    side.appendChild(el("p", {"class": "whatif-meta"}, "scenario " + m.scenario +
      (m.as_of ? " as of " + m.as_of : "") + " \u00b7 data " +
      m.data_hash + " \u00b7 cost model " + m.cost_model +
      (m.cost_model_file ? " (" + m.cost_model_file + ", sha256 " +
       String(m.cost_model_sha256).slice(0, 12) + ")" : "") + " \u00b7 routes " + m.routes_version +
      " \u00b7 k = " + PARAMS.k + ", theta = " + PARAMS.theta));
    side.appendChild(el("p", {"class": "whatif-help"}, "Click a crossing (or find it by name, " +
      "top left) to close, reopen or upgrade it. Detected share: expected share of the " +
      "routed flow detected when each consignment takes its least-risk route. Added delay: " +
      "the hours a day the upgrades add for the legitimate trucks and travellers crossing " +
      "the posts, and their money value (routes tradeoff, physical upgrade). Corridor " +
      "shares and a crossing's " + FLOW_K + ": each pair's flow split over its k = " +
      PARAMS.k + " best routes by cost (logit). The report's \u201cflow betweenness\u201d " +
      "of a crossing is a different quantity, the flow on each pair's best routes only, so " +
      "the two differ. Cost model: " + m.cost_model + "."));
    var bar = el("div", {"class": "whatif-buttons"});
    var r = el("button", {type: "button", id: "whatif-reset"}, "Reset");
    r.addEventListener("click", reset);
    var dl = el("button", {type: "button", id: "whatif-download"}, "Download scenario (TOML)");
    dl.addEventListener("click", function () {
      var a = el("a", {download: DATA.scenario.name + "-whatif.toml"});
      a.href = URL.createObjectURL(new Blob([scenarioToml(state)], {type: "application/toml"}));
      document.body.appendChild(a);
      a.click();
      a.remove();
      setTimeout(function () { URL.revokeObjectURL(a.href); }, 1000);
    });
    bar.appendChild(r); bar.appendChild(dl);
    side.appendChild(bar);
    side.appendChild(el("p", {id: "whatif-ms", "class": "whatif-meta"}, ""));
    side.appendChild(el("div", {id: "whatif-body"}));
    legend();
  })();

  /* Plain numbers of the current state (what the tests compare with the CLI). */
  function summary() {
    var shares = {}, flows = {}, crossings = {};
    CORRIDORS.forEach(function (c) {
      shares[c] = current.corridors[c].share; flows[c] = current.corridors[c].flow;
    });
    Object.keys(markers).forEach(function (i) { crossings[NODES[i].id] = current.node[i]; });
    return {detected: current.detected, shares: shares, corridorFlows: flows,
            total: current.total, unserved: current.unserved, budget: current.budget,
            legitH: current.legitH, legitUsd: current.legitUsd,
            legitImputed: current.legitImputed,
            crossings: crossings, nRoutes: current.routes.length, ms: lastMs,
            frameMs: frameMs, changes: current.changes.map(function (i) {
              return [NODES[i].id, state[i]];
            })};
  }

  Object.keys(START).forEach(function (i) { state[i] = START[i]; });
  update(base);
  window.whatif = {set: set, reset: reset, summary: summary, toml: function () {
    return scenarioToml(state);
  }, map: map, markers: markers, core: {kShortest: kShortest, network: network, compute: compute,
    corridorOf: corridorOf, logitShares: logitShares}};
})();
