/* routes common page code: what every routes page shares (route map, compare maps, timeline,
 * what-if page). Inlined into each page before the page's own script, after the palette
 * (window.ROUTES_PALETTE, from routes/static/palette.json: the one definition of the colours).
 *
 *   routesCommon.esc(s)                      text -> HTML-escaped text
 *   routesCommon.palette                     the palette (colours of roles, statuses, ...)
 *   routesCommon.pane(map, name)             the offline basemap's and capitals' panes
 *   routesCommon.placeNames(map, labels, o)  country and capital labels, each from its zoom
 *   routesCommon.search(opts)                a search box over named features (a control)
 *   routesCommon.swatch(kind, style)         a legend sample (circle, line or box) as a node
 *
 * Every text that comes from the data is escaped or set as textContent, never as markup.
 */
(function () {
  "use strict";
  if (window.routesCommon) { return; }

  var ESC = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"};
  function esc(s) {
    return String(s === null || s === undefined ? "" : s).replace(/[&<>"']/g, function (c) {
      return ESC[c];
    });
  }

  /* The offline basemap and its capitals lie below the data (Leaflet's overlays: 400). */
  var PANES = {routesBasemap: 350, routesCapitals: 360};
  function pane(map, name) {
    if (!map.getPane(name)) { map.createPane(name).style.zIndex = PANES[name] || 400; }
    return name;
  }

  /* Show each entry's layer ({z, layer}) in group from its zoom z on. */
  function byZoom(map, group, entries) {
    function show() {
      var z = map.getZoom();
      entries.forEach(function (e) {
        var on = z + 0.5 >= e.z;
        if (on && !group.hasLayer(e.layer)) { group.addLayer(e.layer); }
        if (!on && group.hasLayer(e.layer)) { group.removeLayer(e.layer); }
      });
    }
    map.on("zoomend", show);
    map.whenReady(show);
    return group;
  }

  function tip(at, text, opts) {
    var t = L.tooltip(L.extend({permanent: true, direction: "center", interactive: false}, opts))
      .setLatLng(at);
    // text, never markup: a DOM text node
    t.setContent(document.createTextNode(String(text === null || text === undefined ? "" : text)));
    return t;
  }

  /* The offline maps' place names: countries ([lat, lon, name, min zoom]) as italic labels,
   * capitals as small ringed dots with their names; neither clickable, each from its zoom on.
   * opts: {country: class, capital: class, credit: text added to the attribution}. */
  function placeNames(map, labels, opts) {
    opts = opts || {};
    var group = L.layerGroup().addTo(map), entries = [];
    (labels.capitals || []).forEach(function (it) {
      var at = [it[0], it[1]];
      entries.push({z: it[3] || 0, layer: L.layerGroup([
        L.circleMarker(at, {radius: 3, weight: 1.2, color: "#444", fillColor: "#fff",
                            fillOpacity: 1, interactive: false,
                            pane: pane(map, "routesCapitals")}),
        tip(at, it[2], {direction: "right", offset: [4, 0],
                        className: opts.capital || "routes-capital-label"})])});
    });
    (labels.countries || []).forEach(function (it) {
      entries.push({z: it[3] || 0, layer: tip([it[0], it[1]], it[2],
                                              {className: opts.country || "routes-country-label"})});
    });
    byZoom(map, group, entries);
    if (opts.credit) { map.attributionControl.addAttribution(esc(opts.credit)); }
    return group;
  }

  /* A search box: opts.index(map) -> [{name, kind, ...}], opts.pick(map, item) on a choice.
   * Matches are listed as text (textContent), sorted by name; Enter takes the first. */
  var Search = L.Control.extend({
    options: {position: "topleft", limit: 12, placeholder: "Search by name\u2026"},
    onAdd: function (map) {
      var o = this.options;
      var box = L.DomUtil.create("div", "leaflet-bar routes-search");
      var input = L.DomUtil.create("input", "routes-search-input", box);
      input.type = "search";
      input.placeholder = o.placeholder;
      input.setAttribute("aria-label", o.placeholder.replace("\u2026", ""));
      var list = L.DomUtil.create("ul", "routes-search-results", box);
      L.DomEvent.disableClickPropagation(box);
      L.DomEvent.disableScrollPropagation(box);
      input.addEventListener("input", function () {
        var q = input.value.trim().toLowerCase();
        list.innerHTML = "";
        if (!q) { return; }
        var hits = o.index(map).filter(function (it) {
          return it.name.toLowerCase().indexOf(q) >= 0;
        }).sort(function (a, b) { return a.name.localeCompare(b.name); });
        hits.slice(0, o.limit).forEach(function (it) {
          var li = L.DomUtil.create("li", "routes-search-hit", list);
          li.textContent = it.name + " \u00b7 " + it.kind;
          li.addEventListener("click", function () {
            list.innerHTML = "";
            o.pick(map, it);
          });
        });
      });
      input.addEventListener("keydown", function (ev) {
        if (ev.key === "Enter" && list.firstChild) { list.firstChild.click(); }
      });
      return box;
    }
  });

  /* A legend sample as a DOM node: "circle" ({fill, stroke, width, dash, r, fillOpacity}),
   * "line" ({colour, width, dash}) or "box" ({fill}). Colours come from the palette. */
  var SVG = "http://www.w3.org/2000/svg";
  function swatch(kind, s) {
    s = s || {};
    if (kind === "box") {
      var b = document.createElement("span");
      b.className = "routes-swatch";
      b.style.cssText = "display:inline-block;width:14px;height:10px;border:1px solid #999;" +
        "background:" + s.fill;
      return b;
    }
    var svg = document.createElementNS(SVG, "svg"), shape;
    svg.setAttribute("class", "routes-swatch");
    if (kind === "line") {
      svg.setAttribute("width", "26"); svg.setAttribute("height", "12");
      shape = document.createElementNS(SVG, "line");
      [["x1", 1], ["y1", 6], ["x2", 25], ["y2", 6], ["stroke", s.colour],
       ["stroke-width", s.width || 3]].forEach(function (a) { shape.setAttribute(a[0], a[1]); });
    } else {
      var r = s.r || 5, w = s.width || 1, size = Math.round(2 * r + 2 * w + 2);
      svg.setAttribute("width", size); svg.setAttribute("height", size);
      shape = document.createElementNS(SVG, "circle");
      [["cx", size / 2], ["cy", size / 2], ["r", r], ["fill", s.fill],
       ["fill-opacity", s.fillOpacity === undefined ? 0.9 : s.fillOpacity],
       ["stroke", s.stroke || "#222"], ["stroke-width", w]].forEach(function (a) {
        shape.setAttribute(a[0], a[1]);
      });
    }
    if (s.dash) { shape.setAttribute("stroke-dasharray", s.dash); }
    svg.appendChild(shape);
    return svg;
  }

  window.routesCommon = {
    esc: esc,
    palette: window.ROUTES_PALETTE || {},
    pane: pane,
    byZoom: byZoom,
    placeNames: placeNames,
    search: function (opts) { return new Search(opts); },
    swatch: swatch
  };
})();
