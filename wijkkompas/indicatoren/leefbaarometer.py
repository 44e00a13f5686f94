"""The Leefbaarometer in the build: the imported buurt scores (``fetch/leefbaarometer.py``)
as source frames, and wijk and gemeente values weighted by the inhabitants of the same
buurt, year and indeling (``inwoners.py``; status ``berekend``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from wijkkompas.fetch.leefbaarometer import BRON, COLUMNS, FOLDER, RAW_NAME, read_file
from wijkkompas.indicatoren.aggregate import complete_levels
from wijkkompas.indicatoren.inwoners import inhabitants
from wijkkompas.indicatoren.rows import INTERNAL, plain
from wijkkompas.indicatoren.sources import SourceFrame


def read_sources(raw_dir: Path, manifest: dict[str, Any]) -> list[SourceFrame]:
    """The imported Leefbaarometer files: per year a frame of the gemeente's buurten.

    Their checksums are checked with every other raw file (``manifest.verify_raw``, run by
    ``stage.read_sources`` before this)."""
    sources = []
    for key, entry in sorted(manifest.get(FOLDER, {}).items()):
        path = raw_dir / FOLDER / key / RAW_NAME
        indeling = int(entry["indeling"])
        gemeente = str(entry["gemeente"])
        frame = read_file(path).frame
        frame = frame[frame["bu_code"].str[2:6] == gemeente[2:6]]
        bron = f"{BRON} (buurtindeling {indeling})"
        for jaar, part in frame.groupby("jaar", sort=True):
            codes = part["bu_code"].reset_index(drop=True)
            wide = pd.DataFrame({"gebiedscode": codes, "gebiedsnaam": pd.NA, "niveau": "buurt",
                                 "jaar": int(jaar), "bron": bron})
            for variable in COLUMNS.values():
                wide[variable] = part[variable].to_numpy()
            sources.append(SourceFrame(bron, int(jaar), wide, indeling=indeling))
    return sources


def weighted_rows(sources: list[SourceFrame], long: pd.DataFrame, verdicts: pd.DataFrame,
                  factors: dict[str, float | None], expected: pd.DataFrame) -> pd.DataFrame:
    """Buurt scores as observed rows, with wijk and gemeente values weighted by inhabitants.

    A buurt's weight is its number of inhabitants in the same year and indeling; wijk and
    gemeente values need 90 % of their buurten with a weight (``dekking``), else missing.
    """
    if not sources:
        return pd.DataFrame(columns=INTERNAL)
    parts = []
    for source in sources:
        for variable in COLUMNS.values():
            part = source.frame[["gebiedscode", "gebiedsnaam", "niveau", "jaar", "bron"]].copy()
            part["indeling"] = source.indeling_jaar
            part["indicator"] = variable
            part["waarde"] = source.frame[variable].astype("float64")
            parts.append(part)
    rows = pd.concat(parts, ignore_index=True).astype({"jaar": "int64", "indeling": "int64"})
    weights = inhabitants(long, verdicts, rows)
    rows = rows.merge(weights[["gebiedscode", "jaar", "indeling", "inwoners"]],
                      on=["gebiedscode", "jaar", "indeling"], how="left")
    weight = rows["inwoners"].where(rows["inwoners"] > 0)
    rows["noemer"] = weight
    rows["teller"] = rows["waarde"] * weight
    rows["status"] = np.where(rows["waarde"].notna(), "waargenomen", "ontbreekt")
    rows["dekking"] = np.where(rows["waarde"].notna(), 1.0, np.nan)
    rows["indelingswijziging"] = np.nan
    rows["bron_id"] = rows["bron"]
    rows = rows[INTERNAL]
    out = plain(complete_levels(rows, factors, expected))
    upper = out["niveau"] != "buurt"
    out.loc[upper, "bron"] = out.loc[upper, "bron"] + ", buurten gewogen met hun inwoners"
    return out
