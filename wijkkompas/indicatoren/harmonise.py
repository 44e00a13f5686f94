"""Comparability across years when buurten are redrawn.

Almelo got a new buurt indeling in 2021, and some codes were reused for other areas
(BU01411105 was "Riet Zuid" in 2015 and is "Bedrijventerrein Bornsestraat" in 2021), so a
code alone does not make two years comparable. :func:`compare_indelingen` tells per area
whether code and boundary are the same; :func:`carry_over` carries a year's buurt values
onto another year's buurten, as computed ("berekend") values, never as observed ones.

Re-allocation follows where people live, not land area (target-density weighting, Schroeder
2007, as used by NHGIS): the part of an old buurt's count given to each piece where it
overlaps a new buurt is in proportion to the piece's area times the density of the same
kind of count in the new buurt (inhabitants, households or dwellings per hectare of the
target indeling). The variable catalogue says which kind each variable follows. An optional
layer of residential addresses or inhabited grid cells (:func:`read_weight_layer`) comes
first where it covers an old buurt; area is the fallback where neither is known. Every old
buurt's teller and noemer are spread in full over its pieces, so its total is kept.

Old boundaries are often published simplified (the Almelo buurten of 2015 keep 5 % of their
vertices), so a thin strip along an old line may be an artefact: a sparse old buurt seems to
reach into a dense new one and the density weight sends many of its people there. The
density weights therefore use only the *core* of each old buurt, the part farther from its
line than the measured displacement between the two indelingen
(:func:`boundary_tolerance`); the whole count is still spread over the core, so totals stay
exact. Where the lines agree the tolerance is 0 and nothing changes.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import shapely

from wijkkompas.catalogue import factor_table, weight_table
from wijkkompas.errors import WijkkompasError
from wijkkompas.gebied import RD
from wijkkompas.indicatoren.aggregate import MIN_DEKKING, recompute
from wijkkompas.indicatoren.rows import INTERNAL, plain

if TYPE_CHECKING:  # geopandas is imported where boundaries are handled
    import geopandas as gpd

#: Two areas with the same code count as the same area when their overlap (intersection
#: over union) is at least this. Boundaries published at different generalisation levels
#: differ a little even where nothing changed.
SAME_AREA_IOU = 0.9
#: Share of a new buurt's area whose old value must be known to carry a count onto it.
COUNT_DEKKING = 0.99
#: The kinds of count a target indeling can weigh with (the rest goes by area).
RESIDENTIAL = ("inwoners", "huishoudens", "woningen")
AREA = "oppervlak"
#: What an address layer's point stands for: one address with a woonfunctie (BAG), or the
#: inhabitants of a grid cell (CBS vierkantstatistieken).
GRID_COLUMN = "aantal_inwoners"
BAG_COLUMN = "gebruiksdoel"
#: CBS's code for a secret grid value; in the 100 m grid a cell with 1 to 4 inhabitants.
CBS_SECRET = -99997
#: The weight a secret grid cell gets: the middle of 1 to 4 inhabitants.
SECRET_CELL_WEIGHT = 2.5
ADDRESS_METHOD = "adressen"
#: The boundary tolerance is this percentile of the distances from the target's outline to
#: the source's outline, sampled every ``OUTLINE_STEP`` metres along the target's outline.
OUTLINE_PERCENTILE = 95
OUTLINE_STEP = 2.0
#: Below this overlap (intersection over union) of the two outlines the indelingen do not
#: cover the same land, their outlines say nothing about simplification: tolerance 0.
OUTLINE_MIN_IOU = 0.99


def compare_indelingen(old: gpd.GeoDataFrame, new: gpd.GeoDataFrame) -> pd.DataFrame:
    """Per area of ``new``: its code, the overlap with the same code in ``old`` and a verdict.

    verdict: "gelijk" (same code and boundary: directly comparable), "grens gewijzigd"
    (same code, other area: not comparable) or "nieuw" (code not in ``old``).
    """
    old_geoms = old.set_index("gebiedscode").geometry
    rows = []
    for code, geom in zip(new["gebiedscode"], new.geometry, strict=True):
        if code not in old_geoms.index:
            rows.append((code, np.nan, "nieuw"))
            continue
        other = old_geoms.loc[code]
        union = geom.union(other).area
        iou = geom.intersection(other).area / union if union else 0.0  # no land: 0
        rows.append((code, iou, "gelijk" if iou >= SAME_AREA_IOU else "grens gewijzigd"))
    return pd.DataFrame(rows, columns=["gebiedscode", "overlap", "oordeel"])


def _pieces(source: gpd.GeoDataFrame, target: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    import geopandas as gpd

    src = source[["gebiedscode", "geometry"]].rename(columns={"gebiedscode": "bron_code"})
    dst = target[["gebiedscode", "geometry"]].rename(columns={"gebiedscode": "doel_code"})
    pieces = gpd.overlay(src, dst, how="intersection", keep_geom_type=True)
    pieces["piece_area"] = pieces.geometry.area
    return pieces  # overlay numbers its rows 0..n-1


def boundary_tolerance(source: gpd.GeoDataFrame, target: gpd.GeoDataFrame) -> float:
    """How far the source's lines may lie from where they really are, in metres.

    The outer boundary of a gemeente rarely moves when its buurten are redrawn, so the
    distance between the two indelingen's outlines measures how much one of them was
    simplified: the ``OUTLINE_PERCENTILE`` percentile of the distances from points every
    ``OUTLINE_STEP`` m along the target's outline to the source's outline. 0 when the two
    do not cover the same land (outline overlap below ``OUTLINE_MIN_IOU``).
    """
    old = shapely.union_all(source.geometry.to_numpy())
    new = shapely.union_all(target.geometry.to_numpy())
    union = shapely.union(old, new).area
    if not union or shapely.intersection(old, new).area / union < OUTLINE_MIN_IOU:
        return 0.0
    lines = shapely.get_parts(shapely.boundary(new))
    points = np.concatenate([
        shapely.line_interpolate_point(line, np.arange(0.0, line.length, OUTLINE_STEP))
        for line in lines])
    distances = shapely.distance(points, shapely.boundary(old))
    return float(np.percentile(distances, OUTLINE_PERCENTILE))


def _core_area(pieces: gpd.GeoDataFrame, source: gpd.GeoDataFrame, tolerance: float
               ) -> pd.Series:
    """Per piece, its area farther than ``tolerance`` from its source's boundary; the whole
    piece area for every piece of a source that has no such core."""
    if not tolerance:  # a percentile of distances: 0 or more
        return pieces["piece_area"].copy()
    cores = source.set_index("gebiedscode").geometry.buffer(-tolerance)
    inner = shapely.intersection(pieces.geometry.to_numpy(),
                                 cores.reindex(pieces["bron_code"]).to_numpy())
    core = pd.Series(shapely.area(inner), index=pieces.index)
    has_core = core.groupby(pieces["bron_code"]).transform("sum") > 0
    return core.where(has_core, pieces["piece_area"])


def _share(values: pd.Series, groups: pd.Series) -> pd.Series:
    return values / values.groupby(groups).transform("sum")


def reallocation_weights(source: gpd.GeoDataFrame, target: gpd.GeoDataFrame,
                         counts: pd.DataFrame | None = None, counts_label: str = "",
                         points: gpd.GeoDataFrame | None = None) -> pd.DataFrame:
    """Per source area, target area and kind of count: the share ``w`` and its ``methode``.

    ``counts`` has per target ``gebiedscode`` the observed columns of ``RESIDENTIAL`` it
    knows (missing where secret); ``counts_label`` names them in ``methode`` ("2021").
    ``points`` (from :func:`read_weight_layer`) has a ``gewicht`` per point. For each
    residential kind and source area, in this order: the points in each piece where the
    source area holds any ("adressen"); else the piece's core area (farther than
    :func:`boundary_tolerance` from the source's line) x the target's density of that
    count, where every target its core overlaps has a known count and they are not all
    zero, or failing that the same with whole pieces ("inwoners 2021"); else the piece's
    area ("oppervlak"). Kind "oppervlak" is always by area. The shares of one source area
    and kind add up to 1.
    """
    pieces = _pieces(source, target)
    by_source = pieces["bron_code"]
    base = pd.DataFrame(pieces[["bron_code", "doel_code", "piece_area"]])
    area_w = _share(pieces["piece_area"], by_source)
    frames = [base.assign(gewicht=AREA, w=area_w, methode=AREA)]
    mass = None
    if points is not None and len(points):
        import geopandas as gpd

        joined = gpd.sjoin(points[["gewicht", "geometry"]], pieces[["geometry"]],
                           predicate="within", how="inner")
        mass = joined.groupby("index_right")["gewicht"].sum().reindex(pieces.index,
                                                                      fill_value=0.0)
    target_area = target.set_index("gebiedscode").geometry.area
    core = _core_area(pieces, source, boundary_tolerance(source, target))
    for kind in RESIDENTIAL:
        w, methode = area_w.copy(), pd.Series(AREA, index=pieces.index, dtype=object)
        if counts is not None and kind in counts.columns:
            observed = counts.set_index("gebiedscode")[kind].astype("float64")
            density = (observed / target_area.reindex(observed.index)).reindex(
                pieces["doel_code"]).to_numpy()
            # The whole pieces first; the cores where they carry a known, positive mass.
            for areas in (pieces["piece_area"], core):
                mass_d = (areas * density).where(areas > 0, 0.0)
                total = mass_d.groupby(by_source).transform("sum")
                ok = mass_d.notna().groupby(by_source).transform("all") & (total > 0)
                w = w.mask(ok, mass_d / total)
                methode = methode.mask(ok, f"{kind} {counts_label}".strip())
        if mass is not None:
            total = mass.groupby(by_source).transform("sum")
            ok = total > 0
            w = w.mask(ok, mass / total)
            methode = methode.mask(ok, ADDRESS_METHOD)
        frames.append(base.assign(gewicht=kind, w=w, methode=methode))
    return pd.concat(frames, ignore_index=True)


def read_weight_layer(path: Path) -> gpd.GeoDataFrame:
    """Read a layer of residential addresses or inhabited grid cells as weighted points.

    Any file geopandas reads (GeoPackage, GeoJSON, shapefile) with a coordinate reference
    system. Either a column ``aantal_inwoners`` (CBS vierkantstatistieken: one cell per
    feature, polygons or points; -99997 is a secret cell of 1 to 4 inhabitants and weighs
    2.5) or a column ``gebruiksdoel`` (BAG verblijfsobjecten: a point weighs 1 when its
    gebruiksdoel names "woonfunctie", else 0). Returns points in EPSG:28992 with ``gewicht``.
    """
    import geopandas as gpd

    path = Path(path)
    if not path.is_file():
        raise WijkkompasError(f"Gewichtenbestand {path} bestaat niet; geef een bestaand bestand "
                              "met adressen of een 100m-raster met inwoners.")
    try:
        frame = gpd.read_file(path)
    except Exception as error:  # pyogrio raises several kinds for unreadable files
        raise WijkkompasError(f"Gewichtenbestand {path} is niet te lezen als geografisch "
                              f"bestand ({error}); gebruik GeoPackage, GeoJSON of shapefile.") \
            from None
    if frame.crs is None:
        raise WijkkompasError(f"Gewichtenbestand {path} heeft geen coördinatenstelsel; sla het "
                              "op met een CRS, bijvoorbeeld EPSG:28992.")
    if len(frame) == 0:
        raise WijkkompasError(f"Gewichtenbestand {path} is leeg; geef een bestand met punten "
                              "of rastercellen.")
    empty = frame.geometry.isna() | frame.geometry.is_empty
    if empty.any():
        row = int(np.flatnonzero(empty.to_numpy())[0]) + 1
        raise WijkkompasError(f"Gewichtenbestand {path}, object {row}: geen geometrie; "
                              "verwijder het of vul de ligging aan.")
    if GRID_COLUMN in frame.columns:
        raw = frame[GRID_COLUMN]
        number = pd.to_numeric(raw, errors="coerce")
        bad = number.isna() | ((number < 0) & (number != CBS_SECRET)) | (number % 1 != 0)
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise WijkkompasError(
                f"Gewichtenbestand {path}, object {row + 1}: {GRID_COLUMN} "
                f"'{raw.iloc[row]}' is geen aantal; verwacht een geheel getal van 0 of meer, "
                f"of {CBS_SECRET} (geheim)."
            )
        weight = number.where(number != CBS_SECRET, SECRET_CELL_WEIGHT).astype("float64")
    elif BAG_COLUMN in frame.columns:
        text = frame[BAG_COLUMN].astype("string").str.lower()
        weight = text.str.contains("woonfunctie").fillna(False).astype("float64")
    else:
        raise WijkkompasError(
            f"Gewichtenbestand {path} heeft geen kolom '{GRID_COLUMN}' (100m-raster van CBS) "
            f"of '{BAG_COLUMN}' (BAG-verblijfsobjecten); voeg een van beide toe."
        )
    geometry = frame.geometry.to_crs(RD)
    points = geometry.where(geometry.geom_type == "Point", geometry.representative_point())
    out = gpd.GeoDataFrame({"gewicht": weight.to_numpy()}, geometry=points.to_numpy(), crs=RD)
    return out[out["gewicht"] > 0].reset_index(drop=True)


def allocate(rows: pd.DataFrame, weights: pd.DataFrame,
             factors: dict[str, float | None],
             kinds: dict[str, tuple[str, str]] | None = None) -> pd.DataFrame:
    """Every old buurt row spread over its pieces: ``t`` and ``n`` per piece.

    ``weights`` comes from :func:`reallocation_weights`; ``kinds`` gives per indicator the
    weight of its teller and noemer (default: the catalogue; other indicators by area).
    ``t`` and ``n`` are missing where the old value is unknown.
    """
    kinds = kinds if kinds is not None else weight_table()
    data = rows.copy()
    pair = data["indicator"].map(lambda i: kinds.get(i, (AREA, AREA)))
    data["gewicht_t"] = pair.str[0]
    data["gewicht_n"] = pair.str[1]
    w = weights.rename(columns={"bron_code": "gebiedscode"})
    data = data.merge(w.rename(columns={"gewicht": "gewicht_t", "w": "w_t"}),
                      on=["gebiedscode", "gewicht_t"])
    data = data.merge(w[["gebiedscode", "doel_code", "gewicht", "w"]].rename(
        columns={"gewicht": "gewicht_n", "w": "w_n"}), on=["gebiedscode", "doel_code",
                                                         "gewicht_n"])
    is_count = data["indicator"].map(lambda i: factors[i] is None).astype(bool)
    data["known"] = data["teller"].notna() & (is_count | data["noemer"].notna())
    data["t"] = (data["teller"] * data["w_t"]).where(data["known"])
    data["n"] = (data["noemer"] * data["w_n"]).where(data["known"])
    data["n_all"] = data["noemer"] * data["w_n"]
    return data


def _method_text(methods: pd.Series) -> str:
    first, *others = dict.fromkeys(methods)
    return f"{first}, deels {', '.join(others)}" if others else first


def carry_over(long: pd.DataFrame, source: gpd.GeoDataFrame, target: gpd.GeoDataFrame,
               target_year: int, factors: dict[str, float | None] | None = None,
               counts: pd.DataFrame | None = None,
               points: gpd.GeoDataFrame | None = None,
               kinds: dict[str, tuple[str, str]] | None = None) -> pd.DataFrame:
    """Carry buurt rows of one year onto the buurten of ``target_year``.

    Tellers and noemers are spread by :func:`reallocation_weights` (``counts``: the target
    year's own inhabitants, households and dwellings per buurt; ``points``: an optional
    address layer), then the value is recomputed. ``dekking`` is the share of the new
    buurt's overlap with old buurten whose value is known; a count needs ``COUNT_DEKKING``
    of it, a share or average ``MIN_DEKKING``, else it is missing. The rows get
    ``indeling`` = ``target_year``, status "berekend", and a ``bron`` that says what the
    teller was weighted by ("gewogen naar inwoners 2021", "... oppervlak").
    """
    rows = plain(long[long["niveau"] == "buurt"])
    if rows.empty:
        return pd.DataFrame(columns=INTERNAL)
    factors = factors or factor_table()
    weights = reallocation_weights(source, target, counts, str(target_year), points)
    data = allocate(rows, weights, factors, kinds)
    data["known_area"] = data["piece_area"].where(data["known"], 0.0)
    keys = ["doel_code", "jaar", "indicator", "bron_id"]
    out = data.groupby(keys, sort=False).agg(teller=("t", "sum"), noemer=("n", "sum"),
                                             noemer_all=("n_all", "sum"),
                                             noemer_parts=("n_all", "count"),
                                             parts=("n_all", "size"),
                                             known_area=("known_area", "sum"),
                                             area=("piece_area", "sum"),
                                             methode=("methode", _method_text)).reset_index()
    out["dekking"] = out["known_area"] / out["area"]
    out = recompute(out, factors, count_complete=out["dekking"] >= COUNT_DEKKING,
                    ratio_covered=out["dekking"] >= MIN_DEKKING,
                    noemer_all_known=out["noemer_parts"] == out["parts"])
    names = target.set_index("gebiedscode")["gebiedsnaam"]
    out = out.rename(columns={"doel_code": "gebiedscode"})
    out["gebiedsnaam"] = out["gebiedscode"].map(names)
    out["niveau"] = "buurt"
    out["indeling"] = target_year
    out["indelingswijziging"] = np.nan
    out["bron_id"] = out["bron_id"] + f" (omgerekend naar indeling {target_year})"
    out["bron"] = (out["bron_id"].str[:-1] + ", gewogen naar " + out["methode"] + ")")
    return out[INTERNAL]


#: A carried value is flagged when it differs from the observed one by more than this
#: factor in either direction: |log2(omgerekend / waargenomen)| > 0.5, i.e. more than about
#: 41 % above or 29 % below.
REPORT_LOG2_THRESHOLD = 0.5
REPORT_COLUMNS = ["gebiedscode", "gebiedsnaam", "indicator", "indeling", "jaar_omgerekend",
                  "omgerekend", "jaar_waargenomen", "waargenomen", "verhouding",
                  "log2_verhouding", "afwijkend", "gewogen_naar"]


def quality_report(table: pd.DataFrame, target: int | None) -> pd.DataFrame:
    """Per buurt of the target indeling: the carried value of the last year before the change
    against the first year observed on the new buurten (inhabitants, households, dwellings).

    ``verhouding`` = omgerekend / waargenomen; ``afwijkend`` is true where
    |log2(verhouding)| > ``REPORT_LOG2_THRESHOLD``, or where exactly one of the two is 0;
    empty where either value is missing.
    """
    empty = pd.DataFrame(columns=REPORT_COLUMNS)
    if target is None or table.empty:
        return empty
    rows = plain(table[(table["niveau"] == "buurt") & (table["indeling"] == target)
                       & table["indicator"].isin(RESIDENTIAL)])
    observed = rows[rows["status"] == "waargenomen"]
    carried = rows[rows["bron"].astype(str).str.contains("(omgerekend naar indeling",
                                                         regex=False)]
    if observed.empty or carried.empty:
        return empty
    after = int(observed["jaar"].min())
    before = carried[carried["jaar"] < after]
    if before.empty:
        return empty
    jaar_before = int(before["jaar"].max())
    keys = ["gebiedscode", "indicator"]

    def first(frame: pd.DataFrame) -> pd.DataFrame:
        frame = frame.sort_values("waarde", na_position="last", kind="stable")
        return frame.drop_duplicates(keys).set_index(keys)

    old = first(before[before["jaar"] == jaar_before])
    new = first(observed[observed["jaar"] == after])
    report = new[["gebiedsnaam", "waarde"]].rename(columns={"waarde": "waargenomen"}).join(
        old[["waarde", "bron"]].rename(columns={"waarde": "omgerekend"}), how="inner")
    report = report.reset_index()
    for column in ("omgerekend", "waargenomen"):
        report[column] = pd.to_numeric(report[column]).astype("float64")
    carried_value, observed_value = report["omgerekend"], report["waargenomen"]
    report["verhouding"] = (carried_value / observed_value.where(observed_value > 0)
                            ).astype("float64")
    # Counts are never negative: log2 of the ratio is inf or -inf where exactly one of the
    # two is 0 (flagged), NaN where both are (not flagged) or one is missing.
    with np.errstate(divide="ignore", invalid="ignore"):
        log2 = np.log2(carried_value / observed_value)
    report["log2_verhouding"] = log2.where(np.isfinite(log2))
    flag = log2.abs() > REPORT_LOG2_THRESHOLD
    both = carried_value.notna() & observed_value.notna()
    report["afwijkend"] = pd.Series(flag, dtype="boolean").where(both)
    method = report["bron"].str.extract(r"gewogen naar (.*)\)$", expand=False)
    report["gewogen_naar"] = method
    report["indeling"] = target
    report["jaar_omgerekend"] = jaar_before
    report["jaar_waargenomen"] = after
    order = {name: i for i, name in enumerate(RESIDENTIAL)}
    # By gebiedscode, then (stable) by indicator in the order of RESIDENTIAL.
    report = report.sort_values("gebiedscode").sort_values(
        "indicator", key=lambda s: s.map(order), kind="stable")
    return report[REPORT_COLUMNS].reset_index(drop=True)



def leave_target_out(old_counts: pd.Series, source: gpd.GeoDataFrame,
                     target: gpd.GeoDataFrame, counts: pd.Series) -> pd.Series:
    """Per target area, its share of ``old_counts`` estimated without its own count.

    A check on target-density weighting that does not lean on the very count it is compared
    with: for each target area in turn, the density of its own pieces is replaced by the
    density of the old area they come from (its old count over its area); every other piece
    keeps its target's density. Pieces weigh with their core area, as in
    :func:`reallocation_weights`. ``old_counts`` is the count per source ``gebiedscode``,
    ``counts`` the target's count per ``gebiedscode``. Missing where a weight is unknown.
    """
    pieces = _pieces(source, target)
    core = _core_area(pieces, source, boundary_tolerance(source, target))
    density = counts / target.set_index("gebiedscode").geometry.area.reindex(counts.index)
    own_density = old_counts / source.set_index("gebiedscode").geometry.area.reindex(
        old_counts.index)
    result = {}
    for code in target["gebiedscode"]:
        sources = pieces.loc[pieces["doel_code"] == code, "bron_code"].unique()
        near = pieces[pieces["bron_code"].isin(sources)]
        mine = near["doel_code"] == code
        guess = near["doel_code"].map(density).mask(mine, near["bron_code"].map(own_density))
        mass = near["piece_area"] * guess
        in_core = (core[near.index] * guess).where(core[near.index] > 0, 0.0)
        # The cores where they carry a positive mass, as in reallocation_weights.
        mass = mass.where(in_core.groupby(near["bron_code"]).transform("sum") <= 0, in_core)
        share = mass / mass.groupby(near["bron_code"]).transform("sum")
        carried = share[mine] * near.loc[mine, "bron_code"].map(old_counts)
        result[code] = carried.sum(min_count=len(carried)) if len(carried) else np.nan
    return pd.Series(result, name="zonder_eigen_telling", dtype="float64")
