/* Runs the what-if page's script (src/routes/static/whatif.js), unchanged, in Node.
 *
 * Used by tests/test_whatif_random.py: one Node process reads one case per line on stdin,
 * as JSON {data, changes: [[crossing id, state], ...]}, and writes one line of JSON per case:
 * (and optionally timeoutMs: the case fails with "Script execution timed out" past it),
 * the page's own summary after `whatif.set(id, state)` for each change (the path a click
 * takes), and the page's `compute` of that state (every route with its flow, the flow through
 * each node and along each edge, and the work its searches did: make mutate-js holds a
 * mutant's work to the unmutated engine's). Each case runs the script in a fresh V8 context
 * whose page is `data` (the JSON the page embeds); the browser's document and Leaflet are
 * stand-ins that accept every call and draw nothing, so only the computation is exercised.
 * Usage: node tests/whatif_node.js [path of the page's script: routes_common.js, then whatif.js]
 * As a module (scripts/stryker/whatif_judge.js, make mutate-js): {load, run}.
 */
"use strict";

const fs = require("fs");
const path = require("path");
const readline = require("readline");
const vm = require("vm");

const file = process.argv[2] ||
  path.join(__dirname, "..", "src", "routes", "static", "whatif.js");

/* The page's script, compiled once (`text`: its source, else read from `name`). */
function load(name, text) {
  return new vm.Script(text === undefined ? fs.readFileSync(name, "utf8") : text,
                       {filename: name});
}

/* One object that stands for every DOM element and Leaflet object: any property is itself,
 * any call returns it, any assignment is accepted. */
const stub = new Proxy(function () {}, {
  get(target, key) {
    if (key === Symbol.toPrimitive) { return () => 0; }
    if (key === "then") { return undefined; }
    return stub;
  },
  set() { return true; },
  apply() { return stub; },
  construct() { return stub; },
});

function run(script, data, changes, timeoutMs) {
  const json = JSON.stringify(data);
  // The page's data element; every other document call gets the stand-in.
  const document = new Proxy({
    getElementById(id) { return id === "whatif-data" ? {textContent: json} : stub; },
  }, {get(target, key) { return key in target ? target[key] : stub; }});
  const window = {};
  const context = vm.createContext({
    document, window, L: stub, performance, requestAnimationFrame: () => 0,
    URL: stub, Blob: stub, setTimeout, Math, JSON, Object, Array,
    // StrykerJS (make mutate-js) names the active mutant in the environment.
    process: {env: {__STRYKER_ACTIVE_MUTANT__: process.env.__STRYKER_ACTIVE_MUTANT__}},
  });
  // `timeoutMs`: the script, the clicks and the computation run under V8's watchdog, so a
  // loop ends in an error ("Script execution timed out") instead of hanging the test.
  const limit = timeoutMs ? {timeout: timeoutMs} : {};
  script.runInContext(context, limit);
  const w = window.whatif;
  context.__case = () => run1(w, data, changes);
  return vm.runInContext("__case()", context, limit);
}

/* The summary after each click and the computation of the state the clicks lead to. */
function run1(w, data, changes) {
  // The state the changes lead to, by node index, as the page keeps it.
  const state = {};
  data.nodes.forEach((d, i) => { if (d.kind === "crossing") { state[i] = d.start; } });
  let summary = w.summary();
  for (const [id, s] of changes) {
    summary = w.set(id, s);
    state[data.nodes.findIndex((d) => d.id === id)] = s;
  }
  const res = w.core.compute(state);
  return {
    summary: Object.assign({}, summary, {ms: 0, frameMs: 0}),
    routes: res.routes.map((r) => ({origin: r.origin, market: r.market, rank: r.rank,
                                    path: r.path, cost: r.cost, risk: r.risk, prob: r.prob,
                                    flow: r.flow, corridor: r.corridor, countries: r.countries,
                                    edges: r.edges})),
    node: Array.from(res.node), edge: Array.from(res.edge), on: res.on, total: res.total,
    unserved: res.unserved, detected: res.detected, budget: res.budget,
    corridors: res.corridors, work: res.work,
  };
}

module.exports = {load, run};

if (require.main === module) {
  const script = load(file);
  const rl = readline.createInterface({input: process.stdin, terminal: false});
  rl.on("line", (line) => {
    let out;
    try {
      const c = JSON.parse(line);
      out = {ok: run(script, c.data, c.changes || [], c.timeoutMs)};
    } catch (e) {
      out = {error: String(e && e.stack || e)};
    }
    process.stdout.write(JSON.stringify(out) + "\n");
  });
}
