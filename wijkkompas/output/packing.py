"""The compact form of the map data on a page (decoded by ``templates/packing.js``).

A page holds, for every area and every year, the scores, the changes and the indicator
values of the map. Written as JSON numbers (``102.145,``) they were most of a gemeente page
with eight years. Here a column of numbers (one entry per area, missing ones included)
becomes one short string:

- the column's numbers as whole numbers of 10^-k (``k`` the fewest decimals that write every
  number of the column exactly, at most the decimals they were rounded to), less the
  smallest of them (the column's offset);
- every whole number as a variable number of characters of a 90-character alphabet: the
  printable ASCII characters that JSON and :func:`~wijkkompas.web.leaflet.script_safe_json`
  write as themselves (no ``"``, ``\\``, ``<``, ``>``, ``&``). The last character of a number
  is one of the first :data:`FINAL` characters, those before it of the others, so numbers
  need no separator;
- first the header ``zigzag(offset) * 4 + k``, then per entry 0 for missing, 1 for -0 (shown
  as "-0" by the page, as before) and ``2 + value - offset`` for any other value.

Decoding gives back exactly the same numbers: ``(offset + n - 2) / 10^k`` is the double
nearest to the decimal, as JSON reading it would be. No number loses a digit. The strings are
data, never code: only characters that need no escape, inside a JSON string. A column that
cannot be packed exactly (a number of more than three decimals, or too large for the
script's doubles; never from the tables, possible from a user's file) stays a JSON list
(:func:`pack_column`).

The layout of a level (:func:`pack_level`): ``c``, ``n`` and ``o`` as
:func:`wijkkompas.output.maps.area_data` makes them; ``g`` the same lists of polygons and
rings, each ring (:func:`~wijkkompas.web.geometry.delta_rings`) a column; ``s``,
``d``, ``b`` and ``r`` one list per theme (in the order of the page's ``themas``) of one
column per year (in the order of ``jaren``; null where there is none); ``v`` per theme with
indicator values (scored or context) ``[thema, [per year a list of [position in
indicatoren, column], or null]]``. Every column as :func:`pack_column` writes it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

#: The characters of a packed column, in the order of their digit values.
ALPHABET = "".join(chr(c) for c in range(0x20, 0x7F) if chr(c) not in '"\\<>&')
#: Characters that end a number (digit values below FINAL); the others come before them.
FINAL = 45
MORE = len(ALPHABET) - FINAL
MAX_DECIMALS = 3

_DIGIT = {ch: at for at, ch in enumerate(ALPHABET)}
_FIELDS = ("s", "d", "b", "r")


def _whole(n: int) -> str:
    """One whole number ≥ 0 as characters: its value in base FINAL (last) and MORE."""
    last = ALPHABET[n % FINAL]
    n //= FINAL
    lead = []
    while n:
        lead.append(ALPHABET[FINAL + n % MORE])
        n //= MORE
    return "".join(reversed(lead)) + last


def _wholes(text: str) -> list[int]:
    out, acc = [], 0
    for ch in text:
        digit = _DIGIT[ch]
        if digit >= FINAL:
            acc = acc * MORE + digit - FINAL
        else:
            out.append(acc * FINAL + digit)
            acc = 0
    if acc:
        raise ValueError("a packed column ends inside a number")
    return out


def _decimals(values: list[float]) -> int:
    """The fewest decimals that write every value exactly (at most MAX_DECIMALS)."""
    for k in range(MAX_DECIMALS + 1):
        scale = 10 ** k
        if all(round(v * scale) / scale == v for v in values):
            return k
    raise ValueError(f"a value of a packed column has more than {MAX_DECIMALS} decimals")


#: Whole numbers from here on are not all exact as JavaScript numbers (doubles).
_EXACT = 2**53
#: The characters of every number of one or two characters, made once.
_SHORT = [_whole(n) for n in range(FINAL * MORE)]


def pack_numbers(values: Sequence[float | int | None]) -> str:
    """A column of numbers (None or NaN for missing) as one string (see the module). Every
    number must be written exactly with at most three decimals (as
    :func:`wijkkompas.output.maps._num` rounds them)."""
    floats = [None if v is None or v != v else float(v) for v in values]  # NaN != NaN
    k = _decimals([v for v in floats if v is not None])
    scale = 10 ** k
    scaled = [None if v is None else (v, round(v * scale)) for v in floats]
    offset = min((entry[1] for entry in scaled if entry is not None), default=0)
    head = (2 * offset if offset >= 0 else -2 * offset - 1) * 4 + k
    parts = [_whole(head)]
    short = len(_SHORT)
    for entry in scaled:
        if entry is None:
            parts.append(_SHORT[0])
            continue
        v, w = entry
        if w == 0 and math.copysign(1, v) < 0:
            parts.append(_SHORT[1])
        else:
            n = 2 + w - offset
            if n >= _EXACT or abs(w) >= _EXACT:
                raise ValueError("a number of a packed column is too large for the page's "
                                 "script to read exactly")
            parts.append(_SHORT[n] if n < short else _whole(n))
    if head >= _EXACT:
        raise ValueError("the offset of a packed column is too large for the page's script")
    return "".join(parts)


def pack_column(values: Sequence[float | int | None]) -> str | list[float | int | None]:
    """A column for the page: packed (:func:`pack_numbers`) where that writes every number
    exactly, else as it is, a JSON list (numbers of more than three decimals, or too large
    for the script to sum exactly: never from the tables, possible from a user's file)."""
    try:
        return pack_numbers(values)
    except (ValueError, OverflowError):
        return list(values)


def unpack_column(column: str | list[float | int | None]) -> list[float | int | None]:
    """A column of :func:`pack_column` back as numbers."""
    return unpack_numbers(column) if isinstance(column, str) else list(column)


def unpack_numbers(text: str) -> list[float | int | None]:
    """The column :func:`pack_numbers` packed, as the page's script decodes it: whole
    numbers as int, others as float, missing as None."""
    head, *entries = _wholes(text)
    k, zig = head % 4, head // 4
    offset = zig // 2 if zig % 2 == 0 else -(zig + 1) // 2
    out: list[float | int | None] = []
    for n in entries:
        if n == 0:
            out.append(None)
        elif n == 1:
            out.append(-0.0)
        else:
            out.append(offset + n - 2 if k == 0 else (offset + n - 2) / 10 ** k)
    return out


def _key(thema: str, jaar: int) -> str:
    return f"{thema}|{jaar}"


def pack_level(level: dict[str, Any], themas: Sequence[str],
               jaren: Sequence[int]) -> dict[str, Any]:
    """One level of :func:`wijkkompas.output.maps.area_data` (keys ``"thema|jaar"``) in the
    page's compact layout (see the module)."""
    out = {name: level[name] for name in ("c", "n")}
    out["g"] = [[[pack_column(ring) for ring in rings] for rings in polygons]
                for polygons in level["g"]]
    for name in _FIELDS:
        columns = level[name]
        out[name] = [[None if _key(t, j) not in columns else pack_column(columns[_key(t, j)])
                      for j in jaren] for t in themas]
    # The values are of every theme with indicators, scored or not (context figures).
    value_themes = list(dict.fromkeys(key.rsplit("|", 1)[0] for key in level["v"]))
    out["v"] = [[t, [None if _key(t, j) not in level["v"] else
                     [[label, pack_column(values)] for label, values in level["v"][_key(t, j)]]
                     for j in jaren]] for t in value_themes]
    out["o"] = level.get("o", {})
    return out


def unpack_level(level: dict[str, Any], themas: Sequence[str],
                 jaren: Sequence[int]) -> dict[str, Any]:
    """The layout of :func:`wijkkompas.output.maps.area_data` back from :func:`pack_level`
    (what ``templates/packing.js`` does on the page)."""
    out = {name: level[name] for name in ("c", "n")}
    out["g"] = [[[unpack_column(ring) for ring in rings] for rings in polygons]
                for polygons in level["g"]]
    for name in _FIELDS:
        out[name] = {_key(thema, jaar): unpack_column(packed)
                     for thema, per_year in zip(themas, level[name], strict=True)
                     for jaar, packed in zip(jaren, per_year, strict=True) if packed is not None}
    out["v"] = {_key(thema, jaar): [[label, unpack_column(values)] for label, values in packed]
                for thema, per_year in level["v"]
                for jaar, packed in zip(jaren, per_year, strict=True) if packed is not None}
    out["o"] = level["o"]
    return out
