"""The profile of one wijk: every kompas indicator with value, score, trend and source."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from wijkkompas.build.catalogue import weight_table
from wijkkompas.kompas.classes import change_class
from wijkkompas.output.numbers import nl_number
from wijkkompas.output.processed import Processed

#: Reference dates CBS gives for the population and household figures of the KWB.
PEILDATUM = {name: "1 januari" for name in (
    "inwoners", "aandeel_0_14", "aandeel_15_24", "aandeel_25_44", "aandeel_45_64",
    "aandeel_65plus", "huishoudens", "aandeel_eenpersoonshh", "aandeel_hh_met_kinderen",
    "gem_hh_grootte", "bevolkingsdichtheid", "aandeel_migratie_westers",
    "aandeel_migratie_niet_westers", "woningen")}
RICHTING = {1: "hoger is beter", -1: "hoger is slechter", 0: "context"}
CARRIED = "omgerekend (schatting)"
#: The development of a scored indicator, by the method's rule (kompas.classes.change_class).
ONTWIKKELING = {1.0: "verbeterd", 0.0: "gelijk", -1.0: "verslechterd"}
NOT_JUDGED = "niet beoordeeld (context)"


def indicator_label(processed: Processed, code: str) -> tuple[str, str]:
    """The Dutch name and unit of an indicator; an indicator without a definition (a local
    one without a name in the local-indicators file) gets its code written as words, so
    that a reader never sees a bare code (nor a remark meant for its maker)."""
    naam, eenheid = processed.indicator_name(code)
    if naam == code:
        words = code.replace("_", " ").strip()
        naam = f"{words[:1].upper()}{words[1:]}"
    return naam, eenheid


def value_text(value: float, eenheid: str) -> str:
    """A value in Dutch notation with its unit, rounded as the unit deserves."""
    decimals = 0 if eenheid in ("aantal", "") or abs(value if not pd.isna(value) else 0) >= 100 \
        else 1
    shown = nl_number(value, decimals)
    if pd.isna(value) or eenheid in ("aantal", ""):
        return shown
    return f"{shown} {eenheid}"


def measured(processed: Processed) -> set[tuple[str, int]]:
    """Every (indicator, year) with a value for any area of the indicator table (computed
    once per loaded data)."""
    def compute() -> set[tuple[str, int]]:
        table = processed.table
        present = table.loc[table["waarde"].notna(), ["indicator", "jaar"]].drop_duplicates()
        return {(str(i), int(j)) for i, j in zip(present["indicator"], present["jaar"],
                                                 strict=True)}

    return processed.derived("measured", compute)


def missing_reason(processed: Processed, name: str, code: str, jaar: int,
                   row: Mapping[str, Any] | None) -> str:
    """Why an indicator has no value (or no score) for an area and year, in plain Dutch;
    empty when there is a value and, for a scored indicator, a score."""
    ind = processed.kompas.indicators.get(name)
    if ind is not None and not ind.applies_to(code):
        return "niet van toepassing in dit gebied"
    if row is not None and not pd.isna(row["waarde"]):
        if ind is not None and ind.scored and pd.isna(row["score"]):
            return "geen vergelijkingsbasis: te weinig wijken met een cijfer in het basisjaar"
        return ""
    if row is not None and not pd.isna(row.get("dekking", np.nan)) and row["dekking"] < 1 \
            and int(row["indeling"]) != jaar:
        return (f"dekking te laag na omrekening naar de indeling van {int(row['indeling'])} "
                f"({nl_number(100 * row['dekking'], 0)} %)")
    if (name, int(jaar)) not in measured(processed):
        return f"geen bron met dit cijfer voor {jaar}"
    return f"geen cijfer voor dit gebied in {jaar} (geheim of niet beschikbaar bij de bron)"


def _report(processed: Processed) -> pd.DataFrame | None:
    """rapport_herindeling.csv, read once per loaded data; None where there is none."""
    path = processed.data_dir / "processed" / "rapport_herindeling.csv"
    return pd.read_csv(path, dtype={"gebiedscode": str}) if path.is_file() else None


def _flags(processed: Processed, code: str, jaar: int) -> dict[str, str]:
    """Per kind of count (inwoners, ...) the warning of rapport_herindeling.csv for one buurt
    and the year it was carried from, where the carried count is flagged."""
    report = processed.derived("rapport_herindeling", lambda: _report(processed))
    if report is None:
        return {}
    rows = report[(report["gebiedscode"] == code) & (report["jaar_omgerekend"] == jaar)
                  & (report["afwijkend"].astype(str) == "True")]
    return {row.indicator: (f"wijkt sterk af van de telling van {row.jaar_waargenomen} "
                            f"({nl_number(row.omgerekend, 0)} tegen "
                            f"{nl_number(row.waargenomen, 0)})")
            for row in rows.itertuples()}


def _trend(delta_score: float, delta_value: float, richting: int, threshold: float) -> str:
    if richting == 0:
        if pd.isna(delta_value) or delta_value == 0:
            return "–" if pd.isna(delta_value) else "→ gelijk"
        return "↑ hoger" if delta_value > 0 else "↓ lager"
    if pd.isna(delta_score):
        return "–"
    if delta_score >= threshold:
        return "▲ beter"
    if delta_score <= -threshold:
        return "▼ slechter"
    return "→ gelijk"


#: Nederland's code in the indicator table (the KWB tables' NL00 row).
NEDERLAND = "NL00"


def reference_values(processed: Processed, code: str, jaar: int) -> pd.DataFrame:
    """Per indicator the value of area ``code`` (the gemeente, or NL00 for Nederland) in
    ``jaar`` or, when that year has none, in the latest earlier year with one: columns
    waarde and jaar, indexed by indicator. Only values on the area's own indeling. Computed
    once per loaded data, area and year; callers get a copy."""
    def compute() -> pd.DataFrame:
        table = processed.table
        rows = table[(table["gebiedscode"] == code) & (table["jaar"] <= jaar)
                     & (table["indeling"] == table["jaar"]) & table["waarde"].notna()]
        rows = rows.sort_values("jaar", kind="stable")
        return rows.groupby("indicator")[["waarde", "jaar"]].last()

    return processed.derived(("reference_values", code, int(jaar)), compute).copy()


def _shown(value: float, eenheid: str) -> str:
    decimals = 0 if eenheid == "aantal" else 1
    shown = nl_number(value, decimals)
    return shown if shown == "geen data" or eenheid == "aantal" else f"{shown} {eenheid}".strip()


def _year(references: pd.DataFrame, name: str) -> str:
    return str(int(references.loc[name, "jaar"])) if name in references.index else ""


def profile_table(processed: Processed, code: str, jaar: int) -> pd.DataFrame:
    """The indicator table of one area and year, in Dutch, ready to show or export.

    Columns: thema, indicator, waarde (Dutch notation, with unit), the same indicator for the
    gemeente and for Nederland as reference (columns "gemeente", "jaar gemeente",
    "Nederland", "jaar Nederland": the value of ``jaar`` or the latest earlier one, and its
    year), score, trend (against the
    previous year with a value), richting, soort, gebied-specifiek, bron, peildatum, and
    omrekening: "omgerekend (schatting)" for a value carried from an older indeling, with the
    warning of rapport_herindeling.csv where the buurt's carried count of the kind the
    indicator follows differs strongly from the first count on the new buurten; eerder (the
    value of the previous year with a value, with that year), verandering (the change of the
    value), ontwikkeling (verbeterd / gelijk / verslechterd by the method's rule,
    kompas.classes.change_class, on the score; "niet beoordeeld" for context) and reden (why
    the value or the score is missing, in plain Dutch). The peildatum is empty where there is
    no value.
    """
    rows = processed.result.indicators
    rows = rows[(rows["gebiedscode"] == code) & rows["van_toepassing"]]
    # One dict per indicator (its row), looked up by name: much cheaper than .loc per name.
    current = rows[rows["jaar"] == jaar].set_index("indicator").to_dict("index")
    earlier = rows[rows["jaar"] < jaar].sort_values("jaar")
    previous = earlier.dropna(subset=["waarde"]).groupby("indicator").last().to_dict("index")
    threshold = processed.kompas.betekenisvolle_verandering
    flags = _flags(processed, code, jaar)
    kinds = weight_table()
    gemeente = reference_values(processed, str(processed.kompas.gemeente), jaar)
    nederland = reference_values(processed, NEDERLAND, jaar)
    out = []
    score_changes = []  # per row: the change of the score, for scored indicators
    for name, ind in processed.kompas.indicators.items():
        if not ind.applies_to(code):
            continue
        naam, eenheid = indicator_label(processed, name)
        row = current.get(name)
        waarde = row["waarde"] if row is not None else np.nan
        score = row["score"] if row is not None else np.nan
        before = previous.get(name)
        d_score = score - before["score"] if before is not None else np.nan
        d_value = waarde - before["waarde"] if before is not None else np.nan
        # Scored indicators get their class below, all at once (the method's rule).
        score_changes.append(d_score if ind.scored else np.nan)
        ontwikkeling = "" if ind.scored else NOT_JUDGED if not pd.isna(d_value) else ""
        reden = missing_reason(processed, name, code, jaar, row)
        decimals = 0 if eenheid == "aantal" else 1
        shown = nl_number(waarde, decimals)
        bron = row["bron"] if row is not None and not pd.isna(row["bron"]) else ""
        carried = row is not None and not pd.isna(waarde) and row["indeling"] != jaar
        flag = flags.get(kinds.get(name, ("", ""))[0], "") if carried else ""
        out.append({
            "thema": processed.kompas.theme_name(ind.thema),
            "indicator": naam,
            "waarde": shown if shown == "geen data" or eenheid == "aantal"
            else f"{shown} {eenheid}".strip(),
            "gemeente": _shown(gemeente["waarde"].get(name, np.nan), eenheid),
            "jaar gemeente": _year(gemeente, name),
            "Nederland": _shown(nederland["waarde"].get(name, np.nan), eenheid),
            "jaar Nederland": _year(nederland, name),
            "score": nl_number(score, 0) if ind.scored else "context",
            "trend": _trend(d_score, d_value, ind.richting, threshold),
            "richting": RICHTING[ind.richting],
            "soort": ind.soort,
            "gebied-specifiek": "ja" if ind.gebieden else "",
            "bron": bron,
            "peildatum": "" if pd.isna(waarde) else
            f"{PEILDATUM[name]} {jaar}" if name in PEILDATUM else str(jaar),
            "omrekening": (f"{CARRIED}; {flag}" if flag else CARRIED) if carried else "",
            "eerder": "" if before is None else
            f"{value_text(before['waarde'], eenheid)} ({int(before['jaar'])})",
            "verandering": "" if pd.isna(d_value) else
            ("+" if d_value > 0 else "") + value_text(d_value, eenheid),
            "ontwikkeling": ontwikkeling,
            "reden": reden,
        })
    classes = change_class(pd.Series(score_changes, dtype="float64"), threshold)
    for row, klasse in zip(out, classes, strict=True):
        if not pd.isna(klasse):
            row["ontwikkeling"] = ONTWIKKELING.get(klasse, "")
    return pd.DataFrame(out)


def without_figures(profile: pd.DataFrame) -> pd.Series:
    """The rows of a :func:`profile_table` without a value in its year or before: the wijk
    page and notebook 03 list them apart, each with its reason."""
    return (profile["waarde"] == nl_number(None)) & (profile["eerder"] == "")
