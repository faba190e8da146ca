/* routes time-slider map: one map whose flows, crossings and statuses change with the date.
 *
 * Written for the `routes` package (src/routes/maps/_timeline.py). The geometry (node
 * coordinates, corridor segments, crossings) is given once; each date carries only values:
 * segment flows, crossing flows, crossing statuses, corridor shares and the events since the
 * previous date. Every text from the data is set as textContent or escaped (routes.esc).
 * Needs routes_map.js (window.routes) loaded first.
 */
(function () {
  "use strict";
  if (!window.routes || window.routes.timeline) { return; }
  var esc = window.routes.esc;
  var STATUS = ["open", "restricted", "closed"];
  /* Colours: the one palette of every routes page (palette.json, via routes_common.js). */
  var PAL = window.routesCommon.palette;
  var STYLE = {};
  STATUS.forEach(function (s) {
    var p = PAL.status[s];
    STYLE[s] = {color: p.color, fillColor: p.fillColor, dashArray: p.dashArray || null,
                fillOpacity: p.fillOpacity === undefined ? 0.85 : p.fillOpacity,
                weight: p.weight};
  });
  var FLOW = PAL.flow, IDLE = PAL.idle;
  /* Widths and sizes: scaled to each date's largest value (the default: each date's ranking
   * shows), or to the largest of any date (changes between dates show). */
  var SCALE_TEXT = {
    date: "Widths and sizes: scaled to the largest value on each date (each date's ranking " +
          "shows; compare dates by the numbers).",
    all: "Widths and sizes: scaled to the largest value of any date (the change between " +
         "dates shows)."
  };

  function fmt(v) {
    if (v === null || v === undefined) { return "\u2013"; }
    return Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 1 ? v.toFixed(1) : v.toPrecision(2);
  }
  function pct(v) { return (100 * v).toFixed(1) + "%"; }
  function el(tag, cls, parent, text) {
    var e = L.DomUtil.create(tag, cls || "", parent);
    if (text !== undefined) { e.textContent = text; }
    return e;
  }

  function Timeline(map, data) {
    this.map = map;
    this.data = data;
    this.index = -1;
    this.timer = null;
    var nodes = data.nodes, self = this;
    function most(a) { return a.reduce(function (m, x) { return Math.max(m, x); }, 0); }
    this.scale = data.scale || "date";
    this.max = data.values.map(function (v) {
      var places = {origin: 0, market: 0};
      (data.places || []).forEach(function (p, k) {
        places[p.role] = Math.max(places[p.role], v.p ? v.p[k] : 0);
      });
      return {f: most(v.f) || 1, x: most(v.x) || 1, origin: places.origin || 1,
              market: places.market || 1};
    });
    this.maxAll = {};
    ["f", "x", "origin", "market"].forEach(function (k) {
      self.maxAll[k] = most(self.max.map(function (m) { return m[k]; })) || 1;
    });
    this.segments = L.featureGroup().addTo(map);
    this.lines = data.segments.map(function (s) {
      var line = L.polyline([[nodes.lat[s[0]], nodes.lon[s[0]]], [nodes.lat[s[1]], nodes.lon[s[1]]]],
                            {color: IDLE, weight: 1, opacity: 0.5, className: "routes-tl-flow",
                             interactive: false});
      line.addTo(self.segments);
      return line;
    });
    this.markers = L.featureGroup().addTo(map);
    this.points = data.crossings.map(function (c, k) {
      var m = L.circleMarker([nodes.lat[c.i], nodes.lon[c.i]],
                             {radius: 4, weight: 2, className: "routes-tl-crossing"});
      m._routesKind = "timeline-crossing";
      m._routesTl = k;
      m.bindTooltip(function () { return esc(c.n); });
      m.bindPopup(function () { return self.popup(k); }, {maxWidth: 360});
      m.addTo(self.markers);
      if (m._path) { m._path.setAttribute("data-id", c.id); }
      return m;
    });
    this.places = L.featureGroup().addTo(map);
    this.placeMarkers = (data.places || []).map(function (p) {
      var m = L.circleMarker([p.lat, p.lon], {radius: 5, weight: 1.5, color: "#ffffff",
                                              fillColor: PAL.roles[p.role], fillOpacity: 0.9,
                                              className: "routes-tl-" + p.role});
      m.bindTooltip(function () { return esc(p.n) + " (" + esc(p.role) + ")"; });
      m.addTo(self.places);
      return m;
    });
    this.control = this.makeControl().addTo(map);
    this.show(data.values.length - 1);
  }

  Timeline.prototype.popup = function (k) {
    var c = this.data.crossings[k], v = this.data.values[this.index];
    var rows = [["countries", c.a + " \u2013 " + c.b], ["date", this.data.dates[this.index]],
                ["status", STATUS[v.s[k]]], ["flow on the best routes", fmt(v.x[k])],
                ["cost model", this.data.cost_model || "\u2013"]];
    return "<div class=\"routes-popup\"><div class=\"routes-popup-title\">" + esc(c.n) +
      "</div><div class=\"routes-popup-kind\">Border crossing</div><table>" +
      rows.map(function (r) {
        return "<tr><th>" + esc(r[0]) + "</th><td>" + esc(r[1]) + "</td></tr>";
      }).join("") + "</table></div>";
  };

  Timeline.prototype.makeControl = function () {
    var self = this, n = this.data.dates.length;
    var Ctl = L.Control.extend({
      options: {position: "bottomleft"},
      onAdd: function () {
        var box = el("div", "routes-tl");
        el("div", "routes-tl-title", box, self.data.title || "");
        var row = el("div", "routes-tl-row", box);
        var play = el("button", "routes-tl-play", row, "\u25b6");
        play.type = "button";
        play.title = "Play";
        play.setAttribute("aria-label", "Play");
        var slider = el("input", "routes-tl-slider", row);
        slider.type = "range";
        slider.min = "0";
        slider.max = String(n - 1);
        slider.step = "1";
        slider.setAttribute("aria-label", "Date");
        var label = el("span", "routes-tl-date", row);
        var opt = el("label", "routes-tl-scale", box);
        var across = el("input", "", opt);
        across.type = "checkbox";
        across.checked = self.scale === "all";
        opt.appendChild(document.createTextNode(" widths across dates"));
        across.addEventListener("change", function () {
          self.scale = across.checked ? "all" : "date";
          self.show(self.index);
        });
        var shares = el("div", "routes-tl-shares", box);
        var evTitle = el("div", "routes-tl-events-title", box);
        var events = el("ul", "routes-tl-events", box);
        L.DomEvent.disableClickPropagation(box);
        L.DomEvent.disableScrollPropagation(box);
        slider.addEventListener("input", function () { self.show(Number(slider.value)); });
        play.addEventListener("click", function () { self.toggle(); });
        self.ui = {slider: slider, label: label, shares: shares, events: events,
                   evTitle: evTitle, play: play};
        return box;
      }
    });
    return new Ctl();
  };

  Timeline.prototype.show = function (i) {
    var d = this.data, v = d.values[i], self = this;
    var top = this.scale === "all" ? this.maxAll : this.max[i];
    this.index = i;
    this.lines.forEach(function (line, k) {
      var f = v.f[k];
      line.setStyle(f > 0 ? {color: FLOW, opacity: 0.8, weight: 1.5 + 10 * Math.sqrt(f / top.f)}
                          : {color: IDLE, opacity: 0.45, weight: 1});
      if (line._path) { line._path.setAttribute("data-flow", String(f)); }
    });
    this.points.forEach(function (m, k) {
      var st = STATUS[v.s[k]], x = v.x[k];
      var style = STYLE[st];
      m.setStyle({color: style.color, fillColor: style.fillColor, dashArray: style.dashArray,
                  fillOpacity: style.fillOpacity, weight: style.weight});
      m.setRadius(st === "closed" ? 5 : 3 + 12 * Math.sqrt(x / top.x));
      if (m._path) {
        m._path.setAttribute("data-status", st);
        STATUS.forEach(function (s) { L.DomUtil.removeClass(m._path, "routes-tl-" + s); });
        L.DomUtil.addClass(m._path, "routes-tl-" + st);
      }
      if (m.isPopupOpen()) { m.setPopupContent(self.popup(k)); }
    });
    (d.places || []).forEach(function (p, k) {
      var q = v.p ? v.p[k] : 0;
      self.placeMarkers[k].setRadius(q > 0 ? 3 + 9 * Math.sqrt(q / top[p.role]) : 2);
    });
    var note = this.map.getContainer().querySelector(".routes-tl-scale-note");
    if (note) { note.textContent = SCALE_TEXT[this.scale]; }
    var ui = this.ui;
    ui.slider.value = String(i);
    ui.label.textContent = d.dates[i];
    ui.shares.textContent = d.corridors.map(function (c, k) {
      return c + " " + pct(v.c[k]);
    }).join(" \u00b7 ");
    ui.events.textContent = "";
    ui.evTitle.textContent = i === 0 ? "First date of the timeline"
      : v.e.length + " event(s) since " + d.dates[i - 1];
    v.e.forEach(function (e) {
      var li = el("li", "routes-tl-event routes-tl-event-" + e[0], ui.events);
      el("span", "routes-tl-when", li, e[4] + " ");
      el("b", "", li, e[1]);
      li.appendChild(document.createTextNode(": " + e[2] + " \u2192 " + e[3] +
                                             (e[5] ? " (" + e[5] + ")" : "")));
      li.title = e[6];
    });
  };

  Timeline.prototype.toggle = function () {
    var self = this, n = this.data.dates.length;
    if (this.timer) {
      clearInterval(this.timer);
      this.timer = null;
      this.ui.play.textContent = "\u25b6";
      return;
    }
    if (this.index >= n - 1) { this.show(0); }
    this.ui.play.textContent = "\u275a\u275a";
    this.timer = setInterval(function () {
      if (self.index >= n - 1) { self.toggle(); return; }
      self.show(self.index + 1);
    }, this.data.interval_ms || 1200);
  };

  var all = [];
  window.routes.timeline = function (map, data) {
    var t = new Timeline(map, data);
    all.push(t);
    return t;
  };
  window.routes.timelines = all;
})();
