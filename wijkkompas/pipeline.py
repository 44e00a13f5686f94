"""The order of the stages: fetch, build (indicator table and kompas), export and the
vlekkenkaart, as ``wijkkompas run`` and the single-stage commands run them.

``run`` finishes with what it can get: each source and year is fetched on its own; a
permanent miss (HTTP 404, a year not in the catalogue, a boundary year no service holds) is
recorded, the build and export go on with what is there, and the run ends with a short
Dutch summary of what is missing and the commands that fill it (the command line then
exits with :data:`EXIT_INCOMPLETE`). A transient fault (timeouts, 5xx after the retries)
stops the fetch; the same command goes on where it stopped.

The command line (``cli.py``) only parses arguments and reports; the notebooks call the
stages themselves.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wijkkompas.errors import WijkkompasError

if TYPE_CHECKING:
    from wijkkompas.fetch.stage import FetchReport, Missing
    from wijkkompas.kompas.results import Processed, ReadOnce
    from wijkkompas.settings import Settings

#: The exit code of a run that built and exported, but could not fetch everything.
EXIT_INCOMPLETE = 3

Say = Callable[[str], None]


@dataclass(frozen=True)
class RunOptions:
    """What ``wijkkompas run`` was asked for (``None``: from the settings)."""

    data_dir: Path
    jaren: str | None = None
    refresh: bool = False
    zonder_ophalen: bool = False
    kompas: Path | None = None
    lokaal: Path | None = None
    indeling: int | None = None
    gewichten: Path | None = None
    csv: bool = False


@dataclass
class RunResult:
    """What a run could not get; empty when it got everything."""

    missing: list[Missing] = field(default_factory=list)
    command: str = ""  # the run itself, to repeat later

    def summary(self) -> list[str]:
        """The short Dutch summary a run ends with (nothing when complete)."""
        if not self.missing:
            return []
        names = ", ".join(m.what for m in self.missing)
        verb = "ontbreekt" if len(self.missing) == 1 else "ontbreken"
        lines = [f"Niet compleet: {names} {verb}; wat er wel is, is gebouwd en "
                 "geëxporteerd."]
        lines += [f"- {m.what}: {m.fill}." for m in self.missing]
        if self.command:
            lines.append(f"Of draai later dezelfde opdracht opnieuw: {self.command}")
        return lines


def basisjaar(settings: Settings, kompas: Path | None = None) -> int:
    """The earliest ``basisjaar`` (frame year) of the kompas of the configured gemeenten."""
    from wijkkompas.kompas.definition import for_gemeente, load_kompas

    return min(for_gemeente(load_kompas(kompas or settings.kompas, code), code).basisjaar
               for code in settings.gemeenten)


def fetch_years(settings: Settings, jaren: str | None = None,
                kompas: Path | None = None) -> list[int]:
    """The years to fetch: ``jaren`` (--jaren), else the config's ``jaren``, else from the
    kompas's ``basisjaar`` on (``settings.default_years``), so that the frame year of the
    scores is the basisjaar whenever CBS has it."""
    from wijkkompas.settings import default_years, parse_years

    text = jaren or settings.jaren
    years = parse_years(text) if text else default_years(basisjaar(settings, kompas))
    check_years(years)
    return years


#: The first year of CBS's Kerncijfers wijken en buurten on StatLine (then 1997, 1999,
#: 2001 and every year from 2003).
FIRST_KWB_YEAR = 1995


def check_years(years: Sequence[int]) -> None:
    """Refuse, before anything goes online, a year CBS cannot have: before its first
    Kerncijfers wijken en buurten, or after this calendar year."""
    from datetime import date

    this_year = date.today().year
    wrong = [y for y in years if not FIRST_KWB_YEAR <= y <= this_year]
    if wrong:
        raise WijkkompasError(
            f"Geen CBS-tabel 'Kerncijfers wijken en buurten {wrong[0]}': die zijn er van "
            f"{FIRST_KWB_YEAR} tot en met dit jaar ({this_year}). Kies jaren daartussen met "
            "--jaren (of 'jaren' in wijkkompas.toml).")


def fetch(data_dir: Path, settings: Settings, years: list[int], *, refresh: bool = False,
          keep_going: bool = False, say: Say = print) -> FetchReport:
    """Stage 1 for every configured gemeente into ``data_dir/raw``."""
    from wijkkompas.fetch.stage import run_fetch

    raw = data_dir / "raw"
    national = " (met de wijken van heel Nederland)" if settings.vergelijk_landelijk else ""
    say(f"Ophalen voor {', '.join(settings.gemeenten)}{national}, jaren "
        f"{_years_text(years)}, naar {raw}")
    return run_fetch(raw, settings, settings.gemeenten, years, refresh=refresh,
                     keep_going=keep_going, say=say)


def _without_fetching(data: Path) -> str:
    """How a run goes on when it cannot fetch: short, so that the line stays short."""
    where = "" if data == Path("data") else f" --data-dir {data}"
    return (f"Zonder internet: 'wijkkompas import' van de wijk- en buurtkaart, dan 'wijkkompas "
            f"run --zonder-ophalen{where}'.")


def _years_text(years: Sequence[int]) -> str:
    if list(years) == list(range(years[0], years[-1] + 1)):
        return f"{years[0]}-{years[-1]}"
    return ",".join(map(str, years))


def build(data_dir: Path, settings: Settings, *, kompas: Path | None = None,
          lokaal: Path | None = None, indeling: int | None = None,
          gewichten: Path | None = None, csv: bool = False, say: Say = print) -> None:
    """Stages 2 and 3: the indicator table and the kompas scores, ``processed/`` replaced
    whole."""
    from wijkkompas.kompas.stage import build_and_score

    say(f"Bouwen voor {', '.join(settings.gemeenten)} uit {data_dir / 'raw'} naar "
        f"{data_dir / 'processed'}")
    build_and_score(data_dir, lokaal or settings.lokaal, indeling or settings.indeling,
                    kompas or settings.kompas, timeout=settings.wachttijd,
                    weights_path=gewichten or settings.herindeling_gewichten,
                    gemeenten=settings.gemeenten, csv=csv, say=say)


def export(data_dir: Path, settings: Settings, *, kompas: Path | None = None,
           out: Path | None = None, wijk: str | None = None, in_run: bool = False,
           say: Say = print, werkers: int | None = None) -> None:
    """Stage 4: the dialogue pages of every configured gemeente (or one wijk's page). Asked
    for by itself, a gemeente that was never built is refused in one line before any page
    is written; in a run, the gemeenten without scores are skipped with a line each.

    Pages are rendered in ``werkers`` processes at once (default: one per core): one
    gemeente's pages side by side, or of several gemeenten each gemeente in a process of
    its own, from the processed folder read once. Each gemeente's pages are written
    together, in the order of the gemeenten, with the same bytes as in one process."""
    from wijkkompas.kompas.results import ReadOnce, load_processed
    from wijkkompas.output.export import (
        default_workers,
        run_export,
        worker_pool,
        write_pages,
    )
    from wijkkompas.processed import ProcessedPaths, scored_gemeenten

    werkers = werkers or default_workers()
    out = out or ProcessedPaths.of(data_dir).export
    scored = scored_gemeenten(data_dir)
    unbuilt = [g for g in settings.gemeenten if g not in scored]
    if unbuilt and not in_run:
        # load_processed says which gemeenten are scored and how to build this one.
        load_processed(data_dir, kompas or settings.kompas, unbuilt[0])
    gemeenten = [g for g in settings.gemeenten if g in scored or wijk is not None]
    # Several gemeenten take their share of the folder read once.
    folder = ReadOnce(data_dir) if len(gemeenten) > 1 else None
    # Several gemeenten: each in a process of its own, where processes can be forked (the
    # workers inherit what is set here when they are forked).
    _EXPORT_BY_FORK.update(folder=folder, data_dir=data_dir, kompas=kompas or settings.kompas,
                           wijk=wijk, out=out)
    pool = worker_pool(werkers, len(gemeenten)) if len(gemeenten) > 1 else None
    if pool is None:
        _EXPORT_BY_FORK.clear()
        for gemeente in settings.gemeenten:
            if gemeente not in gemeenten:
                say(f"Geen kompasscores voor gemeente {gemeente}: geen export voor {gemeente}.")
                continue
            processed = _export_ready(data_dir, kompas or settings.kompas, gemeente, wijk,
                                      out, say, folder)
            if processed is not None:
                run_export(processed, out, wijk, say=say, werkers=werkers)
        return
    try:
        done = pool.map(_export_gemeente, gemeenten)
        for gemeente in settings.gemeenten:
            if gemeente not in gemeenten:
                say(f"Geen kompasscores voor gemeente {gemeente}: geen export voor "
                    f"{gemeente}.")
                continue
            lines, pages = next(done)
            for line in lines:
                say(line)
            write_pages(pages, say)
    finally:
        # On Ctrl-C or an error no gemeente still waiting is exported.
        pool.shutdown(cancel_futures=True)
        _EXPORT_BY_FORK.clear()


#: What the processes exporting several gemeenten share, set before they are forked.
_EXPORT_BY_FORK: dict[str, Any] = {}


def _export_ready(data_dir: Path, kompas: Path | None, gemeente: str, wijk: str | None,
                  out: Path, say: Say, folder: ReadOnce | None = None) -> Processed | None:
    """The loaded data of ``gemeente`` when it has pages to export (saying so), else None
    (saying why); one asked-for wijk page is made or refused in one line (load_processed
    and the export name what is missing)."""
    from wijkkompas.kompas.results import load_processed

    processed = load_processed(data_dir, kompas, gemeente, folder)
    if processed.result.themes.empty and wijk is None:
        say(f"Geen kompasscores voor {processed.kompas.naam} ({gemeente}): geen export.")
        return None
    if wijk is not None:
        processed.check_wijk(wijk)  # before saying that it exports
    say(f"Exporteren: {processed.kompas.naam} ({gemeente}) naar {out}")
    return processed


def _export_gemeente(gemeente: str) -> tuple[list[str], dict[Path, bytes]]:
    """In a worker process: the lines to say and the pages of one gemeente, rendered."""
    from wijkkompas.output.export import render_pages

    shared = _EXPORT_BY_FORK
    lines: list[str] = []
    processed = _export_ready(shared["data_dir"], shared["kompas"], gemeente, shared["wijk"],
                              shared["out"], lines.append, shared["folder"])
    if processed is None:
        return lines, {}
    return lines, render_pages(processed, shared["out"], shared["wijk"])


def vlekkenkaart(data_dir: Path, settings: Settings, *, config: Path | None = None,
                 out: Path | None = None, toets: str | None = None, adres: str | None = None,
                 categorie: str | None = None, capaciteit: float | None = None,
                 in_run: bool = False, say: Say = print) -> None:
    """Stage 5: the vlekkenkaart of the first gemeente. In a run without a configuration
    of care locations it is skipped with one line."""
    from wijkkompas.processed import ProcessedPaths
    from wijkkompas.vlekkenkaart.stage import run_vlekkenkaart

    config = config or settings.zorglocaties
    if config is None:
        if in_run:
            say("Vlekkenkaart overgeslagen: geen 'zorglocaties' in de configuratie.")
            return
        raise WijkkompasError(
            "Geef de configuratie van de zorglocaties met --zorglocaties BESTAND of "
            "'zorglocaties = ...' in wijkkompas.toml (voorbeeld: "
            "voorbeelden/zorglocaties.toml)."
        )
    if toets and adres:
        raise WijkkompasError("Geef de voorgestelde locatie met --toets x,y of met --adres, "
                              "niet met allebei.")
    if (toets or adres) and not categorie:
        raise WijkkompasError("Geef bij een toets de categorie, bijvoorbeeld "
                              "--categorie beschermd_wonen.")
    out = out or ProcessedPaths.of(data_dir).vlekkenkaart
    others = (f" (de eerste van {', '.join(settings.gemeenten)})"
              if len(settings.gemeenten) > 1 else "")
    say(f"Vlekkenkaart voor {settings.gemeente}{others}.")
    run_vlekkenkaart(data_dir, config, settings, out, toets=toets, adres=adres,
                     categorie=categorie, capaciteit=capaciteit)


def run(options: RunOptions, settings: Settings, say: Say = print) -> RunResult:
    """The yearly update: fetch (unless ``zonder_ophalen``), build, export, vlekkenkaart.

    A fetch that stops (a transient fault) stops the run, with the one line saying how to
    go on without CBS; permanent misses are in the result, after build and export ran.
    """
    data = options.data_dir
    result = RunResult()
    if options.zonder_ophalen and (options.jaren or options.refresh):
        given = "--jaren" if options.jaren else "--refresh"
        raise WijkkompasError(
            f"{given} gaat over het ophalen, en --zonder-ophalen haalt niets op: de build neemt "
            f"alles wat al in {data / 'raw'} staat. Laat {given} of --zonder-ophalen weg.")
    if options.zonder_ophalen:
        say(f"Ophalen overgeslagen (--zonder-ophalen): bouwen uit {data / 'raw'}")
    else:
        years = fetch_years(settings, options.jaren, options.kompas)
        result.command = (f"wijkkompas run --jaren {_years_text(years)} "
                          f"--gemeente {','.join(settings.gemeenten)} --data-dir {data}")
        try:
            report = fetch(data, settings, years, refresh=options.refresh, keep_going=True,
                           say=say)
        except WijkkompasError as exc:
            raise WijkkompasError(f"{exc} {_without_fetching(data)}",
                                  exc.detail) from exc
        result.missing = list(report.missing)
    build(data, settings, kompas=options.kompas, lokaal=options.lokaal,
          indeling=options.indeling, gewichten=options.gewichten, csv=options.csv, say=say)
    export(data, settings, kompas=options.kompas, in_run=True, say=say)
    vlekkenkaart(data, settings, in_run=True, say=say)
    return result
