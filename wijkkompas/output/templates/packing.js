/* wijkkompas: the compact map data of a page, unpacked (the encoder and its description:
   wijkkompas/output/packing.py). wkUnpackNumbers(text) gives a packed column back as
   numbers (null for missing), wkUnpackColumn a column packed or not; wkUnpackGeo(data)
   gives every level of data.geo back with its columns per "thema|jaar", as
   wijkkompas.output.maps.area_data made them. */
// The digit value of each character code (-1: not a digit); 90 digits, the first WK_FINAL
// end a number.
var WK_DIGITS = (function () {
  var out = [], digit = 0;
  for (var c = 0; c < 0x80; c++) {
    var use = c >= 0x20 && c < 0x7f && '"\\<>&'.indexOf(String.fromCharCode(c)) < 0;
    out.push(use ? digit++ : -1);
  }
  return out;
}());
var WK_FINAL = 45, WK_MORE = 90 - WK_FINAL;

function wkUnpackNumbers(text) {
  "use strict";
  var wholes = [], acc = 0;
  for (var i = 0; i < text.length; i++) {
    var digit = WK_DIGITS[text.charCodeAt(i)];
    if (digit === undefined || digit < 0) {
      throw new Error("wijkkompas: onbekend teken in de kaartgegevens");
    }
    if (digit >= WK_FINAL) {
      acc = acc * WK_MORE + digit - WK_FINAL;
    } else {
      wholes.push(acc * WK_FINAL + digit);
      acc = 0;
    }
  }
  var head = wholes[0], k = head % 4, zig = (head - k) / 4;
  var offset = zig % 2 === 0 ? zig / 2 : -(zig + 1) / 2, scale = Math.pow(10, k);
  var out = new Array(wholes.length - 1);
  for (var j = 1; j < wholes.length; j++) {
    var n = wholes[j];
    // An integer divided by a power of ten: the double nearest to the decimal, as JSON.parse
    // reads it.
    out[j - 1] = n === 0 ? null : n === 1 ? -0 : (offset + n - 2) / scale;
  }
  return out;
}

// A column as the page holds it: packed (a string) or, where packing could not write every
// number exactly, a list of numbers.
function wkUnpackColumn(column) {
  "use strict";
  return typeof column === "string" ? wkUnpackNumbers(column) : column;
}

function wkUnpackGeo(data) {
  "use strict";
  var geo = {};
  function perKey(out, thema, perYear, each) {
    perYear.forEach(function (packed, at) {
      if (packed !== null) { out[thema + "|" + data.jaren[at]] = each(packed); }
    });
  }
  Object.keys(data.geo).forEach(function (niveau) {
    var level = data.geo[niveau];
    var out = {c: level.c, n: level.n, s: {}, d: {}, b: {}, r: {}, v: {}, o: level.o};
    out.g = level.g.map(function (polygons) {
      return polygons.map(function (rings) { return rings.map(wkUnpackColumn); });
    });
    ["s", "d", "b", "r"].forEach(function (name) {
      level[name].forEach(function (perYear, at) {
        perKey(out[name], data.themas[at][0], perYear, wkUnpackColumn);
      });
    });
    level.v.forEach(function (theme) {
      perKey(out.v, theme[0], theme[1], function (entries) {
        return entries.map(function (e) { return [e[0], wkUnpackColumn(e[1])]; });
      });
    });
    geo[niveau] = out;
  });
  return geo;
}
