"""The vlekkenkaart: spread of care locations over the gemeente, as a map and a stage.

Two views:

- internal (``gedeeld=False``, for the notebook): every location as a point;
- shared (``gedeeld=True``, for exports): categories marked sensitive (by default
  maatschappelijke opvang, vrouwenopvang and beschermd wonen) never appear as points, nor in
  the density: they are counted per area, counts under ``minimum_aantal`` (5) are suppressed
  at every level, and further counts beside them, so that none can be worked out from the
  others (complementary suppression, see ``suppression.py``). Every suppressed count reads
  "afgeschermd".

Locations of invented example data (VOORBEELD: a data set marked ``voorbeeld = true``, or
with VOORBEELD in its source or name) are shown as marked points under a banner, but never
counted (measures, totals, density, toets) unless the configuration asks for it with
``voorbeeld_meetellen = true``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from wijkkompas.errors import WijkkompasError
from wijkkompas.fetch.geocode import Geocoder
from wijkkompas.gebied import RD, WGS84, wijk_of, within_rd_bounds
from wijkkompas.processed import Tables, load_tables
from wijkkompas.settings import Settings
from wijkkompas.storage import write_bytes_atomic
from wijkkompas.vlekkenkaart.suppression import CountTree
from wijkkompas.vlekkenkaart.toets import Toets, rank_total, run_toets
from wijkkompas.vlekkenkaart.vlekken import (
    ALL,
    area_measures,
    assign_areas,
    density,
    draagkracht,
    vlekken,
)
from wijkkompas.vlekkenkaart.zorglocaties import (
    CareConfig,
    CareLocations,
    read_config,
    read_locations,
)
from wijkkompas.web.geometry import rounded_geojson_geometry, web_geometry
from wijkkompas.web.leaflet import PDOK_TILES, InlineLeafletLayer, base_map
from wijkkompas.web.numbers import dutch_date

VLEK_COLOURS = ["#fee5d9", "#fcae91", "#fb6a4a", "#cb181d"]
#: What a suppressed count reads in the shared outputs; the same for a small count and for
#: one suppressed to protect it, so that neither can be told from the other.
SUPPRESSED = "afgeschermd"
#: Colours of the categories: the Okabe-Ito palette, safe for colour-blind readers.
CATEGORY_COLOURS = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00",
                    "#F0E442", "#000000"]
#: Marker shapes of the categories, so that they stay apart in a grey print as well.
CATEGORY_SHAPES = ["cirkel", "vierkant", "driehoek", "ruit", "ster"]
#: Draagkracht classes by share of the ranked buurten (rank 1 = least), darkest first.
CARRY_COLOURS = ["#54278f", "#9e9ac8", "#dadaeb", "#f2f0f7"]
CARRY_SHARES = [0.2, 0.4, 0.6, 1.0]
NO_DATA_COLOUR = "#bdbdbd"


@dataclass
class Vlekkenkaart:
    config: CareConfig
    locations: CareLocations
    located: gpd.GeoDataFrame  # counted locations with buurt and wijk
    measures: pd.DataFrame
    draagkracht: pd.DataFrame
    shown: gpd.GeoDataFrame | None = None  # every included location, VOORBEELD ones too

    @property
    def points(self) -> gpd.GeoDataFrame:
        return self.located if self.shown is None else self.shown

    @property
    def examples(self) -> int:
        """How many invented (VOORBEELD) locations are included."""
        return int(self.points["voorbeeld"].astype(bool).sum())


def build_vlekkenkaart(processed: Tables, config: CareConfig,
                       geocoder: Geocoder | None = None) -> Vlekkenkaart:
    gemeente = processed.boundaries("gemeente")
    locations = read_locations(config, gemeente, geocoder)
    shown = assign_areas(locations.included, processed)
    example = shown["voorbeeld"].astype(bool)
    located = shown if config.voorbeeld_meetellen else shown[~example]
    measures = area_measures(located, processed, list(config.categories))
    return Vlekkenkaart(config, locations, located, measures, draagkracht(processed), shown)


def _points(vk: Vlekkenkaart, gedeeld: bool, counted: bool = False) -> gpd.GeoDataFrame:
    """The locations drawn as points (``counted``: only those that count, for the density);
    the shared view leaves the sensitive categories out."""
    sensitive = {c for c, cat in vk.config.categories.items() if cat.gevoelig}
    points = vk.located if counted else vk.points
    return points if not gedeeld else points[~points["categorie"].isin(sensitive)]


def _legend_categories(vk: Vlekkenkaart, gedeeld: bool) -> list[dict[str, Any]]:
    """One legend entry per category: name, colour, shape, and how many points are drawn."""
    points = _points(vk, gedeeld)
    drawn = points["categorie"].value_counts()
    invented = points.loc[points["voorbeeld"].astype(bool), "categorie"].value_counts()
    counted = vk.located["categorie"].value_counts()
    entries = []
    for number, (code, cat) in enumerate(vk.config.categories.items()):
        entries.append({"naam": cat.naam, "kleur": CATEGORY_COLOURS[number % 8],
                        "vorm": CATEGORY_SHAPES[number % len(CATEGORY_SHAPES)],
                        "getekend": int(drawn.get(code, 0)),
                        "voorbeeld": int(invented.get(code, 0)),
                        "geteld": int(counted.get(code, 0)),
                        "verborgen": bool(gedeeld and cat.gevoelig)})
    return entries


def _point_columns(points: gpd.GeoDataFrame, config: CareConfig) -> dict[str, list]:
    """The points of the page as columns, one list per property, the same order in each:
    name (``n``), category as its index in the legend (``ci``), invented or not (``v``,
    1 or 0), capacity (``k``, null when unknown) and place (``ll``, [lat, lon])."""
    order = {code: number for number, code in enumerate(config.categories)}
    wgs = points.geometry.to_crs(WGS84).to_numpy()
    lat, lon = shapely.get_y(wgs).tolist(), shapely.get_x(wgs).tolist()
    capacity = points["capaciteit"].astype("float64").tolist()
    return {"n": points["naam"].astype(str).tolist(),
            "ci": [order[c] for c in points["categorie"]],
            "v": points["voorbeeld"].astype(bool).astype(int).tolist(),
            "k": [None if math.isnan(k) else k for k in capacity],
            "ll": [[round(a, 5), round(b, 5)] for a, b in zip(lat, lon, strict=True)]}


def _buurt_counts(vk: Vlekkenkaart, codes: pd.Series, gedeeld: bool,
                  suppressed: set[tuple[str, str]]) -> list[list[list[Any]]]:
    """Per buurt the counts its tooltip lists: [category name, count] for each category
    with locations there (suppressed ones as ``SUPPRESSED`` in the shared view), then the
    total (in the shared view without the sensitive categories)."""
    config = vk.config
    sensitive = {c for c, cat in config.categories.items() if cat.gevoelig}
    buurt = vk.measures[vk.measures["niveau"] == "buurt"]
    known = dict(zip(zip(buurt["gebiedscode"], buurt["categorie"], strict=True),
                     buurt["aantal"].astype(int).tolist(), strict=True))
    out = []
    for code in codes:
        counts: list[list[Any]] = []
        open_total = 0
        for cat in config.categories:
            n = known.get((code, cat))
            if n is None:
                continue
            open_total += 0 if cat in sensitive else n
            if n:
                hidden = gedeeld and (code, cat) in suppressed
                counts.append([config.categories[cat].naam, SUPPRESSED if hidden else n])
        if gedeeld:
            # The total leaves the sensitive ones out: else it would give them away.
            counts.append(["zorglocaties (zonder gevoelige)", open_total])
        elif (code, ALL) in known:
            counts.append(["alle zorglocaties", known[(code, ALL)]])
        out.append(counts)
    return out


def care_sources(config: CareConfig) -> list[str]:
    """The source of every data set of care locations with the date its data describe (its
    ``peildatum``), or else the date of its file."""
    out: list[str] = []
    for dataset in config.datasets:
        if dataset.peildatum:
            text = f"{dataset.bron}, peildatum {dataset.peildatum}"
        else:
            made = date.fromtimestamp(dataset.bestand.stat().st_mtime)
            text = f"{dataset.bron} (bestand van {dutch_date(made)})"
        if text not in out:
            out.append(text)
    return out


def map_payload(processed: Tables, vk: Vlekkenkaart, gedeeld: bool,
                toets: Toets | None = None) -> dict[str, Any]:
    """What the vlekkenkaart script needs. In the shared view no exact point, and no density,
    of a sensitive category is included."""
    config = vk.config
    sensitive = [c for c, cat in config.categories.items() if cat.gevoelig]
    points = _points(vk, gedeeld)
    counted = _points(vk, gedeeld, counted=True)
    bounds = tuple(processed.boundaries("gemeente").to_crs(RD).total_bounds)
    xy = np.column_stack([counted.geometry.x, counted.geometry.y]) if len(counted) else \
        np.empty((0, 2))
    surface = density(xy, bounds, config.bandbreedte_m)
    spots = vlekken(surface).to_crs(WGS84)
    vlek_features = [{"type": "Feature", "properties": {"n": int(r.niveau),
                                                        "d": round(float(r.dichtheid_vanaf), 2)},
                      "geometry": rounded_geojson_geometry(r.geometry)}
                     for r in spots.itertuples()]
    buurten = web_geometry(processed.boundaries("buurt"))
    suppressed = suppressed_counts(vk) if gedeeld else set()
    counts = _buurt_counts(vk, buurten["gebiedscode"], gedeeld, suppressed)
    carry = vk.draagkracht.set_index("gebiedscode")
    ranks = carry["rang"].reindex(buurten["gebiedscode"]).tolist()
    indexes = carry["draagkracht"].reindex(buurten["gebiedscode"]).tolist()
    buurt_features = [{"type": "Feature", "properties": {
        "c": code, "n": None if pd.isna(name) else str(name), "t": shown,
        "r": None if pd.isna(rank) else int(rank),
        "i": None if pd.isna(index) else round(float(index), 2)},
        "geometry": rounded_geojson_geometry(geom)}
        for code, name, geom, shown, rank, index in zip(
            buurten["gebiedscode"], buurten["gebiedsnaam"], buurten.geometry, counts, ranks,
            indexes, strict=True)]
    # The banner counts the invented locations drawn in this view (never sensitive ones).
    examples = int(points["voorbeeld"].astype(bool).sum())
    payload: dict[str, Any] = {
        "gedeeld": gedeeld, "bandbreedte": config.bandbreedte_m,
        "titel": f"Zorglocaties in {processed.naam}",
        "inleiding": (
            f"Waar in {processed.naam} liggen zorglocaties dicht bij elkaar? De "
            "gekleurde vlekken tonen waar veel locaties samen liggen; de symbolen zijn de "
            "locaties zelf. Beweeg over een buurt voor de aantallen per buurt en zijn "
            "draagkracht. Met de knoppen rechtsboven zet u lagen aan en uit."),
        "vlekken": {"type": "FeatureCollection", "features": vlek_features},
        "vlekkleuren": VLEK_COLOURS, "punten": _point_columns(points, config),
        "categorieen": _legend_categories(vk, gedeeld),
        "buurten": {"type": "FeatureCollection", "features": buurt_features},
        "buurtaantal": len(buurt_features),
        "rangvan": rank_total(vk.draagkracht),
        "draagkrachtkleuren": CARRY_COLOURS, "draagkrachtdelen": CARRY_SHARES,
        "geengegevens": NO_DATA_COLOUR,
        "gevoelig": [config.categories[c].naam for c in sensitive],
        "bronnen": care_sources(config), "gemaakt": dutch_date(date.today()),
        "voorbeeld": None if not examples else {
            "aantal": examples, "meegeteld": config.voorbeeld_meetellen},
    }
    if toets is not None and not gedeeld:
        lon_lat = gpd.GeoSeries(gpd.points_from_xy([toets.x], [toets.y]), crs=RD) \
            .to_crs(WGS84).iloc[0]
        payload["toets"] = {"ll": [round(lon_lat.y, 5), round(lon_lat.x, 5)],
                            "stralen": list(config.stralen_m), "tekst": toets.samenvatting}
    return payload


class VlekkenLayer(InlineLeafletLayer):
    """Vlekken, locations, counts and draagkracht per buurt, the toets, and a legend
    (``wijkkompas/output/templates/vlekkenkaart.js`` and ``vlekkenkaart.css``)."""

    package = "wijkkompas.vlekkenkaart"
    css_file = "vlekkenkaart.css"
    js_files = ("vlekkenkaart.js",)
    entry = "vlekkenkaartKaart"


def vlekkenkaart_map(processed: Tables, vk: Vlekkenkaart, gedeeld: bool = True,
                     toets: Toets | None = None, tiles_url: str = PDOK_TILES) -> folium.Map:
    """The vlekkenkaart; ``gedeeld`` (shared) leaves sensitive locations out as points."""
    fmap = base_map(tiles_url)
    VlekkenLayer(map_payload(processed, vk, gedeeld, toets)).add_to(fmap)
    return fmap


def write_outputs(processed: Tables, vk: Vlekkenkaart, out_dir: Path,
                  toets: Toets | None = None, say: Callable[[str], None] = print) -> list[Path]:
    """The shared map, the measures and the location report; the toets (internal) if any."""
    out_dir = Path(out_dir)
    written = []
    shared = vlekkenkaart_map(processed, vk, gedeeld=True).get_root().render()
    path = out_dir / "vlekkenkaart_gedeeld.html"
    write_bytes_atomic(path, shared.encode("utf-8"))
    written.append(path)
    for name, frame in (("zorglocaties_maten_intern.csv", vk.measures),
                        ("zorglocaties_maten_gedeeld.csv", shared_measures(vk)),
                        ("zorglocaties_draagkracht.csv", vk.draagkracht),
                        ("zorglocaties_controle_intern.csv",
                         pd.DataFrame(vk.locations.rows.drop(columns="geometry")))):
        target = out_dir / name
        write_bytes_atomic(target, frame.to_csv(index=False).encode("utf-8"))
        written.append(target)
    if toets is not None:
        internal = vlekkenkaart_map(processed, vk, gedeeld=False, toets=toets)
        target = out_dir / "toets_intern.html"
        write_bytes_atomic(target, internal.get_root().render().encode("utf-8"))
        text = out_dir / "toets.txt"
        write_bytes_atomic(text, (toets.samenvatting + "\n").encode("utf-8"))
        written += [target, text]
    for item in written:
        say(f"geschreven: {item}")
    return written


def suppressed_counts(vk: Vlekkenkaart) -> set[tuple[str, str]]:
    """(gebiedscode, categorie) of every count of a sensitive category that the shared
    outputs suppress: under ``minimum_aantal`` at any level, and the complementary ones."""
    out: set[tuple[str, str]] = set()
    gemeente = vk.measures.loc[vk.measures["niveau"] == "gemeente", "gebiedscode"]
    for cat, category in vk.config.categories.items():
        if not category.gevoelig:
            continue
        rows = vk.measures[vk.measures["categorie"] == cat]
        counts = dict(zip(rows["gebiedscode"], rows["aantal"].astype(int), strict=True))
        parents: dict[str, str | None] = {}
        for code, niveau in zip(rows["gebiedscode"], rows["niveau"], strict=True):
            if niveau == "gemeente":
                parents[code] = None
            elif niveau == "wijk":
                parents[code] = gemeente.iloc[0]
            else:
                wijk = wijk_of(code)
                parents[code] = wijk if wijk in counts else gemeente.iloc[0]
        tree = CountTree(counts, parents)
        out |= {(code, cat) for code in tree.suppress(vk.config.minimum_aantal)}
    return out


def shared_measures(vk: Vlekkenkaart) -> pd.DataFrame:
    """The measures fit to share: sensitive counts suppressed where small, and beside them
    so that none can be worked out (see ``suppression.py``); the all-category totals
    without the sensitive categories."""
    sensitive = [c for c, cat in vk.config.categories.items() if cat.gevoelig]
    measures = vk.measures[vk.measures["categorie"] != ALL].copy()
    open_rows = measures[~measures["categorie"].isin(sensitive)]
    grouped = open_rows.groupby(["gebiedscode", "niveau"])
    totals = grouped.agg(aantal=("aantal", "sum"), inwoners=("inwoners", "first"))
    # Unknown where no open category of the area knows a capacity: missing, never 0.
    totals["capaciteit"] = grouped["capaciteit"].sum(min_count=1)
    totals = totals.reset_index()
    totals["categorie"] = "alle zonder gevoelige"
    totals["per_1000"] = 1000 * totals["aantal"] / totals["inwoners"].where(
        totals["inwoners"] > 0)
    measures = pd.concat([measures, totals], ignore_index=True)
    suppressed = suppressed_counts(vk)
    hidden = pd.Series([(c, k) in suppressed for c, k in
                        zip(measures["gebiedscode"], measures["categorie"], strict=True)],
                       index=measures.index)
    # A location quotient is the area's rate over the gemeente's: published beside a known
    # count, it gives the gemeente's count away. Where that is suppressed, so are they all.
    hidden_gemeente = {k for c, k in suppressed if c in set(
        measures.loc[measures["niveau"] == "gemeente", "gebiedscode"])}
    measures["aantal"] = measures["aantal"].astype(object)
    for column in ("per_1000", "locatiequotient", "capaciteit"):
        measures[column] = measures[column].astype(object)
        measures.loc[hidden, column] = None
    measures.loc[measures["categorie"].isin(hidden_gemeente), "locatiequotient"] = None
    measures.loc[hidden, "aantal"] = SUPPRESSED
    return measures


def locate_proposal(text: str | None, address: str | None,
                    geocoder: Geocoder | None) -> tuple[float, float]:
    """RD coordinates of a proposal given as 'x,y' (RD) or as an address."""
    if text:
        try:
            x, y = (float(v) for v in text.replace(" ", "").split(","))
        except ValueError:
            raise WijkkompasError(f"Ongeldige toetslocatie '{text}': geef RD-coördinaten als "
                                  "x,y in meters, bijvoorbeeld 241000,486500.") from None
        return proposal_at(x, y)
    return proposal_at(None, None, address, geocoder)


def proposal_at(x: float | None, y: float | None, address: str | None = None,
                geocoder: Geocoder | None = None) -> tuple[float, float]:
    """RD coordinates of a proposal given as ``x`` and ``y`` (RD, metres) or as an address.

    The coordinates must be finite and lie in the Netherlands (EPSG:28992).
    """
    if x is not None or y is not None:
        try:
            point = (float(x), float(y))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            point = (np.nan, np.nan)
        if not (np.isfinite(point).all() and within_rd_bounds(*point, *point)):
            raise WijkkompasError(
                f"Ongeldige toetslocatie x={x!r}, y={y!r}: geef RD-coördinaten in meters "
                "binnen Nederland, bijvoorbeeld x=241000, y=486500.")
        return point
    if address and geocoder is not None:
        place = geocoder.locate(address)
        if not place.found:
            raise WijkkompasError(f"Adres '{address}' niet gevonden door de PDOK "
                                  "Locatieserver; geef coördinaten met --toets x,y.")
        return float(place.x), float(place.y)
    raise WijkkompasError("Geef de voorgestelde locatie met --toets x,y of --adres.")


def run_vlekkenkaart(data_dir: Path, config_path: Path, settings: Settings, out_dir: Path,
                     toets: str | None = None,
                     adres: str | None = None, categorie: str | None = None,
                     capaciteit: float | None = None,
                     say: Callable[[str], None] = print) -> list[Path]:
    """The vlekkenkaart of the care locations in ``config_path``, and the toets of a proposed
    location (``toets`` as "x,y" in RD, or ``adres``) when one is given; returns the files
    written to ``out_dir``."""
    config = read_config(config_path)  # a bad configuration stops before anything else
    processed = load_tables(data_dir, settings.gemeente)
    geocoder = Geocoder(settings.locatieserver_url, Path(data_dir) / "raw",
                        timeout=settings.timeout, retries=settings.retries,
                        backoff=settings.backoff)
    vk = build_vlekkenkaart(processed, config, geocoder)
    for note in vk.locations.problems:
        say(f"let op: {note}")
    result = None
    if toets or adres:
        if not categorie:
            raise WijkkompasError("Geef bij een toets de categorie, bijvoorbeeld "
                                  "--categorie beschermd_wonen.")
        x, y = locate_proposal(toets, adres, geocoder)
        result = run_toets(processed, vk.located, config, x, y, categorie, capaciteit)
        say(result.samenvatting)
    return write_outputs(processed, vk, out_dir, result, say)

