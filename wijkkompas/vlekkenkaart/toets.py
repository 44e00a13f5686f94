"""The toets of a proposed care location: what is already around it, what the buurt and wijk
carry now and after, and how much the buurt can carry."""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import Point

from wijkkompas.errors import WijkkompasError
from wijkkompas.gebied import RD, wijk_of
from wijkkompas.processed import Tables
from wijkkompas.vlekkenkaart.vlekken import ALL, area_measures, draagkracht
from wijkkompas.vlekkenkaart.zorglocaties import CareConfig
from wijkkompas.web.numbers import nl_number


@dataclass
class Toets:
    x: float
    y: float
    categorie: str
    capaciteit: float | None
    buurt: str
    wijk: str
    nearby: pd.DataFrame  # straal_m, zelfde_categorie, alle_categorieen
    effect: pd.DataFrame  # niveau, gebied, categorie, voor/na aantal, per_1000, lq
    draagkracht_rang: float
    buurten: int
    samenvatting: str


def rank_total(carry: pd.DataFrame) -> int:
    """The number of buurten with a draagkracht rank: the "van N" of every rank shown."""
    return int(carry["rang"].notna().sum())


def _name(processed: Tables, code: str) -> str:
    names = processed.table.loc[processed.table["gebiedscode"] == code, "gebiedsnaam"].dropna()
    return f"{names.iloc[-1]} ({code})" if len(names) else code


def run_toets(processed: Tables, located: gpd.GeoDataFrame, config: CareConfig,
              x: float, y: float, categorie: str, capaciteit: float | None = None) -> Toets:
    """Judge a proposed location at RD ``x``, ``y`` of ``categorie`` (and capacity)."""
    if categorie not in config.categories:
        raise WijkkompasError(f"Onbekende categorie '{categorie}'; kies uit "
                              f"{', '.join(config.categories)}.")
    point = Point(x, y)
    buurten = processed.boundaries("buurt").to_crs(RD)
    inside = buurten[buurten.geometry.contains(point)]
    if inside.empty:
        raise WijkkompasError(f"Het punt ({x:.0f}, {y:.0f}) ligt niet in een buurt van "
                              f"{processed.naam}. Geef RD-coördinaten (x, y in meters) "
                              "binnen de gemeente.")
    buurt = str(inside["gebiedscode"].iloc[0])
    wijk = wijk_of(buurt)

    distance = located.geometry.distance(point)
    same = located["categorie"] == categorie
    nearby = pd.DataFrame([{"straal_m": r, "zelfde_categorie": int(((distance <= r) & same).sum()),
                            "alle_categorieen": int((distance <= r).sum())}
                           for r in config.stralen_m])

    categories = list(config.categories)
    before = area_measures(located, processed, categories)
    proposal = gpd.GeoDataFrame(
        [{"naam": "voorstel", "categorie": categorie, "capaciteit": capaciteit,
          "buurt": buurt, "wijk": wijk, "voorbeeld": False}], geometry=[point],
        crs=located.crs)
    after = area_measures(pd.concat([located, proposal], ignore_index=True), processed,
                          categories)
    rows = []
    for niveau, code in (("buurt", buurt), ("wijk", wijk)):
        for cat in (categorie, ALL):
            b = before[(before["gebiedscode"] == code) & (before["categorie"] == cat)].iloc[0]
            a = after[(after["gebiedscode"] == code) & (after["categorie"] == cat)].iloc[0]
            rows.append({"niveau": niveau, "gebied": code, "categorie": cat,
                         "aantal_voor": int(b["aantal"]), "aantal_na": int(a["aantal"]),
                         "per_1000_voor": b["per_1000"], "per_1000_na": a["per_1000"],
                         "lq_voor": b["locatiequotient"], "lq_na": a["locatiequotient"]})
    effect = pd.DataFrame(rows)
    carry = draagkracht(processed)
    rank = carry.set_index("gebiedscode")["rang"].get(buurt, np.nan)
    ranked = rank_total(carry)
    summary = _summary(processed, config, categorie, capaciteit, buurt, wijk, nearby, effect,
                       rank, ranked)
    return Toets(x, y, categorie, capaciteit, buurt, wijk, nearby, effect, rank, ranked,
                 summary)


def _summary(processed: Tables, config: CareConfig, categorie: str,
             capaciteit: float | None, buurt: str, wijk: str, nearby: pd.DataFrame,
             effect: pd.DataFrame, rank: float, ranked: int) -> str:
    naam = config.categories[categorie].naam
    size = f", {nl_number(capaciteit, 0)} plaatsen" if capaciteit else ""
    lines = [f"Voorgestelde locatie: {naam}{size}, in buurt {_name(processed, buurt)}, "
             f"wijk {_name(processed, wijk)}."]
    for row in nearby.itertuples():
        lines.append(f"Binnen {nl_number(row.straal_m, 0)} m: {row.zelfde_categorie} "
                     f"locatie(s) van dezelfde categorie, {row.alle_categorieen} zorglocatie(s) "
                     "in totaal.")
    for row in effect.itertuples():
        wat = naam if row.categorie == categorie else "alle zorglocaties"
        lines.append(
            f"{row.niveau.capitalize()} {row.gebied}, {wat}: nu {row.aantal_voor} "
            f"({nl_number(row.per_1000_voor, 2)} per 1.000 inwoners, locatiequotiënt "
            f"{nl_number(row.lq_voor, 2)}), daarna {row.aantal_na} "
            f"({nl_number(row.per_1000_na, 2)} per 1.000, locatiequotiënt "
            f"{nl_number(row.lq_na, 2)}).")
    if np.isnan(rank):
        lines.append("Draagkracht van de buurt: geen gegevens.")
    else:
        lines.append(f"Draagkracht van de buurt: rang {int(rank)} van {ranked} "
                     "(1 = minste draagkracht).")
    lines.append("Een locatiequotiënt boven 1 betekent: meer van deze locaties per inwoner dan "
                 "gemiddeld in de gemeente.")
    return "\n".join(lines)
