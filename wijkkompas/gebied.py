"""Areas: CBS area codes (gemeente, wijk, buurt), their levels and parents, and the
coordinate systems every stage shares.

CBS codes are ``GM`` + 4 digits (gemeente), ``WK`` + 6 digits (wijk: the gemeente's 4 and
2 of its own) and ``BU`` + 8 digits (buurt: the wijk's 6 and 2 of its own); ``NL00`` is
Nederland. A wijk's code is therefore part of each of its buurten' codes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd
import shapely

from wijkkompas.errors import WijkkompasError

#: Two-letter prefix of a code to its level.
LEVELS = {"GM": "gemeente", "WK": "wijk", "BU": "buurt", "NL": "land"}
#: The full pattern of a code per level.
CODE_PATTERNS = {"gemeente": r"GM\d{4}", "wijk": r"WK\d{6}", "buurt": r"BU\d{8}"}
#: Any area code: gemeente, wijk, buurt, or NL00 for Nederland.
CODE_RE = re.compile(r"GM\d{4}|WK\d{6}|BU\d{8}|NL00", re.ASCII)
_CODE_FORMS = {"gemeente": "GM en vier cijfers", "wijk": "WK en zes cijfers",
               "buurt": "BU en acht cijfers"}

RD = "EPSG:28992"
WGS84 = "EPSG:4326"
#: RD New covers the Netherlands within these bounds (metres).
RD_X = (-7000.0, 300000.0)
RD_Y = (289000.0, 629000.0)


_CODE_PATTERNS_ALL = {**CODE_PATTERNS, "land": r"NL00"}
_CODE_EXAMPLES = {"gemeente": "GM en vier cijfers, zoals GM0141",
                  "wijk": "WK en zes cijfers, zoals WK014115",
                  "buurt": "BU en acht cijfers, zoals BU01411501", "land": "NL00"}


def code_problem(code: object, niveau: str | None = None) -> str | None:
    """None when ``code`` is a valid CBS area code (of ``niveau`` when given: "gemeente",
    "wijk", "buurt" or "land" for NL00); else what is wrong, as a Dutch phrase."""
    text = code if isinstance(code, str) else ""
    if niveau is None:
        if CODE_RE.fullmatch(text):
            return None
        expected = "GM####, WK######, BU######## of NL00"
    else:
        if re.fullmatch(_CODE_PATTERNS_ALL[niveau], text, flags=re.ASCII):
            return None
        expected = _CODE_FORMS.get(niveau, "NL00")
    noun = f"{niveau}code" if niveau and niveau != "land" else "gebiedscode"
    return f"ongeldige {noun} {code!r} (verwacht {expected})"


def check_code(code: object, niveau: str | None = None, where: str = "") -> str:
    """The code when it is a valid CBS area code (see :func:`code_problem`); else one Dutch
    line, starting with ``where`` when given.

    Use it wherever a code enters from data, and before a code becomes part of a file name.
    """
    problem = code_problem(code, niveau)
    if problem is None:
        return str(code)
    if where:
        raise WijkkompasError(f"{where}: {problem}")
    what = _CODE_EXAMPLES[niveau] if niveau else "GM, WK of BU met 4, 6 of 8 cijfers, of NL00"
    raise WijkkompasError(f"Ongeldige gebiedscode {code!r}: verwacht {what}. Controleer de "
                          "gebiedscodes in de bron.")


def level_of(codes: pd.Series) -> pd.Series:
    """The level ("gemeente", "wijk", "buurt") of each code."""
    return codes.str[:2].map(LEVELS)


def parent_code(codes: pd.Series, niveau: str) -> pd.Series:
    """The code of the wijk (``niveau="wijk"``) or gemeente each code lies in."""
    digits = codes.str[2:]
    if niveau == "wijk":
        return "WK" + digits.str[:6]
    return "GM" + digits.str[:4]


def wijk_of(code: str) -> str:
    """The wijk of a buurt code; a wijk code is its own wijk."""
    return "WK" + code[2:8] if code.startswith("BU") else code


def in_gemeente(codes: pd.Series, gemeente: str) -> pd.Series:
    """True for every wijk or buurt code (and the gemeente's own) within ``gemeente``."""
    return codes.str[2:6] == gemeente[2:6]


def gemeente_codes(codes: pd.Series) -> pd.Series:
    """The gemeente (``GM`` and the four digits) of every area code, as a categorical: the
    digits are taken once per distinct code, never per row (a national table has millions
    of rows and some twenty thousand codes)."""
    distinct = codes.astype("category")
    found, inverse = np.unique(np.asarray("GM" + distinct.cat.categories.str[2:6], dtype=object),
                               return_inverse=True)
    numbers = distinct.cat.codes.to_numpy()
    mapped = np.where(numbers >= 0, inverse[np.maximum(numbers, 0)], -1)
    return pd.Series(pd.Categorical.from_codes(mapped, categories=found), index=codes.index)


def within_rd_bounds(minx: float, miny: float, maxx: float, maxy: float) -> bool:
    """True when the box lies in the RD New extent of the Netherlands."""
    return RD_X[0] <= minx and maxx <= RD_X[1] and RD_Y[0] <= miny and maxy <= RD_Y[1]



#: shapely's reasons (GEOS) why a geometry is not valid, in Dutch.
_INVALID = {
    "Self-intersection": "de rand snijdt zichzelf",
    "Ring Self-intersection": "een ring raakt zichzelf",
    "Too few points": "te weinig punten",
    "Hole lies outside shell": "een gat ligt buiten de buitenrand",
    "Interior is disconnected": "het binnengebied is opgedeeld",
    "Nested shells": "vlakken liggen in elkaar",
    "Nested holes": "gaten liggen in elkaar",
    "Duplicate Rings": "een ring komt dubbel voor",
    "Invalid Coordinate": "een coördinaat is geen getal",
    "Ring is not closed": "een ring is niet gesloten",
}


def shape_problem(shape: shapely.Geometry | None) -> str | None:
    """None when ``shape`` is a valid area (Polygon or MultiPolygon, shapely's validity
    check); else what is wrong, as a Dutch phrase. ``None`` stands for a geometry that
    could not even be made (a ring not closed or of fewer than 4 points)."""
    if shape is None:
        return "een ring is niet gesloten of heeft minder dan 4 punten"
    if shape.is_empty:
        return "geen geometrie"
    if shape.geom_type not in ("Polygon", "MultiPolygon"):
        return f"een {shape.geom_type}, geen vlak (een wijk of buurt is een vlak)"
    if shape.is_valid:
        return None
    reason = shapely.is_valid_reason(shape)
    kind, _, where = reason.partition("[")
    text = _INVALID.get(kind.strip(), "ongeldige geometrie")
    numbers = where.rstrip("]").split()
    if len(numbers) >= 2:
        text += f" bij ({float(numbers[0]):.6g}, {float(numbers[1]):.6g})"
    return text


def shape_problems(shapes: Iterable[shapely.Geometry | None]) -> list[str]:
    """Per area that is not valid (see :func:`shape_problem`): 'object N: what' (from 1)."""
    return [f"object {number}: {problem}" for number, shape in enumerate(shapes, start=1)
            if (problem := shape_problem(shape)) is not None]


def geojson_shapes(geometries: Iterable[Any]) -> list[shapely.Geometry | None]:
    """GeoJSON geometries (as decoded from a web answer) as shapes without raising: a
    missing geometry is empty, one that cannot be made (a ring of two points) is None."""
    shapes: list[shapely.Geometry | None] = []
    for geometry in geometries:
        if geometry is None:
            shapes.append(shapely.GeometryCollection())
            continue
        try:
            shapes.append(shapely.from_geojson(json.dumps(geometry), on_invalid="ignore"))
        except (shapely.errors.GEOSException, ValueError, TypeError):
            shapes.append(None)
    return shapes
