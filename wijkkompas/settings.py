"""Settings: endpoints, gemeente, years and network behaviour.

Values come, in rising priority, from the built-in defaults, a TOML config file
(``wijkkompas.toml`` in the working directory, or the path given with ``--config`` or
``WIJKKOMPAS_CONFIG``) and the environment variables ``WIJKKOMPAS_CBS_URL``,
``WIJKKOMPAS_POLITIE_URL``, ``WIJKKOMPAS_PDOK_URL``, ``WIJKKOMPAS_LOCATIESERVER_URL``,
``WIJKKOMPAS_TIMEOUT``, ``WIJKKOMPAS_RETRIES`` and ``WIJKKOMPAS_BACKOFF``.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from wijkkompas.errors import WijkkompasError
from wijkkompas.tomlfile import read_toml

DEFAULT_CBS_URL = "https://opendata.cbs.nl"
#: CBS's catalogue of tables published for others ("dataderden"), among them the Politie's.
DEFAULT_POLITIE_URL = "https://dataderden.cbs.nl"
DEFAULT_PDOK_URL = "https://api.pdok.nl"
DEFAULT_PDOK_PATH = "cbs/wijken-en-buurten-{jaar}/ogc/v1"
DEFAULT_LOCATIESERVER_URL = "https://api.pdok.nl/bzk/locatieserver/search/v3_1"
DEFAULT_GEMEENTE = "GM0141"
DEFAULT_JAREN = "2017-2024"
#: PDOK serves the wijk- en buurtkaart as a year-specific OGC API from 2023 on.
DEFAULT_GRENZEN_JAREN = "2023-2030"
CONFIG_NAME = "wijkkompas.toml"

_GEMEENTE_RE = re.compile(r"^GM\d{4}$")


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
    locatieserver_url: str = DEFAULT_LOCATIESERVER_URL
    gemeente: str = DEFAULT_GEMEENTE
    jaren: str = DEFAULT_JAREN
    grenzen_jaren: str = DEFAULT_GRENZEN_JAREN
    timeout: float = 60.0
    retries: int = 3
    backoff: float = 2.0
    lokaal: Path | None = None
    kompas: Path | None = None
    zorglocaties: Path | None = None
    indeling: int | None = None
    imports: tuple[ImportSpec, ...] = field(default_factory=tuple)


_CONFIG_KEYS = {
    "cbs_url": str,
    "politie_url": str,
    "pdok_url": str,
    "pdok_pad": str,
    "locatieserver_url": str,
    "gemeente": str,
    "jaren": str,
    "grenzen_jaren": str,
    "timeout": float,
    "retries": int,
    "backoff": float,
    "lokaal": Path,
    "kompas": Path,
    "zorglocaties": Path,
    "indeling": int,
}
_ENV_KEYS = {
    "WIJKKOMPAS_CBS_URL": "cbs_url",
    "WIJKKOMPAS_POLITIE_URL": "politie_url",
    "WIJKKOMPAS_PDOK_URL": "pdok_url",
    "WIJKKOMPAS_LOCATIESERVER_URL": "locatieserver_url",
    "WIJKKOMPAS_TIMEOUT": "timeout",
    "WIJKKOMPAS_RETRIES": "retries",
    "WIJKKOMPAS_BACKOFF": "backoff",
}


def _convert(value: object, key: str, where: str) -> object:
    kind = _CONFIG_KEYS[key]
    try:
        if kind is str or kind is Path:
            if not isinstance(value, str):
                raise ValueError
            return kind(value)
        return kind(value)
    except (TypeError, ValueError):
        raise WijkkompasError(
            f"{where}: instelling '{key}' heeft een ongeldige waarde {value!r}; "
            f"verwacht een {'tekst' if kind is str else 'getal'}."
        ) from None


def _read_config(path: Path) -> dict[str, object]:
    raw = read_toml(path, "configuratiebestand")
    values: dict[str, object] = {}
    for key, value in raw.items():
        if key == "import":
            values["imports"] = _read_imports(value, path)
        elif key in _CONFIG_KEYS:
            values[key] = _convert(value, key, str(path))
            if key in ("lokaal", "kompas", "zorglocaties") and not values[key].is_absolute():
                values[key] = path.parent / values[key]
        else:
            known = ", ".join(sorted([*_CONFIG_KEYS, "import"]))
            raise WijkkompasError(
                f"{path}: onbekende instelling '{key}'. Bekende instellingen: {known}."
            )
    return values


def _read_imports(value: object, path: Path) -> tuple[ImportSpec, ...]:
    if not isinstance(value, list):
        raise WijkkompasError(
            f"{path}: 'import' moet een lijst [[import]] met bestand en jaar zijn."
        )
    specs = []
    for number, item in enumerate(value, start=1):
        if not isinstance(item, dict) or set(item) != {"bestand", "jaar"}:
            raise WijkkompasError(
                f"{path}: [[import]] nummer {number} moet precies 'bestand' en 'jaar' hebben."
            )
        bestand = Path(str(item["bestand"]))
        if not bestand.is_absolute():
            bestand = path.parent / bestand
        try:
            jaar = int(item["jaar"])
        except (TypeError, ValueError):
            raise WijkkompasError(
                f"{path}: [[import]] nummer {number} heeft geen geldig jaar: {item['jaar']!r}."
            ) from None
        specs.append(ImportSpec(bestand=bestand, jaar=jaar))
    return tuple(specs)


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
            values[key] = _convert(env[name], key, f"omgevingsvariabele {name}")
    settings = replace(Settings(), **values)
    check_gemeente(settings.gemeente)
    return settings


def check_gemeente(code: str) -> str:
    """Return the code if it has CBS's form GM plus four digits, else raise a clear error."""
    if not _GEMEENTE_RE.match(code):
        raise WijkkompasError(
            f"Ongeldige gemeentecode '{code}': een CBS-gemeentecode is GM met vier cijfers, "
            "bijvoorbeeld GM0141 voor Almelo."
        )
    return code


def parse_years(text: str) -> list[int]:
    """Parse '2017-2024', '2021,2023' or '2024' into a sorted list of years."""
    years: set[int] = set()
    for part in str(text).replace(" ", "").split(","):
        match = re.fullmatch(r"(\d{4})(?:-(\d{4}))?", part)
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
