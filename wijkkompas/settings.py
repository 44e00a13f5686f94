"""Settings: endpoints, gemeente, years and network behaviour.

Values come, in rising priority, from the built-in defaults, a TOML config file
(``wijkkompas.toml`` in the working directory, or the path given with ``--config`` or
``WIJKKOMPAS_CONFIG``) and the environment variables ``WIJKKOMPAS_<SETTING>`` listed in
``_ENV_KEYS`` (the web addresses, the network settings, ``wachttijd``, the fetch limits and
``vergelijk_landelijk``). :class:`Settings` is the pydantic model of the config file and the
settings object itself.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated, ClassVar

from pydantic import (
    AfterValidator,
    AnyHttpUrl,
    BeforeValidator,
    Field,
    TypeAdapter,
    ValidationError,
)
from pydantic_core import PydanticCustomError

from wijkkompas.errors import WijkkompasError
from wijkkompas.schema import Schema, parse_schema, problem_line
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
#: Seconds a command waits for the lock of a data folder that another one holds (the
#: setting ``wachttijd``; inside the package every such wait is called ``timeout``).
LOCK_TIMEOUT = 10.0

_GEMEENTE_RE = re.compile(r"^GM\d{4}$", re.ASCII)


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


def _as_path(value: object) -> object:
    """A path from the config file is a text; an empty text names no file."""
    if isinstance(value, str):
        if not value:
            raise PydanticCustomError("string_too_short", "empty path")
        return Path(value)
    return value


def _as_tuple(value: object) -> object:
    """A TOML list kept as a tuple, so that the settings stay hashable."""
    return tuple(value) if isinstance(value, list) else value


Url = Annotated[str, Field(min_length=1), AfterValidator(_http_url)]
Text = Annotated[str, Field(min_length=1)]
FilePath = Annotated[Path, BeforeValidator(_as_path)]
Year = Annotated[int, Field(ge=1990, le=2100)]
#: The limits of the network and waiting settings: beyond them a value is a typo, and
#: a wait such as 1e308 seconds cannot even be slept (OverflowError).
MAX_TIMEOUT = 3600.0
MAX_RETRIES = 10
MAX_BACKOFF = 300.0
MAX_WACHTTIJD = 86400.0


class ImportSpec(Schema):
    """A wijk- en buurtkaart attribute file to import: one ``[[import]]`` entry of the
    config file, or the file and ``--jaar`` of ``wijkkompas import``."""

    bestand: FilePath
    jaar: Year


class Settings(Schema):
    """The settings: each key of the config file ``wijkkompas.toml`` a field, with its
    check and its default. A new setting is a field here, a line in README.md
    ("Instellingen"; tests/test_settings.py checks it) and, if it may come from the
    environment, a line in ``_ENV_KEYS``.

    The model is frozen; :meth:`changed` gives a copy with other values, checked."""

    woord: ClassVar[tuple[str, str]] = ("instelling", "instellingen")
    documented_in: ClassVar[str] = "README.md, onder 'Instellingen'"

    cbs_url: Url = DEFAULT_CBS_URL
    politie_url: Url = DEFAULT_POLITIE_URL
    pdok_url: Url = DEFAULT_PDOK_URL
    pdok_pad: Text = DEFAULT_PDOK_PATH
    #: "" switches the historical service off.
    pdok_historisch_pad: str = DEFAULT_PDOK_HISTORISCH_PATH
    #: "" switches the route off.
    pdok_gebiedsindelingen_pad: str = DEFAULT_PDOK_GEBIEDSINDELINGEN_PATH
    pdok_gebiedsindelingen_historisch_pad: str = DEFAULT_PDOK_GEBIEDSINDELINGEN_HISTORISCH_PATH
    locatieserver_url: Url = DEFAULT_LOCATIESERVER_URL
    #: The first of ``gemeenten``; kept for the steps that handle one gemeente. In the
    #: config file it may list several codes separated by commas (see load_settings).
    gemeente: str = DEFAULT_GEMEENTE
    #: Every gemeente fetched, built, scored and exported (config: ``gemeenten`` or
    #: ``gemeente``).
    gemeenten: Annotated[tuple[str, ...], BeforeValidator(_as_tuple),
                         Field(min_length=1)] = (DEFAULT_GEMEENTE,)
    #: "" (the default): from the kompas's basisjaar to DEFAULT_LAATSTE_JAAR (default_years).
    jaren: str = ""
    grenzen_jaren: str = DEFAULT_GRENZEN_JAREN
    #: Seconds to wait for one answer of a web service.
    timeout: Annotated[float, Field(gt=0, le=MAX_TIMEOUT)] = 60.0
    retries: Annotated[int, Field(ge=0, le=MAX_RETRIES)] = 3
    backoff: Annotated[float, Field(ge=0, le=MAX_BACKOFF)] = 2.0
    #: Seconds a command waits for another one on the same data folder (its lock).
    wachttijd: Annotated[float, Field(ge=0, le=MAX_WACHTTIJD)] = LOCK_TIMEOUT
    #: Limits per fetch (one CBS table, one PDOK layer): pages and megabytes received.
    max_paginas: Annotated[int, Field(gt=0)] = 10000
    max_mb: Annotated[float, Field(gt=0)] = 2000.0
    #: Also fetch the wijk (and gemeente) rows of the whole country, in the same request
    #: per KWB table, for the vergelijkbare wijken (``fetch --landelijk``).
    vergelijk_landelijk: bool = False
    lokaal: FilePath | None = None
    kompas: FilePath | None = None
    zorglocaties: FilePath | None = None
    indeling: Year | None = None
    herindeling_gewichten: FilePath | None = None
    imports: Annotated[tuple[ImportSpec, ...], BeforeValidator(_as_tuple)] = \
        Field((), alias="import")

    def changed(self, **values: object) -> Settings:
        """These settings with ``values`` (by field name) changed, each checked as in the
        config file; a wrong value is one Dutch line."""
        checked = parse_schema(type(self), values, "instellingen")
        return self.model_copy(update={key: getattr(checked, key) for key in values})


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
        return getattr(Settings.model_validate({key: text}, strict=False), key)
    except ValidationError as exc:
        problem = problem_line(Settings, exc.errors()[0])
        raise WijkkompasError(f"omgevingsvariabele {name}: {problem}.") from None


def _relative_paths(settings: Settings, config: Path) -> dict[str, object]:
    """The file paths of ``settings`` read from ``config``, relative to its folder."""
    paths: dict[str, object] = {key: _relative(getattr(settings, key), config)
                                for key in _PATH_KEYS if getattr(settings, key) is not None}
    paths["imports"] = tuple(
        spec.model_copy(update={"bestand": _relative(spec.bestand, config)})
        for spec in settings.imports)
    return paths


def _relative(target: Path, config: Path) -> Path:
    return target if target.is_absolute() else config.parent / target


def load_settings(config: Path | None = None, env: dict[str, str] | None = None) -> Settings:
    """Build the settings from defaults, the config file and the environment."""
    env = dict(os.environ) if env is None else env
    if config is None and env.get("WIJKKOMPAS_CONFIG"):
        config = Path(env["WIJKKOMPAS_CONFIG"])
    if config is None and Path(CONFIG_NAME).is_file():
        config = Path(CONFIG_NAME)
    settings = Settings()
    update: dict[str, object] = {}
    if config is not None:
        settings = read_toml_schema(config, Settings, "configuratiebestand")
        update = _relative_paths(settings, config)
    for name, key in _ENV_KEYS.items():
        if env.get(name):
            update[key] = _from_env(name, env[name])
    given = settings.model_fields_set
    if {"gemeente", "gemeenten"} <= given:
        raise WijkkompasError(f"{config}: geef 'gemeente' of 'gemeenten', niet allebei.")
    codes = parse_gemeenten(settings.gemeenten if "gemeenten" in given
                            else settings.gemeente or DEFAULT_GEMEENTE)
    update["gemeenten"], update["gemeente"] = tuple(codes), codes[0]
    return settings.model_copy(update=update)


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
