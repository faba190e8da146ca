/* routes map controls: data layers, popups, search, fullscreen, legend, synchronised views.
 *
 * Written for the `routes` package (src/routes/maps) so that a map needs no plugin from a
 * CDN: the same code serves the online map and the self-contained offline file. Every text
 * that comes from the data is escaped (routesEsc) or set as textContent, never as markup.
 */
(function () {
  "use strict";
  if (window.routes) { return; }

  var C = window.routesCommon;  // routes_common.js, inlined before this script
  var esc = C.esc;

  function fmt(v, f) {
    if (v === null || v === undefined || v === "") { return "\u2013"; }
    if (typeof v === "number" && f === "pct") { return (100 * v).toFixed(1) + "%"; }
    if (typeof v === "number" && f === "pct100") { return v.toFixed(1) + "%"; }
    if (typeof v === "boolean") { return v ? "yes" : "no"; }
    if (typeof v === "number") {
      if (Number.isInteger(v)) { return v.toLocaleString("en"); }
      var a = Math.abs(v);
      return a >= 100 ? v.toFixed(1) : a >= 1 ? v.toFixed(3) : v.toPrecision(3);
    }
    return String(v);
  }

  /* Popup HTML of a feature: the layer's field labels beside the feature's values, escaped.
   * The first cfg.first rows show at once, the others behind a "more" toggle; a field with
   * a help line (cfg.helps) is explained in words under its row. */
  function popupHtml(cfg, p) {
    var head = [], rest = [];
    for (var i = 0; i < cfg.fields.length; i++) {
      var v = p.v ? p.v[i] : undefined;
      if (v === null || v === undefined || v === "") { continue; }
      var f = cfg.formats ? cfg.formats[i] : "";
      var rows = (cfg.first && i >= cfg.first) ? rest : head;
      rows.push("<tr><th>" + esc(cfg.fields[i]) + "</th><td>" + esc(fmt(v, f)) + "</td></tr>");
      var help = cfg.helps ? cfg.helps[i] : "";
      if (help) {
        rows.push("<tr class=\"routes-popup-help\"><td colspan=\"2\">" + esc(help) +
                  "</td></tr>");
      }
    }
    var more = rest.length ? "<details class=\"routes-popup-more\"><summary>more (" +
      rest.filter(function (r) { return r.indexOf("routes-popup-help") < 0; }).length +
      ")</summary><table>" + rest.join("") + "</table></details>" : "";
    return "<div class=\"routes-popup\"><div class=\"routes-popup-title\">" + esc(p.n) +
      "</div><div class=\"routes-popup-kind\">" + esc(cfg.title) +
      (cfg.note ? " \u00b7 " + esc(cfg.note) : "") + "</div><table>" +
      head.join("") + "</table>" + more + "</div>";
  }

  /* Four corner marks, drawn: headless and minimal systems may lack a font with U+26F6. */
  var FULLSCREEN_ICON = '<svg width="16" height="16" viewBox="0 0 16 16" aria-hidden="true" ' +
    'style="vertical-align:middle"><path d="M1 6V1h5M10 1h5v5M15 10v5h-5M6 15H1v-5" ' +
    'fill="none" stroke="#333" stroke-width="2"/></svg>';

  var pane = C.pane;

  var registry = {};  // map variable name -> {map, layers: {key: L.GeoJSON}}

  function entry(map) {
    var id = map._routesId || (map._routesId = "m" + L.Util.stamp(map));
    if (!registry[id]) { registry[id] = {map: map, layers: {}, index: []}; }
    return registry[id];
  }

  /* A GeoJSON data layer: styles come from a per-layer table indexed by feature.properties.s.
   * Popups and tooltips are bound once on the whole layer (Leaflet hands the clicked feature
   * to the content function), not once per feature: 75,000 features load in half the time. */
  function dataLayer(map, cfg, data) {
    var styles = cfg.styles || [{}];
    var layer = L.geoJSON(data, {
      pane: cfg.pane ? pane(map, cfg.pane) : "overlayPane",
      style: function (f) { return styles[f.properties.s || 0]; },
      pointToLayer: function (f, latlng) {
        return L.circleMarker(latlng, styles[f.properties.s || 0]);
      },
      onEachFeature: function (f, lyr) { lyr._routesKind = cfg.key; }
    });
    if (cfg.popups !== false) {
      layer.bindPopup(function (lyr) { return popupHtml(cfg, lyr.feature.properties); },
                      {maxWidth: 360});
      layer.bindTooltip(function (lyr) { return esc(lyr.feature.properties.n); },
                        {sticky: cfg.geom !== "point"});
    }
    var e = entry(map);
    e.layers[cfg.key] = layer;
    if (cfg.searchable) {
      layer.eachLayer(function (lyr) {
        var n = lyr.feature.properties.n;
        if (n) {
          e.index.push({name: String(n), kind: cfg.title, layer: lyr, group: layer, cfg: cfg});
        }
      });
    }
    return layer;
  }

  /* Open a found feature's popup and highlight it until the popup closes. */
  var HIGHLIGHT = {color: "#00bcd4", weight: 5, opacity: 1};
  function openFeature(map, item, latlng) {
    var lyr = item.layer;
    var before = {color: lyr.options.color, weight: lyr.options.weight,
                  opacity: lyr.options.opacity};
    if (lyr.setStyle) { lyr.setStyle(HIGHLIGHT); }
    if (lyr.bringToFront) { lyr.bringToFront(); }
    if (lyr.getElement && lyr.getElement()) {
      L.DomUtil.addClass(lyr.getElement(), "routes-found");
    }
    var popup = L.popup({maxWidth: 360, className: "routes-found-popup"})
      .setLatLng(latlng).setContent(popupHtml(item.cfg, lyr.feature.properties));
    popup.on("remove", function () {
      if (lyr.setStyle) { lyr.setStyle(before); }
      if (lyr.getElement && lyr.getElement()) {
        L.DomUtil.removeClass(lyr.getElement(), "routes-found");
      }
    });
    popup.openOn(map);
    return popup;
  }

  /* Search by name (routes_common.js): open the found feature's popup. */
  function pickFeature(map, item) {
    if (!map.hasLayer(item.group)) { map.addLayer(item.group); }
    var ll = item.layer.getLatLng ? item.layer.getLatLng() : item.layer.getBounds().getCenter();
    map.setView(ll, Math.max(map.getZoom(), 7), {animate: false});
    // After this click has finished: the hit is gone from the page, so the map would take
    // the click for its own and close a popup opened now.
    setTimeout(function () { openFeature(map, item, ll); }, 0);
  }
  function search(opts) {
    return C.search(L.extend({index: function (map) { return entry(map).index; },
                              pick: pickFeature}, opts || {}));
  }

  /* Fullscreen toggle: the browser's fullscreen where allowed, a fixed full-window box always. */
  var Fullscreen = L.Control.extend({
    options: {position: "topleft"},
    onAdd: function (map) {
      var bar = L.DomUtil.create("div", "leaflet-bar routes-fullscreen");
      var a = L.DomUtil.create("a", "routes-fullscreen-button", bar);
      a.href = "#";
      a.title = "Full screen";
      a.setAttribute("role", "button");
      a.innerHTML = FULLSCREEN_ICON;
      L.DomEvent.on(a, "click", function (ev) {
        L.DomEvent.preventDefault(ev);
        var c = map.getContainer();
        var on = !L.DomUtil.hasClass(c, "routes-is-fullscreen");
        if (on) { L.DomUtil.addClass(c, "routes-is-fullscreen"); }
        else { L.DomUtil.removeClass(c, "routes-is-fullscreen"); }
        try {
          if (on && c.requestFullscreen && !document.fullscreenElement) {
            c.requestFullscreen().catch(function () {});
          } else if (!on && document.fullscreenElement && document.exitFullscreen) {
            document.exitFullscreen().catch(function () {});
          }
        } catch (err) { /* the CSS box is enough */ }
        a.title = on ? "Exit full screen" : "Full screen";
        map.invalidateSize();
      });
      return bar;
    }
  });

  /* The legend: markup made (and escaped) in Python. On a short map (an embedded one) it
   * starts collapsed and never reaches the controls at the top (its height is capped). */
  var Legend = L.Control.extend({
    options: {position: "bottomleft", html: "", shortMap: 700},
    onAdd: function (map) {
      var div = L.DomUtil.create("div", "routes-legend");
      div.innerHTML = this.options.html;
      var h = map.getSize().y;
      // Below the controls at the top left (zoom, search, fullscreen), whatever the map's size.
      function fit() {
        var c = map.getContainer().getBoundingClientRect();
        var top = map._controlCorners.topleft.getBoundingClientRect().bottom - c.top;
        div.style.maxHeight = Math.max(60, map.getSize().y - top - 70) + "px";
      }
      fit();
      map.on("resize", fit);
      var d = div.querySelector("details");
      if (d && h < this.options.shortMap) { d.removeAttribute("open"); }
      L.DomEvent.disableClickPropagation(div);
      L.DomEvent.disableScrollPropagation(div);
      return div;
    }
  });

  /* Offline place names (routes_common.js): countries, and capitals as small dots. */
  function labels(map, items, className) {
    return C.placeNames(map, {countries: items}, className ? {country: className} : {});
  }
  function capitals(map, items) {
    return C.placeNames(map, {capitals: items});
  }

  /* The width of the widest control matching selector (0 if none). */
  function widest(c, selector) {
    var w = 0;
    c.querySelectorAll(selector).forEach(function (e) {
      w = Math.max(w, Math.ceil(e.getBoundingClientRect().width));
    });
    return w;
  }

  /* Fit bounds ([[lat, lon], [lat, lon]]) in the part of the map the controls at the bottom
   * left (the legend, a timeline's slider) and an open layer control (top right) leave free,
   * so that none covers an origin, market or crossing. */
  function fitClear(map, bounds) {
    var c = map.getContainer(), w = map.getSize().x;
    var lg = widest(c, ".leaflet-bottom.leaflet-left > .leaflet-control");
    var lc = widest(c, ".leaflet-top.leaflet-right > .leaflet-control-layers-expanded");
    var left = lg ? lg + 20 : 0;
    var right = lc ? lc + 20 : 10;
    if (left > w / 2) { left = 0; }  // a narrow map: the legend folds instead
    if (left + right > w * 0.6) { right = 10; }  // too narrow for both: keep the legend's side
    map.fitBounds(bounds, {paddingTopLeft: [left, 10], paddingBottomRight: [right, 10],
                           animate: false});
  }

  /* Keep the views of several maps equal: moving one moves the others. */
  function sync(maps) {
    var busy = false;
    maps.forEach(function (src) {
      src.on("move zoomend", function () {
        if (busy) { return; }
        busy = true;
        maps.forEach(function (dst) {
          if (dst !== src) { dst.setView(src.getCenter(), src.getZoom(), {animate: false}); }
        });
        busy = false;
      });
    });
  }

  window.routes = {
    esc: esc,
    dataLayer: dataLayer,
    search: search,
    fullscreen: function (opts) { return new Fullscreen(opts); },
    legend: function (opts) { return new Legend(opts); },
    sync: sync,
    fitClear: fitClear,
    registry: registry,
    entry: entry,
    openFeature: openFeature,
    labels: labels,
    capitals: capitals
  };
})();
