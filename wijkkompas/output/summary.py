"""Compared with before, in words: a few plain Dutch lines on top of a wijk page (the
themes' newest scores and their change, the indicators that moved most, what is missing)
and the signal list ("rookmelder") of the gemeente.
The comparison per indicator and its rules are :func:`wijkkompas.output.profile.compare`
(docs/methode.md, "Vergelijken met eerder").
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from wijkkompas.kompas.classes import change_direction
from wijkkompas.kompas.results import Processed
from wijkkompas.output.profile import (
    area_comparison,
    area_rows,
    area_themes,
    carried_areas,
    change_text,
    indicator_label,
    value_text,
)
from wijkkompas.web.numbers import nl_number

#: How many indicators the summary names as having moved most.
MOST_MOVED = 3

def newest_year(processed: Processed, code: str) -> int | None:
    """The latest year in which the area has a value of any kompas indicator that applies
    to it; None if it has none."""
    rows = area_rows(processed, code)  # the rows that apply to it
    have = rows[rows["waarde"].notna()]
    return int(have["jaar"].max()) if len(have) else None


def latest_scored_year(processed: Processed, code: str) -> int | None:
    """The latest year in which the area has a theme score; None if it has none."""
    themes = area_themes(processed, code)
    scored = themes[(themes["deel"] == "totaal") & themes["score"].notna()]
    return int(scored["jaar"].max()) if len(scored) else None


def page_years(processed: Processed, code: str, jaar: int | None = None) -> tuple[int, int]:
    """The year a wijk page or profile shows and the year its compass shows.

    Without ``jaar``: the newest year with any figure of the area (else its latest scored
    year, else the newest year of the data). The compass shows that year, or the latest year
    with theme scores when that year has none (the page says so).
    """
    scored = latest_scored_year(processed, code)
    if jaar is None:
        jaar = newest_year(processed, code) or scored or max(processed.years)
    return jaar, jaar if scored is None or scored >= jaar else scored


def _scored_themes(processed: Processed) -> list:
    kompas = processed.kompas
    return [t for t in kompas.themes
            if any(i.scored and i.thema == t.code for i in kompas.indicators.values())]


def theme_overview(processed: Processed, code: str) -> pd.DataFrame:
    """Per scored theme of the area: the newest year with a score (``jaar``, NaN when the
    theme never had one), that score, the year of the score before it (``vorige``), the
    change against it and against the base year, the class of the change and afglijden
    (computed once per area; callers get a copy)."""
    return processed.derived(("theme_overview", code),
                             lambda: _theme_overview(processed, code)).copy()


def _theme_overview(processed: Processed, code: str) -> pd.DataFrame:
    # Only this area's rows (not every area's of the gemeente sorted in advance: the pages
    # ask for their wijken only).
    mine = area_themes(processed, code)
    mine = mine[(mine["deel"] == "totaal") & mine["score"].notna()].sort_values("jaar")
    threshold = processed.kompas.betekenisvolle_verandering
    # Per theme its rows in order of year, as plain values (pandas per row and theme was
    # most of the cost of this small table).
    by_theme: dict[str, list[tuple]] = {}
    for thema, *values in zip(mine["thema"].tolist(), mine["jaar"].tolist(),
                              mine["score"].tolist(), mine["verandering_vorig_jaar"].tolist(),
                              mine["verandering_basisjaar"].tolist(),
                              mine["afglijden"].tolist(), strict=True):
        by_theme.setdefault(str(thema), []).append(tuple(values))
    out = []
    for theme in _scored_themes(processed):
        rows = by_theme.get(theme.code, [])
        row = {"thema": theme.code, "thema_naam": theme.naam, "jaar": np.nan,
               "score": np.nan, "vorige": np.nan, "verandering_vorige": np.nan,
               "verandering_basisjaar": np.nan, "afglijden": False}
        if rows:
            jaar, score, vorig, basis, afglijden = rows[-1]
            row |= {"jaar": int(jaar), "score": score, "verandering_vorige": vorig,
                    "verandering_basisjaar": basis, "afglijden": bool(afglijden)}
            if len(rows) > 1:
                row["vorige"] = int(rows[-2][0])
        out.append(row)
    frame = pd.DataFrame(out)
    if len(frame):
        frame["klasse"] = change_direction(frame["verandering_vorige"], threshold)
        frame["klasse_basisjaar"] = change_direction(frame["verandering_basisjaar"], threshold)
    return frame


def _points(delta: float) -> str:
    return f"{'+' if delta > 0 else ''}{nl_number(delta, 0)} punten"


def _names(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " en " + items[-1]


def _theme_lines(overview: pd.DataFrame, jaar: int, basisjaar: int) -> list[str]:
    """The lines on the themes: the newest score year of each, the change since the previous
    measurement and since the base year, afglijden."""
    if overview.empty or overview["jaar"].isna().all():
        return ["Geen enkel thema heeft een score voor dit gebied."]
    lines = []
    years = overview.dropna(subset=["jaar"]).groupby("jaar")["thema_naam"].apply(list)
    if len(years) == 1:
        newest = int(years.index[0])
        which = "alle thema's" if len(years.iloc[0]) == len(overview) else \
            _names(years.iloc[0])
        text = f"Nieuwste themascores: {newest} voor {which}"
    else:
        text = "Nieuwste themascores: " + "; ".join(
            f"{int(j)} voor {_names(n)}" for j, n in sorted(years.items(), reverse=True))
    never = overview.loc[overview["jaar"].isna(), "thema_naam"].tolist()
    if never:
        text += f"; nog nooit een score voor {_names(never)}"
    if overview["jaar"].max() < jaar:
        text += f". In {jaar} heeft geen thema een score"
    lines.append(text + ".")
    compared = overview.dropna(subset=["verandering_vorige"])
    if compared.empty:
        lines.append("Er is nog geen eerdere themascore om mee te vergelijken: "
                     f"{_names(sorted({str(int(j)) for j in overview['jaar'].dropna()}))} "
                     "is de eerste meting.")
    else:
        parts = []
        for klasse, word in ((1.0, "verbeterd"), (-1.0, "verslechterd")):
            hits = compared[compared["klasse"] == klasse].sort_values(
                "verandering_vorige", ascending=klasse < 0)
            if len(hits):
                parts.append(f"{word}: " + _names([
                    f"{r.thema_naam} ({_points(r.verandering_vorige)}, {int(r.vorige)}-"
                    f"{int(r.jaar)})" for r in hits.itertuples()]))
        same = compared.loc[compared["klasse"] == 0, "thema_naam"].tolist()
        if same:
            parts.append(f"gelijk gebleven: {_names(same)}")
        lines.append("Sinds de vorige meting " + "; ".join(parts) + ".")
        base = compared[(compared["vorige"] != basisjaar)
                        & compared["verandering_basisjaar"].notna()]
        if len(base):
            moved = base[base["klasse_basisjaar"] != 0]
            lines.append(f"Sinds het basisjaar {basisjaar}: " + (_names([
                f"{r.thema_naam} {'verbeterd' if r.klasse_basisjaar > 0 else 'verslechterd'} "
                f"({_points(r.verandering_basisjaar)})" for r in moved.itertuples()])
                if len(moved) else "geen thema betekenisvol veranderd") + ".")
    sliding = overview.loc[overview["afglijden"], "thema_naam"].tolist()
    if sliding:
        lines.append(f"Afglijden (meerdere metingen achter elkaar gedaald): {_names(sliding)}.")
    return lines


def _indicator_line(comparison: pd.DataFrame, labels: Mapping[str, tuple[str, str]],
                    carried: set[str]) -> str:
    """The indicators that moved most: meaningful changes, largest step (in spreads) first."""
    compared = comparison.dropna(subset=["verschil"])
    if compared.empty:
        return "Geen indicator heeft een eerdere meting om mee te vergelijken."
    moved = compared[compared["klasse"].notna() & (compared["klasse"] != 0)]
    order = moved.assign(grootte=moved["stap"].abs()).sort_values("grootte", ascending=False)
    if order.empty:
        return "Geen indicator veranderde duidelijk sinds de vorige meting."
    parts = []
    for r in order.head(MOST_MOVED).itertuples():
        naam, eenheid = labels[r.indicator]
        decimals = 0 if eenheid in ("aantal", "") or abs(r.waarde_eerder) >= 100 else 1
        text = (f"{naam}: van {nl_number(r.waarde_eerder, decimals)} naar "
                f"{value_text(r.waarde_nieuwste, eenheid)} ({int(r.jaar_eerder)}-"
                f"{int(r.jaar_nieuwste)}: {change_text(r.verschil, eenheid)})")
        if r.indicator in carried:
            text += " (omgerekend, schatting)"
        parts.append(text)
    return "Het meest veranderd: " + "; ".join(parts) + "."


def _missing_line(processed: Processed, code: str, jaar: int,
                  comparison: pd.DataFrame) -> str:
    """What is missing in ``jaar``: how many indicators, and the themes without any."""
    kompas = processed.kompas
    applies = {n: i for n, i in kompas.indicators.items() if i.applies_to(code)}
    now = set(comparison.loc[comparison["jaar_nieuwste"] == jaar, "indicator"])
    missing = [n for n in applies if n not in now]
    if not missing:
        return f"Alle {len(applies)} indicatoren hebben een cijfer voor {jaar}."
    empty_themes = [t.naam for t in kompas.themes
                    if any(i.thema == t.code for i in applies.values())
                    and not any(i.thema == t.code and n in now for n, i in applies.items())]
    text = f"Geen cijfer voor {jaar} bij {len(missing)} van de {len(applies)} indicatoren"
    if empty_themes:
        text += f"; niets voor {jaar} bij {_names(empty_themes)}"
    older = comparison[comparison["jaar_nieuwste"] < jaar]
    if len(older):
        text += f" (bij {len(older)} staat het nieuwste eerdere cijfer in de tabel)"
    return text + "."


def summary_lines(processed: Processed, code: str, jaar: int) -> list[str]:
    """Three to five plain Dutch lines for the top of a wijk page: the themes' newest
    scores and their change since the previous measurement and since the base year, the
    indicators that moved most, and what is missing in ``jaar``."""
    comparison = area_comparison(processed, code, jaar)
    labels = {str(n): indicator_label(processed, str(n)) for n in comparison["indicator"]}
    carried = set(comparison.loc[(comparison["indeling_nieuwste"] != comparison["jaar_nieuwste"])
                                 | (comparison["indeling_eerder"] != comparison["jaar_eerder"])
                                 & comparison["jaar_eerder"].notna(), "indicator"])
    lines = _theme_lines(theme_overview(processed, code), jaar, processed.kompas.basisjaar)
    lines.append(_indicator_line(comparison, labels, carried))
    lines.append(_missing_line(processed, code, jaar, comparison))
    return lines


def signals(processed: Processed) -> pd.DataFrame:
    """The rookmelder of the loaded data: :func:`decline_signals` of its theme scores."""
    return decline_signals(processed.result.themes, processed.kompas.betekenisvolle_verandering,
                           {t.code: t.naam for t in processed.kompas.themes},
                           carried_areas(processed))


def decline_signals(themes: pd.DataFrame, threshold: float, names: Mapping[str, str],
                    carried: Mapping[tuple[str, int], int]) -> pd.DataFrame:
    """Every wijk and buurt whose newest score on a theme (``themes``: the kompas's theme
    scores, deel "totaal" used) fell by at least ``threshold`` points since the previous
    measurement, or that is afglijden, with the numbers, the largest decline first (then
    wijken before buurten, by name). ``carried``: per (area, year) the indeling its values
    were carried onto. Columns (Dutch, for the page and notebook 01): Gebied, Niveau,
    Thema, Jaar, Vorige meting, Score, Verandering (punten), Signaal, Omrekening (only when
    a row has one) and gebiedscode."""
    scored = themes[(themes["deel"] == "totaal") & themes["score"].notna()
                    & themes["niveau"].isin(["wijk", "buurt"])].sort_values("jaar")
    # Per area and theme its rows in order of year, as plain values, the groups in order of
    # first appearance (as a pandas groupby without sorting, which cost a row Series per
    # group: 0.2 s per gemeente).
    groups: dict[tuple[str, str], list[tuple]] = {}
    for code, thema, *values in zip(
            scored["gebiedscode"].tolist(), scored["thema"].tolist(),
            scored["jaar"].tolist(), scored["gebiedsnaam"].tolist(), scored["niveau"].tolist(),
            scored["score"].tolist(), scored["verandering_vorig_jaar"].tolist(),
            scored["afglijden"].tolist(), strict=True):
        if not (pd.isna(code) or pd.isna(thema)):
            groups.setdefault((code, thema), []).append(tuple(values))
    out = []
    for (code, thema), rows in groups.items():
        jaar, gebiedsnaam, niveau, score, delta, afglijden = rows[-1]
        declined = not pd.isna(delta) and delta <= -threshold
        if not (declined or bool(afglijden)):
            continue
        vorige = int(rows[-2][0]) if len(rows) > 1 else None
        signaal = " en ".join(w for w, on in (("verslechterd", declined),
                                               ("afglijden", bool(afglijden))) if on)
        years = [j for j in (vorige, int(jaar)) if j is not None]
        moved = [j for j in years if (str(code), j) in carried]
        out.append({
            "Gebied": gebiedsnaam if isinstance(gebiedsnaam, str) else code,
            "Niveau": str(niveau), "Thema": names.get(str(thema), str(thema)),
            "Jaar": int(jaar), "Vorige meting": "" if vorige is None else str(vorige),
            "Score": nl_number(score, 0),
            "Verandering (punten)": "" if pd.isna(delta) else
            _points(delta).removesuffix(" punten"),
            "Signaal": signaal,
            "Omrekening": "" if not moved else
            f"{_names([str(j) for j in moved])} omgerekend naar de indeling van "
            f"{carried[(str(code), moved[0])]} (schatting)",
            "gebiedscode": str(code), "_delta": np.inf if pd.isna(delta) else delta,
            "_niveau": 0 if niveau == "wijk" else 1})
    frame = pd.DataFrame(out, columns=["Gebied", "Niveau", "Thema", "Jaar", "Vorige meting",
                                       "Score", "Verandering (punten)", "Signaal",
                                       "Omrekening", "gebiedscode", "_delta", "_niveau"])
    frame = frame.sort_values(["_delta", "_niveau", "Gebied"], kind="stable").drop(
        columns=["_delta", "_niveau"]).reset_index(drop=True)
    if not frame["Omrekening"].astype(bool).any():
        frame = frame.drop(columns="Omrekening")
    return frame


def signals_sentence(processed: Processed, found: pd.DataFrame) -> str:
    """One sentence above the signal list: how many, or why there are none."""
    threshold = nl_number(processed.kompas.betekenisvolle_verandering, 0)
    if len(found):
        return (f"{len(found)} keer ging een wijk of buurt op een thema betekenisvol achteruit "
                f"(ten minste {threshold} punten sinds de vorige meting) of gleed af; de "
                "grootste daling eerst. Een signaal om met de wijk in gesprek te gaan, geen "
                "oordeel.")
    themes = processed.result.themes
    years = sorted(int(j) for j in themes.loc[themes["score"].notna(), "jaar"].unique())
    if len(years) < 2:
        which = f"alleen voor {years[0]}" if years else "voor geen enkel jaar"
        return (f"Geen signalen: er zijn themascores {which}, dus nog geen verandering om "
                "te melden.")
    return (f"Geen signalen: geen wijk of buurt ging sinds de vorige meting op een thema "
            f"betekenisvol achteruit (ten minste {threshold} punten) of gleed af.")
