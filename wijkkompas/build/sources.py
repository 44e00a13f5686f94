"""Read the raw cache into one wide frame per source: an area per row, a variable per column.

Columns: ``gebiedscode, gebiedsnaam, niveau, jaar, bron`` and one float column per
catalogue variable the source has. Variables a source gives as a percentage of their
basis (``P_65_EO_JR``, ``Koopwoningen_47`` in %) are turned into counts
(percentage x basis / 100), so that shares can be recomputed and aggregated exactly.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from wijkkompas.build.catalogue import Resolution, resolve_kaart, resolve_odata, variables
from wijkkompas.errors import WijkkompasError, capped
from wijkkompas.fetch.kaart_import import read_kaart
from wijkkompas.gebied import CODE_RE, level_of

BASE_COLUMNS = ("gebiedscode", "gebiedsnaam", "niveau", "jaar", "bron")
_NAME_COLUMNS = {"buurt": ("BU_NAAM", "buurtnaam"), "wijk": ("WK_NAAM", "wijknaam"),
                 "gemeente": ("GM_NAAM", "gemeentenaam", "gemeentena")}


@dataclass
class SourceFrame:
    bron: str
    jaar: int
    frame: pd.DataFrame
    resolution: Resolution | None = None


def _to_counts(frame: pd.DataFrame, percent: set[str]) -> None:
    catalogue = variables()
    for name in percent:
        basis = catalogue[name].basis
        if basis in frame.columns:
            frame[name] = frame[name] * frame[basis] / 100.0
        else:
            frame[name] = float("nan")


def _load_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise WijkkompasError(
            f"Kan {path} niet lezen ({exc}). Haal de tabel opnieuw op met "
            "'wijkkompas fetch --refresh'."
        ) from None


def read_cbs_table(folder: Path, table_id: str, jaar: int) -> SourceFrame:
    """One raw KWB table (as cbsodata saved it) as a wide frame of catalogue variables."""
    props = _load_json(folder / "DataProperties.json")
    rows = _load_json(folder / "TypedDataSet.json")
    regions = folder / "WijkenEnBuurten.json"
    titles = {str(r["Key"]).strip(): str(r.get("Title", "")).strip()
              for r in (_load_json(regions) if regions.is_file() else [])}
    resolution = resolve_odata(table_id, props)
    raw = pd.DataFrame.from_records(rows, columns=["WijkenEnBuurten",
                                                   *resolution.keys.values()])
    if raw.empty or raw["WijkenEnBuurten"].isna().all():
        raise WijkkompasError(f"{folder / 'TypedDataSet.json'} bevat geen rijen met "
                              "WijkenEnBuurten; haal de tabel opnieuw op.")
    data_path = folder / "TypedDataSet.json"
    codes = raw["WijkenEnBuurten"].astype("string").str.strip()
    bad = [f"rij {int(i) + 1}: ongeldige gebiedscode {None if pd.isna(c) else str(c)!r}"
           for i, c in codes.items() if pd.isna(c) or not CODE_RE.fullmatch(str(c))]
    if bad:
        raise WijkkompasError(f"{data_path}: {capped(bad)} (verwacht GM####, WK######, "
                              "BU######## of NL00). Haal de tabel opnieuw op met "
                              "'wijkkompas fetch --refresh'.")
    codes = codes.astype(str)
    frame = pd.DataFrame({"gebiedscode": codes, "gebiedsnaam": codes.map(titles),
                          "niveau": level_of(codes), "jaar": jaar, "bron": f"CBS {table_id}"})
    wrong = []
    for name, key in resolution.keys.items():
        column = raw[key]
        if not pd.api.types.is_numeric_dtype(column):
            column = column.astype("string").str.strip()  # e.g. the padded code '3         '
            column = column.mask(column == "")
        numbers = pd.to_numeric(column, errors="coerce")
        wrong.extend(f"rij {int(i) + 1}, {key}: geen getal: {raw.at[i, key]!r}"
                     for i in column[column.notna() & numbers.isna()].index)
        frame[name] = numbers
    if wrong:
        raise WijkkompasError(f"{data_path}: {capped(wrong)}. Haal de tabel opnieuw op met "
                              "'wijkkompas fetch --refresh'.")
    _to_counts(frame, resolution.percent)
    return SourceFrame(f"CBS {table_id}", jaar, frame, resolution)


def read_kaart_source(path: Path, jaar: int) -> SourceFrame:
    """An imported wijk- en buurtkaart attribute file as a wide frame of catalogue variables."""
    table = read_kaart(path)
    data = table.frame
    keys, percent = resolve_kaart(list(data.columns))
    codes = data[table.code_column].astype("string").str.strip()
    names = next((data[c] for c in _NAME_COLUMNS[table.niveau] if c in data.columns), None)
    frame = pd.DataFrame({"gebiedscode": codes.astype(str),
                          "gebiedsnaam": names.astype("string") if names is not None else pd.NA,
                          "niveau": table.niveau, "jaar": jaar,
                          "bron": f"CBS wijk- en buurtkaart {jaar} ({Path(path).name})"})
    text = [column for column in keys.values()
            if not pd.api.types.is_numeric_dtype(data[column]) and data[column].notna().any()]
    if text:
        raise WijkkompasError(f"{path}: kolom {capped(text, sep=', ')} bevat tekst waar getallen "
                              "horen. Verbeter het bestand en importeer het opnieuw.")
    for name, column in keys.items():
        frame[name] = pd.to_numeric(data[column], errors="coerce").astype("float64").to_numpy()
    _to_counts(frame, percent)
    return SourceFrame(frame["bron"].iloc[0], jaar, frame)
