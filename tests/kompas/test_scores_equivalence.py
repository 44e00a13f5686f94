"""Scoring every gemeente in one pass gives the same scores as scoring one gemeente at a
time (issue #30).

The reference (tests/kompas/reference_scores.py) is the scoring as it was before: one
gemeente at a time, its rows picked from the whole table by the digits of every code, and
the tables of all gemeenten put together as the build wrote them. The fixture is one table
of several gemeenten, each with another kompas: Almelo's (gebied-specifieke indicatoren of
WK014115), the basis-set, the test kompas of test_scores.py (its own base year, bounds and
thresholds) and a basis-set with other weights, bounds and afglijden_jaren; a gemeente with
one wijk (no frame, no sensitivity) and one that is in the table but not scored; missing
values, equal values (shared ranks), figures before the base year, and figures carried onto
a target indeling with verdicts. Compared are the files the build writes, byte for byte
(CSV) and value for value (Parquet).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from tests.helpers import indicator_rows
from tests.kompas import reference_scores
from tests.kompas.test_scores import KOMPAS
from wijkkompas.kompas.definition import builtin_path, for_gemeente, load_kompas
from wijkkompas.kompas.scores import GemeentenResult, score_gemeenten
from wijkkompas.kompas.stage import score_and_write, write_scores
from wijkkompas.processed import KOMPAS_TABLES
from wijkkompas.storage import TableMismatch, TableStream

YEARS = range(2014, 2022)
TARGET = 2021


def _kompassen(tmp_path):
    test_kompas = tmp_path / "test.toml"
    test_kompas.write_text(KOMPAS, encoding="utf-8")
    own = tmp_path / "eigen.toml"
    own.write_text(f'basis = "{builtin_path("basis")}"\ngemeente = "GM0994"\nbasisjaar = 2016\n'
                   "punten_per_sd = 10\nondergrens = 70\nbovengrens = 130\n"
                   "minimale_dekking = 0.75\nbetekenisvolle_verandering = 2\n"
                   "afglijden_jaren = 2\n\n[indicator.woz]\ngewicht = 3\n\n"
                   "[indicator.bijstand_per_1000]\ngewicht = 0.5\n", encoding="utf-8")
    return [for_gemeente(load_kompas(gemeente="GM0141"), "GM0141", "Almelo"),
            for_gemeente(load_kompas(builtin_path("basis")), "GM0997", "Oosterbroek"),
            for_gemeente(load_kompas(test_kompas), "GM0999", "Testgemeente"),
            for_gemeente(load_kompas(own), "GM0994", "Eigenstad"),
            for_gemeente(load_kompas(builtin_path("basis")), "GM0995", "Eenwijk")]


def _table(kompassen, rng: np.random.Generator) -> pd.DataFrame:
    """Figures of every kompas indicator of each gemeente, its wijken and buurten, and of
    GM0996 (not scored); with the 2015-2020 figures of some areas carried onto 2021."""
    wijken = {"GM0141": ["WK014110", "WK014115", "WK014101", "WK014102", "WK014103"],
              "GM0997": [f"WK0997{n:02d}" for n in range(7)],
              "GM0999": [f"WK0999{n:02d}" for n in range(1, 6)],
              "GM0994": [f"WK0994{n:02d}" for n in range(4)],
              "GM0995": ["WK099500"], "GM0996": ["WK099600", "WK099601", "WK099602"]}
    indicators = {k.gemeente: list(k.indicators) for k in kompassen}
    indicators["GM0996"] = indicators["GM0997"]
    rows = []
    for gemeente, codes in wijken.items():
        areas = [(gemeente, "gemeente")] + [(c, "wijk") for c in codes] + [
            (f"BU{c[2:]}{b:02d}", "buurt") for c in codes for b in range(2)]
        for name in [*indicators[gemeente], "niet_in_het_kompas"]:
            level = rng.uniform(10, 100)
            for code, niveau in areas:
                for jaar in YEARS:
                    draw = rng.random()
                    if draw < 0.08:
                        waarde = np.nan  # missing
                    elif draw < 0.2:
                        waarde = round(level)  # equal values: shared ranks
                    else:
                        waarde = level + rng.normal(0, 8) - (jaar - 2014) * rng.uniform(0, 3)
                    rows.append((code, f"naam {code}", niveau, jaar, jaar, name, waarde))
                    if jaar != TARGET and niveau != "gemeente" and rng.random() < 0.3:
                        rows.append((code, f"naam {code}", niveau, jaar, TARGET, name,
                                     waarde + rng.normal(0, 2)))
    return indicator_rows(rows)


def _verdicts(table: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    codes = sorted(set(table.loc[table["niveau"] != "gemeente", "gebiedscode"]))
    rows = [(c, TARGET, 0.9, "gelijk" if rng.random() < 0.5 else "grens gewijzigd", jaar)
            for c in codes for jaar in YEARS if jaar != TARGET and rng.random() < 0.6]
    return pd.DataFrame(rows, columns=["gebiedscode", "indeling", "overlap", "oordeel",
                                       "vergeleken_met"])


def _one_at_a_time(table, kompassen, verdicts, target) -> GemeentenResult:
    """The reference: every gemeente scored apart, the tables put together as the build
    did (a column ``gemeente`` at the end of each)."""
    results = [(k.gemeente, reference_scores.score(table, k, verdicts, target))
               for k in kompassen]

    def tagged(pick):
        return pd.concat([pick(r).assign(gemeente=code) for code, r in results],
                         ignore_index=True)

    return GemeentenResult({code: r.kompas for code, r in results}, tagged(lambda r: r.frame),
                           tagged(lambda r: r.indicators), tagged(lambda r: r.themes),
                           tagged(lambda r: r.sensitivity))


def _written(result: GemeentenResult, folder) -> dict[str, object]:
    folder.mkdir()
    write_scores(result, folder, csv=True)
    out: dict[str, object] = {}
    for name, kind in KOMPAS_TABLES:
        out[f"{name}.csv"] = (folder / f"{name}.csv").read_bytes()
        if kind == "parquet":
            out[name] = pd.read_parquet(folder / f"{name}.parquet")
    return out


def _as_categories(table: pd.DataFrame) -> pd.DataFrame:
    """The text columns as categoricals whose categories are not in text order (as the
    build can hold its table in memory)."""
    out = table.copy()
    for column in ("gebiedscode", "gebiedsnaam", "niveau", "indicator", "bron", "status"):
        values = out[column].astype(str)
        out[column] = pd.Categorical(values, categories=sorted(set(values), reverse=True))
    return out


@pytest.mark.parametrize("target", [None, TARGET])
@pytest.mark.parametrize("text", ["str", "categorical"])
def test_all_gemeenten_at_once_equal_one_at_a_time(tmp_path, target, text):
    rng = np.random.default_rng(30)
    kompassen = _kompassen(tmp_path)
    table = _table(kompassen, rng)
    verdicts = _verdicts(table, rng)
    given = _as_categories(table) if text == "categorical" else table
    new = score_gemeenten(given, kompassen, verdicts, target)
    old = _one_at_a_time(table, kompassen, verdicts, target)
    # The fixture exercises what it says it does.
    assert list(new.kompassen) == ["GM0141", "GM0997", "GM0999", "GM0994", "GM0995"]
    assert {g: k.basisjaar for g, k in new.kompassen.items()} == {
        g: k.basisjaar for g, k in old.kompassen.items()}
    assert new.kompassen["GM0999"].basisjaar == 2020
    assert new.kompassen["GM0994"].basisjaar == 2016
    themes = old.themes
    assert themes["afglijden"].any() and themes["score"].notna().sum() > 1000
    assert set(themes["gemeente"]) == set(new.kompassen)
    sensitivity = old.sensitivity
    assert (sensitivity["rang_min"] < sensitivity["rang_max"]).any()
    assert "GM0995" not in set(sensitivity["gemeente"])
    chain = old.indicators
    assert (~chain["van_toepassing"]).any() and chain["gebied_specifiek"].any()
    if target is not None:
        assert (chain["indeling"] != chain["jaar"]).any()
    # Every table the build writes, the same.
    written_new = _written(new, tmp_path / "new")
    written_old = _written(old, tmp_path / "old")
    assert written_new.keys() == written_old.keys()
    for name, value in written_old.items():
        if isinstance(value, pd.DataFrame):
            pd.testing.assert_frame_equal(written_new[name], value, check_exact=True,
                                          obj=name)
        else:
            assert written_new[name] == value, name


def test_one_gemeente_alone_is_the_same_as_among_others(tmp_path):
    """A gemeente's scores do not depend on which other gemeenten are scored beside it
    (the types of a column may: a reference year is a whole number alone and a float
    among gemeenten without one, as in the tables the build wrote before)."""
    rng = np.random.default_rng(31)
    kompassen = _kompassen(tmp_path)
    table = _table(kompassen, rng)
    together = score_gemeenten(table, kompassen).of("GM0999")
    alone = score_gemeenten(table, [replace(kompassen[2])]).of("GM0999")
    for name in ("frame", "indicators", "themes", "sensitivity"):
        pd.testing.assert_frame_equal(getattr(together, name), getattr(alone, name),
                                      check_exact=True, check_dtype=False,
                                      check_categorical=False, obj=name)


def _streamed(table, kompassen, verdicts, target, folder, size) -> dict[str, object]:
    folder.mkdir()
    written = score_and_write(table, kompassen, verdicts, target, folder, csv=True,
                              group_size=size)
    # Written group by group, not (after a difference of types) in one pass.
    assert written.groups == -(-len(kompassen) // size)
    assert sorted(p.name for p in written.paths) == sorted(
        f"{name}.{ext}" for name, kind in KOMPAS_TABLES
        for ext in (("parquet", "csv") if kind == "parquet" else ("csv",)))
    out: dict[str, object] = {"samenvatting": (
        {g: k.basisjaar for g, k in written.kompassen.items()},
        {g: n for g, n in written.wijk_scores.items() if n})}
    for name, kind in KOMPAS_TABLES:
        out[f"{name}.csv"] = (folder / f"{name}.csv").read_bytes()
        if kind == "parquet":
            out[name] = pd.read_parquet(folder / f"{name}.parquet")
    return out


@pytest.mark.parametrize("size", [1, 2, 5])
@pytest.mark.parametrize("target", [None, TARGET])
def test_scored_and_written_in_groups_equal_one_at_a_time(tmp_path, target, size):
    """The build scores a few gemeenten at a time and writes each group's rows to the
    files at once (issue #30: memory grows with the group, not the country); the files are
    those of the one pass, also when the groups hold one gemeente, when the last group is
    smaller and when one group holds them all."""
    rng = np.random.default_rng(30)
    kompassen = _kompassen(tmp_path)
    table = _as_categories(_table(kompassen, rng))
    verdicts = _verdicts(table, rng)
    old = _one_at_a_time(_table(kompassen, np.random.default_rng(30)), kompassen, verdicts,
                         target)
    streamed = _streamed(table, kompassen, verdicts, target, tmp_path / "new", size)
    written_old = _written(old, tmp_path / "old")
    themes = old.themes
    counts = themes.loc[(themes["niveau"] == "wijk") & themes["score"].notna(),
                        "gemeente"].value_counts()
    assert streamed.pop("samenvatting") == (
        {g: k.basisjaar for g, k in old.kompassen.items()},
        {str(g): int(n) for g, n in counts.items() if n})
    assert streamed.keys() == written_old.keys()
    for name, value in written_old.items():
        if isinstance(value, pd.DataFrame):
            pd.testing.assert_frame_equal(streamed[name], value, check_exact=True, obj=name)
        else:
            assert streamed[name] == value, name


def test_parts_whose_types_differ_are_refused(tmp_path):
    """A table written part by part is the table of all parts at once, or nothing: a part
    whose column is of another type than in the first part (whole numbers, then a missing
    value) is refused, so that the caller writes the whole table in one go."""
    first = pd.DataFrame({"gebiedscode": pd.Categorical(["WK01", "WK02"]), "jaar": [2020, 2021]})
    second = pd.DataFrame({"gebiedscode": ["WK03"], "jaar": [np.nan]})
    stream = TableStream(tmp_path / "t.parquet", tmp_path / "t.csv")
    stream.write(first)
    stream.write(second.iloc[:0])  # no rows: nothing to refuse
    with pytest.raises(TableMismatch):
        stream.write(second)
    stream.write(pd.DataFrame({"gebiedscode": ["WK03"], "jaar": [2022]}))
    stream.close()
    whole = pd.DataFrame({"gebiedscode": ["WK01", "WK02", "WK03"], "jaar": [2020, 2021, 2022]})
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "t.parquet"), whole)
    assert (tmp_path / "t.csv").read_text() == (
        '"gebiedscode","jaar"\n"WK01",2020\n"WK02",2021\n"WK03",2022\n')


@pytest.mark.parametrize("size", [1, 2])
def test_gemeenten_without_kompas_figures_written_as_one_pass(tmp_path, size):
    """Gemeenten in the table without a figure of any of their kompas indicators: no
    scores, and the tables (without rows) are written as the one pass writes them, by one
    group or, after groups without any row, again as one pass."""
    rng = np.random.default_rng(32)
    kompassen = _kompassen(tmp_path)
    table = _table(kompassen, rng)
    table = table[(table["indicator"] == "niet_in_het_kompas")
                  & table["gebiedscode"].str[2:6].isin(["0995", "0997"])]
    chosen = [kompassen[1], kompassen[4]]
    (tmp_path / "new").mkdir()
    streamed = score_and_write(table, chosen, None, None, tmp_path / "new", csv=True,
                               group_size=size)
    assert streamed.groups == 1 and streamed.wijk_scores == {}
    old = tmp_path / "old"
    old.mkdir()
    write_scores(score_gemeenten(table, chosen), old, csv=True)
    for name, kind in KOMPAS_TABLES:
        assert ((tmp_path / "new" / f"{name}.csv").read_bytes()
                == (old / f"{name}.csv").read_bytes()), name
        if kind == "parquet":
            pd.testing.assert_frame_equal(
                pd.read_parquet(tmp_path / "new" / f"{name}.parquet"),
                pd.read_parquet(old / f"{name}.parquet"), check_exact=True, obj=name)
