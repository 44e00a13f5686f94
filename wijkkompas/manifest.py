"""The manifest of the raw cache (``data/raw/manifest.json``): what was fetched or imported,
from where, and the checksum of every file; ``verify_raw`` refuses a cache whose files no
longer match it."""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, ConfigDict, Field

from wijkkompas.errors import WijkkompasError, library_detail, library_reason
from wijkkompas.schema import Schema, parse_schema
from wijkkompas.storage import sha256_file, write_json_atomic

MANIFEST_NAME = "manifest.json"


def _plain_name(name: str) -> str:
    if not name or name != Path(name).name or name.startswith("."):
        raise ValueError(f"'{name}' is geen gewone bestandsnaam")
    return name


class _Entry(Schema):
    model_config = ConfigDict(extra="allow")


# What the readers of the manifest rely on; entries may hold more.
class _CbsEntry(_Entry):
    table_id: Annotated[str, Field(pattern=r"^[0-9A-Za-z]+$")]
    jaar: int
    gevonden_via: str
    fetched_at: str
    files: dict[str, dict[str, Any]]


class _GeoEntry(_Entry):
    counts: dict[str, int]
    fetched_at: str


class _KaartEntry(_Entry):
    jaar: int
    bestand: Annotated[str, AfterValidator(_plain_name)]
    rows: int
    imported_at: str


class _LbmEntry(_Entry):
    indeling: int
    gemeente: Annotated[str, Field(pattern=r"^GM[0-9]{4}$")]


class _Manifest(Schema):
    model_config = ConfigDict(extra="allow")
    cbs: dict[Annotated[str, Field(pattern=r"^[0-9A-Za-z]+$")], _CbsEntry] = {}
    geo: dict[Annotated[str, Field(pattern=r"^\d{4}$")], _GeoEntry] = {}
    kaart: dict[str, _KaartEntry] = {}
    #: The key is the folder of the file (the year of the buurtindeling).
    leefbaarometer: dict[Annotated[str, Field(pattern=r"^[0-9]{4}$")], _LbmEntry] = {}


def read_manifest(raw_dir: Path) -> dict[str, Any]:
    """The manifest of the raw cache; an empty one when there is none yet."""
    path = raw_dir / MANIFEST_NAME
    if not path.exists():
        return {"cbs": {}, "geo": {}, "kaart": {}}
    hint = ("Herstel het uit een back-up of verwijder het; haal daarna opnieuw op en "
            "importeer opnieuw.")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise WijkkompasError(f"Het manifest {path} is onleesbaar ({library_reason(exc)}). "
                              f"{hint}", library_detail(exc)) from None
    parse_schema(_Manifest, manifest, f"Het manifest {path} klopt niet", hint)
    for section in ("cbs", "geo", "kaart"):
        manifest.setdefault(section, {})
    return manifest


def write_manifest(raw_dir: Path, manifest: dict[str, Any]) -> None:
    write_json_atomic(raw_dir / MANIFEST_NAME, manifest)


def files_intact(folder: Path, files: dict[str, dict[str, Any]]) -> bool:
    """True when every listed file exists in ``folder`` with its recorded checksum."""
    for name, info in files.items():
        path = folder / name
        if not path.is_file() or sha256_file(path) != info.get("sha256"):
            return False
    return True


def verify_raw(raw_dir: Path, manifest: dict[str, Any]) -> None:
    """Refuse a raw cache whose files no longer match the checksums in the manifest."""
    folders = {"cbs": lambda key, entry: raw_dir / "cbs" / str(entry.get("table_id", key)),
               "politie": lambda key, entry: (raw_dir / "politie"
                                              / str(entry.get("table_id", key))),
               "geo": lambda key, entry: raw_dir / "geo",
               "kaart": lambda key, entry: raw_dir / "kaart" / str(entry.get("jaar")),
               "leefbaarometer": lambda key, entry: raw_dir / "leefbaarometer" / str(key)}
    advice = {"cbs": "haal de tabel opnieuw op met 'wijkkompas fetch --refresh'",
              "politie": "haal de tabel opnieuw op met 'wijkkompas fetch --refresh'",
              "geo": "haal de grenzen opnieuw op met 'wijkkompas fetch --refresh'",
              "kaart": "importeer het bestand opnieuw met 'wijkkompas import BESTAND --jaar "
                       "JJJJ'",
              "leefbaarometer": "importeer het bestand opnieuw met 'wijkkompas import BESTAND "
                                "--bron leefbaarometer'"}

    def how(section: str, entry: dict[str, Any]) -> str:
        """The advice for a file of ``entry``: for an imported file the exact command (its
        source path and year from the manifest, quoted for a shell; shown, never run)."""
        source, jaar = entry.get("bron"), entry.get("jaar")
        if (section != "kaart" or not isinstance(source, str) or not isinstance(jaar, int)
                or any(c in source for c in "\r\n")):  # the message stays one line
            return advice[section]
        return (f"importeer opnieuw: wijkkompas import {shlex.quote(source)} "
                f"--jaar {jaar} --data-dir {shlex.quote(str(raw_dir.parent))}")
    for section, where in folders.items():
        for key, entry in sorted(manifest.get(section, {}).items()):
            folder = where(key, entry)
            for name, info in sorted(entry.get("files", {}).items()):
                path = folder / name
                detail = ""
                if not path.is_file():
                    problem = "ontbreekt"
                elif (found := sha256_file(path)) != info.get("sha256"):
                    came = "de import" if section in ("kaart", "leefbaarometer") else \
                        "het ophalen"
                    problem = f"is gewijzigd na {came}"
                    detail = (f"sha256 {found} klopt niet met {info.get('sha256')} in "
                              f"{raw_dir / MANIFEST_NAME}")
                else:
                    continue
                raise WijkkompasError(
                    f"Bronbestand {path} {problem}; er is niets gebouwd. Zet het origineel "
                    f"terug of {how(section, entry)}.", detail)
