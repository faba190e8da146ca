/* make mutate-js: judges the what-if page's engine (src/routes/static/whatif.js, as StrykerJS
 * left it: the mutant to test is named in __STRYKER_ACTIVE_MUTANT__) by the cases of the
 * random-network property test, with the Python engine's figures computed once beforehand.
 *
 * .mutate/stryker/fixtures/cases.jsonl holds one case a line, {data, changes, want}, written by
 * tests/test_whatif_random.py with WHATIF_FIXTURES set (its 250 random networks and the fixed
 * regression cases, in the order the tests run them); common.js beside it is the shared
 * code the page puts before whatif.js (routes.maps._assets.common_js). Each case runs as in
 * the property test (tests/whatif_node.js) and is held to the rules of its check_same: the
 * same routes in the same order, every figure within 1e-9. And to one more, for the engine's
 * speed-ups (the A* limit, Lawler's saving, the bound on candidates, the trees and distances
 * built once, the early stops), whose mutants give the same figures, only slower: each count
 * of the work its searches did (`work`: searches run, edges looked at, candidate routes found,
 * candidates looked at) is a whole number no larger than the unmutated engine's on that case
 * (written beside the case by the property test). Exit 0 if every case agrees, 1 at the first
 * that does not (naming it), 2 if the fixtures are missing.
 * Usage: [WHATIF_JUDGE_DIR=folder of the fixtures] node scripts/stryker/whatif_judge.js
 */
"use strict";

const fs = require("fs");
const path = require("path");
const {load, run} = require("../../tests/whatif_node.js");

const ROOT = path.join(__dirname, "..", "..");
// StrykerJS runs this in its sandbox (a copy of the repository without .mutate): make
// mutate-js names the fixtures' folder in WHATIF_JUDGE_DIR.
const DIR = process.env.WHATIF_JUDGE_DIR || path.join(ROOT, ".mutate", "stryker", "fixtures");
const CORRIDORS = ["Southern", "Caucasus", "Northern", "Balkan", "Other"];
const TOL = 1e-9;

function near(got, want) {
  // pytest.approx(want, rel=1e-9, abs=1e-9)
  return typeof got === "number" && Math.abs(got - want) <= Math.max(TOL, TOL * Math.abs(want));
}

function same(a, b) { return JSON.stringify(a) === JSON.stringify(b); }

/* The first rule of check_same that `got` breaks, or null. */
function breaks(c, got) {
  const want = c.want, nodes = c.data.nodes;
  const routes = got.routes.map((r) => [r.origin, r.market, r.rank, r.path, r.prob, r.flow,
                                        r.corridor, r.cost, r.risk, r.countries, r.edges]);
  if (want.routes === null) {
    if (routes.length) { return "routes where none"; }
    if (got.total !== 0 || !near(got.unserved, want.routable)) { return "total/unserved"; }
    if (CORRIDORS.some((k) => got.corridors[k].flow !== 0 || got.corridors[k].share !== 0)) {
      return "corridors";
    }
    if (got.node.some((x) => x) || got.edge.some((x) => x)) { return "node/edge flows"; }
  } else {
    if (!same(routes.map((r) => r.slice(0, 4)), want.routes.map((r) => r.slice(0, 4)))) {
      return "routes";
    }
    for (let i = 0; i < routes.length; i++) {
      const a = routes[i], b = want.routes[i];
      if (!near(a[4], b[4]) || !near(a[5], b[5])) { return "route share " + a.slice(0, 4); }
      if (a[6] !== b[6]) { return "route corridor " + a.slice(0, 4); }
      if (!near(a[7], b[7]) || !near(a[8], b[8])) { return "route cost/risk " + a.slice(0, 4); }
      if (!same(a.slice(9), b.slice(9))) { return "route countries/edges " + a.slice(0, 4); }
    }
    if (!near(got.total, want.total)) { return "total"; }
    if (!near(got.unserved, want.unserved)) { return "unserved"; }
    for (const k of CORRIDORS) {
      if (!near(got.corridors[k].flow, want.corridors[k][0])) { return "corridor flow " + k; }
      if (!near(got.corridors[k].share, want.corridors[k][1])) { return "corridor share " + k; }
    }
    for (let i = 0; i < want.node.length; i++) {
      if (!near(got.node[i], want.node[i])) { return "node flow " + nodes[i].id; }
    }
    for (let j = 0; j < want.edge.length; j++) {
      if (!near(got.edge[j], want.edge[j])) { return "edge flow " + j; }
    }
  }
  if (!near(got.detected, want.detected)) { return "detected"; }
  if (got.budget !== want.budget) { return "budget"; }
  if (!same(got.on, want.on)) { return "open edges"; }
  const legit = [got.summary.legitH, got.summary.legitUsd];
  if (!near(legit[0], want.legit[0]) || !near(legit[1], want.legit[1])) { return "legit delay"; }
  if (got.summary.legitImputed !== want.legit[2]) { return "legit imputed"; }
  const s = got.summary;
  if (s.detected !== got.detected || s.total !== got.total) { return "summary"; }
  if (!same(s.changes, c.changes)) { return "summary changes"; }
  if (CORRIDORS.some((k) => s.shares[k] !== got.corridors[k].share)) { return "summary shares"; }
  for (const k of Object.keys(c.work)) {
    const n = got.work && got.work[k];
    if (!Number.isInteger(n) || n < 0 || n > c.work[k]) {
      return `work ${k}: ${n} (the unmutated engine's: ${c.work[k]})`;
    }
  }
  for (let i = 0; i < nodes.length; i++) {
    if (nodes[i].kind === "crossing" && s.crossings[nodes[i].id] !== got.node[i]) {
      return "summary crossing " + nodes[i].id;
    }
  }
  return null;
}

/* The page's figures on case `c`, under V8's watchdog. A case takes milliseconds (the
 * slowest well under 100 ms), so one still running after LOOP_MS of processor time loops: a
 * genuine timeout, which the error names "loops" (StrykerJS counts the mutant killed). One
 * stopped by the watchdog with less processor time spent was only starved on a loaded
 * machine: it runs again with more time. */
const LOOP_MS = 1000;
function judged(script, c) {
  for (let wall = LOOP_MS; ; wall *= 2) {
    const t0 = process.cpuUsage();
    try {
      return run(script, c.data, c.changes, wall);
    } catch (e) {
      const used = process.cpuUsage(t0), ms = (used.user + used.system) / 1000;
      if (!/timed out/.test(String(e && e.message))) { throw e; }
      if (ms >= LOOP_MS) { throw new Error(`loops: ${Math.round(ms)} ms of processor time`); }
    }
  }
}

function main() {
  const casesFile = path.join(DIR, "cases.jsonl"), commonFile = path.join(DIR, "common.js");
  if (!fs.existsSync(casesFile) || !fs.existsSync(commonFile)) {
    process.stderr.write("whatif_judge: no fixtures in " + DIR + " (make mutate-js " +
                         "writes them first)\n");
    process.exit(2);
  }
  const engine = path.join(ROOT, "src", "routes", "static", "whatif.js");
  const script = load(engine, fs.readFileSync(commonFile, "utf8") + "\n" +
                              fs.readFileSync(engine, "utf8"));
  const lines = fs.readFileSync(casesFile, "utf8").split("\n").filter((l) => l);
  for (let n = 0; n < lines.length; n++) {
    const c = JSON.parse(lines[n]);
    let why;
    try {
      why = breaks(c, judged(script, c));
    } catch (e) {
      why = "the script failed: " + String(e && e.message || e);
    }
    if (why) {
      process.stdout.write(`case ${n + 1} of ${lines.length}: ${why}\n`);
      process.exit(1);
    }
  }
  process.stdout.write(`${lines.length} cases agree\n`);
}

main();
