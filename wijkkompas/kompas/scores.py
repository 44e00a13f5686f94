"""Scores of the wijkkompas on a fixed reference frame, themes, change and traceability.

For each scored indicator:

    score = 100 + richting x punten_per_sd x (waarde - referentie) / spreiding

bounded to [ondergrens, bovengrens], where *referentie* is the gemeente's own value in the
base year and *spreiding* the standard deviation between its wijken in that year. The frame
never moves: a later year is scored against the same referentie and spreiding, so a change of
score is a change in the area, not in the reference. An indicator first measured after the
base year gets its frame from its first year with a gemeente value and at least three wijken.

A theme score is the (by default unweighted) mean of the scores of the theme's scored
indicators that apply to the area, provided at least ``minimale_dekking`` of them have a
score; otherwise it is "geen score". A missing indicator lowers the coverage, never the
score. Objective and subjective indicators are also scored apart ("deel").

Many gemeenten are scored in one pass (:func:`score_gemeenten`): every row carries the
``gemeente`` it lies in, and every step is a group operation over the rows of all
gemeenten, each gemeente with its own kompas (indicators, frame, base year, bounds,
thresholds). :func:`score` is the same pass for one gemeente. The steps, in the order of
docs/methode.md: :func:`select_rows` (which figure of an area and year counts),
:func:`reference_frame` (the fixed frame), :func:`base_year`, :func:`indicator_scores`,
:func:`theme_scores` with :func:`add_changes` (change and afglijden), and
:func:`sensitivity` (ranks under other weights).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from wijkkompas.gebied import gemeente_codes
from wijkkompas.kompas.classes import change_direction, classify, label
from wijkkompas.kompas.definition import Kompas

DELEN = ("totaal", "objectief", "subjectief")
MIN_WIJKEN = 3
SENSITIVITY_DRAWS = 200
WEIGHT_RANGE = (0.5, 2.0)
#: Where the generator of the draws starts (docs/methode.md: "startgetal").
SEED = 141
KEYS = ["gebiedscode", "jaar", "indicator"]

#: Kompassen by the gemeente they score (``Kompas.gemeente``), in the order of scoring.
Kompassen = dict[str, Kompas]


def _by_gemeente(kompassen: Iterable[Kompas]) -> Kompassen:
    return {str(k.gemeente): k for k in kompassen}


def _gemeente_column(values: object, kompassen: Kompassen) -> pd.Categorical:
    """The ``gemeente`` column while scoring: a categorical in the order of ``kompassen``,
    so that a setting per row is a lookup by its code and sorting by it is scoring order."""
    return pd.Categorical(values, categories=list(kompassen))


def _tagged(frame: pd.DataFrame, kompas: Kompas) -> pd.DataFrame:
    """A frame of one gemeente with its ``gemeente`` column (the one-gemeente calls)."""
    kompassen = _by_gemeente([kompas])
    return frame.assign(gemeente=_gemeente_column([kompas.gemeente] * len(frame), kompassen))


def _untagged(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.drop(columns="gemeente")


def _last(frame: pd.DataFrame, column: str = "gemeente") -> pd.DataFrame:
    """``frame`` with ``column`` moved to the end (where the written tables have it)."""
    return frame[[c for c in frame.columns if c != column] + [column]]


def _in_order(frame: pd.DataFrame, kompassen: Kompassen, by: list[str]) -> pd.DataFrame:
    """Rows ordered by gemeente in the order of ``kompassen``, then by ``by`` (stable), with
    a new RangeIndex: the order a gemeente-by-gemeente scoring would give."""
    number = frame["gemeente"].cat.codes.to_numpy()
    ordered = frame.assign(_nummer=number).sort_values(["_nummer", *by], kind="stable")
    return ordered.drop(columns="_nummer").reset_index(drop=True)


def _text_categories(values: pd.Series | Sequence[str]) -> pd.CategoricalDtype:
    """Categories of text in text order: sorting by them sorts as the text would."""
    return pd.CategoricalDtype(sorted({str(v) for v in pd.unique(pd.Series(values))}))


def _themes(kompassen: Kompassen) -> pd.CategoricalDtype:
    """The theme codes of every kompas, as categories in text order."""
    return _text_categories([t.code for k in kompassen.values() for t in k.themes])


def _per_row(frame: pd.DataFrame, kompassen: Kompassen, field: str) -> np.ndarray:
    """A setting of each row's kompas (``punten_per_sd``, ...) as an array along the rows."""
    values = np.array([getattr(k, field) for k in kompassen.values()], dtype="float64")
    return values[frame["gemeente"].cat.codes.to_numpy()]


# --------------------------------------------------------------------------- rows

def select_rows(table: pd.DataFrame, kompas: Kompas, verdicts: pd.DataFrame | None = None,
                target: int | None = None) -> pd.DataFrame:
    """One row per area, year and kompas indicator, chosen so that years compare.

    For a wijk or buurt whose boundary is not the same as in the target indeling (per
    ``verdicts``, from indelingen.csv), the value carried onto the target indeling is used;
    otherwise the value on its own indeling. ``vergelijkbaar`` says whether the row is on
    the target's geography (True), or that nothing is known about it (NaN).
    """
    return _untagged(_select(table, _by_gemeente([kompas]), verdicts, target))


def _used_in_text_order(values: pd.Categorical) -> pd.Categorical:
    """``values`` with only the categories it uses, in text order (what
    ``remove_unused_categories`` and ``reorder_categories(sorted(...))`` give), the used
    ones found by counting codes rather than sorting them."""
    codes = values.codes
    present = np.flatnonzero(np.bincount(codes[codes >= 0], minlength=len(values.categories)))
    used = values.categories[present]
    ordered = sorted(used)
    position = {category: i for i, category in enumerate(ordered)}
    mapping = np.full(len(values.categories) + 1, -1, dtype=np.int64)  # -1: missing
    mapping[present] = [position[category] for category in used]
    return pd.Categorical.from_codes(mapping[codes],
                                     categories=pd.Index(ordered, dtype=used.dtype),
                                     ordered=values.ordered)


def _select(table: pd.DataFrame, kompassen: Kompassen, verdicts: pd.DataFrame | None,
            target: int | None) -> pd.DataFrame:
    """:func:`select_rows` for every gemeente of ``kompassen`` at once, each row with its
    ``gemeente``. The gemeente of a row is found once per distinct area code."""
    gemeente = gemeente_codes(table["gebiedscode"])
    wanted = pd.MultiIndex.from_tuples(
        [(g, name) for g, k in kompassen.items() for name in k.indicators],
        names=["gemeente", "indicator"])
    ours = pd.MultiIndex.from_arrays([gemeente, table["indicator"]]).isin(wanted)
    rows = table[ours].assign(gemeente=gemeente[ours].cat.set_categories(list(kompassen)))
    for column in rows.columns.drop("gemeente"):
        if isinstance(rows[column].dtype, pd.CategoricalDtype):
            # Text kept as categories (as the build holds its table) is sorted, grouped and
            # pivoted by its categories: in text order, as plain text would be.
            rows[column] = _used_in_text_order(rows[column].array)
    if target is None:
        rows = rows[rows["indeling"] == rows["jaar"]].copy()
        rows["vergelijkbaar"] = np.where(rows["niveau"] == "gemeente", True, np.nan)
        return _in_order(_last(rows), kompassen, [])
    own = rows[rows["indeling"] == rows["jaar"]]
    carried = rows[(rows["indeling"] == target) & (rows["jaar"] != target)]
    # Areas whose boundary is the same as in the target indeling ("gelijk" in indelingen.csv)
    same = pd.MultiIndex.from_arrays([[], []])
    if verdicts is not None and len(verdicts):
        ok = verdicts[verdicts["oordeel"] == "gelijk"]
        same = pd.MultiIndex.from_arrays([ok["gebiedscode"].astype(str),
                                          ok["vergeleken_met"].astype(int)])

    def keyed(frame: pd.DataFrame, columns: list[str]) -> pd.MultiIndex:
        return pd.MultiIndex.from_arrays([frame[c] for c in columns])

    own_is_same = (keyed(own, ["gebiedscode", "jaar"]).isin(same)
                   | (own["niveau"] == "gemeente").to_numpy()
                   | (own["jaar"] == target).to_numpy())
    has_carried = keyed(own, KEYS).isin(keyed(carried, KEYS))
    keep = own_is_same | ~has_carried
    keep_own = own[keep].copy()
    keep_own["vergelijkbaar"] = np.where(own_is_same[keep], True, np.nan)
    use_carried = carried[~keyed(carried, KEYS).isin(keyed(keep_own, KEYS))].copy()
    use_carried["vergelijkbaar"] = True
    out = pd.concat([keep_own, use_carried], ignore_index=True)
    out = out.drop_duplicates(KEYS, keep="first")
    return _in_order(_last(out), kompassen, [])


# --------------------------------------------------------------------------- frame

def reference_frame(rows: pd.DataFrame, kompas: Kompas, context: bool = False) -> pd.DataFrame:
    """Per scored indicator: its reference year, value (the gemeente) and spread (wijken).
    With ``context`` also per context indicator, by the same rule (the pages use its spread
    to say whether a context indicator changed noticeably; it is never scored)."""
    frame = _frame(_tagged(rows, kompas), _by_gemeente([kompas]), context)
    return _untagged(frame)


def _frame(rows: pd.DataFrame, kompassen: Kompassen, context: bool = False) -> pd.DataFrame:
    """:func:`reference_frame` of every gemeente: per gemeente and indicator, the first
    year from its kompas's basisjaar on with a gemeente value and a spread between at least
    ``MIN_WIJKEN`` wijken."""
    data = rows[rows["waarde"].notna()]
    data = data[data["jaar"].to_numpy() >= _per_row(data, kompassen, "basisjaar")]
    # Stable order: within a gemeente, indicator and year the rows keep their table order,
    # so the gemeente value is its first row and the spread is over the wijken in table
    # order (the same sums, to the last digit, as one gemeente at a time).
    groups = ["gemeente", "indicator", "jaar"]
    data = data.sort_values(groups, kind="stable")
    is_own = (data["gebiedscode"].to_numpy(dtype=object)
              == data["gemeente"].astype(object).to_numpy())
    own = data[is_own].drop_duplicates(groups)
    candidates: dict[tuple[str, str], list[tuple[int, float]]] = {}
    for gemeente, code, year, value in zip(own["gemeente"], own["indicator"], own["jaar"],
                                           own["waarde"], strict=True):
        candidates.setdefault((gemeente, code), []).append((year, value))
    wijken = data[data["niveau"] == "wijk"]
    positions = wijken.groupby(groups, sort=False).indices
    values = wijken["waarde"].to_numpy()
    out = []
    for gemeente, kompas in kompassen.items():
        for code, ind in kompas.indicators.items():
            if not ind.scored and not context:
                continue
            found = None
            for year, value in candidates.get((gemeente, code), []):
                spread_of = values[positions.get((gemeente, code, year), [])]
                spread = (float(pd.Series(spread_of).std(ddof=0))
                          if len(spread_of) >= MIN_WIJKEN else 0.0)
                if spread > 0:
                    found = (year, float(value), spread, len(spread_of))
                    break
            reason = "" if found else (
                f"geen gemeentewaarde met ten minste {MIN_WIJKEN} wijken in of na "
                f"{kompas.basisjaar}")
            year, value, spread, n = found or (np.nan, np.nan, np.nan, 0)
            out.append({"indicator": code, "thema": ind.thema, "richting": ind.richting,
                        "soort": ind.soort, "referentiejaar": year, "referentiewaarde": value,
                        "spreiding": spread, "wijken_in_referentie": n, "reden": reason,
                        "gemeente": gemeente})
    frame = pd.DataFrame(out, columns=["indicator", "thema", "richting", "soort",
                                       "referentiejaar", "referentiewaarde", "spreiding",
                                       "wijken_in_referentie", "reden", "gemeente"])
    frame["gemeente"] = _gemeente_column(frame["gemeente"], kompassen)
    return frame


def base_year(frame: pd.DataFrame, kompas: Kompas) -> int:
    """The year the scores count from: the kompas's ``basisjaar`` when at least one scored
    indicator has its reference there; else the first reference year, as the gemeente has
    no figures in its base year (the basis-set's 2015 for data fetched from 2017 on); the
    ``basisjaar`` itself when no indicator has a reference."""
    years = frame["referentiejaar"].dropna() if len(frame) else pd.Series(dtype="float64")
    if years.empty or (years == kompas.basisjaar).any():
        return kompas.basisjaar
    return int(years.min())


# --------------------------------------------------------------------------- scores

def indicator_scores(rows: pd.DataFrame, frame: pd.DataFrame, kompas: Kompas) -> pd.DataFrame:
    """Every kompas row with its score (NaN for context, unscorable or missing values)."""
    kompassen = _by_gemeente([kompas])
    return _untagged(_indicator_scores(_tagged(rows, kompas), _tagged(frame, kompas),
                                       kompassen))


def _meta(kompassen: Kompassen) -> pd.DataFrame:
    """The kompas indicators of every gemeente: thema, richting, soort, gewicht."""
    meta = pd.DataFrame([{"gemeente": g, "indicator": i.indicator, "thema": i.thema,
                          "richting": i.richting, "soort": i.soort, "gewicht": i.gewicht,
                          "gebied_specifiek": bool(i.gebieden)}
                         for g, k in kompassen.items() for i in k.indicators.values()])
    meta["gemeente"] = _gemeente_column(meta["gemeente"], kompassen)
    return meta


def _applies(frame: pd.DataFrame, kompassen: Kompassen) -> np.ndarray:
    """Whether each row's indicator applies to its area (``gebiedscode``, ``indicator``,
    ``gemeente``, ``gebied_specifiek``): basis-set indicators everywhere, gebied-specifieke
    ones to their wijken and the buurten in them (asked once per distinct area, indicator
    and gemeente)."""
    answer = np.ones(len(frame), dtype=bool)
    specific = frame["gebied_specifiek"].to_numpy(dtype=bool)
    if specific.any():
        rows = frame[specific]
        keys = pd.MultiIndex.from_arrays([rows["gebiedscode"], rows["indicator"],
                                          rows["gemeente"].astype(object)])
        distinct = keys.unique()
        answers = np.fromiter((kompassen[g].indicators[i].applies_to(c)
                               for c, i, g in distinct), dtype=bool, count=len(distinct))
        answer[specific] = answers[distinct.get_indexer(keys)]
    return answer


def _indicator_scores(rows: pd.DataFrame, frame: pd.DataFrame,
                      kompassen: Kompassen) -> pd.DataFrame:
    """:func:`indicator_scores` of every gemeente, each on its own frame and bounds."""
    data = rows.merge(_meta(kompassen), on=["gemeente", "indicator"], how="left")
    data = data.merge(frame[["gemeente", "indicator", "referentiejaar", "referentiewaarde",
                             "spreiding"]], on=["gemeente", "indicator"], how="left")
    data["van_toepassing"] = _applies(data, kompassen)
    raw = 100 + data["richting"] * _per_row(data, kompassen, "punten_per_sd") * (
        (data["waarde"] - data["referentiewaarde"]) / data["spreiding"])
    data["score"] = raw.clip(_per_row(data, kompassen, "ondergrens"),
                             _per_row(data, kompassen, "bovengrens"))
    data.loc[(data["richting"] == 0) | ~data["van_toepassing"], "score"] = np.nan
    return _last(data)


def _applicable(kompassen: Kompassen, frame: pd.DataFrame, areas: pd.DataFrame) -> pd.DataFrame:
    """Per area and year, each scorable indicator that applies to it (the coverage base),
    in the order of its kompas."""
    scorable = frame.loc[frame["referentiewaarde"].notna(), ["gemeente", "indicator"]]
    scorable = scorable.merge(_meta(kompassen).drop(columns="richting"),
                              on=["gemeente", "indicator"])
    codes = areas[["gebiedscode", "gemeente"]].drop_duplicates("gebiedscode")
    pairs = codes.merge(scorable, on="gemeente")
    pairs = pairs[_applies(pairs, kompassen)][["gebiedscode", "indicator", "thema", "soort",
                                               "gewicht"]]
    # A row per area, year and indicator: nationally millions, so text as categories.
    pairs = pairs.astype({"indicator": _text_categories(pairs["indicator"]),
                          "thema": _themes(kompassen), "soort": _text_categories(pairs["soort"])})
    return areas[["gebiedscode", "jaar"]].merge(pairs, on="gebiedscode")


def theme_scores(scored: pd.DataFrame, frame: pd.DataFrame, kompas: Kompas) -> pd.DataFrame:
    """Theme scores per area, year and deel, with coverage, class and changes."""
    kompassen = _by_gemeente([kompas])
    return _untagged(_theme_scores(_tagged(scored, kompas), _tagged(frame, kompas),
                                   kompassen))


def _theme_scores(scored: pd.DataFrame, frame: pd.DataFrame,
                  kompassen: Kompassen) -> pd.DataFrame:
    """:func:`theme_scores` of every gemeente, each with its own themes and coverage."""
    areas = scored[["gebiedscode", "gebiedsnaam", "niveau", "jaar", "gemeente"]].drop_duplicates(
        ["gebiedscode", "jaar"])
    base = _applicable(kompassen, frame, areas)
    # Keys of one type on both sides (the indicator as the categories of ``base``), so
    # that rows are matched by their codes: an indicator outside them matches nothing.
    values = scored[["gebiedscode", "jaar", "indicator", "score"]]
    values = values[values["indicator"].isin(base["indicator"].cat.categories)].astype(
        {"indicator": base["indicator"].dtype})
    base = base.merge(values, on=KEYS, how="left")
    del values
    keys = ["gebiedscode", "jaar", "thema", "deel"]
    delen = _text_categories(DELEN)
    parts = []
    for deel in DELEN:
        subset = base if deel == "totaal" else base[base["soort"] == deel]
        subset = subset.assign(w=subset["gewicht"].where(subset["score"].notna()),
                               ws=subset["gewicht"] * subset["score"],
                               has=subset["score"].notna(),
                               deel=pd.Categorical.from_codes(
                                   np.full(len(subset), delen.categories.get_loc(deel)),
                                   dtype=delen))
        agg = subset.groupby(keys, sort=False).agg(
            indicatoren=("indicator", "size"), met_score=("has", "sum"),
            gewogen=("ws", "sum"), gewicht=("w", "sum"))
        parts.append(agg.reset_index())
    # Every area gets a row for every theme of its kompas and every deel, "geen score"
    # where nothing applies.
    names = pd.DataFrame([{"gemeente": g, "thema": t.code, "thema_naam": t.naam}
                          for g, k in kompassen.items() for t in k.themes])
    # Nationally millions of rows: the text of the theme table as categories (made
    # before the rows are, so that every merge matches codes).
    names = names.astype({"gemeente": _gemeente_column([], kompassen).dtype,
                          "thema": _themes(kompassen),
                          "thema_naam": _text_categories(names["thema_naam"])})
    grid = areas.merge(names[["gemeente", "thema"]], on="gemeente")
    grid = grid.merge(pd.DataFrame({"deel": pd.Categorical(DELEN, dtype=delen)}),
                      how="cross")
    themes = grid.merge(pd.concat(parts, ignore_index=True), on=keys, how="left")
    del grid, parts, base
    themes[["indicatoren", "met_score"]] = themes[["indicatoren", "met_score"]].fillna(0)
    themes["dekking"] = themes["met_score"] / themes["indicatoren"].where(
        themes["indicatoren"] > 0)
    enough = ((themes["dekking"] >= _per_row(themes, kompassen, "minimale_dekking"))
              & (themes["met_score"] > 0))
    # Sums of a theme without any weighted score are 0 (or, from an empty group, not even
    # numbers): such a theme has no score, never a division by zero.
    gewogen = pd.to_numeric(themes["gewogen"], errors="coerce").astype("float64")
    gewicht = pd.to_numeric(themes["gewicht"], errors="coerce").astype("float64")
    themes["score"] = (gewogen / gewicht.where(gewicht > 0)).where(enough)
    themes = themes.drop(columns=["gewogen", "gewicht"])
    themes["klasse"] = classify(themes["score"]).to_numpy()
    labels = {klasse: label(klasse) for klasse in themes["klasse"].unique()}
    themes["klasse_label"] = themes["klasse"].map(labels).astype(
        _text_categories(labels.values()))
    named = themes[["gemeente", "thema"]].merge(names, on=["gemeente", "thema"], how="left")
    themes["thema_naam"] = named["thema_naam"].array
    return _add_changes(themes, kompassen)


def add_changes(themes: pd.DataFrame, kompas: Kompas) -> pd.DataFrame:
    """Change against the previous year with a score and against the base year; afglijden."""
    return _untagged(_add_changes(_tagged(themes, kompas), _by_gemeente([kompas])))


def _add_changes(themes: pd.DataFrame, kompassen: Kompassen) -> pd.DataFrame:
    """:func:`add_changes` of every gemeente, each with its own base year and thresholds.

    Per area, theme and deel, over the years with a score: the change against the previous
    year with a score (``verandering_vorig_jaar``; a year without a score in between is
    skipped, whatever happened to the area), the change against the score of the base
    year (``verandering_basisjaar``; unknown without a score in the base year), whether the
    change is meaningful (``ontwikkeling``, at least ``betekenisvolle_verandering``) and
    ``afglijden``: the last ``afglijden_jaren`` changes are all declines and together at
    least ``betekenisvolle_verandering``."""
    themes = _in_order(themes, kompassen, ["gebiedscode", "thema", "deel", "jaar"])
    keys = ["gebiedscode", "thema", "deel"]
    with_score = themes[themes["score"].notna()]
    previous = with_score.groupby(keys)["score"].shift(1)
    themes["verandering_vorig_jaar"] = np.nan
    themes.loc[with_score.index, "verandering_vorig_jaar"] = with_score["score"] - previous
    at_base = with_score[with_score["jaar"].to_numpy()
                         == _per_row(with_score, kompassen, "basisjaar")]
    base = themes[keys].merge(at_base[[*keys, "score"]], on=keys, how="left")["score"]
    themes["verandering_basisjaar"] = themes["score"] - base.to_numpy()
    thresholds = _per_row(themes, kompassen, "betekenisvolle_verandering")
    direction = pd.Series(np.nan, index=themes.index)
    for threshold in np.unique(thresholds):
        mine = thresholds == threshold
        direction[mine] = change_direction(themes.loc[mine, "verandering_vorig_jaar"],
                                           float(threshold)).to_numpy()
    words = {-1.0: "verslechterd", 0.0: "gelijk gebleven", 1.0: "verbeterd"}
    themes["ontwikkeling"] = direction.map(words).astype(_text_categories(words.values()))
    themes["afglijden"] = _afglijden(themes.loc[with_score.index], kompassen).reindex(
        themes.index, fill_value=False)
    return _last(themes)


def _afglijden(with_score: pd.DataFrame, kompassen: Kompassen) -> pd.Series:
    """Per row with a score: the ``afglijden_jaren`` changes up to and including this one
    (within its area, theme and deel) are all declines that add up to at least
    ``betekenisvolle_verandering``. A row needs that many changes before it, so the first
    scored year of a group (no change) never counts."""
    position = with_score.groupby(["gebiedscode", "thema", "deel"]).cumcount().to_numpy()
    deltas = with_score["verandering_vorig_jaar"].to_numpy()
    steps_of = _per_row(with_score, kompassen, "afglijden_jaren").astype(int)
    thresholds = _per_row(with_score, kompassen, "betekenisvolle_verandering")
    out = np.zeros(len(with_score), dtype=bool)
    # The settings are those of the kompassen: taken from them, not from every row.
    settings = {(int(s), float(t)) for s, t in zip(
        np.array([k.afglijden_jaren for k in kompassen.values()], dtype="float64").astype(int),
        np.array([k.betekenisvolle_verandering for k in kompassen.values()], dtype="float64"),
        strict=True)}
    for steps, threshold in sorted(settings):
        rows = np.flatnonzero((steps_of == steps) & (thresholds == threshold)
                              & (position >= steps))
        # One window of the last `steps` changes per row, summed as one row of numbers.
        window = deltas[rows[:, None] + np.arange(1 - steps, 1)[None, :]]
        slides = ((window < 0).all(axis=1) & ~np.isnan(window).any(axis=1)
                  & (window.sum(axis=1) <= -threshold))
        out[rows[slides]] = True
    return pd.Series(out, index=with_score.index)


# --------------------------------------------------------------------------- sensitivity

def sensitivity(scored: pd.DataFrame, kompas: Kompas, seed: int = SEED) -> pd.DataFrame:
    """How far each wijk's theme rank moves when the indicator weights vary.

    For every year and theme, the weights of the theme's indicators are drawn
    ``SENSITIVITY_DRAWS`` times uniformly from ``WEIGHT_RANGE`` x their own weight; the
    result is each wijk's rank with the kompas's own weights (1 = most favourable) and the
    lowest and highest rank it takes over the draws.
    """
    return _untagged(_sensitivity(_tagged(scored, kompas), _by_gemeente([kompas]), seed))


def _min_ranks(totals: np.ndarray) -> np.ndarray:
    """Per column of ``totals`` (wijken x weightings), each wijk's rank with the highest
    total first, equal totals (to 9 decimals) sharing the lowest rank: pandas'
    ``rank(method="min")`` of ``-totals.round(9)``, for every column at once."""
    values = -totals.round(9)
    order = np.argsort(values, axis=0, kind="stable")
    ordered = np.take_along_axis(values, order, axis=0)
    n = len(values)
    # In sorted order a value's rank is 1 + the position of the first value equal to it.
    new = np.ones(ordered.shape, dtype=bool)
    new[1:] = ordered[1:] != ordered[:-1]
    first = np.maximum.accumulate(np.where(new, np.arange(n)[:, None], 0), axis=0)
    ranks = np.empty(values.shape, dtype=np.int64)
    np.put_along_axis(ranks, order, first + 1, axis=0)
    return ranks


def _sensitivity(scored: pd.DataFrame, kompassen: Kompassen, seed: int) -> pd.DataFrame:
    """:func:`sensitivity` of every gemeente. Per gemeente the draws come from one
    generator started at ``seed``, year by year and theme by theme, as the method says;
    each year and theme is one matrix product of its wijken's scores (wijken x indicators)
    with the weights (indicators x draws) and a ranking of every column."""
    wijken = scored[(scored["niveau"] == "wijk") & scored["score"].notna()]
    columns = ["gebiedscode", "jaar", "thema", "rang", "rang_min", "rang_max", "wijken",
               "gemeente"]
    if wijken.empty:
        return pd.DataFrame(columns=columns)
    # The scores of a wijk, year and theme side by side, one column per indicator (the
    # mean of duplicate rows, as a pivot table takes it), rows and columns sorted.
    matrix = wijken.pivot_table(index=["gemeente", "jaar", "thema", "gebiedscode"],
                                columns="indicator", values="score", observed=True)
    names = matrix.columns.to_numpy()
    index = matrix.index
    codes = index.get_level_values(3).to_numpy(dtype=object)
    values_all = matrix.to_numpy()
    groups = pd.Series(np.arange(len(index))).groupby(
        [index.get_level_values(0), index.get_level_values(1), index.get_level_values(2)],
        sort=False).indices
    by_gemeente: dict[str, list[tuple[tuple[str, int, str], np.ndarray]]] = {}
    for key, where in groups.items():
        by_gemeente.setdefault(key[0], []).append((key, where))
    found: dict[str, list[np.ndarray]] = {name: [] for name in columns}
    for gemeente, kompas in kompassen.items():
        rng = np.random.default_rng(seed)
        for (_, jaar, thema), where in sorted(by_gemeente.get(gemeente, []),
                                              key=lambda item: item[0][1:]):
            block = values_all[where]
            present = ~np.isnan(block).all(axis=0)
            block = block[:, present]
            if len(block) < 2:
                continue
            own_w = np.array([kompas.indicators[c].gewicht for c in names[present]])
            draws = rng.uniform(*WEIGHT_RANGE, size=(SENSITIVITY_DRAWS, len(own_w))) * own_w
            weights = np.vstack([own_w, draws]).T  # indicators x (own weights, draws)
            mask = ~np.isnan(block)
            totals = (np.nan_to_num(block) @ weights) / (mask @ weights)
            ranks = _min_ranks(totals)
            n = len(block)
            found["gebiedscode"].append(codes[where])
            found["jaar"].append(np.full(n, jaar, dtype=np.int64))
            found["thema"].append(np.full(n, thema, dtype=object))
            found["rang"].append(ranks[:, 0])
            found["rang_min"].append(ranks[:, 1:].min(axis=1))
            found["rang_max"].append(ranks[:, 1:].max(axis=1))
            found["wijken"].append(np.full(n, n, dtype=np.int64))
            found["gemeente"].append(np.full(n, gemeente, dtype=object))
    if not found["rang"]:
        return pd.DataFrame(columns=list(found))
    out = pd.DataFrame({name: np.concatenate(parts) for name, parts in found.items()})
    out["gemeente"] = _gemeente_column(out["gemeente"], kompassen)
    return out


# --------------------------------------------------------------------------- results

@dataclass
class KompasResult:
    kompas: Kompas
    frame: pd.DataFrame  # reference per indicator
    indicators: pd.DataFrame  # every row with its score
    themes: pd.DataFrame  # theme scores per area, year and deel
    sensitivity: pd.DataFrame


@dataclass
class GemeentenResult:
    """The scores of several gemeenten, each table with the rows of all of them and a last
    column ``gemeente``; ``kompassen`` as they scored (with the base year the scores count
    from), in the order of scoring."""

    kompassen: Kompassen
    frame: pd.DataFrame
    indicators: pd.DataFrame
    themes: pd.DataFrame
    sensitivity: pd.DataFrame

    def of(self, gemeente: str) -> KompasResult:
        """The result of one gemeente, as :func:`score` gives it."""
        def rows(frame: pd.DataFrame) -> pd.DataFrame:
            mine = frame[frame["gemeente"] == gemeente] if len(frame) else frame
            return _untagged(mine).reset_index(drop=True)

        return KompasResult(self.kompassen[gemeente], rows(self.frame), rows(self.indicators),
                            rows(self.themes), rows(self.sensitivity))


def score(table: pd.DataFrame, kompas: Kompas, verdicts: pd.DataFrame | None = None,
          target: int | None = None) -> KompasResult:
    """Score the indicator table with a kompas definition."""
    return score_gemeenten(table, [kompas], verdicts, target).of(str(kompas.gemeente))


def score_gemeenten(table: pd.DataFrame, kompassen: Sequence[Kompas],
                    verdicts: pd.DataFrame | None = None,
                    target: int | None = None) -> GemeentenResult:
    """Score the indicator table for every gemeente of ``kompassen`` (each a kompas after
    ``for_gemeente``), each on its own frame, in one pass over the table."""
    by_gemeente = _by_gemeente(kompassen)
    rows = _select(table, by_gemeente, verdicts, target)
    # Numbers that come in a column of objects are scored as numbers (text would be refused).
    rows["waarde"] = rows["waarde"].astype("float64")
    frame = _frame(rows, by_gemeente)
    # The frame rows of each gemeente, found in one pass (not a comparison per gemeente).
    positions = frame.groupby("gemeente", observed=True, sort=False).indices
    none = np.array([], dtype=np.int64)
    scoring = {g: replace(k, basisjaar=base_year(frame.iloc[positions.get(g, none)], k))
               for g, k in by_gemeente.items()}
    scored = _indicator_scores(rows, frame, scoring)
    themes = _theme_scores(scored, frame, scoring)
    return GemeentenResult(scoring, frame, scored, themes, _sensitivity(scored, scoring, SEED))


#: Gemeenten scored together by :func:`score_in_groups`: the working memory of the scoring
#: grows with the group, not with the country.
GROUP_SIZE = 40


def score_in_groups(table: pd.DataFrame, kompassen: Sequence[Kompas],
                    verdicts: pd.DataFrame | None = None, target: int | None = None,
                    size: int = GROUP_SIZE) -> Iterator[GemeentenResult]:
    """:func:`score_gemeenten` of ``size`` gemeenten at a time, in the order of
    ``kompassen``: each result has the rows the one pass over all of them would have for
    its gemeenten (a gemeente's scores never depend on the others). The table is split by
    gemeente once; each group is scored from its own rows only."""
    ordered = list(_by_gemeente(kompassen).values())
    if len(ordered) <= size:
        yield score_gemeenten(table, ordered, verdicts, target)
        return
    groups = [ordered[start:start + size] for start in range(0, len(ordered), size)]
    number = {str(k.gemeente): i for i, group in enumerate(groups) for k in group}
    gemeente = gemeente_codes(table["gebiedscode"]).array
    of_category = np.array([number.get(str(c), -1) for c in gemeente.categories] + [-1],
                           dtype=np.int64)
    # A row of no gemeente (code -1) takes the last entry: no group.
    per_row = of_category[gemeente.codes]
    order = np.argsort(per_row, kind="stable")
    bounds = np.searchsorted(per_row[order], np.arange(len(groups) + 1))
    del per_row
    for i, group in enumerate(groups):
        yield score_gemeenten(table.take(order[bounds[i]:bounds[i + 1]]), group, verdicts,
                              target)


def explain(result: KompasResult, code: str, jaar: int, thema: str,
            deel: str = "totaal") -> pd.DataFrame:
    """The chain behind one theme score: every indicator, its value and source, the frame,
    its score and weight; the last row is the theme score as the weighted mean."""
    rows = result.indicators
    rows = rows[(rows["gebiedscode"] == code) & (rows["jaar"] == jaar)
                & (rows["thema"] == thema)]
    if deel != "totaal":
        rows = rows[rows["soort"] == deel]
    columns = ["indicator", "soort", "richting", "waarde", "bron", "status", "indeling",
               "referentiejaar", "referentiewaarde", "spreiding", "score", "gewicht"]
    chain = rows[columns].sort_values("indicator").reset_index(drop=True)
    theme = result.themes[(result.themes["gebiedscode"] == code)
                          & (result.themes["jaar"] == jaar) & (result.themes["thema"] == thema)
                          & (result.themes["deel"] == deel)]
    total = {"indicator": f"themascore {thema}", "score": theme["score"].iloc[0]
             if len(theme) else np.nan}
    return pd.concat([chain, pd.DataFrame([total])], ignore_index=True)
