/* vlekkenkaart: vlekkenkaartKaart(map, data) draws the density contours ("vlekken"), the
   care locations (a colour and a shape per category), the counts and draagkracht per buurt,
   the toets (if any), a title with an introduction, a banner when invented VOORBEELD
   locations are included, and a legend. In the shared view (data.gedeeld) the data holds
   no point of a sensitive category. Needs Leaflet and escape.js. */
function vlekkenkaartKaart(map, data) {
  "use strict";
  var esc = wkEsc;
  function fmt(x) {
    return x === null || x === undefined ? "onbekend" : Number(x).toLocaleString("nl-NL");
  }
  /* On a small screen the title, the layer choice, the legend and the toets start folded,
     so the map and the VOORBEELD warning stay visible; a tap on a heading opens it. */
  var small = window.matchMedia && window.matchMedia("(max-width: 700px)").matches;
  function folded(title, body, cls) {
    return '<details class="vk-vouw' + (cls ? " " + cls : "") + '"' + (small ? "" : " open") +
      "><summary>" + title + "</summary>" + body + "</details>";
  }
  var SHAPES = {
    cirkel: '<circle cx="8" cy="8" r="6"/>',
    vierkant: '<rect x="2.5" y="2.5" width="11" height="11"/>',
    driehoek: '<polygon points="8,1.5 14.5,14 1.5,14"/>',
    ruit: '<polygon points="8,1 15,8 8,15 1,8"/>',
    ster: '<polygon points="8,1 10,6 15,6 11,9.5 12.5,15 8,11.5 3.5,15 5,9.5 1,6 6,6"/>'
  };
  /* The symbol of a category (an inline SVG); colours and shapes are the page's own. */
  function symbol(cat, example) {
    var dash = example ? ' stroke-dasharray="2 1.5"' : "";
    return '<svg class="vk-symbool" width="16" height="16" viewBox="0 0 16 16">' +
      '<g fill="' + esc(cat.kleur) + '" fill-opacity="' + (example ? "0.45" : "1") +
      '" stroke="' + (example ? "#d00" : "#fff") + '" stroke-width="' +
      (example ? "2" : "1.2") + '"' + dash + ">" + (SHAPES[cat.vorm] || SHAPES.cirkel) +
      "</g></svg>";
  }
  var vlek = L.geoJSON(data.vlekken, {style: function (f) {
    return {stroke: false, fillOpacity: 0.55, fillColor: data.vlekkleuren[f.properties.n - 1]};
  }});
  /* The points come as columns (data.punten.n, .ci, .v, .k, .ll), one entry per point. */
  var pts = data.punten;
  var points = L.layerGroup(pts.n.map(function (naam, i) {
    var cat = data.categorieen[pts.ci[i]], example = pts.v[i] === 1;
    var icon = L.divIcon({className: "vk-punt", html: symbol(cat, example),
                          iconSize: [16, 16], iconAnchor: [8, 8]});
    return L.marker(pts.ll[i], {icon: icon, keyboard: false}).bindTooltip(
      (example ? '<b class="vk-voorbeeldlabel">VOORBEELD (verzonnen locatie)</b><br>' : "") +
      "<b>" + esc(naam) + "</b><br>" + esc(cat.naam) + "<br>capaciteit: " +
      esc(fmt(pts.k[i])));
  }));
  function rankColour(r) {
    if (r === null) { return data.geengegevens; }
    var share = r / data.rangvan;
    for (var i = 0; i < data.draagkrachtdelen.length; i++) {
      if (share <= data.draagkrachtdelen[i]) { return data.draagkrachtkleuren[i]; }
    }
    return data.draagkrachtkleuren[data.draagkrachtkleuren.length - 1];
  }
  /* The ranks of each draagkracht class, "1 t/m 14", from the same shares as the colours. */
  function rankRanges() {
    var ranges = [], low = 1;
    data.draagkrachtdelen.forEach(function (share) {
      var high = Math.floor(share * data.rangvan + 1e-9);
      ranges.push(low <= high ? "rang " + low + " t/m " + high : null);
      low = Math.max(low, high + 1);
    });
    return ranges;
  }
  function rankText(r) {
    return r === null ? "geen gegevens" : "rang " + esc(r) + " van " + esc(data.rangvan) +
      " (1 = minste draagkracht)";
  }
  function buurtTip(layer) {
    var p = layer.feature.properties;
    var html = "<b>" + esc(p.n || p.c) + "</b> (" + esc(p.c) + ")<br>";
    p.t.forEach(function (t) { html += esc(t[0]) + ": " + esc(t[1]) + "<br>"; });
    html += "draagkracht: " + rankText(p.r);
    return html;
  }
  var counts = L.geoJSON(data.buurten, {
    style: {color: "#555", weight: 0.8, fill: true, fillOpacity: 0},
    onEachFeature: function (f, layer) { layer.bindTooltip(buurtTip, {sticky: true}); }
  });
  var carry = L.geoJSON(data.buurten, {
    style: function (f) { return {color: "#555", weight: 0.8, fillOpacity: 0.6,
                                  fillColor: rankColour(f.properties.r)}; },
    onEachFeature: function (f, layer) { layer.bindTooltip(buurtTip, {sticky: true}); }
  });
  var overlays = {"Vlekken (dichtheid)": vlek, "Aantallen per buurt": counts,
                  "Draagkracht per buurt": carry};
  overlays[data.gedeeld ? "Zorglocaties (niet gevoelig)" : "Zorglocaties"] = points;
  vlek.addTo(map); counts.addTo(map); points.addTo(map);
  if (data.toets) {
    var toets = L.layerGroup([L.circleMarker(data.toets.ll, {radius: 9, color: "#000",
      weight: 3, fillColor: "#ffeb3b", fillOpacity: 1}).bindTooltip(esc(data.toets.tekst)
      .replace(/\n/g, "<br>"))]);
    data.toets.stralen.forEach(function (r) {
      L.circle(data.toets.ll, {radius: r, color: "#000", weight: 1, dashArray: "4 4",
                               fill: false}).addTo(toets);
    });
    toets.addTo(map);
    overlays["Toets"] = toets;
    var result = L.control({position: "bottomleft"});
    result.onAdd = function () {
      var div = L.DomUtil.create("div", "vk-panel vk-toets");
      div.innerHTML = folded("<b>Toets van de voorgestelde locatie</b>",
        '<div class="vk-toetstekst">' + esc(data.toets.tekst) + "</div>");
      L.DomEvent.disableClickPropagation(div);
      L.DomEvent.disableScrollPropagation(div);
      return div;
    };
    result.addTo(map);
  }
  L.control.layers(null, overlays, {collapsed: small}).addTo(map);

  var header = L.control({position: "topleft"});
  header.onAdd = function () {
    var div = L.DomUtil.create("div", "vk-panel vk-kop");
    var html = folded("<h1>" + esc(data.titel) + "</h1>", "<p>" + esc(data.inleiding) +
                      "</p>", "vk-titel");
    if (data.voorbeeld) {
      html += '<div class="vk-voorbeeld" role="alert"><b>Let op: VOORBEELD.</b> Deze kaart ' +
        "toont " + esc(data.voorbeeld.aantal) + " verzonnen locatie(s), met een rode " +
        "stippelrand. " + (data.voorbeeld.meegeteld ?
          "Ze tellen mee in de aantallen en vlekken: gebruik deze kaart niet als echte " +
          "informatie." : "Ze tellen niet mee in de aantallen en vlekken.") + "</div>";
    }
    div.innerHTML = html;
    L.DomEvent.disableClickPropagation(div);
    L.DomEvent.disableScrollPropagation(div);
    return div;
  };
  header.addTo(map);

  var legend = L.control({position: "bottomright"});
  legend.onAdd = function () {
    var div = L.DomUtil.create("div", "vk-panel vk-legenda");
    var html = "";
    if (data.toets) {
      html += '<div class="vk-toetslegenda"><b>Toets</b><br><svg class="vk-symbool" ' +
        'width="16" height="16" viewBox="0 0 16 16"><circle cx="8" cy="8" r="6" ' +
        'fill="#ffeb3b" stroke="#000" stroke-width="2.5"/></svg>voorgestelde locatie<br>' +
        '<svg class="vk-symbool" width="16" height="16" viewBox="0 0 16 16"><circle cx="8" ' +
        'cy="8" r="7" fill="none" stroke="#000" stroke-dasharray="3 2"/></svg>' +
        "afstand " + data.toets.stralen.map(function (r) { return esc(fmt(r)); })
          .join(", ") + " m</div>";
    }
    html += "<b>Zorglocaties per categorie</b><ul class=\"vk-categorieen\">";
    data.categorieen.forEach(function (cat) {
      var note = cat.verborgen ? '<small class="vk-noot">alleen als aantal per buurt, niet ' +
        "als punt</small>" : " <small>(" + esc(cat.getekend) + " op de kaart" + (cat.voorbeeld ?
          ", waarvan " + esc(cat.voorbeeld) + " VOORBEELD" : "") + ")</small>";
      html += "<li>" + (cat.verborgen ? '<span class="vk-leeg"></span>' : symbol(cat, false)) +
        esc(cat.naam) + note + "</li>";
    });
    html += "</ul><b>Vlekken</b>: dichtheid van zorglocaties (bandbreedte " +
      esc(fmt(data.bandbreedte)) + " m)<br>";
    ["laag", "middel", "hoog", "zeer hoog"].forEach(function (label, i) {
      html += '<i style="background:' + esc(data.vlekkleuren[i]) + '"></i>' + esc(label) +
        "<br>";
    });
    html += '<div class="vk-draagkracht"><b>Draagkracht per buurt</b> (laag aanzetten)<br>';
    var ranges = rankRanges();
    var words = ["minste draagkracht", "", "", "meeste draagkracht"];
    data.draagkrachtkleuren.forEach(function (colour, i) {
      if (ranges[i] === null) { return; }
      html += '<i style="background:' + esc(colour) + '"></i>' + esc(ranges[i]) +
        (words[i] ? " (" + esc(words[i]) + ")" : "") + "<br>";
    });
    html += '<i style="background:' + esc(data.geengegevens) + '"></i>geen gegevens<br>' +
      "<small>van " + esc(data.rangvan) + " buurten met gegevens</small></div>";
    if (data.voorbeeld) {
      html += '<small><svg class="vk-symbool" width="16" height="16" viewBox="0 0 16 16">' +
        '<circle cx="8" cy="8" r="6" fill="#fff" stroke="#d00" stroke-width="2" ' +
        'stroke-dasharray="2 1.5"/></svg>rode stippelrand = VOORBEELD (verzonnen)</small>';
    }
    html += '<div class="vk-bronnen"><b>Bronnen zorglocaties</b><ul>';
    data.bronnen.forEach(function (b) { html += "<li>" + esc(b) + "</li>"; });
    html += "</ul>Kaart gemaakt op " + esc(data.gemaakt) + ".</div>";
    div.innerHTML = folded("<b>Legenda</b>", html);
    L.DomEvent.disableScrollPropagation(div);
    return div;
  };
  legend.addTo(map);
  var bounds = counts.getBounds();
  if (bounds.isValid()) { map.fitBounds(bounds); }
  window.vlekkenkaart = {map: map, vlek: vlek, points: points, counts: counts, carry: carry};
  return window.vlekkenkaart;
}
