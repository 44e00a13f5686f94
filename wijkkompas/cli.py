"""The command line: ``wijkkompas <stap> [opties]``. Messages are in Dutch."""

from __future__ import annotations

import argparse
import errno
import logging
import math
import re
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from wijkkompas import __version__
from wijkkompas.errors import WijkkompasError

# The stages import pandas, geopandas, folium, matplotlib, cbsodata, requests, pyarrow and
# pydantic. They are imported inside the command that needs them, so that --help, --version
# and usage errors start without them (tests/test_cli_startup.py).
if TYPE_CHECKING:
    from wijkkompas.settings import Settings


class _DutchHelp(argparse.HelpFormatter):
    """argparse's help, with the usage line in Dutch."""

    def add_usage(self, usage: str | None, actions: Iterable[argparse.Action],
                  groups: Iterable[Any], prefix: str | None = None) -> None:
        super().add_usage(usage, actions, groups, "gebruik: " if prefix is None else prefix)


class _Parser(argparse.ArgumentParser):
    """An argument parser whose help, groups and errors are all Dutch.

    Arguments go in :attr:`argumenten` or :attr:`opties`, two groups with Dutch titles;
    ``-h/--help`` is added here with a Dutch text. Errors about an argument come back as
    :class:`argparse.ArgumentError` (``exit_on_error=False``) and are told in Dutch.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _DutchHelp)
        super().__init__(*args, add_help=False, exit_on_error=False, **kwargs)
        self.argumenten = self.add_argument_group("argumenten")
        self.opties = self.add_argument_group("opties")
        self.opties.add_argument("-h", "--help", action="help", help="toon deze hulp en stop")

    def parse_known_args(self, args: Sequence[str] | None = None,  # type: ignore[override]
                         namespace: argparse.Namespace | None = None
                         ) -> tuple[argparse.Namespace, list[str]]:
        try:
            return super().parse_known_args(args, namespace)
        except argparse.ArgumentError as err:
            self._fail(_argument_error(err))

    def error(self, message: str) -> NoReturn:  # type: ignore[override]
        """argparse's own errors that come without an ArgumentError, told in Dutch."""
        for pattern, dutch in _ARGPARSE_ERRORS:
            if match := pattern.match(message):
                self._fail(dutch.format(*match.groups()))
        self._fail(f"ongeldige opdracht ({message})")

    def _fail(self, message: str) -> NoReturn:
        self.exit(2, f"fout: {message} (zie '{self.prog} --help')\n")


#: The errors argparse reports without an ArgumentError, in Dutch.
_ARGPARSE_ERRORS = [
    (re.compile(r"^the following arguments are required: (.*)$"), "dit ontbreekt: {}"),
    (re.compile(r"^unrecognized arguments: (.*)$"), "onbekende argumenten: {}"),
    (re.compile(r"^ambiguous option: (\S+) could match (.*)$"),
     "{} is niet eenduidig, bedoelt u een van {}?"),
]


def _argument_error(err: argparse.ArgumentError) -> str:
    """A Dutch line for what argparse found wrong with one argument."""
    name = err.argument_name or "de opdracht"
    if err.message.startswith("ongeldige waarde voor "):
        return err.message  # from one of the converters below
    if err.message.startswith("expected"):
        return f"{name} verwacht een waarde"
    if match := re.match(r"invalid choice: (.*) \(choose from (.*)\)$", err.message):
        return f"ongeldige keuze voor {name}: {match.group(1)} (kies uit {match.group(2)})"
    if err.message.startswith("ignored explicit argument"):
        return f"{name} neemt geen waarde"
    return f"ongeldig gebruik van {name}"


def _positive_number(option: str) -> Callable[[str], float]:
    """A converter for ``option`` that accepts only a finite number above zero."""

    def convert(text: str) -> float:
        try:
            value = float(text.replace(",", ".")) if text.strip() else math.nan
        except ValueError:
            value = math.nan
        if not (math.isfinite(value) and value > 0):
            raise argparse.ArgumentTypeError(
                f"ongeldige waarde voor {option}: {text!r} (geef een getal groter dan 0)")
        return value

    return convert


def _year(option: str) -> Callable[[str], int]:
    """A converter for ``option`` that accepts a year of four digits."""

    def convert(text: str) -> int:
        if not re.fullmatch(r"\d{4}", text.strip(), flags=re.ASCII):
            raise argparse.ArgumentTypeError(
                f"ongeldige waarde voor {option}: {text!r} (geef een jaartal, bijvoorbeeld 2021)")
        return int(text)

    return convert


def _workers(text: str) -> int:
    """The value of ``--werkers``: a whole number of 1 or more."""
    if not re.fullmatch(r"\s*\d+\s*", text, flags=re.ASCII) or int(text) < 1:
        raise argparse.ArgumentTypeError(
            f"ongeldige waarde voor --werkers: {text!r} (geef een geheel getal van 1 of meer, "
            "bijvoorbeeld 2)")
    return int(text)


def _wijk_code(text: str) -> str:
    """The value of ``--wijk``: a wijk code, WK and six digits."""
    code = text.strip().upper()
    if not re.fullmatch(r"WK\d{6}", code, flags=re.ASCII):
        raise argparse.ArgumentTypeError(
            f"ongeldige waarde voor --wijk: {text!r} (geef een wijkcode: WK en zes cijfers, "
            "bijvoorbeeld WK014115)")
    return code


def _common(parser: _Parser) -> None:
    parser.opties.add_argument("--data-dir", type=Path, metavar="MAP", default=Path("data"),
                               help="map met raw/ en processed/ (standaard: data)")
    parser.opties.add_argument("--config", type=Path, metavar="BESTAND", default=None,
                               help="TOML-configuratiebestand (standaard: wijkkompas.toml, als "
                                    "dat er is)")
    parser.opties.add_argument("--uitgebreid", action="store_true",
                               help="bij een fout ook wat een bibliotheek erover zei "
                                    "(standaard: één regel in het Nederlands)")


def _gemeente_option(parser: _Parser) -> None:
    parser.opties.add_argument(
        "--gemeente", default=None, metavar="CODE",
        help="CBS-gemeentecode, bijvoorbeeld GM0141, of meer codes met komma's: "
             "GM0141,GM0153 (standaard uit de config, anders GM0141)")


def _fetch_options(parser: _Parser) -> None:
    add = parser.opties.add_argument
    add("--jaren", default=None, metavar="JAREN",
        help="jaren, bijvoorbeeld 2015-2024 of 2021,2023 (standaard uit de config, anders vanaf "
             "het basisjaar van het kompas tot en met 2024)")
    add("--refresh", action="store_true",
        help="haal opnieuw op en meld wat er sinds de vorige versie veranderde")
    add("--landelijk", action="store_true",
        help="haal ook de wijken van heel Nederland op (in hetzelfde verzoek per tabel), "
             "voor de vergelijkbare wijken (instelling vergelijk_landelijk)")


def build_parser() -> _Parser:
    parser = _Parser(
        prog="wijkkompas",
        description="Wijkkompas en vlekkenkaart: CBS-kerncijfers per wijk en buurt.",
    )
    parser.opties.add_argument("--version", action="version",
                               version=f"wijkkompas {__version__}",
                               help="toon het versienummer en stop")
    steps = parser.add_subparsers(title="stappen", dest="stap", metavar="stap", required=True,
                                  parser_class=_Parser)

    fetch = steps.add_parser("fetch", help="haal CBS-kerncijfers en PDOK-grenzen op naar data/raw")
    _common(fetch)
    _gemeente_option(fetch)
    _fetch_options(fetch)

    kaart = steps.add_parser(
        "import", help="importeer attribuutbestanden van de CBS wijk- en buurtkaart of de "
                       "buurtscores van de Leefbaarometer"
    )
    _common(kaart)
    kaart.argumenten.add_argument(
        "bestand", nargs="?", type=Path,
        help="CSV, shapefile, GeoPackage of GeoJSON (zonder: de [[import]]-lijst uit de config)")
    kaart.opties.add_argument("--jaar", type=_year("--jaar"), metavar="JAAR", default=None,
                              help="jaar van de wijk- en buurtkaart; bij de Leefbaarometer het "
                                   "jaar van de meting, dus van de buurtindeling (standaard: het "
                                   "laatste jaar in het bestand)")
    kaart.opties.add_argument("--vervang", action="store_true",
                              help="vervang de eerder geïmporteerde bestanden van hetzelfde jaar, "
                                   "dezelfde gemeente en hetzelfde niveau (wijken of buurten)")
    kaart.opties.add_argument("--bron", choices=("kaart", "leefbaarometer"), default="kaart",
                              help="kaart: CBS wijk- en buurtkaart (standaard); leefbaarometer: "
                                   "'Leefbaarometer-scores buurten' (CSV) van leefbaarometer.nl")

    build = steps.add_parser("build", help="bouw de indicatortabel en het kompas in "
                             "data/processed")
    _common(build)
    _gemeente_option(build)
    _kompas_option(build)
    _build_options(build)

    export = steps.add_parser("export", help="losse HTML-bestanden voor dialoogsessies (offline)")
    _common(export)
    _gemeente_option(export)
    _kompas_option(export)
    _export_options(export)

    vlek = steps.add_parser("vlekkenkaart",
                            help="vlekkenkaart van zorglocaties; toets van een nieuwe locatie")
    _common(vlek)
    _gemeente_option(vlek)
    vlek.opties.add_argument("--zorglocaties", type=Path, metavar="BESTAND", default=None,
                             help="configuratie van categorieën en datasets (TOML)")
    vlek.opties.add_argument("--toets", default=None, metavar="X,Y",
                             help="voorgestelde locatie als RD-coördinaten x,y (meters)")
    vlek.opties.add_argument("--adres", default=None, help="of als adres (PDOK Locatieserver)")
    vlek.opties.add_argument("--categorie", default=None,
                             help="categorie van de voorgestelde locatie")
    vlek.opties.add_argument("--capaciteit", type=_positive_number("--capaciteit"),
                             metavar="AANTAL", default=None,
                             help="bedden of plaatsen (een getal groter dan 0)")
    vlek.opties.add_argument("--out", type=Path, metavar="MAP", default=None,
                             help="uitvoermap (standaard: DATA-DIR/processed/vlekkenkaart)")

    run = steps.add_parser("run", help="de hele jaarlijkse update: ophalen, bouwen, exporteren "
                           "en (als ingesteld) de vlekkenkaart")
    _common(run)
    _gemeente_option(run)
    _kompas_option(run)
    _fetch_options(run)
    _build_options(run)
    run.opties.add_argument("--zonder-ophalen", action="store_true",
                            help="sla het ophalen over: bouw en exporteer uit wat al in "
                                 "DATA-DIR/raw staat (geïmporteerd of eerder opgehaald)")
    return parser


def _kompas_option(parser: _Parser) -> None:
    parser.opties.add_argument("--kompas", type=Path, metavar="BESTAND", default=None,
                               help="kompasdefinitie (TOML; standaard de basis-set, voor GM0141 "
                                    "die van Almelo)")


def _vlekkenkaart(args: argparse.Namespace, settings: Settings) -> None:
    from wijkkompas import pipeline

    pipeline.vlekkenkaart(args.data_dir, settings, config=args.zorglocaties, out=args.out,
                          toets=args.toets, adres=args.adres, categorie=args.categorie,
                          capaciteit=args.capaciteit)


def _export_options(parser: _Parser) -> None:
    parser.opties.add_argument("--wijk", default=None, metavar="WIJKCODE", type=_wijk_code,
                               help="alleen de pagina van deze wijk, bijvoorbeeld WK014115 "
                                    "(van de gemeente waarin de wijk ligt)")
    parser.opties.add_argument("--out", type=Path, metavar="MAP", default=None,
                               help="uitvoermap (standaard: DATA-DIR/processed/export)")
    parser.opties.add_argument("--werkers", type=_workers, metavar="N", default=None,
                               help="aantal processen dat tegelijk pagina's maakt (standaard: "
                                    "één per processorkern)")


def _export(args: argparse.Namespace, settings: Settings) -> None:
    from wijkkompas import pipeline

    pipeline.export(args.data_dir, settings, kompas=args.kompas, out=args.out, wijk=args.wijk,
                    werkers=args.werkers)


def _build_options(parser: _Parser) -> None:
    add = parser.opties.add_argument
    add("--lokaal", type=Path, metavar="BESTAND", default=None,
        help="definities van lokale indicatoren (TOML), met hun bestanden")
    add("--indeling", type=_year("--indeling"), metavar="JAAR", default=None,
        help="jaar van de buurtindeling waarnaar andere jaren worden omgerekend "
             "(standaard: het laatste jaar met buurtgrenzen)")
    add("--gewichten", type=Path, metavar="BESTAND", default=None,
        help="adressen met woonfunctie (BAG) of 100m-raster met inwoners (CBS) "
             "om buurtcijfers naar de nieuwe indeling om te rekenen")
    add("--csv", action="store_true",
        help="schrijf de indicatortabel en de kompasscores ook als CSV (indicatoren.csv, "
             "kompas_scores.csv, kompas_indicatorscores.csv; voor Excel, landelijk samen "
             "ruim 1,6 GB); standaard alleen Parquet")


def _build(args: argparse.Namespace, settings: Settings) -> None:
    from wijkkompas import pipeline

    pipeline.build(args.data_dir, settings, kompas=args.kompas, lokaal=args.lokaal,
                   indeling=args.indeling, gewichten=args.gewichten, csv=args.csv)


def _fetch(args: argparse.Namespace, settings: Settings) -> None:
    from wijkkompas import pipeline

    years = pipeline.fetch_years(settings, args.jaren)
    if args.landelijk:
        settings = settings.changed(vergelijk_landelijk=True)
    pipeline.fetch(args.data_dir, settings, years, refresh=args.refresh)


def _run(args: argparse.Namespace, settings: Settings) -> int:
    """``wijkkompas run``; the exit code says whether everything could be fetched."""
    from wijkkompas import pipeline

    if args.landelijk and args.zonder_ophalen:
        raise WijkkompasError("--landelijk gaat over het ophalen, en --zonder-ophalen haalt "
                              "niets op. Laat een van beide weg.")
    if args.landelijk:
        settings = settings.changed(vergelijk_landelijk=True)
    options = pipeline.RunOptions(
        data_dir=args.data_dir, jaren=args.jaren, refresh=args.refresh,
        zonder_ophalen=args.zonder_ophalen, kompas=args.kompas, lokaal=args.lokaal,
        indeling=args.indeling, gewichten=args.gewichten, csv=args.csv)
    result = pipeline.run(options, settings)
    for line in result.summary():
        print(line)
    return pipeline.EXIT_INCOMPLETE if result.missing else 0


def _import_leefbaarometer(args: argparse.Namespace, settings: Settings) -> None:
    from wijkkompas.fetch import leefbaarometer
    from wijkkompas.manifest import read_manifest

    if args.bestand is None:
        raise WijkkompasError("Geef het Leefbaarometer-bestand op, bijvoorbeeld: wijkkompas "
                              "import 'Leefbaarometer-scores buurten 2002-2024.csv' --bron "
                              "leefbaarometer")
    raw = args.data_dir / "raw"
    manifest = read_manifest(raw)
    table, indeling = leefbaarometer.import_file(args.bestand, raw, manifest, settings.gemeente,
                                                 args.jaar)
    years = sorted(table.frame["jaar"].unique())
    teken = "puntkomma" if table.separator == ";" else "komma"
    print(f"{args.bestand}: {len(table.frame)} buurtrijen (jaren {', '.join(map(str, years))}; "
          f"buurtindeling {indeling}; gescheiden door {teken}); {table.missing} lege waarden "
          "als ontbrekend gelezen.")


def _import(args: argparse.Namespace, settings: Settings) -> None:
    from wijkkompas.fetch.kaart_import import import_all

    if args.bron == "leefbaarometer":
        _import_leefbaarometer(args, settings)
        return
    if args.bestand is not None:
        if args.jaar is None:
            raise WijkkompasError(
                "Geef bij een importbestand het jaar op, bijvoorbeeld --jaar 2021."
            )
        # A pair, not an ImportSpec: import_all checks the year with a line naming the file.
        specs: list[Any] = [(args.bestand, args.jaar)]
    else:
        specs = list(settings.imports)
        if not specs:
            raise WijkkompasError(
                "Geen bestand opgegeven en geen [[import]] in de configuratie. Gebruik: "
                "wijkkompas import BESTAND --jaar JJJJ"
            )
    import_all(specs, args.data_dir / "raw", replace=args.vervang)


_OS_REASONS = {
    errno.EACCES: "geen toegang",
    errno.EPERM: "niet toegestaan",
    errno.ENOENT: "bestaat niet of kan daar niet worden gemaakt",
    errno.ENOTDIR: "een deel van het pad is een bestand, geen map",
    errno.EISDIR: "is een map, geen bestand",
    errno.EEXIST: "bestaat al als bestand, waar een map nodig is",
    errno.ENOSPC: "de schijf is vol",
    errno.EDQUOT: "het schijfquotum is vol",
    errno.EROFS: "alleen-lezen bestandssysteem",
    errno.ENAMETOOLONG: "de naam is te lang",
    errno.EIO: "lees- of schrijffout",
}


def _os_error_line(exc: OSError) -> str:
    """An OSError as one Dutch line naming the path."""
    path = exc.filename if exc.filename is not None else exc.filename2
    code = errno.errorcode.get(exc.errno or 0, "onbekend")
    reason = _OS_REASONS.get(exc.errno or 0, f"systeemfout {code}")
    where = f"{path}: " if path is not None else ""
    return (f"{where}{reason} ({code}). Controleer het pad (--data-dir, --out), de rechten en "
            "de vrije schijfruimte; er is niets half geschreven.")


def _say_error(line: str, detail: str, verbose: bool) -> None:
    """The one error line; with ``--uitgebreid`` also what a library said."""
    print(f"fout: {' '.join(line.split())}", file=sys.stderr)
    if verbose and detail:
        print(f"details: {' '.join(detail.split())}", file=sys.stderr)


class _OwnMessages(logging.Handler):
    """Shows wijkkompas's own log messages (Dutch) on stderr and nothing from libraries."""

    def emit(self, record: logging.LogRecord) -> None:
        if record.name == "wijkkompas" or record.name.startswith("wijkkompas."):
            print(f"let op: {record.getMessage()}", file=sys.stderr)


def _configure_logging() -> None:
    """No English lines from libraries (pyogrio, urllib3, cbsodata, warnings) under the
    Dutch messages; a root handler also keeps cbsodata from configuring logging itself."""
    root = logging.getLogger()
    if not any(isinstance(h, _OwnMessages) for h in root.handlers):
        root.addHandler(_OwnMessages())
    logging.captureWarnings(True)


def _gemeente_of_wijk(args: argparse.Namespace, settings: Settings) -> Settings:
    """With ``export --wijk``, the gemeente is the one the wijk lies in; a ``--gemeente``
    that does not hold it is refused."""
    wijk = getattr(args, "wijk", None)
    if args.stap != "export" or wijk is None:
        return settings
    own = "GM" + wijk[2:6]
    if getattr(args, "gemeente", None) and own not in settings.gemeenten:
        raise WijkkompasError(
            f"Wijk {wijk} ligt in gemeente {own}, niet in {', '.join(settings.gemeenten)}. "
            f"Laat --gemeente weg of geef --gemeente {own}.")
    return settings.changed(gemeenten=(own,), gemeente=own)


def _check_inputs(args: argparse.Namespace, settings: Settings) -> None:
    """Refuse bad definitions and a missing data folder before anything is locked or written."""
    from wijkkompas.kompas.definition import for_gemeente, load_kompas

    stap = args.stap
    if stap in ("build", "run", "export"):  # the vlekkenkaart reads no kompas file
        for gemeente in settings.gemeenten:
            for_gemeente(load_kompas(args.kompas or settings.kompas, gemeente), gemeente)
    if stap == "vlekkenkaart":
        # Only here: the vlekkenkaart's configuration brings geocoding (requests) along,
        # which the other commands do not need.
        from wijkkompas.vlekkenkaart.zorglocaties import read_config

        config = args.zorglocaties or settings.zorglocaties
        if config is not None:
            read_config(config)
    if stap in ("build", "export", "vlekkenkaart") and not Path(args.data_dir).is_dir():
        raise WijkkompasError(
            f"De datamap {args.data_dir} bestaat niet. Haal eerst gegevens op (wijkkompas "
            "fetch) of importeer ze (wijkkompas import), of geef de juiste --data-dir."
        )


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``wijkkompas`` command; returns the exit code."""
    args = build_parser().parse_args(argv)
    _configure_logging()
    try:
        # Inside the try: a Ctrl-C while pandas and the others are still importing is
        # the same one line as a Ctrl-C later on.
        from wijkkompas.settings import load_settings, parse_gemeenten
        from wijkkompas.storage import clean_leftovers, data_lock

        settings = load_settings(args.config)
        if getattr(args, "gemeente", None):
            codes = tuple(parse_gemeenten(args.gemeente))
            settings = settings.changed(gemeenten=codes, gemeente=codes[0])
        settings = _gemeente_of_wijk(args, settings)
        steps = {"fetch": _fetch, "import": _import, "build": _build, "export": _export,
                 "vlekkenkaart": _vlekkenkaart, "run": _run}
        _check_inputs(args, settings)
        # Every command writes: one run per data folder at a time.
        with data_lock(args.data_dir, settings.wachttijd):
            clean_leftovers(args.data_dir)
            code = steps[args.stap](args, settings) or 0
    except WijkkompasError as exc:
        _say_error(str(exc), exc.detail, getattr(args, "uitgebreid", False))
        return 1
    except OSError as exc:
        _say_error(_os_error_line(exc), "", getattr(args, "uitgebreid", False))
        return 1
    except KeyboardInterrupt:
        print("afgebroken; er is niets half geschreven: wat hierboven als opgehaald, "
              "geïmporteerd of geschreven is gemeld blijft staan, de rest is niet gewijzigd. "
              "Draai dezelfde opdracht opnieuw om verder te gaan.", file=sys.stderr)
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
