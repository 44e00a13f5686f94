"""The scoring as it was before issue #30, kept as the reference that
tests/kompas/test_scores_equivalence.py compares the one-pass scoring of all gemeenten with.

One gemeente at a time: its rows picked from the whole table by the digits of every code,
the frame per indicator, the sensitivity as 200 pivots and pandas ranks per year and theme,
afglijden by a loop over every area, theme and deel. Unchanged in behaviour.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from wijkkompas.gebied import in_gemeente
from wijkkompas.kompas.classes import change_direction, classify, label
from wijkkompas.kompas.definition import Kompas

DELEN = ("totaal", "objectief", "subjectief")
MIN_WIJKEN = 3
SENSITIVITY_DRAWS = 200
WEIGHT_RANGE = (0.5, 2.0)


def select_rows(table: pd.DataFrame, kompas: Kompas, verdicts: pd.DataFrame | None = None,
                target: int | None = None) -> pd.DataFrame:
    """One row per area, year and kompas indicator, chosen so that years compare.

    For a wijk or buurt whose boundary is not the same as in the target indeling (per
    ``verdicts``, from indelingen.csv), the value carried onto the target indeling is used;
    otherwise the value on its own indeling. ``vergelijkbaar`` says whether the row is on
    the target's geography (True), or that nothing is known about it (NaN).
    """
    rows = table[table["indicator"].isin(kompas.indicators)
                 & in_gemeente(table["gebiedscode"], kompas.gemeente)].copy()
    if target is None:
        rows = rows[rows["indeling"] == rows["jaar"]].copy()
        rows["vergelijkbaar"] = np.where(rows["niveau"] == "gemeente", True, np.nan)
        return rows.reset_index(drop=True)
    same = set()
    if verdicts is not None and len(verdicts):
        ok = verdicts[verdicts["oordeel"] == "gelijk"]
        same = set(zip(ok["gebiedscode"], ok["vergeleken_met"].astype(int), strict=True))
    own = rows[rows["indeling"] == rows["jaar"]]
    carried = rows[(rows["indeling"] == target) & (rows["jaar"] != target)]
    keys = ["gebiedscode", "jaar", "indicator"]
    carried_keys = set(zip(carried["gebiedscode"], carried["jaar"], carried["indicator"],
                           strict=True))
    own_is_same = np.array([(c, j) in same or n == "gemeente" or j == target
                            for c, j, n in zip(own["gebiedscode"], own["jaar"], own["niveau"],
                                               strict=True)], dtype=bool)
    has_carried = np.array([k in carried_keys for k in
                            zip(own["gebiedscode"], own["jaar"], own["indicator"], strict=True)],
                           dtype=bool)
    keep_own = own[own_is_same | ~has_carried].copy()
    keep_own["vergelijkbaar"] = np.where(own_is_same[own_is_same | ~has_carried], True, np.nan)
    own_keys = set(zip(keep_own["gebiedscode"], keep_own["jaar"], keep_own["indicator"],
                       strict=True))
    use_carried = carried[[k not in own_keys for k in
                           zip(carried["gebiedscode"], carried["jaar"], carried["indicator"],
                               strict=True)]].copy()
    use_carried["vergelijkbaar"] = True
    out = pd.concat([keep_own, use_carried], ignore_index=True)
    return out.drop_duplicates(keys, keep="first").reset_index(drop=True)


def reference_frame(rows: pd.DataFrame, kompas: Kompas, context: bool = False) -> pd.DataFrame:
    """Per scored indicator: its reference year, value (the gemeente) and spread (wijken).
    With ``context`` also per context indicator, by the same rule (the pages use its spread
    to say whether a context indicator changed noticeably; it is never scored)."""
    out = []
    for code, ind in kompas.indicators.items():
        if not ind.scored and not context:
            continue
        data = rows[(rows["indicator"] == code) & rows["waarde"].notna()]
        years = sorted(y for y in data["jaar"].unique() if y >= kompas.basisjaar)
        found = None
        for year in years:
            here = data[data["jaar"] == year]
            gemeente = here.loc[here["gebiedscode"] == kompas.gemeente, "waarde"]
            wijken = here.loc[here["niveau"] == "wijk", "waarde"]
            spread = float(wijken.std(ddof=0)) if len(wijken) >= MIN_WIJKEN else 0.0
            if len(gemeente) and spread > 0:
                found = (year, float(gemeente.iloc[0]), spread, len(wijken))
                break
        reason = "" if found else (
            f"geen gemeentewaarde met ten minste {MIN_WIJKEN} wijken in of na "
            f"{kompas.basisjaar}")
        year, value, spread, n = found or (np.nan, np.nan, np.nan, 0)
        out.append({"indicator": code, "thema": ind.thema, "richting": ind.richting,
                    "soort": ind.soort, "referentiejaar": year, "referentiewaarde": value,
                    "spreiding": spread, "wijken_in_referentie": n, "reden": reason})
    return pd.DataFrame(out)


def base_year(frame: pd.DataFrame, kompas: Kompas) -> int:
    """The year the scores count from: the kompas's ``basisjaar`` when at least one scored
    indicator has its reference there; else the first reference year, as the gemeente has
    no figures in its base year (the basis-set's 2015 for data fetched from 2017 on); the
    ``basisjaar`` itself when no indicator has a reference."""
    years = frame["referentiejaar"].dropna() if len(frame) else pd.Series(dtype="float64")
    if years.empty or (years == kompas.basisjaar).any():
        return kompas.basisjaar
    return int(years.min())


def indicator_scores(rows: pd.DataFrame, frame: pd.DataFrame, kompas: Kompas) -> pd.DataFrame:
    """Every kompas row with its score (NaN for context, unscorable or missing values)."""
    data = rows.copy()
    meta = pd.DataFrame([{"indicator": i.indicator, "thema": i.thema, "richting": i.richting,
                          "soort": i.soort, "gewicht": i.gewicht,
                          "gebied_specifiek": bool(i.gebieden)}
                         for i in kompas.indicators.values()])
    data = data.merge(meta, on="indicator", how="left")
    data = data.merge(frame[["indicator", "referentiejaar", "referentiewaarde", "spreiding"]],
                      on="indicator", how="left")
    applies = [kompas.indicators[i].applies_to(c)
               for i, c in zip(data["indicator"], data["gebiedscode"], strict=True)]
    data["van_toepassing"] = applies
    raw = 100 + data["richting"] * kompas.punten_per_sd * (
        (data["waarde"] - data["referentiewaarde"]) / data["spreiding"])
    data["score"] = raw.clip(kompas.ondergrens, kompas.bovengrens)
    data.loc[(data["richting"] == 0) | ~data["van_toepassing"], "score"] = np.nan
    return data


def _applicable(kompas: Kompas, frame: pd.DataFrame, areas: pd.DataFrame) -> pd.DataFrame:
    """Per area and year, each scorable indicator that applies to it (the coverage base)."""
    scorable = frame.loc[frame["referentiewaarde"].notna(), "indicator"]
    rows = []
    for code in areas["gebiedscode"].unique():
        for name in scorable:
            ind = kompas.indicators[name]
            if ind.applies_to(code):
                rows.append((code, name, ind.thema, ind.soort, ind.gewicht))
    pairs = pd.DataFrame(rows, columns=["gebiedscode", "indicator", "thema", "soort", "gewicht"])
    return areas[["gebiedscode", "jaar"]].merge(pairs, on="gebiedscode")


def theme_scores(scored: pd.DataFrame, frame: pd.DataFrame, kompas: Kompas) -> pd.DataFrame:
    """Theme scores per area, year and deel, with coverage, class and changes."""
    areas = scored[["gebiedscode", "gebiedsnaam", "niveau", "jaar"]].drop_duplicates(
        ["gebiedscode", "jaar"])
    base = _applicable(kompas, frame, areas)
    values = scored[["gebiedscode", "jaar", "indicator", "score"]]
    base = base.merge(values, on=["gebiedscode", "jaar", "indicator"], how="left")
    keys = ["gebiedscode", "jaar", "thema", "deel"]
    parts = []
    for deel in DELEN:
        subset = base if deel == "totaal" else base[base["soort"] == deel]
        subset = subset.assign(w=subset["gewicht"].where(subset["score"].notna()),
                               ws=subset["gewicht"] * subset["score"],
                               has=subset["score"].notna(), deel=deel)
        agg = subset.groupby(keys, sort=False).agg(
            indicatoren=("indicator", "size"), met_score=("has", "sum"),
            gewogen=("ws", "sum"), gewicht=("w", "sum"))
        parts.append(agg.reset_index())
    # Every area gets a row for every theme and deel, "geen score" where nothing applies.
    grid = areas.merge(pd.DataFrame({"thema": [t.code for t in kompas.themes]}), how="cross")
    grid = grid.merge(pd.DataFrame({"deel": DELEN}), how="cross")
    themes = grid.merge(pd.concat(parts, ignore_index=True), on=keys, how="left")
    themes[["indicatoren", "met_score"]] = themes[["indicatoren", "met_score"]].fillna(0)
    themes["dekking"] = themes["met_score"] / themes["indicatoren"].where(
        themes["indicatoren"] > 0)
    enough = (themes["dekking"] >= kompas.minimale_dekking) & (themes["met_score"] > 0)
    # Sums of a theme without any weighted score are 0 (or, from an empty group, not even
    # numbers): such a theme has no score, never a division by zero.
    gewogen = pd.to_numeric(themes["gewogen"], errors="coerce").astype("float64")
    gewicht = pd.to_numeric(themes["gewicht"], errors="coerce").astype("float64")
    themes["score"] = (gewogen / gewicht.where(gewicht > 0)).where(enough)
    themes = themes.drop(columns=["gewogen", "gewicht"])
    themes["klasse"] = classify(themes["score"]).to_numpy()
    themes["klasse_label"] = themes["klasse"].map(label)
    themes["thema_naam"] = themes["thema"].map(kompas.theme_name)
    return add_changes(themes, kompas)


def add_changes(themes: pd.DataFrame, kompas: Kompas) -> pd.DataFrame:
    """Change against the previous year with a score and against the base year; afglijden."""
    themes = themes.sort_values(["gebiedscode", "thema", "deel", "jaar"]).reset_index(drop=True)
    keys = ["gebiedscode", "thema", "deel"]
    with_score = themes[themes["score"].notna()]
    previous = with_score.groupby(keys)["score"].shift(1)
    themes["verandering_vorig_jaar"] = np.nan
    themes.loc[with_score.index, "verandering_vorig_jaar"] = with_score["score"] - previous
    base = with_score[with_score["jaar"] == kompas.basisjaar].set_index(keys)["score"]
    base_values = themes.set_index(keys).index.map(base.to_dict().get)
    themes["verandering_basisjaar"] = (themes["score"]
                                       - pd.Series(base_values, dtype="float64").to_numpy())
    threshold = kompas.betekenisvolle_verandering
    themes["ontwikkeling"] = change_direction(themes["verandering_vorig_jaar"], threshold).map(
        {-1.0: "verslechterd", 0.0: "gelijk gebleven", 1.0: "verbeterd"})
    themes["afglijden"] = False
    steps = kompas.afglijden_jaren
    for _, group in themes.loc[with_score.index].groupby(keys):
        deltas = group["verandering_vorig_jaar"].to_numpy()
        for position in range(steps, len(group)):
            window = deltas[position - steps + 1: position + 1]
            if (np.all(window < 0) and not np.isnan(window).any()
                    and window.sum() <= -threshold):
                themes.loc[group.index[position], "afglijden"] = True
    return themes


def sensitivity(scored: pd.DataFrame, kompas: Kompas, seed: int = 141) -> pd.DataFrame:
    """How far each wijk's theme rank moves when the indicator weights vary.

    For every year and theme, the weights of the theme's indicators are drawn
    ``SENSITIVITY_DRAWS`` times uniformly from ``WEIGHT_RANGE`` x their own weight; the
    result is each wijk's rank with the kompas's own weights (1 = most favourable) and the
    lowest and highest rank it takes over the draws.
    """
    rng = np.random.default_rng(seed)
    wijken = scored[(scored["niveau"] == "wijk") & scored["score"].notna()]
    out = []
    for (jaar, thema), group in wijken.groupby(["jaar", "thema"]):
        matrix = group.pivot_table(index="gebiedscode", columns="indicator", values="score")
        if len(matrix) < 2:
            continue
        base_w = np.array([kompas.indicators[c].gewicht for c in matrix.columns])
        values = matrix.to_numpy()
        mask = ~np.isnan(values)
        filled = np.nan_to_num(values)

        def ranks(weights: np.ndarray, filled: np.ndarray = filled,
                  mask: np.ndarray = mask) -> np.ndarray:
            total = (filled * weights).sum(axis=1) / (mask * weights).sum(axis=1)
            return pd.Series(-total.round(9)).rank(method="min").to_numpy()

        own = ranks(base_w)
        draws = rng.uniform(*WEIGHT_RANGE, size=(SENSITIVITY_DRAWS, len(base_w))) * base_w
        all_ranks = np.array([ranks(w) for w in draws])
        for index, code in enumerate(matrix.index):
            out.append({"gebiedscode": code, "jaar": jaar, "thema": thema,
                        "rang": int(own[index]), "rang_min": int(all_ranks[:, index].min()),
                        "rang_max": int(all_ranks[:, index].max()), "wijken": len(matrix)})
    return pd.DataFrame(out, columns=["gebiedscode", "jaar", "thema", "rang", "rang_min",
                                      "rang_max", "wijken"])


@dataclass
class KompasResult:
    kompas: Kompas
    frame: pd.DataFrame  # reference per indicator
    indicators: pd.DataFrame  # every row with its score
    themes: pd.DataFrame  # theme scores per area, year and deel
    sensitivity: pd.DataFrame


def score(table: pd.DataFrame, kompas: Kompas, verdicts: pd.DataFrame | None = None,
          target: int | None = None) -> KompasResult:
    """Score the indicator table with a kompas definition."""
    rows = select_rows(table, kompas, verdicts, target)
    # Numbers that come in a column of objects are scored as numbers (text would be refused).
    rows["waarde"] = rows["waarde"].astype("float64")
    frame = reference_frame(rows, kompas)
    kompas = replace(kompas, basisjaar=base_year(frame, kompas))
    scored = indicator_scores(rows, frame, kompas)
    themes = theme_scores(scored, frame, kompas)
    return KompasResult(kompas, frame, scored, themes, sensitivity(scored, kompas))


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
