"""The profile of one wijk: every kompas indicator with value, score, trend and source, and
compared with before: its newest value beside the latest earlier value of the same area,
the change and whether it is meaningful.

The rules of the comparison (docs/methode.md, "Vergelijken met eerder"):

- Two values of an area are compared only where they describe the same area: rows the
  method chose to compare (``vergelijkbaar``: the own indeling where the boundary is the same
  as in the target indeling, else the value carried onto it), or two rows on one indeling.
  A value carried from an older indeling is marked as such (omgerekend).
- A scored indicator changed meaningfully when its score moved by at least the kompas's
  ``betekenisvolle_verandering`` (5 points: a quarter of the spread between the wijken).
- A context indicator is never good or bad; its change is called clear ("duidelijk hoger",
  "duidelijk lager") by the same yardstick: at least ``betekenisvolle_verandering /
  punten_per_sd`` (a quarter) of its spread between the wijken in its reference year.
- How much an indicator moved, to rank them, is its change in spreads (standard
  deviations between the wijken), for both kinds.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from wijkkompas.catalogue import indicators as catalogue_indicators
from wijkkompas.catalogue import weight_table
from wijkkompas.kompas.classes import change_direction
from wijkkompas.kompas.results import Processed
from wijkkompas.kompas.scores import reference_frame
from wijkkompas.web.numbers import nl_number

RICHTING = {1: "hoger is beter", -1: "hoger is slechter", 0: "context"}
CARRIED = "omgerekend (schatting)"


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
    """A value in Dutch notation with its unit, rounded as the unit deserves: counts and
    values of 100 or more whole (as CBS publishes them: the WOZ value in x 1.000 euro has no
    decimals), smaller values with one decimal. The one formatter of the values of a row
    (wijk, earlier, newest, gemeente, Nederland), so that they read alike."""
    decimals = 0 if eenheid in ("aantal", "") or abs(value if not pd.isna(value) else 0) >= 100 \
        else 1
    shown = nl_number(value, decimals)
    if pd.isna(value) or eenheid in ("aantal", ""):
        return shown
    return f"{shown} {eenheid}"


def measured(processed: Processed) -> set[tuple[str, int]] | frozenset[tuple[str, int]]:
    """Every (indicator, year) with a value for any area of the whole indicator table
    (computed once per loaded data; read with the gemeente's share of the table when that
    is all that was loaded)."""
    if processed.facts is not None:
        return processed.facts.measured

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
    path = processed.paths.herindeling_report
    return pd.read_csv(path, dtype={"gebiedscode": str}) if path.is_file() else None


def _flags(processed: Processed, code: str, jaar: int) -> dict[str, str]:
    """Per kind of count (inwoners, ...) the warning of rapport_herindeling.csv for one buurt
    and the year it was carried from, where the carried count is flagged."""
    return processed.derived("herindeling_flags", lambda: _all_flags(processed)).get(
        (code, int(jaar)), {})


def _all_flags(processed: Processed) -> dict[tuple[str, int], dict[str, str]]:
    """The warnings of rapport_herindeling.csv per (buurt, year carried from), read once."""
    report = processed.derived("rapport_herindeling", lambda: _report(processed))
    out: dict[tuple[str, int], dict[str, str]] = {}
    if report is None:
        return out
    rows = report[report["afwijkend"].astype(str) == "True"]
    for row in rows.itertuples():
        out.setdefault((str(row.gebiedscode), int(row.jaar_omgerekend)), {})[row.indicator] = (
            f"wijkt sterk af van de telling van {row.jaar_waargenomen} "
            f"({nl_number(row.omgerekend, 0)} tegen {nl_number(row.waargenomen, 0)})")
    return out


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


#: Words for the change class of a scored indicator and of a context indicator.
SCORED_WORDS = {1.0: "verbeterd", 0.0: "gelijk", -1.0: "verslechterd"}
CONTEXT_WORDS = {1.0: "duidelijk hoger (context)", 0.0: "ongeveer gelijk (context)",
                 -1.0: "duidelijk lager (context)"}
NOT_JUDGED = "niet beoordeeld (context)"

COLUMNS = ["indicator", "jaar_nieuwste", "bron_nieuwste", "waarde_nieuwste", "score_nieuwste",
           "indeling_nieuwste", "jaar_eerder", "waarde_eerder", "score_eerder",
           "indeling_eerder", "verschil", "verschil_score", "stap", "ander_gebied", "klasse"]


def compare(rows: pd.DataFrame, jaar: int, richting: Mapping[str, int],
            spreads: Mapping[str, float], threshold: float,
            points_per_sd: float) -> pd.DataFrame:
    """Per indicator of ``rows`` (one area: indicator, jaar, indeling, waarde, score,
    vergelijkbaar, bron) its newest value up to ``jaar`` (with its source) and the latest
    earlier value of the same area (``ander_gebied``: the latest earlier year whose value
    is of another area, not compared), with their difference (``verschil``;
    ``verschil_score`` for a scored indicator), the change in spreads between the wijken
    (``stap``: the score change divided by ``points_per_sd`` for a scored indicator, the
    value change divided by its spread for a context one) and its class (``klasse``: 1, 0,
    -1 by ``threshold`` points, or the same share of the spread; NaN where there is
    nothing to compare or no spread). Indicators without any value up to ``jaar`` are
    left out."""
    # Plain Python over the few rows of one area: far cheaper than pandas per group.
    columns = {c: rows[c].tolist() if c in rows.columns else [""] * len(rows)
               for c in ("indicator", "jaar", "indeling", "waarde", "score", "vergelijkbaar",
                         "bron")}
    groups: dict[str, list[dict]] = {}
    for at in range(len(rows)):
        row = {c: values[at] for c, values in columns.items()}
        if pd.isna(row["waarde"]) or row["jaar"] > jaar:
            continue
        groups.setdefault(str(row["indicator"]), []).append(row)
    out = []
    for name, group in groups.items():
        group.sort(key=lambda r: r["jaar"])
        newest = group[-1]
        before = [r for r in group if r["jaar"] < newest["jaar"]]
        same = [r for r in before if r["indeling"] == newest["indeling"]
                or (r["vergelijkbaar"] == 1 and newest["vergelijkbaar"] == 1)]
        other = [r["jaar"] for r in before if r not in same]
        earlier = same[-1] if same else None
        row = {"indicator": name, "jaar_nieuwste": int(newest["jaar"]),
               "bron_nieuwste": newest["bron"], "waarde_nieuwste": newest["waarde"],
               "score_nieuwste": newest["score"], "indeling_nieuwste": int(newest["indeling"]),
               "jaar_eerder": np.nan, "waarde_eerder": np.nan, "score_eerder": np.nan,
               "indeling_eerder": np.nan, "verschil": np.nan, "verschil_score": np.nan,
               "stap": np.nan, "ander_gebied": max(other) if other else np.nan}
        if earlier is not None:
            row |= {"jaar_eerder": int(earlier["jaar"]), "waarde_eerder": earlier["waarde"],
                    "score_eerder": earlier["score"],
                    "indeling_eerder": int(earlier["indeling"]),
                    "verschil": newest["waarde"] - earlier["waarde"],
                    "verschil_score": newest["score"] - earlier["score"]}
            if richting.get(name, 0) != 0:
                row["stap"] = row["verschil_score"] / points_per_sd
            else:
                spread = spreads.get(name, np.nan)
                row["stap"] = row["verschil"] / spread if spread > 0 else np.nan
        out.append(row)
    frame = pd.DataFrame(out, columns=COLUMNS[:-1])
    # The class: the step in points (score points, or spreads times points per spread).
    frame["klasse"] = change_direction(frame["stap"] * points_per_sd, threshold)
    return frame


def context_spreads(processed: Processed) -> dict[str, float]:
    """Per indicator (scored and context) its spread between the wijken in its reference
    year, by the method's rule (``kompas.scores.reference_frame``); computed once."""
    def compute() -> dict[str, float]:
        frame = reference_frame(processed.result.indicators, processed.kompas, context=True)
        return {str(i): float(s) for i, s in zip(frame["indicator"], frame["spreiding"],
                                                 strict=True) if not pd.isna(s)}

    return processed.derived("context_spreads", compute)


def _area_part(processed: Processed, name: str, rows: Callable[[], pd.DataFrame],
               code: str) -> pd.DataFrame | None:
    """The rows of area ``code`` of the frame ``rows()``, in the order of the frame (None
    where it has none): the positions of every area are found once per loaded data, and
    an area's rows taken when a page first asks for them (a gemeente's pages ask for its
    wijken, not for its buurten)."""
    def index() -> tuple[pd.DataFrame, dict[Any, np.ndarray]]:
        frame = rows()
        return frame, frame.groupby("gebiedscode", sort=False, observed=True).indices

    frame, positions = processed.derived(name, index)
    at = positions.get(str(code))
    if at is None:
        return None
    return processed.derived((name, str(code)), lambda: frame.take(at))


def area_rows(processed: Processed, code: str) -> pd.DataFrame:
    """The kompas rows (``result.indicators``) of one area that apply to it."""
    def applying() -> pd.DataFrame:
        rows = processed.result.indicators
        return rows[rows["van_toepassing"]]

    found = _area_part(processed, "area_rows", applying, code)
    return found if found is not None else processed.result.indicators.iloc[0:0]


def area_themes(processed: Processed, code: str) -> pd.DataFrame:
    """The theme scores (``result.themes``) of one area, in the order of the table (a page
    asks for its area several times)."""
    found = _area_part(processed, "area_themes", lambda: processed.result.themes, code)
    return found if found is not None else processed.result.themes.iloc[0:0]


def area_comparison(processed: Processed, code: str, jaar: int) -> pd.DataFrame:
    """:func:`compare` for one area of the loaded data, over the indicators that apply to
    it, in ``jaar`` or before (computed once per area and year; callers get a copy)."""
    def compute() -> pd.DataFrame:
        rows = area_rows(processed, code)
        kompas = processed.kompas
        richting = {name: ind.richting for name, ind in kompas.indicators.items()}
        return compare(rows, jaar, richting, context_spreads(processed),
                       kompas.betekenisvolle_verandering, kompas.punten_per_sd)

    return processed.derived(("area_comparison", code, int(jaar)), compute).copy()


def is_share(eenheid: str) -> bool:
    """A share in per cent: its change is in procentpunt, never a percentage of it."""
    return str(eenheid).startswith("%")


def change_text(delta: float, eenheid: str) -> str:
    """A change with its sign and unit; a share's change in procentpunt (13,6 % -> 15,4 %
    is "+1,8 procentpunt"); empty where there is none."""
    if pd.isna(delta):
        return ""
    decimals = 0 if eenheid in ("aantal", "") or abs(delta) >= 100 else 1
    delta = round(float(delta), decimals) + 0.0  # no "-0,0" for a change that rounds away
    sign = "+" if delta > 0 else ""
    if is_share(eenheid):
        return f"{sign}{nl_number(delta, 1)} procentpunt"
    return sign + value_text(delta, eenheid)


def change_word(klasse: float, richting: int, has_change: bool) -> str:
    """The class of a change in words: verbeterd / gelijk / verslechterd for a scored
    indicator; duidelijk hoger / ongeveer gelijk / duidelijk lager for context; "niet
    beoordeeld (context)" for a context change without a spread to measure it by."""
    if not has_change:
        return ""
    if pd.isna(klasse):
        return NOT_JUDGED if richting == 0 else ""
    return (CONTEXT_WORDS if richting == 0 else SCORED_WORDS)[float(klasse)]


def carried_areas(processed: Processed) -> dict[tuple[str, int], int]:
    """Per (area, year) whose values the kompas took from another indeling: that indeling
    (the values are carried onto it, an estimate); computed once."""
    def compute() -> dict[tuple[str, int], int]:
        rows = processed.result.indicators
        rows = rows[rows["waarde"].notna() & (rows["indeling"] != rows["jaar"])]
        pairs = rows[["gebiedscode", "jaar", "indeling"]].drop_duplicates(
            ["gebiedscode", "jaar"])
        return {(str(c), int(j)): int(i) for c, j, i in zip(
            pairs["gebiedscode"], pairs["jaar"], pairs["indeling"], strict=True)}

    return processed.derived("carried_areas", compute)


#: Nederland's code in the indicator table (the KWB tables' NL00 row).
NEDERLAND = "NL00"


def reference_values(processed: Processed, code: str, jaar: int) -> pd.DataFrame:
    """Per indicator the value of area ``code`` (the gemeente, or NL00 for Nederland) in
    ``jaar`` or, when that year has none, in the latest earlier year with one: columns
    waarde and jaar, indexed by indicator. Only values on the area's own indeling. Computed
    once per loaded data, area and year; callers get a copy."""
    return shared_reference_values(processed, code, jaar).copy()


def shared_reference_values(processed: Processed, code: str, jaar: int) -> pd.DataFrame:
    """:func:`reference_values` without a copy: the one frame every page of the loaded data
    shares, for callers that only read it."""
    def compute() -> pd.DataFrame:
        table = processed.table
        rows = table[(table["gebiedscode"] == code) & (table["jaar"] <= jaar)
                     & (table["indeling"] == table["jaar"]) & table["waarde"].notna()]
        rows = rows.sort_values("jaar", kind="stable")
        return rows.groupby("indicator")[["waarde", "jaar"]].last()

    return processed.derived(("reference_values", code, int(jaar)), compute)


def _year(references: pd.DataFrame, name: str) -> str:
    return str(int(references.loc[name, "jaar"])) if name in references.index else ""


def _carried_text(jaar: float, indeling: float, flag: str = "") -> str:
    """"2015 omgerekend naar de indeling van 2021 (schatting)" for a value carried onto
    another indeling, with the warning of rapport_herindeling.csv where there is one."""
    if pd.isna(jaar) or pd.isna(indeling) or int(jaar) == int(indeling):
        return ""
    text = f"{int(jaar)} omgerekend naar de indeling van {int(indeling)} (schatting)"
    return f"{text}; {flag}" if flag else text


def profile_table(processed: Processed, code: str, jaar: int) -> pd.DataFrame:
    """The indicator table of one area and year, in Dutch, ready to show or export.

    Columns: thema, indicator, waarde (the value of ``jaar``, Dutch notation, with unit),
    nieuwste (the newest value up to ``jaar``, with its year: the value of ``jaar`` or, where
    that year has none, the latest earlier one), score (of ``jaar``) and score nieuwste (of
    the newest value, with its year where that is not ``jaar``), the same indicator for the
    gemeente and for Nederland as reference (columns "gemeente", "jaar gemeente",
    "Nederland", "jaar Nederland": the value of ``jaar`` or the latest earlier one, and its
    year), trend, richting, soort, gebied-specifiek, bron, peildatum, omrekening
    ("omgerekend (schatting)" for a value of ``jaar`` carried from an older indeling, with
    the warning of rapport_herindeling.csv where the buurt's carried count of the kind the
    indicator follows differs strongly from the first count on the new buurten), eerder
    (the latest value before the newest one of the same area, with its year: see
    :func:`compare`), omrekening eerder (which of the newest and the earlier value were
    carried onto another indeling), verandering (newest minus earlier, a share's change in
    procentpunt), ontwikkeling (verbeterd / gelijk / verslechterd by the method's rule on
    the score; duidelijk hoger / ongeveer gelijk / duidelijk lager for context, by a quarter
    of its spread between the wijken) and reden (why the value of ``jaar`` or its score is
    missing, in plain Dutch). The peildatum is empty where there is no value.
    """
    rows = area_rows(processed, code)
    # One dict per indicator (its row), looked up by name: much cheaper than .loc per name.
    # Only the columns read here and by missing_reason: every column of every row was most
    # of the cost.
    used = [c for c in ("indicator", "waarde", "score", "bron", "indeling", "dekking")
            if c in rows.columns]
    current = rows.loc[rows["jaar"] == jaar, used].set_index("indicator").to_dict("index")
    compared = area_comparison(processed, code, jaar).set_index("indicator").to_dict("index")
    threshold = processed.kompas.betekenisvolle_verandering
    kinds = weight_table()
    peildata = {name: item.peildatum for name, item in catalogue_indicators().items()}
    gemeente = shared_reference_values(processed, str(processed.kompas.gemeente), jaar)
    nederland = shared_reference_values(processed, NEDERLAND, jaar)
    out = []
    for name, ind in processed.kompas.indicators.items():
        if not ind.applies_to(code):
            continue
        naam, eenheid = indicator_label(processed, name)
        kind = kinds.get(name, ("", ""))[0]
        row = current.get(name)
        waarde = row["waarde"] if row is not None else np.nan
        score = row["score"] if row is not None else np.nan
        c = compared.get(name)
        has_earlier = c is not None and not pd.isna(c["jaar_eerder"])
        reden = missing_reason(processed, name, code, jaar, row)
        # The source of the value shown: of ``jaar``, else of the newest earlier value.
        bron = row["bron"] if row is not None and not pd.isna(row["bron"]) else ""
        if c is not None and c["jaar_nieuwste"] != jaar and isinstance(c["bron_nieuwste"], str):
            bron = c["bron_nieuwste"]
        carried = row is not None and not pd.isna(waarde) and row["indeling"] != jaar
        flag = _flags(processed, code, jaar).get(kind, "") if carried else ""
        moved = []
        if c is not None and c["jaar_nieuwste"] != jaar:
            moved.append(_carried_text(c["jaar_nieuwste"], c["indeling_nieuwste"], _flags(
                processed, code, int(c["jaar_nieuwste"])).get(kind, "")))
        if has_earlier:
            moved.append(_carried_text(c["jaar_eerder"], c["indeling_eerder"], _flags(
                processed, code, int(c["jaar_eerder"])).get(kind, "")))
        newest_score = "context" if not ind.scored else "" if c is None else \
            nl_number(c["score_nieuwste"], 0) + ("" if c["jaar_nieuwste"] == jaar
                                                 else f" ({int(c['jaar_nieuwste'])})")
        out.append({
            "thema": processed.kompas.theme_name(ind.thema),
            "indicator": naam,
            "waarde": value_text(waarde, eenheid),
            "nieuwste": "" if c is None else
            f"{value_text(c['waarde_nieuwste'], eenheid)} ({int(c['jaar_nieuwste'])})",
            "gemeente": value_text(gemeente["waarde"].get(name, np.nan), eenheid),
            "jaar gemeente": _year(gemeente, name),
            "Nederland": value_text(nederland["waarde"].get(name, np.nan), eenheid),
            "jaar Nederland": _year(nederland, name),
            "score": nl_number(score, 0) if ind.scored else "context",
            "score nieuwste": newest_score,
            "trend": "–" if c is None else
            _trend(c["verschil_score"], c["verschil"], ind.richting, threshold),
            "richting": RICHTING[ind.richting],
            "soort": ind.soort,
            "gebied-specifiek": "ja" if ind.gebieden else "",
            "bron": bron,
            "peildatum": "" if pd.isna(waarde) else
            f"{peildata[name]} {jaar}" if peildata.get(name) else str(jaar),
            "omrekening": (f"{CARRIED}; {flag}" if flag else CARRIED) if carried else "",
            "eerder": f"{value_text(c['waarde_eerder'], eenheid)} ({int(c['jaar_eerder'])})"
            if has_earlier else "" if c is None or pd.isna(c["ander_gebied"]) else
            f"geen eerdere meting van hetzelfde gebied ({int(c['ander_gebied'])}: andere "
            "grenzen)",
            "omrekening eerder": "; ".join(t for t in moved if t),
            "verandering": "" if not has_earlier else change_text(c["verschil"], eenheid),
            "ontwikkeling": "" if not has_earlier else
            change_word(c["klasse"], ind.richting, not pd.isna(c["verschil"])),
            "reden": reden,
        })
    return pd.DataFrame(out)


def without_figures(profile: pd.DataFrame) -> pd.Series:
    """The rows of a :func:`profile_table` without a value in its year or before: the wijk
    page and notebook 03 list them apart, each with its reason."""
    return profile["nieuwste"] == ""
