"""The command line: ``wijkkompas <stap> [opties]``. Messages are in Dutch."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from wijkkompas import __version__
from wijkkompas.build import run_build
from wijkkompas.errors import WijkkompasError
from wijkkompas.export import run_export
from wijkkompas.fetch import run_fetch
from wijkkompas.kaart_import import import_kaart
from wijkkompas.processed import load_processed
from wijkkompas.settings import Settings, load_settings, parse_years
from wijkkompas.storage import read_manifest, write_manifest


def _common(parser: argparse.ArgumentParser) -> None:
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
    parser = argparse.ArgumentParser(
        prog="wijkkompas",
        description="Wijkkompas en vlekkenkaart: CBS-kerncijfers per wijk en buurt.",
    )
    parser.add_argument("--version", action="version", version=f"wijkkompas {__version__}")
    steps = parser.add_subparsers(dest="stap", metavar="stap", required=True)

    fetch = steps.add_parser("fetch", help="haal CBS-kerncijfers en PDOK-grenzen op naar data/raw")
    _common(fetch)
    _fetch_options(fetch)

    kaart = steps.add_parser(
        "import", help="importeer attribuutbestanden van de CBS wijk- en buurtkaart"
    )
    _common(kaart)
    kaart.add_argument("bestand", nargs="?", type=Path,
                       help="CSV, shapefile, GeoPackage of GeoJSON (zonder: de [[import]]-lijst "
                            "uit de config)")
    kaart.add_argument("--jaar", type=int, default=None, help="jaar van de wijk- en buurtkaart")

    build = steps.add_parser("build", help="bouw de indicatortabel in data/processed")
    _common(build)
    _build_options(build)

    export = steps.add_parser("export", help="losse HTML-bestanden voor dialoogsessies (offline)")
    _common(export)
    _export_options(export)

    run = steps.add_parser("run", help="de hele jaarlijkse update: ophalen en alle latere stappen")
    _common(run)
    _fetch_options(run)
    _build_options(run)
    _export_options(run)
    return parser


def _export_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--wijk", default=None,
                        help="alleen de pagina van deze wijk, bijvoorbeeld WK014115")
    parser.add_argument("--out", type=Path, default=None,
                        help="uitvoermap (standaard: DATA-DIR/processed/export)")
    if not any(a.dest == "kompas" for a in parser._actions):
        parser.add_argument("--kompas", type=Path, default=None,
                            help="kompasdefinitie (TOML; standaard die van Almelo)")


def _export(args: argparse.Namespace, settings: Settings) -> None:
    processed = load_processed(args.data_dir, args.kompas or settings.kompas)
    if processed.result.themes.empty:
        print(f"Geen kompasscores voor {processed.kompas.gemeente}: geen export.")
        return
    out = args.out or args.data_dir / "processed" / "export"
    run_export(processed, out, args.wijk)


def _build_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--lokaal", type=Path, default=None,
                        help="definities van lokale indicatoren (TOML), met hun bestanden")
    parser.add_argument("--kompas", type=Path, default=None,
                        help="kompasdefinitie (TOML; standaard die van Almelo)")
    parser.add_argument("--indeling", type=int, default=None,
                        help="jaar van de buurtindeling waarnaar andere jaren worden omgerekend "
                             "(standaard: het laatste jaar met buurtgrenzen)")


def _build(args: argparse.Namespace, settings: Settings) -> None:
    lokaal = args.lokaal or settings.lokaal
    print(f"Bouwen uit {args.data_dir / 'raw'} naar {args.data_dir / 'processed'}")
    run_build(args.data_dir, lokaal, args.indeling or settings.indeling,
              kompas_path=args.kompas or settings.kompas)


def _fetch(args: argparse.Namespace, settings: Settings) -> None:
    gemeente = args.gemeente or settings.gemeente
    years = parse_years(args.jaren or settings.jaren)
    raw = args.data_dir / "raw"
    print(f"Ophalen voor {gemeente}, jaren {years[0]}-{years[-1]}, naar {raw}")
    run_fetch(raw, settings, gemeente, years, refresh=args.refresh)


def _import(args: argparse.Namespace, settings: Settings) -> None:
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
        if args.stap in ("fetch", "run"):
            _fetch(args, settings)
        if args.stap in ("build", "run"):
            _build(args, settings)
        if args.stap in ("export", "run"):
            _export(args, settings)
        elif args.stap == "import":
            _import(args, settings)
    except WijkkompasError as exc:
        print(f"fout: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("afgebroken; de cache is niet gewijzigd.", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
