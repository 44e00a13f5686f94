"""Settings: endpoints, gemeente, years and network behaviour.

Values come, in rising priority, from the built-in defaults, a TOML config file
(``wijkkompas.toml`` in the working directory, or the path given with ``--config`` or
``WIJKKOMPAS_CONFIG``) and the environment variables ``WIJKKOMPAS_CBS_URL``,
``WIJKKOMPAS_POLITIE_URL``, ``WIJKKOMPAS_PDOK_URL``, ``WIJKKOMPAS_LOCATIESERVER_URL``,
``WIJKKOMPAS_TIMEOUT``, ``WIJKKOMPAS_RETRIES``, ``WIJKKOMPAS_BACKOFF``,
``WIJKKOMPAS_MAX_PAGINAS``, ``WIJKKOMPAS_MAX_MB`` and ``WIJKKOMPAS_WACHTTIJD`` (seconds a
run waits for another run on the same data folder).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Annotated, ClassVar

from pydantic import AfterValidator, AnyHttpUrl, Field, TypeAdapter, ValidationError

from wijkkompas.errors import WijkkompasError
from wijkkompas.schema import Schema, problem_line
from wijkkompas.tomlfile import read_toml_schema

DEFAULT_CBS_URL = "https://opendata.cbs.nl"
#: CBS's catalogue of tables published for others ("dataderden"), among them the Politie's.
DEFAULT_POLITIE_URL = "https://dataderden.cbs.nl"
DEFAULT_PDOK_URL = "https://api.pdok.nl"
DEFAULT_PDOK_PATH = "cbs/wijken-en-buurten-{jaar}/ogc/v1"
DEFAULT_PDOK_HISTORISCH_PATH = "cbs/wijken-en-buurten-historisch/ogc/v1"
DEFAULT_LOCATIESERVER_URL = "https://api.pdok.nl/bzk/locatieserver/search/v3_1"
DEFAULT_GEMEENTE = "GM0141"
#: The years fetched when neither --jaren nor the config names them: from the kompas's
#: ``basisjaar`` (its frame year) up to and including this year.
DEFAULT_LAATSTE_JAAR = 2024
#: PDOK's CBS Gebiedsindelingen (generalised boundaries of every year from 2016; 1995-2015
#: in the historical service): the route for years outside ``grenzen_jaren``.
DEFAULT_PDOK_GEBIEDSINDELINGEN_PATH = "cbs/gebiedsindelingen/ogc/v1"
DEFAULT_PDOK_GEBIEDSINDELINGEN_HISTORISCH_PATH = "cbs/gebiedsindelingen-historisch/ogc/v1"
#: PDOK serves the wijk- en buurtkaart as a year-specific OGC API from 2023 on.
DEFAULT_GRENZEN_JAREN = "2023-2030"
CONFIG_NAME = "wijkkompas.toml"

_GEMEENTE_RE = re.compile(r"^GM\d{4}$", re.ASCII)


@dataclass(frozen=True)
class ImportSpec:
    """A wijk- en buurtkaart attribute file to import, as listed in the config file."""

    bestand: Path
    jaar: int


@dataclass(frozen=True)
class Settings:
    cbs_url: str = DEFAULT_CBS_URL
    politie_url: str = DEFAULT_POLITIE_URL
    pdok_url: str = DEFAULT_PDOK_URL
    pdok_pad: str = DEFAULT_PDOK_PATH
    pdok_historisch_pad: str = DEFAULT_PDOK_HISTORISCH_PATH
    pdok_gebiedsindelingen_pad: str = DEFAULT_PDOK_GEBIEDSINDELINGEN_PATH
    pdok_gebiedsindelingen_historisch_pad: str = DEFAULT_PDOK_GEBIEDSINDELINGEN_HISTORISCH_PATH
    locatieserver_url: str = DEFAULT_LOCATIESERVER_URL
    #: The first of ``gemeenten``; kept for the steps that handle one gemeente.
    gemeente: str = DEFAULT_GEMEENTE
    #: Every gemeente fetched, built, scored and exported (config: ``gemeenten`` or
    #: ``gemeente``, which may also list several separated by commas).
    gemeenten: tuple[str, ...] = (DEFAULT_GEMEENTE,)
    #: "" (the default): from the kompas's basisjaar to DEFAULT_LAATSTE_JAAR (default_years).
    jaren: str = ""
    grenzen_jaren: str = DEFAULT_GRENZEN_JAREN
    timeout: float = 60.0
    retries: int = 3
    backoff: float = 2.0
    wachttijd: float = 10.0
    #: Limits per fetch (one CBS table, one PDOK layer): pages and megabytes received.
    max_paginas: int = 10000
    max_mb: float = 2000.0
    #: Also fetch the wijk (and gemeente) rows of the whole country, in the same request
    #: per KWB table, for the vergelijkbare wijken (``fetch --landelijk``).
    vergelijk_landelijk: bool = False
    lokaal: Path | None = None
    kompas: Path | None = None
    zorglocaties: Path | None = None
    indeling: int | None = None
    herindeling_gewichten: Path | None = None
    imports: tuple[ImportSpec, ...] = field(default_factory=tuple)


_HTTP_URL = TypeAdapter(AnyHttpUrl)


def _http_url(text: str) -> str:
    """The text when it is an http(s) address with a host (pydantic's URL check); the text
    itself is kept, not pydantic's normalised form."""
    try:
        _HTTP_URL.validate_python(text)
    except ValidationError:
        raise ValueError(f"{text!r} is geen geldig http(s)-adres; geef bijvoorbeeld "
                         "https://opendata.cbs.nl") from None
    return text


Url = Annotated[str, Field(min_length=1), AfterValidator(_http_url)]
#: The limits of the network and waiting settings: beyond them a value is a typo, and
#: a wait such as 1e308 seconds cannot even be slept (OverflowError).
MAX_TIMEOUT = 3600.0
MAX_RETRIES = 10
MAX_BACKOFF = 300.0
MAX_WACHTTIJD = 86400.0


class ImportSchema(Schema):
    """One ``[[import]]`` entry of the config file."""

    bestand: Annotated[str, Field(min_length=1)]
    jaar: Annotated[int, Field(ge=1990, le=2100)]


class ConfigSchema(Schema):
    """The config file ``wijkkompas.toml``. A new setting is a field here and in
    :class:`Settings` (and, if it may come from the environment, a line in ``_ENV_KEYS``)."""

    woord: ClassVar[tuple[str, str]] = ("instelling", "instellingen")

    cbs_url: Url | None = None
    politie_url: Url | None = None
    pdok_url: Url | None = None
    pdok_pad: Annotated[str, Field(min_length=1)] | None = None
    #: "" switches the historical service off.
    pdok_historisch_pad: str | None = None
    #: "" switches the route off.
    pdok_gebiedsindelingen_pad: str | None = None
    pdok_gebiedsindelingen_historisch_pad: str | None = None
    locatieserver_url: Url | None = None
    gemeente: str | None = None
    gemeenten: Annotated[list[str], Field(min_length=1)] | None = None
    jaren: str | None = None
    grenzen_jaren: str | None = None
    timeout: Annotated[float, Field(gt=0, le=MAX_TIMEOUT)] | None = None
    retries: Annotated[int, Field(ge=0, le=MAX_RETRIES)] | None = None
    backoff: Annotated[float, Field(ge=0, le=MAX_BACKOFF)] | None = None
    wachttijd: Annotated[float, Field(ge=0, le=MAX_WACHTTIJD)] | None = None
    max_paginas: Annotated[int, Field(gt=0)] | None = None
    max_mb: Annotated[float, Field(gt=0)] | None = None
    vergelijk_landelijk: bool | None = None
    lokaal: Annotated[str, Field(min_length=1)] | None = None
    kompas: Annotated[str, Field(min_length=1)] | None = None
    zorglocaties: Annotated[str, Field(min_length=1)] | None = None
    indeling: Annotated[int, Field(ge=1990, le=2100)] | None = None
    herindeling_gewichten: Annotated[str, Field(min_length=1)] | None = None
    imports: list[ImportSchema] | None = Field(None, alias="import")


#: Settings that are paths to files, relative to the config file when not absolute.
_PATH_KEYS = ("lokaal", "kompas", "zorglocaties", "herindeling_gewichten")
_ENV_KEYS = {
    "WIJKKOMPAS_CBS_URL": "cbs_url",
    "WIJKKOMPAS_POLITIE_URL": "politie_url",
    "WIJKKOMPAS_PDOK_URL": "pdok_url",
    "WIJKKOMPAS_LOCATIESERVER_URL": "locatieserver_url",
    "WIJKKOMPAS_TIMEOUT": "timeout",
    "WIJKKOMPAS_RETRIES": "retries",
    "WIJKKOMPAS_BACKOFF": "backoff",
    "WIJKKOMPAS_WACHTTIJD": "wachttijd",
    "WIJKKOMPAS_MAX_PAGINAS": "max_paginas",
    "WIJKKOMPAS_MAX_MB": "max_mb",
    "WIJKKOMPAS_VERGELIJK_LANDELIJK": "vergelijk_landelijk",
}


def _from_env(name: str, text: str) -> object:
    """One environment variable, read as its setting's type (a number from its text)."""
    key = _ENV_KEYS[name]
    try:
        return getattr(ConfigSchema.model_validate({key: text}, strict=False), key)
    except ValidationError as exc:
        problem = problem_line(ConfigSchema, exc.errors()[0])
        raise WijkkompasError(f"omgevingsvariabele {name}: {problem}.") from None


def _read_config(path: Path) -> dict[str, object]:
    spec = read_toml_schema(path, ConfigSchema, "configuratiebestand")
    values: dict[str, object] = spec.model_dump(exclude_none=True, exclude={"imports"})
    for key in _PATH_KEYS:
        if key in values:
            values[key] = _relative(Path(str(values[key])), path)
    if spec.imports is not None:
        values["imports"] = tuple(ImportSpec(_relative(Path(item.bestand), path), item.jaar)
                                  for item in spec.imports)
    return values


def _relative(target: Path, config: Path) -> Path:
    return target if target.is_absolute() else config.parent / target


def load_settings(config: Path | None = None, env: dict[str, str] | None = None) -> Settings:
    """Build the settings from defaults, the config file and the environment."""
    env = dict(os.environ) if env is None else env
    if config is None and env.get("WIJKKOMPAS_CONFIG"):
        config = Path(env["WIJKKOMPAS_CONFIG"])
    if config is None and Path(CONFIG_NAME).is_file():
        config = Path(CONFIG_NAME)
    values: dict[str, object] = _read_config(config) if config is not None else {}
    for name, key in _ENV_KEYS.items():
        if env.get(name):
            values[key] = _from_env(name, env[name])
    if "gemeenten" in values and "gemeente" in values:
        raise WijkkompasError(f"{config}: geef 'gemeente' of 'gemeenten', niet allebei.")
    codes = parse_gemeenten(values.pop("gemeenten", None) or values.get("gemeente")
                            or DEFAULT_GEMEENTE)
    values["gemeenten"], values["gemeente"] = tuple(codes), codes[0]
    return replace(Settings(), **values)


def parse_gemeenten(text: str | list[str] | tuple[str, ...]) -> list[str]:
    """'GM0141,GM0153' (or a list of codes) as a list of checked codes, without repeats."""
    parts = text.split(",") if isinstance(text, str) else list(text)
    codes: list[str] = []
    for part in parts:
        code = check_gemeente(part.strip() if isinstance(part, str) else str(part))
        if code not in codes:
            codes.append(code)
    if not codes:
        raise WijkkompasError("Geen gemeentecode gegeven; bijvoorbeeld GM0141 voor Almelo.")
    return codes


def check_gemeente(code: str) -> str:
    """Return the code if it has CBS's form GM plus four digits, else raise a clear error."""
    if not isinstance(code, str) or not _GEMEENTE_RE.match(code):
        raise WijkkompasError(
            f"Ongeldige gemeentecode '{code}': een CBS-gemeentecode is GM met vier cijfers, "
            "bijvoorbeeld GM0141 voor Almelo."
        )
    return code


def default_years(basisjaar: int) -> list[int]:
    """The years fetched by default: from the kompas's ``basisjaar`` (the frame year, so
    that "100 = the gemeente in <basisjaar>" holds whenever CBS has that year) to
    DEFAULT_LAATSTE_JAAR."""
    return list(range(min(basisjaar, DEFAULT_LAATSTE_JAAR), DEFAULT_LAATSTE_JAAR + 1))


def parse_years(text: str) -> list[int]:
    """Parse '2017-2024', '2021,2023' or '2024' into a sorted list of years."""
    years: set[int] = set()
    for part in str(text).replace(" ", "").split(","):
        match = re.fullmatch(r"(\d{4})(?:-(\d{4}))?", part, flags=re.ASCII)
        if not match:
            raise WijkkompasError(
                f"Ongeldige jaren '{text}': gebruik bijvoorbeeld 2017-2024, 2021,2023 of 2024."
            )
        first = int(match.group(1))
        last = int(match.group(2) or first)
        if last < first:
            raise WijkkompasError(f"Ongeldige jaren '{text}': {last} ligt voor {first}.")
        years.update(range(first, last + 1))
    return sorted(years)
