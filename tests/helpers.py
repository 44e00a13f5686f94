"""Small helpers shared by the tests."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd

from wijkkompas.indicatoren.rows import COLUMNS


def snapshot(folder: Path) -> dict[str, str]:
    """Every file below ``folder`` with its checksum, to show a failed run changed nothing."""
    if not folder.exists():
        return {}
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def almelo_files(shared: Path, buurten_2021: Path | None = None) -> list[tuple[Path, int]]:
    """The real Almelo files of ../shared/data, with the year of each, in import order."""
    return [
        (shared / "cbs" / "kwb2015_almelo_buurten_wijkbuurtkaart.csv", 2015),
        (shared / "geo" / "almelo_buurten_2015_simplified.geojson", 2015),
        (shared / "geo" / "almelo_wijken_2015_simplified.geojson", 2015),
        (shared / "cbs" / "kwb2021_almelo_buurten_pdok_wijkbuurtkaart.csv", 2021),
        (buurten_2021 or shared / "geo" / "almelo_buurten_2021_epsg28992.geojson", 2021),
    ]


def import_almelo(data: Path, shared: Path, buurten_2021: Path | None = None) -> None:
    """Import the real Almelo files into ``data`` with the command line."""
    from wijkkompas.cli import main

    for path, jaar in almelo_files(shared, buurten_2021):
        assert main(["import", str(path), "--jaar", str(jaar), "--data-dir", str(data)]) == 0


def page_data(html: str, marker: str = "var data = ") -> dict:
    """The JSON data object a generated page hands to its script (``var data = {...}``)."""
    import json

    assert html.count(marker) == 1, f"{marker!r} occurs {html.count(marker)} times"
    value, _ = json.JSONDecoder().raw_decode(html.split(marker, 1)[1])
    return value


def run_cli(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    """The installed ``wijkkompas`` command as a user runs it, in ``cwd`` with ``env`` added."""
    exe = shutil.which("wijkkompas")
    assert exe, "the wijkkompas command is not installed (pip install -e .)"
    return subprocess.run([exe, *args], env={**os.environ, **env}, cwd=cwd,
                          capture_output=True, text=True, timeout=300)
def today_in_dutch() -> str:
    """Today's date as a Dutch reader writes it ("7 december 2026"), for expected texts."""
    from datetime import date

    months = ["januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus",
              "september", "oktober", "november", "december"]
    today = date.today()
    return f"{today.day} {months[today.month - 1]} {today.year}"


def toml_value(value: object) -> str:
    """A value as TOML writes it: a string as a basic string (JSON's escapes are TOML's),
    true/false, a number, or a list of such values."""
    import json

    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(str(value), ensure_ascii=False)


#: The categories of most vlekkenkaart tests: code -> (naam, gevoelig).
ZORG_CATEGORIES = {"opvang": ("Maatschappelijke opvang", True),
                   "huisarts": ("Huisartsenpraktijk", False)}
#: The data set of most vlekkenkaart tests: locaties.csv with a column of categories.
ZORG_DATASET = {"bestand": "locaties.csv", "bron": "test", "categorie_kolom": "categorie"}


def zorg_toml(categories: dict[str, tuple[str, bool]] | None = None,
              datasets: list[dict[str, object]] | None = None, **settings: object) -> str:
    """A vlekkenkaart configuration (zorglocaties TOML): the top-level ``settings``, a
    ``[categorie.<code>]`` per category and a ``[[dataset]]`` per data set, one key a line."""
    lines = [f"{key} = {toml_value(value)}" for key, value in settings.items()]
    for code, (naam, gevoelig) in (ZORG_CATEGORIES if categories is None
                                   else categories).items():
        lines += [f"[categorie.{code}]", f"naam = {toml_value(naam)}"]
        lines += ["gevoelig = true"] if gevoelig else []
    for dataset in [ZORG_DATASET] if datasets is None else datasets:
        lines += ["[[dataset]]"] + [f"{key} = {toml_value(v)}" for key, v in dataset.items()]
    return "\n".join(lines) + "\n"


def indicator_rows(rows: list[tuple]) -> pd.DataFrame:
    """An indicator table as the build writes it from rows of (gebiedscode, gebiedsnaam,
    niveau, jaar, indeling, indicator, waarde): no teller or noemer, one source, status
    from the value, full coverage; shuffled (a fixed seed) so that nothing depends on the
    order of the rows."""
    frame = pd.DataFrame(rows, columns=["gebiedscode", "gebiedsnaam", "niveau", "jaar",
                                        "indeling", "indicator", "waarde"])
    frame["teller"] = frame["noemer"] = np.nan
    frame["bron"] = "test"
    frame["status"] = np.where(frame["waarde"].isna(), "ontbreekt", "waargenomen")
    frame["indelingswijziging"] = frame["dekking"] = 1.0
    return frame[COLUMNS].sample(frac=1, random_state=30).reset_index(drop=True)
