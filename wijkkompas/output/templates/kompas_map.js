/* wijkkompas: the interactive map. wijkkompasKaart(map, data) draws every area of
   data.geo on the Leaflet map, with a panel to choose level, theme, year and measure, and
   the fixed legend. The score and change classes come with the data (data.klassen,
   data.veranderklassen: code, label, kleur, van, tot and whether each bound counts); they
   are defined once, in Python. The areas of a level come as columns, one entry per area
   (wijkkompas.output.maps.area_data; packed on the page, unpacked by packing.js): c codes, n names, g geometry (per polygon its rings,
   each [x0, y0, dx1, dy1, ...] in whole 1e-5 degrees), and per "thema|jaar" s scores,
   d and b changes, r reasons (positions in data.redenen) and v tooltip values
   ([position in data.indicatoren, values]), and per year o: the indeling an area's values
   were carried onto (an estimate), or null. The measure "waarde" colours the areas by the
   value of one indicator (five classes of equal counts, no judgement); a year without any
   theme score opens on it, so a year with only context figures is never an all-grey map.
   Needs Leaflet, escape.js and packing.js. */
function wijkkompasKaart(map, data) {
  "use strict";
  var esc = wkEsc;
  var geo = wkUnpackGeo(data);  // the columns, unpacked once (packing.js)
  var state = {niveau: data.niveaus[0][0], thema: data.start.thema,
               jaar: String(data.start.jaar), maat: "score", indicator: null, auto: false};
  // Sequential colours for the value of an indicator (ColorBrewer Purples): no judgement.
  var VALUE_COLOURS = ["#f2f0f7", "#cbc9e2", "#9e9ac8", "#756bb1", "#54278f"];

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
    areas[n[0]] = geo[n[0]].c.map(function (code, i) { return {niveau: n[0], i: i}; });
  });
  function column(p, name) {
    var values = geo[p.niveau][name][key()];
    return values === undefined ? null : values[p.i];
  }
  function code(p) { return geo[p.niveau].c[p.i]; }
  function name(p) { return geo[p.niveau].n[p.i] || code(p); }
  function score(p) { return column(p, "s"); }
  function reason(p) {
    var at = column(p, "r");
    return at === null || at === undefined ? "" : data.redenen[at];
  }
  function indicatorRows(p) {
    var rows = [];
    (geo[p.niveau].v[key()] || []).forEach(function (entry) {
      var x = entry[1][p.i];
      if (x !== null && x !== undefined && rows.length < data.tipmax) {
        rows.push([data.indicatoren[entry[0]][0], data.indicatoren[entry[0]][1], x]);
      }
    });
    return rows;
  }
  // The indicators with a value in the chosen year and level: {position: values}.
  function yearValues() {
    var out = {}, suffix = "|" + state.jaar, v = geo[state.niveau].v;
    Object.keys(v).forEach(function (k) {
      if (k.slice(-suffix.length) !== suffix) { return; }
      v[k].forEach(function (entry) {
        if (!(entry[0] in out)) { out[entry[0]] = entry[1]; }
      });
    });
    return out;
  }
  function indicatorChoices() {
    return Object.keys(yearValues()).map(function (at) {
      return [at, data.indicatoren[at][0]];
    }).sort(function (a, b) { return a[1].localeCompare(b[1], "nl"); });
  }
  function indicatorValue(p) {
    var values = yearValues()[state.indicator];
    return values === undefined ? null : values[p.i];
  }
  function unit() {
    var found = data.indicatoren[state.indicator];
    return found && found[1] !== "aantal" ? found[1] : "";
  }
  function decimals(x) {
    var found = data.indicatoren[state.indicator];
    return (found && found[1] === "aantal") || Math.abs(x) >= 100 ? 0 : 1;
  }
  function withUnit(x) {
    if (x === null || x === undefined) { return fmt(x, 0); }
    var shown = fmt(x, decimals(x));
    return unit() ? shown + " " + unit() : shown;
  }
  // Five classes of (about) equal counts of the shown areas' values, with "geen data".
  function valueClasses() {
    var values = areas[state.niveau].map(indicatorValue).filter(function (x) {
      return x !== null && x !== undefined;
    }).sort(function (a, b) { return a - b; });
    var list = [], n = Math.min(VALUE_COLOURS.length, values.length), start = 0;
    for (var k = 0; k < n; k++) {
      var end = Math.ceil((k + 1) * values.length / n) - 1;
      var last = list[list.length - 1];
      if (last && values[start] === last.tot) {
        last.tot = values[end];  // equal values stay in one class
      } else if (start <= end) {
        list.push({code: k + 1, van: values[start], tot: values[end], van_telt: true,
                   tot_telt: true});
      }
      start = end + 1;
    }
    list.forEach(function (k, at) {
      k.kleur = VALUE_COLOURS[Math.round(at * (VALUE_COLOURS.length - 1) /
                                         Math.max(1, list.length - 1))];
      k.label = k.van === k.tot ? withUnit(k.van) : fmt(k.van, decimals(k.van)) +
        " tot en met " + withUnit(k.tot);
    });
    return list.concat([noData(data.klassen)]);
  }
  function measure(p) {
    if (state.maat === "score") { return score(p); }
    if (state.maat === "waarde") { return indicatorValue(p); }
    return column(p, state.maat === "vorig" ? "d" : "b");
  }
  var valueList = null;
  function klass(p) {
    if (state.maat === "waarde") { return classOf(valueList || valueClasses(), measure(p)); }
    return state.maat === "score" ? scoreClass(score(p)) : changeClass(measure(p));
  }
  function carried(p) {
    var onto = (geo[p.niveau].o || {})[state.jaar];
    var to = onto ? onto[p.i] : null;
    return to === null || to === undefined ? "" :
      "cijfers van " + state.jaar + " omgerekend naar de indeling van " + to + " (schatting)";
  }
  function hasScores() {
    var s = geo[state.niveau].s, suffix = "|" + state.jaar;
    return Object.keys(s).some(function (k) { return k.slice(-suffix.length) === suffix; });
  }
  // A year (or level) without any theme score shows the value of an indicator instead of an
  // all-grey map; back on a year with scores, the map returns to the score it left. A
  // measure the reader chose stays chosen (``follow`` is false after a choice of measure).
  function chooseMeasure(follow) {
    if (!follow) {
      state.auto = false;
    } else if (state.maat !== "waarde" && !hasScores() && indicatorChoices().length) {
      state.maat = "waarde";
      state.auto = true;
    } else if (state.maat === "waarde" && state.auto && hasScores()) {
      state.maat = "score";
      state.auto = false;
    }
    var choices = indicatorChoices();
    if (!choices.some(function (c) { return c[0] === String(state.indicator); })) {
      state.indicator = choices.length ? choices[0][0] : null;
    }
  }
  function style(feature) {
    return {color: "#333", weight: state.niveau === "wijk" ? 1.5 : 0.8, fillOpacity: 0.75,
            fillColor: klass(feature.properties).kleur};
  }
  function indicatorName() {
    var found = data.indicatoren[state.indicator];
    return found ? found[0] : "";
  }
  function themeName() {
    var name = state.thema;
    data.themas.forEach(function (t) { if (t[0] === state.thema) { name = t[1]; } });
    return name;
  }
  function tooltip(layer) {
    var p = layer.feature.properties, k = klass(p), rows = indicatorRows(p);
    var html = '<div class="wk-tip"><b>' + esc(name(p)) + "</b> (" + esc(code(p)) + ")<br>" +
      esc(state.maat === "waarde" ? indicatorName() : themeName()) + ", " + esc(state.jaar) +
      '<br><span class="wk-score">';
    if (state.maat === "waarde") {
      html += esc(withUnit(measure(p)));
    } else if (state.maat === "score") {
      html += "score " + esc(fmt(score(p), 0));
    } else {
      var d = measure(p);
      html += "verandering " + (d !== null && d !== undefined && d > 0 ? "+" : "") +
              esc(fmt(d, 0)) + " punten";
    }
    html += "</span><br>" + esc(k.label);
    if (why(p)) { html += '<br><i class="wk-reden">' + esc(why(p)) + "</i>"; }
    if (carried(p)) { html += '<br><i class="wk-omgerekend">' + esc(carried(p)) + "</i>"; }
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
        return {type: "Feature", properties: p, geometry: geometry(geo[p.niveau].g[p.i])};
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
    var list = state.maat === "score" ? data.klassen : state.maat === "waarde" ?
      valueList : data.veranderklassen;
    var title = state.maat === "score" ? "Score (100 = " + data.gemeente + " in " +
      data.basisjaar + ")" : state.maat === "waarde" ? indicatorName() + ", " + state.jaar +
      " (waarde, geen oordeel)" : "Verandering (punten)";
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
    select(fold.body, "wk-indicator", "Indicator", [], state.indicator);
    L.DomEvent.disableClickPropagation(div);
    L.DomEvent.disableScrollPropagation(div);
    return div;
  };

  // The table of the gemeente page (an element #wk-gebiedstabel, where present): every
  // area of the chosen level with the chosen theme, year and measure, and why an area has
  // no value. Built as elements with textContent: no text from data is parsed as HTML.
  function why(p) {
    var s = score(p);
    if (state.maat === "waarde") {
      var x = measure(p);
      return x === null || x === undefined ? "geen cijfer voor dit gebied in " + state.jaar : "";
    }
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
    caption.textContent = (state.maat === "waarde" ? indicatorName() : themeName()) + ", " +
      state.jaar + ": " + maat.toLowerCase() +
      " per " + data.niveaunamen[state.niveau].toLowerCase() + " (" + sorted.length + ")";
    var tab = document.createElement("table");
    tab.className = "wk-tabel";
    var head = document.createElement("tr");
    [data.niveaunamen[state.niveau], state.maat === "score" ? "Score" :
     state.maat === "waarde" ? "Waarde" : "Verandering (punten)",
     "Klasse", "Toelichting"].forEach(function (t) { cell(head, t, "th"); });
    var thead = document.createElement("thead");
    thead.appendChild(head);
    tab.appendChild(thead);
    var body = document.createElement("tbody");
    sorted.forEach(function (p) {
      var row = document.createElement("tr"), x = measure(p);
      row.setAttribute("data-code", code(p));
      cell(row, name(p));
      var shown = state.maat === "waarde" ? withUnit(x) : fmt(x, 0);
      if ((state.maat === "vorig" || state.maat === "basis") && x !== null &&
          x !== undefined && x > 0) {
        shown = "+" + shown;
      }
      cell(row, shown);
      cell(row, klass(p).label);
      cell(row, [why(p), carried(p)].filter(function (t) { return t; }).join("; "));
      body.appendChild(row);
    });
    tab.appendChild(body);
    box.replaceChildren(caption, tab);
  }

  // The choice of measure and indicator follow the year and level (chooseMeasure); the
  // indicator list is rebuilt from the values of the chosen year.
  function syncChoices(follow) {
    chooseMeasure(follow);
    document.getElementById("wk-maat").value = state.maat;
    var box = document.getElementById("wk-indicator");
    var options = indicatorChoices().map(function (c) {
      var option = document.createElement("option");
      option.value = c[0];
      option.textContent = c[1];
      return option;
    });
    box.replaceChildren.apply(box, options);
    box.value = state.indicator === null ? "" : String(state.indicator);
    var shown = state.maat === "waarde" ? "" : "none";
    box.style.display = shown;
    box.previousElementSibling.style.display = shown;
    valueList = state.maat === "waarde" ? valueClasses() : null;
  }
  function redraw(follow) {
    syncChoices(follow !== false);
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
  ["niveau", "thema", "jaar", "maat", "indicator"].forEach(function (name) {
    document.getElementById("wk-" + name).addEventListener("change", function (event) {
      state[name] = event.target.value;
      redraw(name !== "maat" && name !== "indicator");  // a measure chosen stays chosen
    });
  });
  redraw();
  var bounds = layerOf(state.niveau).getBounds();
  if (bounds.isValid()) { map.fitBounds(bounds, {padding: [10, 10]}); }
  if (window.performance && performance.mark) { performance.mark("wijkkompas-klaar"); }
  window.wijkkompas = {state: state, layers: layers, redraw: redraw, map: map, geo: geo,
                       scoreClass: scoreClass, changeClass: changeClass};
  return window.wijkkompas;
}
