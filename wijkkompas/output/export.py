"""Self-contained HTML for dialogue sessions: one page for the gemeente, one per wijk.

Each page is a single file that opens from a USB stick with the network off: Leaflet, the
styles and the kompas chart (SVG, written without matplotlib: the export never imports
it) are inside it; only the PDOK base map is loaded when
there is a network, and the areas, labels, legend and choices work without it.

The page is ``templates/page.html``, rendered by the one autoescaping Jinja environment of
:mod:`wijkkompas.web.leaflet`: every text from data (names, titles, sources, tables) is
a variable, escaped, and never template source. File names are built only from validated
area codes. Files are written atomically.

One export makes one pass over the data: the areas with all their values
(:func:`wijkkompas.output.maps.area_data`), the reasons why a theme has no score and the
sources are computed once, and every page takes its share.
"""

from __future__ import annotations

import multiprocessing
import os
import re
import signal
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from markupsafe import Markup

from wijkkompas.gebied import check_code
from wijkkompas.kompas.results import Processed
from wijkkompas.output.kompas_content import kompas_content
from wijkkompas.output.kompas_svg import NARROW, PRINT, WIDE, kompas_svg
from wijkkompas.output.maps import area_data, interactive_map, theme_reasons
from wijkkompas.output.peers_section import peers_section
from wijkkompas.output.profile import area_themes, profile_table, without_figures
from wijkkompas.output.summary import (
    page_years,
    signals,
    signals_sentence,
    summary_lines,
    theme_overview,
)
from wijkkompas.storage import write_files_atomic
from wijkkompas.web.leaflet import PDOK_TILES, asset, map_parts, template
from wijkkompas.web.numbers import dutch_date, nl_number

#: The package whose templates/ holds the page template and its stylesheet.
PAGES = "wijkkompas.output"

EXPLANATION = (
    "Het wijkkompas laat per thema zien hoe een gebied ervoor staat. Een score van 100 is "
    "het gemiddelde van {gemeente} in {basisjaar}; dat ijkpunt blijft elk jaar hetzelfde, dus "
    "een hogere score betekent dat het gebied zelf vooruit is gegaan. Boven 105 is gunstiger "
    "dan gemiddeld, onder 95 ongunstiger. Grijs betekent: geen gegevens. Samenstelling van de "
    "bevolking (leeftijd, huishoudens) wordt getoond maar niet beoordeeld."
)
NO_DATA = "geen data"
#: A file name in brackets ("(kwb2015_almelo.csv)") and how a carried value was weighted
#: (", gewogen naar huishoudens 2021"): for the maker of the page, not for its readers.
_FILE_NAME = re.compile(r"\s*\([^()]*\.(?:csv|xlsx?|gpkg|geojson|json|shp|parquet|zip)\)",
                        re.IGNORECASE)
_WEIGHTING = re.compile(r",\s*gewogen naar [^)]*")


def reader_source(text: str) -> str:
    """A source as a reader of a page sees it: without file names and without how a value
    was weighted when it was carried to another indeling."""
    return " ".join(_WEIGHTING.sub("", _FILE_NAME.sub("", text)).split())


def _cell(value: Any) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return NO_DATA
    if isinstance(value, float):
        return nl_number(value, 0)
    return str(value)


def _table(frame: pd.DataFrame, index: str | None = None) -> dict[str, list]:
    """A table as plain texts for the page template (columns, rows)."""
    if index is not None:
        frame = frame.reset_index().rename(columns={frame.index.name: index})
    return {"columns": [str(c) for c in frame.columns],
            "rows": [[_cell(v) for v in row] for row in frame.itertuples(index=False)]}


def _reference_columns(profile: pd.DataFrame) -> list[str]:
    """Reference columns (the gemeente, Nederland) where profile_table provides them."""
    return [c for c in profile.columns
            if str(c).lower().removeprefix("jaar ").startswith(("gemeente", "nederland"))]


def page_profile(profile: pd.DataFrame, jaar: int) -> pd.DataFrame:
    """The indicator table as the wijk page shows it: per indicator its newest value up to
    ``jaar`` (with the reason where ``jaar`` itself has none), the earlier value of the same
    area, the change and its class, the score, reference values where present, and where
    a value was carried onto another indeling, which. Columns empty in every row are left
    out."""
    shown = profile.copy()

    def newest(text: str, reason: str) -> str:
        if not text:
            return f"{NO_DATA}: {reason}" if reason else NO_DATA
        if text.endswith(f"({jaar})") or not reason:
            return text
        return f"{text}; in {jaar}: {reason}"

    def score(text: str, value: str, reason: str) -> str:
        if text not in ("", NO_DATA):
            return text
        # A value of this year without a score says why; otherwise the value's cell does.
        return f"geen score: {reason}" if value.endswith(f"({jaar})") and reason \
            else "geen score"

    shown["nieuwste"] = [newest(n, r) for n, r in zip(shown["nieuwste"], shown["reden"],
                                                      strict=True)]
    shown["score nieuwste"] = [score(s, n, r) for s, n, r in zip(
        shown["score nieuwste"], profile["nieuwste"], shown["reden"], strict=True)]
    shown["eerder"] = [e or ("geen eerdere meting" if n else "")
                       for e, n in zip(shown["eerder"], profile["nieuwste"], strict=True)]
    shown["omrekening"] = ["; ".join(t for t in (f"{jaar} {now}" if now else "", before) if t)
                           for now, before in zip(shown["omrekening"],
                                                  shown["omrekening eerder"], strict=True)]
    shown["bron"] = [reader_source(b) if isinstance(b, str) else b for b in shown["bron"]]
    columns = {"thema": "Thema", "indicator": "Indicator", "nieuwste": "Nieuwste waarde",
               "eerder": "Eerdere waarde", "verandering": "Verandering",
               "ontwikkeling": "Ontwikkeling", "score nieuwste": "Score"}
    columns |= {c: str(c)[:1].upper() + str(c)[1:] for c in _reference_columns(profile)}
    columns |= {"richting": "Richting", "bron": "Bron", "peildatum": "Peildatum",
                "omrekening": "Omrekening"}
    shown = shown[list(columns)].rename(columns=columns)
    # A reference column without any figure ("geen data" everywhere) is as empty.
    filled = [c for c in shown.columns
              if any(str(v).strip() not in ("", NO_DATA) for v in shown[c])]
    return shown[filled]


def theme_table(processed: Processed, code: str, jaar: int) -> pd.DataFrame:
    """Per theme its newest score and year, the previous measurement and the change since
    then and since the base year, as the wijk page shows them beside the compass."""
    overview = theme_overview(processed, code)
    basisjaar = processed.kompas.basisjaar
    words = {1.0: "verbeterd", 0.0: "gelijk gebleven", -1.0: "verslechterd"}
    reasons = theme_reasons(processed)
    rows = []
    for r in overview.itertuples():
        change = "" if pd.isna(r.verandering_vorige) else \
            f"{'+' if r.verandering_vorige > 0 else ''}{nl_number(r.verandering_vorige, 0)}"
        base = "" if pd.isna(r.verandering_basisjaar) or r.jaar == basisjaar else \
            f"{'+' if r.verandering_basisjaar > 0 else ''}{nl_number(r.verandering_basisjaar, 0)}"
        ontwikkeling = words.get(r.klasse, "") if not pd.isna(r.klasse) else \
            "nog geen eerdere score" if not pd.isna(r.jaar) else ""
        if r.afglijden:
            ontwikkeling += "; afglijden"
        now = reasons.get((code, r.thema, jaar), "") if pd.isna(r.jaar) or r.jaar != jaar \
            else ""
        rows.append({
            "Thema": r.thema_naam,
            "Nieuwste score": "geen score" if pd.isna(r.jaar) else
            f"{nl_number(r.score, 0)} ({int(r.jaar)})",
            "Vorige meting": "" if pd.isna(r.vorige) else str(int(r.vorige)),
            "Verandering (punten)": change,
            f"Sinds {basisjaar} (punten)": base,
            "Ontwikkeling": ontwikkeling,
            f"Geen score in {jaar}, omdat": now})
    frame = pd.DataFrame(rows)
    filled = [c for c in frame.columns if any(str(v).strip() for v in frame[c])]
    return frame[filled]


@dataclass
class Shared:
    """What every page of one export uses, computed once: the areas with all their values
    (for the maps) and the sources. (Reasons and reference values are derived once per
    loaded data by ``Processed.derived``.)"""

    areas: dict[str, Any]
    sources: list[str]

    @classmethod
    def of(cls, processed: Processed) -> Shared:
        named = processed.facts.sources if processed.facts is not None \
            else processed.table["bron"].dropna()  # of the whole table
        sources = sorted({reader_source(str(b)) for b in named})
        return cls(area_data(processed), sources)


def _page(processed: Processed, title: str, intro: str, wijk: str | None,
          sections: list[dict[str, Any]], tiles_url: str, shared: Shared,
          jaar: int | None = None, summary: list[str] | None = None) -> str:
    fmap = interactive_map(processed, wijk=wijk, tiles_url=tiles_url, height="560px",
                           jaar=jaar, areas=shared.areas)
    return template("page.html", PAGES).render(
        title=title, intro=intro, map=map_parts(fmap), css=Markup(asset("page.css", PAGES)),
        sections=sections, sources=shared.sources, summary=summary or [],
        made=dutch_date(date.today()))


def gemeente_page(processed: Processed, tiles_url: str = PDOK_TILES,
                  shared: Shared | None = None) -> str:
    shared = shared or Shared.of(processed)
    kompas = processed.kompas
    title = f"Wijkkompas {kompas.naam}"
    intro = EXPLANATION.format(gemeente=kompas.naam, basisjaar=kompas.basisjaar)
    found = signals(processed)
    signal = {"title": "Signalen: achteruitgang en afglijden", "id": "signalen",
              "note": signals_sentence(processed, found)}
    if len(found):
        signal["table"] = _table(found.drop(columns="gebiedscode"))
    sections = [signal,
                {"title": "Alle gebieden",
                 "area_table": _static_area_table(processed),
                 "note": "De tabel volgt de keuzes op de kaart: niveau, thema, jaar en "
                         "kaart (score, verandering of de waarde van een indicator). Een "
                         "jaar zonder themascores toont de waarde van een indicator."}]
    return _page(processed, title, intro, None, sections, tiles_url, shared)


def _static_area_table(processed: Processed) -> dict[str, list]:
    """The scores of every wijk per theme in the latest year with scores, with the reason
    where there is none: what the gemeente page shows before its script (which replaces it
    with the table of the chosen level, theme, year and measure) has run."""
    themes = processed.result.themes
    wijken = themes[(themes["niveau"] == "wijk") & (themes["deel"] == "totaal")]
    scored = wijken[wijken["score"].notna()]
    jaar = int(scored["jaar"].max()) if len(scored) else max(processed.years)
    reasons = theme_reasons(processed)
    known = wijken.dropna(subset=["gebiedsnaam"]).drop_duplicates("gebiedscode")
    known = dict(zip(known["gebiedscode"], known["gebiedsnaam"], strict=True))
    names = processed.boundaries("wijk")
    names["gebiedsnaam"] = [n if isinstance(n, str) else known.get(c, c)
                            for c, n in zip(names["gebiedscode"], names["gebiedsnaam"],
                                            strict=True)]
    names = names.sort_values("gebiedsnaam")
    sectors = [t for t in processed.kompas.themes
               if any(i.scored and i.thema == t.code
                      for i in processed.kompas.indicators.values())]
    current = wijken[wijken["jaar"] == jaar].set_index(["gebiedscode", "thema"])["score"]
    rows = []
    for code, naam in zip(names["gebiedscode"], names["gebiedsnaam"], strict=True):
        row = {"Wijk": naam}
        for theme in sectors:
            value = current.get((code, theme.code), np.nan)
            row[f"{theme.naam} {jaar}"] = nl_number(value, 0) if not pd.isna(value) else \
                f"geen score: {reasons.get((code, theme.code, jaar), 'geen cijfers')}"
        rows.append(row)
    return _table(pd.DataFrame(rows))


#: Said on the page of a wijk whose name no source gave: where the names come from.
UNNAMED = ("Deze wijk heeft in de gegevens geen naam en staat onder haar code. De namen van "
           "wijken komen uit de CBS-kerncijfers (wijkkompas fetch) of uit het wijkenbestand van "
           "de wijk- en buurtkaart (wijkkompas import); een buurtbestand alleen geeft ze niet.")


def wijk_page(processed: Processed, wijk: str, jaar: int | None = None,
              tiles_url: str = PDOK_TILES, shared: Shared | None = None) -> str:
    wijk = processed.check_wijk(wijk)
    mine = area_themes(processed, wijk)
    shared = shared or Shared.of(processed)
    # The newest year with any figure; the compass shows the latest year with a score.
    jaar, chart_year = page_years(processed, wijk, jaar)
    names = mine.dropna(subset=["gebiedsnaam"]).sort_values("jaar")["gebiedsnaam"]
    name = str(names.iloc[-1]) if len(names) else wijk  # the latest name
    kompas = processed.kompas
    title = f"Wijkkompas {name}, gemeente {kompas.naam}, {jaar}"
    intro = EXPLANATION.format(gemeente=kompas.naam, basisjaar=kompas.basisjaar)
    # SVG written by ElementTree, which escapes every text: safe to insert as markup. Every
    # layout; page.css shows the one that fits the screen, or paper.
    content = kompas_content(processed, wijk, chart_year)
    chart = Markup(f'<div class="wk-kompas-breed">{kompas_svg(content, WIDE)}</div>'
                   f'<div class="wk-kompas-smal">{kompas_svg(content, NARROW)}</div>'
                   f'<div class="wk-kompas-druk">{kompas_svg(content, PRINT)}</div>')
    profile = profile_table(processed, wijk, jaar)
    # Indicators without a value now or before are listed apart, each with its reason.
    empty = without_figures(profile)
    shown = profile[~empty]
    specific = shown[shown["gebied-specifiek"] == "ja"]
    threshold = nl_number(kompas.betekenisvolle_verandering, 0)
    compass = {"title": "Het kompas", "id": "kompas", "chart": chart,
               "table": _table(theme_table(processed, wijk, jaar))}
    notes = []
    if chart_year != jaar:
        notes.append(f"In {jaar} heeft geen thema een score; het kompas toont {chart_year}, "
                     "het laatste jaar met themascores.")
    if not len(names):
        notes.append(UNNAMED)
    if notes:
        compass["note"] = " ".join(notes)
    sections = [compass,
                {"title": f"Indicatoren: nieuwste cijfer (tot en met {jaar}) vergeleken met "
                          "eerder", "id": "indicatoren",
                 "note": "Ontwikkeling: verbeterd of verslechterd als de score ten minste "
                         f"{threshold} punten veranderde, anders gelijk. Context wordt niet "
                         "beoordeeld: duidelijk hoger of lager als de verandering ten minste "
                         "een kwart is van de spreiding tussen de wijken in het basisjaar. "
                         "Een aandeel verandert in procentpunten.",
                 "table": _table(page_profile(shown, jaar))}]
    if len(specific):
        sections.append({"title": "Gebied-specifieke indicatoren", "id": "gebied-specifiek",
                         "table": _table(page_profile(specific, jaar))})
    sections.append(peers_section(processed, wijk, jaar))
    if empty.any():
        missing = profile[empty][["thema", "indicator", "reden"]].rename(
            columns={"thema": "Thema", "indicator": "Indicator", "reden": "Waarom geen cijfer"})
        sections.append({"title": f"Zonder cijfer voor {name} ({int(empty.sum())} "
                                  "indicatoren)", "id": "zonder-cijfer", "collapsed": True,
                         "table": _table(missing)})
    return _page(processed, title, intro, wijk, sections, tiles_url, shared, jaar,
                 summary_lines(processed, wijk, jaar))


def page_name(code: str, niveau: str) -> str:
    """The file name of the page of an area: only ever from a validated code."""
    return f"wijkkompas_{check_code(code, niveau)}.html"


def default_workers() -> int:
    """The processes an export renders in by default: one per core it may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # no affinity on this platform
        return max(1, os.cpu_count() or 1)


def worker_pool(werkers: int, tasks: int) -> ProcessPoolExecutor | None:
    """A pool of ``werkers`` processes (at most one per task) forked from this one, so that
    each has, without copying it over a pipe, what this process loaded before; None where
    one process will do (one worker or task, or no fork on this platform)."""
    count = min(werkers, tasks)
    if count < 2 or "fork" not in multiprocessing.get_all_start_methods():
        return None
    pool = ProcessPoolExecutor(count, mp_context=multiprocessing.get_context("fork"),
                               initializer=_leave_ctrl_c_to_the_parent)
    # The workers are forked now, with Ctrl-C held back: Python drops a Ctrl-C that arrives
    # while it runs its own handlers around a fork (the export would go on, exit 0).
    held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        pool.submit(int).result()  # a pool that forks starts all its workers at once
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)
    return pool


def _leave_ctrl_c_to_the_parent() -> None:
    """In a worker: Ctrl-C is for the parent, which stops the export in one line; a worker
    that took it too would print its own traceback."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


#: What every page of the export under way needs (the data, its shared part, the base map),
#: set before the worker processes are forked: each inherits it instead of receiving it.
_SHARED_BY_FORK: dict[str, Any] = {}


def _render(job: tuple[Path, str | None]) -> bytes:
    """One page, in a worker: the gemeente page (no wijk) or a wijk's."""
    processed, shared, tiles_url = (_SHARED_BY_FORK[k] for k in ("processed", "shared",
                                                                  "tiles_url"))
    path, code = job
    if code is None:
        return gemeente_page(processed, tiles_url, shared).encode("utf-8")
    return wijk_page(processed, code, tiles_url=tiles_url, shared=shared).encode("utf-8")


def render_pages(processed: Processed, out_dir: Path, wijk: str | None = None,
                 tiles_url: str = PDOK_TILES, werkers: int = 1) -> dict[Path, bytes]:
    """Every page of the export (the gemeente page and one per wijk, or only ``wijk``'s),
    rendered in ``werkers`` processes at once, not written: file name to bytes, in the
    order of a serial export and with the same bytes."""
    out_dir = Path(out_dir)
    themes = processed.result.themes
    if wijk is None:
        wijken = sorted(themes.loc[themes["niveau"] == "wijk", "gebiedscode"].unique())
    else:
        wijken = [wijk]
    # Every name is checked before anything is rendered or written.
    names = {code: page_name(code, "wijk") for code in wijken}
    out_dir.mkdir(parents=True, exist_ok=True)  # a bad --out fails before the rendering
    jobs: list[tuple[Path, str | None]] = []
    if wijk is None:
        jobs.append((out_dir / page_name(processed.kompas.gemeente, "gemeente"), None))
    jobs += [(out_dir / names[code], code) for code in wijken]
    shared = Shared.of(processed)  # one pass over the data for every page
    _SHARED_BY_FORK.update(processed=processed, shared=shared, tiles_url=tiles_url)
    try:
        pool = worker_pool(werkers, len(jobs))
        if pool is None:
            rendered = [_render(job) for job in jobs]
        else:
            try:
                rendered = list(pool.map(_render, jobs))
            finally:
                # On Ctrl-C or an error no page still waiting is rendered.
                pool.shutdown(cancel_futures=True)
    finally:
        _SHARED_BY_FORK.clear()
    return {path: page for (path, _), page in zip(jobs, rendered, strict=True)}


def write_pages(pages: dict[Path, bytes], say: Callable[[str], None] = print) -> list[Path]:
    """Write rendered pages all together (a failure leaves the folder as it was), and say
    each one's size."""
    write_files_atomic(pages)
    written = list(pages)
    for path in written:
        say(f"geschreven: {path} ({path.stat().st_size / 1024:,.0f} kB)".replace(",", "."))
    return written


def run_export(processed: Processed, out_dir: Path, wijk: str | None = None,
               tiles_url: str = PDOK_TILES, say: Callable[[str], None] = print,
               werkers: int = 1) -> list[Path]:
    """Write the gemeente page and one page per wijk (or only ``wijk``), rendered in
    ``werkers`` processes at once (the same bytes as in one).

    Every page is rendered first and then all are written together, so a failure leaves
    ``out_dir`` as it was.
    """
    return write_pages(render_pages(processed, out_dir, wijk, tiles_url, werkers), say)
