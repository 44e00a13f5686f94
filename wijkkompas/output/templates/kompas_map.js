/* wijkkompas: the interactive map. wijkkompasKaart(map, data) draws every area of
   data.geo on the Leaflet map, with a panel to choose level, theme, year and measure, and
   the fixed legend. The score and change classes come with the data (data.klassen,
   data.veranderklassen: code, label, kleur, van, tot and whether each bound counts); they
   are defined once, in Python. The areas of a level come as columns, one entry per area
   (wijkkompas.output.maps.area_data): c codes, n names, g geometry (per polygon its rings,
   each [x0, y0, dx1, dy1, ...] in whole 1e-5 degrees), and per "thema|jaar" s scores,
   d and b changes, r reasons (positions in data.redenen) and v tooltip values
   ([position in data.indicatoren, values]). Needs Leaflet and escape.js. */
function wijkkompasKaart(map, data) {
  "use strict";
  var esc = wkEsc;
  var state = {niveau: data.niveaus[0][0], thema: data.start.thema,
               jaar: String(data.start.jaar), maat: "score"};

  function fmt(x, dec) {
    if (x === null || x === undefined) { return "geen data"; }
    return Number(x).toLocaleString("nl-NL", {minimumFractionDigits: dec,
                                             maximumFractionDigits: dec});
  }
  function noData(list) {
    return list.filter(function (k) { return k.code === 0; })[0];
  }
  function within(k, x) {
    var above = k.van === null || (k.van_telt ? x >= k.van : x > k.van);
    var below = k.tot === null || (k.tot_telt ? x <= k.tot : x < k.tot);
    return above && below;
  }
  function classOf(list, x) {
    if (x === null || x === undefined || isNaN(x)) { return noData(list); }
    var found = list.filter(function (k) { return k.code !== 0 && within(k, x); });
    return found.length ? found[0] : noData(list);
  }
  function scoreClass(score) { return classOf(data.klassen, score); }
  function changeClass(delta) {
    // The change bounds are multiples of the meaningful change (data.drempel).
    if (delta === null || delta === undefined) { return noData(data.veranderklassen); }
    return classOf(data.veranderklassen, delta / data.drempel);
  }
  function key() { return state.thema + "|" + state.jaar; }

  // An area is {niveau, i}: its level and its position in that level's columns.
  function ring(flat) {
    var out = new Array(flat.length / 2), x = 0, y = 0;
    for (var i = 0; i < flat.length; i += 2) {
      x += flat[i];
      y += flat[i + 1];
      out[i / 2] = [x / 1e5, y / 1e5];
    }
    return out;
  }
  function geometry(polygons) {
    var coordinates = polygons.map(function (rings) { return rings.map(ring); });
    if (!coordinates.length) { return null; }
    return coordinates.length === 1 ? {type: "Polygon", coordinates: coordinates[0]}
                                    : {type: "MultiPolygon", coordinates: coordinates};
  }
  var areas = {};
  data.niveaus.forEach(function (n) {
    areas[n[0]] = data.geo[n[0]].c.map(function (code, i) { return {niveau: n[0], i: i}; });
  });
  function column(p, name) {
    var values = data.geo[p.niveau][name][key()];
    return values === undefined ? null : values[p.i];
  }
  function code(p) { return data.geo[p.niveau].c[p.i]; }
  function name(p) { return data.geo[p.niveau].n[p.i] || code(p); }
  function score(p) { return column(p, "s"); }
  function reason(p) {
    var at = column(p, "r");
    return at === null || at === undefined ? "" : data.redenen[at];
  }
  function indicatorRows(p) {
    var rows = [];
    (data.geo[p.niveau].v[key()] || []).forEach(function (entry) {
      var x = entry[1][p.i];
      if (x !== null && x !== undefined && rows.length < data.tipmax) {
        rows.push([data.indicatoren[entry[0]][0], data.indicatoren[entry[0]][1], x]);
      }
    });
    return rows;
  }
  function measure(p) {
    if (state.maat === "score") { return score(p); }
    return column(p, state.maat === "vorig" ? "d" : "b");
  }
  function klass(p) {
    return state.maat === "score" ? scoreClass(score(p)) : changeClass(measure(p));
  }
  function style(feature) {
    return {color: "#333", weight: state.niveau === "wijk" ? 1.5 : 0.8, fillOpacity: 0.75,
            fillColor: klass(feature.properties).kleur};
  }
  function themeName() {
    var name = state.thema;
    data.themas.forEach(function (t) { if (t[0] === state.thema) { name = t[1]; } });
    return name;
  }
  function tooltip(layer) {
    var p = layer.feature.properties, k = klass(p), rows = indicatorRows(p);
    var html = '<div class="wk-tip"><b>' + esc(name(p)) + "</b> (" + esc(code(p)) + ")<br>" +
      esc(themeName()) + ", " + esc(state.jaar) + '<br><span class="wk-score">';
    if (state.maat === "score") {
      html += "score " + esc(fmt(score(p), 0));
    } else {
      var d = measure(p);
      html += "verandering " + (d !== null && d !== undefined && d > 0 ? "+" : "") +
              esc(fmt(d, 0)) + " punten";
    }
    html += "</span><br>" + esc(k.label);
    if (why(p)) { html += '<br><i class="wk-reden">' + esc(why(p)) + "</i>"; }
    if (rows.length) {
      html += "<table>";
      rows.forEach(function (r) {
        html += "<tr><td>" + esc(r[0]) + "</td><td>" + esc(fmt(r[2], 1)) + " " + esc(r[1]) +
                "</td></tr>";
      });
      html += "</table>";
    }
    return html + "</div>";
  }

  // A level's layer is made when it is first shown: the first render draws one level.
  var layers = {};
  function layerOf(niveau) {
    if (!layers[niveau]) {
      layers[niveau] = L.geoJSON(areas[niveau].map(function (p) {
        return {type: "Feature", properties: p, geometry: geometry(data.geo[p.niveau].g[p.i])};
      }), {
        style: style,
        onEachFeature: function (feature, layer) {
          layer.bindTooltip(tooltip, {sticky: true});
        }
      });
    }
    return layers[niveau];
  }

  // On a small screen the choices and the legend start folded (a <details> each), so the
  // map stays visible; a tap on their heading opens them.
  var small = window.matchMedia && window.matchMedia("(max-width: 600px)").matches;
  function folding(div, open) {
    var details = L.DomUtil.create("details", "wk-vouw", div);
    details.open = open;
    return {details: details, summary: L.DomUtil.create("summary", "", details),
            body: L.DomUtil.create("div", "", details)};
  }
  var legend = L.control({position: "bottomright"});
  legend.onAdd = function () {
    this._div = L.DomUtil.create("div", "wk-panel wk-legend");
    this._fold = folding(this._div, !small);
    this.update();
    L.DomEvent.disableClickPropagation(this._div);
    return this._div;
  };
  legend.update = function () {
    var list = state.maat === "score" ? data.klassen : data.veranderklassen;
    var title = state.maat === "score" ? "Score (100 = " + data.gemeente + " in " +
      data.basisjaar + ")" : "Verandering (punten)";
    var html = "";
    list.forEach(function (k) {
      html += '<i style="background:' + esc(k.kleur) + '"></i>' + esc(k.label) + "<br>";
    });
    this._fold.summary.textContent = title;
    this._fold.body.innerHTML = html;
  };

  // The choices are built as elements: option values and labels are set as properties,
  // so no text from data is ever parsed as HTML.
  function select(parent, id, label, options, value) {
    var title = L.DomUtil.create("label", "", parent);
    title.htmlFor = id;
    title.textContent = label;
    var box = L.DomUtil.create("select", "", parent);
    box.id = id;
    options.forEach(function (o) {
      var option = document.createElement("option");
      option.value = String(o[0]);
      option.textContent = String(o[1]);
      option.selected = String(o[0]) === String(value);
      box.appendChild(option);
    });
  }
  var panel = L.control({position: "topright"});
  panel.onAdd = function () {
    var div = L.DomUtil.create("div", "wk-panel wk-keuzes");
    var fold = folding(div, !small);
    var head = L.DomUtil.create("b", "", fold.summary);
    head.textContent = "Wijkkompas " + data.gemeente;
    select(fold.body, "wk-niveau", "Niveau", data.niveaus, state.niveau);
    select(fold.body, "wk-thema", "Thema", data.themas, state.thema);
    select(fold.body, "wk-jaar", "Jaar", data.jaren.map(function (j) { return [j, j]; }),
           state.jaar);
    select(fold.body, "wk-maat", "Kaart", data.maten, state.maat);
    L.DomEvent.disableClickPropagation(div);
    L.DomEvent.disableScrollPropagation(div);
    return div;
  };

  // The table of the gemeente page (an element #wk-gebiedstabel, where present): every
  // area of the chosen level with the chosen theme, year and measure, and why an area has
  // no value. Built as elements with textContent: no text from data is parsed as HTML.
  function why(p) {
    var s = score(p);
    if (s === null || s === undefined) {
      return reason(p) || "geen cijfers voor dit gebied in " + state.jaar;
    }
    if (state.maat === "basis" && String(state.jaar) === String(data.basisjaar)) {
      return state.jaar + " is het basisjaar: nog geen verandering";
    }
    if (state.maat !== "score" && (measure(p) === null || measure(p) === undefined)) {
      return "geen eerdere score om mee te vergelijken";
    }
    return "";
  }
  function cell(row, text, tag) {
    var td = document.createElement(tag || "td");
    td.textContent = text;
    row.appendChild(td);
    return td;
  }
  function table() {
    var box = document.getElementById("wk-gebiedstabel");
    if (!box) { return; }
    var maat = data.maten.filter(function (m) { return m[0] === state.maat; })[0][1];
    var sorted = areas[state.niveau].slice().sort(function (a, b) {
      return String(name(a)).localeCompare(String(name(b)), "nl");
    });
    var caption = document.createElement("p");
    caption.className = "wk-tabelkop";
    caption.textContent = themeName() + ", " + state.jaar + ": " + maat.toLowerCase() +
      " per " + data.niveaunamen[state.niveau].toLowerCase() + " (" + sorted.length + ")";
    var tab = document.createElement("table");
    tab.className = "wk-tabel";
    var head = document.createElement("tr");
    [data.niveaunamen[state.niveau], state.maat === "score" ? "Score" : "Verandering (punten)",
     "Klasse", "Toelichting"].forEach(function (t) { cell(head, t, "th"); });
    var thead = document.createElement("thead");
    thead.appendChild(head);
    tab.appendChild(thead);
    var body = document.createElement("tbody");
    sorted.forEach(function (p) {
      var row = document.createElement("tr"), x = measure(p);
      row.setAttribute("data-code", code(p));
      cell(row, name(p));
      var shown = fmt(x, 0);
      if (state.maat !== "score" && x !== null && x !== undefined && x > 0) {
        shown = "+" + shown;
      }
      cell(row, shown);
      cell(row, klass(p).label);
      cell(row, why(p));
      body.appendChild(row);
    });
    tab.appendChild(body);
    box.replaceChildren(caption, tab);
  }

  function redraw() {
    Object.keys(layers).forEach(function (n) {
      if (n !== state.niveau) { map.removeLayer(layers[n]); }
    });
    layerOf(state.niveau).addTo(map);
    layers[state.niveau].setStyle(style);
    legend.update();
    table();
  }
  panel.addTo(map);
  legend.addTo(map);
  ["niveau", "thema", "jaar", "maat"].forEach(function (name) {
    document.getElementById("wk-" + name).addEventListener("change", function (event) {
      state[name] = event.target.value;
      redraw();
    });
  });
  redraw();
  var bounds = layerOf(state.niveau).getBounds();
  if (bounds.isValid()) { map.fitBounds(bounds, {padding: [10, 10]}); }
  if (window.performance && performance.mark) { performance.mark("wijkkompas-klaar"); }
  window.wijkkompas = {state: state, layers: layers, redraw: redraw, map: map,
                       scoreClass: scoreClass, changeClass: changeClass};
  return window.wijkkompas;
}
