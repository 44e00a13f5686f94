/* vlekkenkaart: vlekkenkaartKaart(map, data) draws the density contours ("vlekken"), the
   care locations, the counts and draagkracht per buurt, the toets (if any) and a legend.
   In the shared view (data.gedeeld) the data holds no point of a sensitive category.
   Needs Leaflet and escape.js. */
function vlekkenkaartKaart(map, data) {
  "use strict";
  var esc = wkEsc;
  function fmt(x) {
    return x === null || x === undefined ? "onbekend" : Number(x).toLocaleString("nl-NL");
  }
  var vlek = L.geoJSON(data.vlekken, {style: function (f) {
    return {stroke: false, fillOpacity: 0.55, fillColor: data.vlekkleuren[f.properties.n - 1]};
  }});
  var points = L.layerGroup(data.punten.map(function (p) {
    return L.circleMarker(p.ll, {radius: 5, color: "#222", weight: 1, fillColor: "#fff",
                                 fillOpacity: 1}).bindTooltip(
      "<b>" + esc(p.n) + "</b><br>" + esc(p.c) + "<br>capaciteit: " + esc(fmt(p.k)));
  }));
  function rankColour(r) {
    if (r === null) { return "#bdbdbd"; }
    var share = r / data.buurtaantal;
    return share <= 0.2 ? "#54278f" : share <= 0.4 ? "#9e9ac8" : share <= 0.6 ? "#dadaeb" :
      "#f2f0f7";
  }
  function buurtTip(layer) {
    var p = layer.feature.properties;
    var html = "<b>" + esc(p.n || p.c) + "</b> (" + esc(p.c) + ")<br>";
    p.t.forEach(function (t) { html += esc(t[0]) + ": " + esc(t[1]) + "<br>"; });
    html += "draagkracht: " + (p.r === null ? "geen gegevens" : "rang " + esc(p.r) + " van " +
      esc(data.buurtaantal) + " (1 = minste)");
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
  }
  L.control.layers(null, overlays, {collapsed: false}).addTo(map);
  var legend = L.control({position: "bottomright"});
  legend.onAdd = function () {
    var div = L.DomUtil.create("div", "vk-panel");
    var html = "<b>Vlekkenkaart zorglocaties</b><br>Dichtheid (bandbreedte " +
      esc(fmt(data.bandbreedte)) + " m):<br>";
    ["laag", "middel", "hoog", "zeer hoog"].forEach(function (label, i) {
      html += '<i style="background:' + esc(data.vlekkleuren[i]) + '"></i>' + esc(label) +
        "<br>";
    });
    html += "Draagkracht: donker = minste draagkracht";
    if (data.gedeeld && data.gevoelig.length) {
      html += "<br><small>" + esc(data.gevoelig.join(", ")) +
        ": alleen als aantal per buurt, niet als punt.</small>";
    }
    div.innerHTML = html;
    return div;
  };
  legend.addTo(map);
  var bounds = counts.getBounds();
  if (bounds.isValid()) { map.fitBounds(bounds); }
  window.vlekkenkaart = {map: map, vlek: vlek, points: points, counts: counts};
  return window.vlekkenkaart;
}
