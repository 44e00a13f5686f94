"""The command line: ``wijkkompas <stap> [opties]``. Messages are in Dutch."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from wijkkompas import __version__
from wijkkompas.build import leefbaarometer
from wijkkompas.build.stage import run_build
from wijkkompas.errors import WijkkompasError
from wijkkompas.fetch.geocode import Geocoder
from wijkkompas.fetch.kaart_import import import_kaart
from wijkkompas.fetch.stage import run_fetch
from wijkkompas.kompas.stage import run_kompas
from wijkkompas.output.export import run_export
from wijkkompas.output.processed import load_processed
from wijkkompas.settings import Settings, load_settings, parse_years
from wijkkompas.storage import read_manifest, write_manifest
from wijkkompas.vlekkenkaart.stage import build_vlekkenkaart, locate_proposal, write_outputs
from wijkkompas.vlekkenkaart.toets import run_toets
from wijkkompas.vlekkenkaart.zorglocaties import read_config


class _DutchHelp(argparse.HelpFormatter):
    """argparse's help, with the usage line in Dutch."""

    def add_usage(self, usage: str | None, actions: object, groups: object,
                  prefix: str | None = None) -> None:
        prefix = "gebruik: " if prefix is None else prefix
        super().add_usage(usage, actions, groups, prefix)  # type: ignore[arg-type]


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors read like the rest of the command's messages."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"fout: {message} (zie '{self.prog} --help')\n")


def _dutch(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.formatter_class = _DutchHelp
    parser._positionals.title = "argumenten"
    parser._optionals.title = "opties"
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction):
            action.help = "toon deze hulp en stop"
    return parser


def _common(parser: argparse.ArgumentParser) -> None:
    _dutch(parser)
    parser.add_argument("--data-dir", type=Path, default=Path("data"),
                        help="map met raw/ en processed/ (standaard: data)")
    parser.add_argument("--config", type=Path, default=None,
                        help="TOML-configuratiebestand (standaard: wijkkompas.toml, als dat er is)")


def _fetch_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--gemeente", default=None,
                        help="CBS-gemeentecode, bijvoorbeeld GM0141 (standaard uit de config)")
    parser.add_argument("--jaren", default=None,
                        help="jaren, bijvoorbeeld 2017-2024 of 2021,2023 (standaard uit de config)")
    parser.add_argument("--refresh", action="store_true",
                        help="haal opnieuw op en meld wat er sinds de vorige versie veranderde")


def build_parser() -> argparse.ArgumentParser:
    parser = _dutch(_Parser(
        prog="wijkkompas",
        description="Wijkkompas en vlekkenkaart: CBS-kerncijfers per wijk en buurt.",
    ))
    parser.add_argument("--version", action="version", version=f"wijkkompas {__version__}",
                        help="toon het versienummer en stop")
    steps = parser.add_subparsers(dest="stap", metavar="stap", required=True,
                                  parser_class=_Parser)

    fetch = steps.add_parser("fetch", help="haal CBS-kerncijfers en PDOK-grenzen op naar data/raw")
    _common(fetch)
    _fetch_options(fetch)

    kaart = steps.add_parser(
        "import", help="importeer attribuutbestanden van de CBS wijk- en buurtkaart of de "
                       "buurtscores van de Leefbaarometer"
    )
    _common(kaart)
    kaart.add_argument("bestand", nargs="?", type=Path,
                       help="CSV, shapefile, GeoPackage of GeoJSON (zonder: de [[import]]-lijst "
                            "uit de config)")
    kaart.add_argument("--jaar", type=int, default=None,
                       help="jaar van de wijk- en buurtkaart; bij de Leefbaarometer het jaar "
                            "van de meting, dus van de buurtindeling (standaard: het laatste "
                            "jaar in het bestand)")
    kaart.add_argument("--bron", choices=("kaart", "leefbaarometer"), default="kaart",
                       help="kaart: CBS wijk- en buurtkaart (standaard); leefbaarometer: "
                            "'Leefbaarometer-scores buurten' (CSV) van leefbaarometer.nl")

    build = steps.add_parser("build", help="bouw de indicatortabel en het kompas in "
                             "data/processed")
    _common(build)
    _kompas_option(build)
    _build_options(build)

    export = steps.add_parser("export", help="losse HTML-bestanden voor dialoogsessies (offline)")
    _common(export)
    _kompas_option(export)
    _export_options(export)

    vlek = steps.add_parser("vlekkenkaart",
                            help="vlekkenkaart van zorglocaties; toets van een nieuwe locatie")
    _common(vlek)
    _kompas_option(vlek)
    vlek.add_argument("--zorglocaties", type=Path, default=None,
                      help="configuratie van categorieën en datasets (TOML)")
    vlek.add_argument("--toets", default=None,
                      help="voorgestelde locatie als RD-coördinaten x,y (meters)")
    vlek.add_argument("--adres", default=None, help="of als adres (PDOK Locatieserver)")
    vlek.add_argument("--categorie", default=None, help="categorie van de voorgestelde locatie")
    vlek.add_argument("--capaciteit", type=float, default=None, help="bedden of plaatsen")
    vlek.add_argument("--out", type=Path, default=None,
                      help="uitvoermap (standaard: DATA-DIR/processed/vlekkenkaart)")

    run = steps.add_parser("run", help="de hele jaarlijkse update: ophalen, bouwen, exporteren "
                           "en (als ingesteld) de vlekkenkaart")
    _common(run)
    _kompas_option(run)
    _fetch_options(run)
    _build_options(run)
    return parser


def _kompas_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--kompas", type=Path, default=None,
                        help="kompasdefinitie (TOML; standaard die van Almelo)")


def _vlekkenkaart(args: argparse.Namespace, settings: Settings) -> None:
    in_run = args.stap == "run"
    config_path = (None if in_run else args.zorglocaties) or settings.zorglocaties
    if config_path is None:
        if in_run:
            print("Vlekkenkaart overgeslagen: geen 'zorglocaties' in de configuratie.")
            return
        raise WijkkompasError(
            "Geef de configuratie van de zorglocaties met --zorglocaties BESTAND of "
            "'zorglocaties = ...' in wijkkompas.toml (voorbeeld: "
            "voorbeelden/zorglocaties.toml)."
        )
    processed = load_processed(args.data_dir, args.kompas or settings.kompas)
    config = read_config(config_path)
    geocoder = Geocoder(settings.locatieserver_url, args.data_dir / "raw",
                        timeout=settings.timeout, retries=settings.retries,
                        backoff=settings.backoff)
    vk = build_vlekkenkaart(processed, config, geocoder)
    for note in vk.locations.problems:
        print(f"let op: {note}")
    toets = None
    if not in_run and (args.toets or args.adres):
        if not args.categorie:
            raise WijkkompasError("Geef bij een toets de categorie, bijvoorbeeld "
                                  "--categorie beschermd_wonen.")
        x, y = locate_proposal(args.toets, args.adres, geocoder)
        toets = run_toets(processed, vk.located, config, x, y, args.categorie, args.capaciteit)
        print(toets.samenvatting)
    out = (None if in_run else args.out) or args.data_dir / "processed" / "vlekkenkaart"
    write_outputs(processed, vk, out, toets)


def _export_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--wijk", default=None,
                        help="alleen de pagina van deze wijk, bijvoorbeeld WK014115")
    parser.add_argument("--out", type=Path, default=None,
                        help="uitvoermap (standaard: DATA-DIR/processed/export)")


def _export(args: argparse.Namespace, settings: Settings) -> None:
    processed = load_processed(args.data_dir, args.kompas or settings.kompas)
    if processed.result.themes.empty:
        print(f"Geen kompasscores voor {processed.kompas.gemeente}: geen export.")
        return
    in_run = args.stap == "run"
    out = (None if in_run else args.out) or args.data_dir / "processed" / "export"
    run_export(processed, out, None if in_run else args.wijk)


def _build_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--lokaal", type=Path, default=None,
                        help="definities van lokale indicatoren (TOML), met hun bestanden")
    parser.add_argument("--indeling", type=int, default=None,
                        help="jaar van de buurtindeling waarnaar andere jaren worden omgerekend "
                             "(standaard: het laatste jaar met buurtgrenzen)")


def _build(args: argparse.Namespace, settings: Settings) -> None:
    lokaal = args.lokaal or settings.lokaal
    print(f"Bouwen uit {args.data_dir / 'raw'} naar {args.data_dir / 'processed'}")
    run_build(args.data_dir, lokaal, args.indeling or settings.indeling)
    run_kompas(args.data_dir, args.kompas or settings.kompas)


def _fetch(args: argparse.Namespace, settings: Settings) -> None:
    gemeente = args.gemeente or settings.gemeente
    years = parse_years(args.jaren or settings.jaren)
    raw = args.data_dir / "raw"
    print(f"Ophalen voor {gemeente}, jaren {years[0]}-{years[-1]}, naar {raw}")
    run_fetch(raw, settings, gemeente, years, refresh=args.refresh)


def _import_leefbaarometer(args: argparse.Namespace, settings: Settings) -> None:
    if args.bestand is None:
        raise WijkkompasError("Geef het Leefbaarometer-bestand op, bijvoorbeeld: wijkkompas "
                              "import 'Leefbaarometer-scores buurten 2002-2024.csv' --bron "
                              "leefbaarometer")
    raw = args.data_dir / "raw"
    manifest = read_manifest(raw)
    table, indeling = leefbaarometer.import_file(args.bestand, raw, manifest, settings.gemeente,
                                                 args.jaar)
    write_manifest(raw, manifest)
    years = sorted(table.frame["jaar"].unique())
    teken = "puntkomma" if table.separator == ";" else "komma"
    print(f"{args.bestand}: {len(table.frame)} buurtrijen (jaren {', '.join(map(str, years))}; "
          f"buurtindeling {indeling}; gescheiden door {teken}); {table.missing} lege waarden "
          "als ontbrekend gelezen.")


def _import(args: argparse.Namespace, settings: Settings) -> None:
    if args.bron == "leefbaarometer":
        _import_leefbaarometer(args, settings)
        return
    if args.bestand is not None:
        if args.jaar is None:
            raise WijkkompasError(
                "Geef bij een importbestand het jaar op, bijvoorbeeld --jaar 2021."
            )
        jobs = [(args.bestand, args.jaar)]
    else:
        jobs = [(spec.bestand, spec.jaar) for spec in settings.imports]
        if not jobs:
            raise WijkkompasError(
                "Geen bestand opgegeven en geen [[import]] in de configuratie. Gebruik: "
                "wijkkompas import BESTAND --jaar JJJJ"
            )
    raw = args.data_dir / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    manifest = read_manifest(raw)
    for path, jaar in jobs:
        table = import_kaart(path, jaar, raw, manifest)
        write_manifest(raw, manifest)
        missing = sum(table.missing_counts.values())
        print(f"{path}: {len(table.frame)} {table.niveau}en ({jaar}, kolommen: {table.stijl}); "
              f"{missing} ontbrekende waarden (geheim of niet beschikbaar) als leeg gelezen.")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``wijkkompas`` command; returns the exit code."""
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings(args.config)
        steps = {"fetch": [_fetch], "import": [_import], "build": [_build],
                 "export": [_export], "vlekkenkaart": [_vlekkenkaart],
                 "run": [_fetch, _build, _export, _vlekkenkaart]}
        for step in steps[args.stap]:
            step(args, settings)
    except WijkkompasError as exc:
        print(f"fout: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("afgebroken; de cache is niet gewijzigd.", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
