"""Vergelijkbare wijken: for every wijk of a gemeente the k most similar wijken of other
gemeenten, and where the wijk stands among them per scored indicator.

Similar means: of the same kind, never doing equally well. The features describe the kind
of wijk (address density, size, age structure, households, tenure: :data:`FEATURES`), never
an indicator the gemeente's kompas scores. Wijken are compared within their stedelijkheid
class (CBS's classes of the omgevingsadressendichtheid, :data:`CLASS_BOUNDS`); a class with
fewer than k candidates is widened by the neighbouring classes, one step each side at a
time. Distances are Euclidean on standardised, weighted features; the neighbour search is
scipy's ``cKDTree``. The method in Dutch, with a worked example: docs/methode.md,
"Vergelijkbare wijken".

Everything here works on the indicator table the build wrote (rows of the wijken of every
gemeente in the data folder) and on plain frames, so that a national run (about 3,500
wijken) takes one call of :func:`find_peers` (benchmarks/peers.py). The build finds the
peers of all its gemeenten in one pass (:func:`gemeenten_peers`), each wijk exactly as its
gemeente alone would get them.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from wijkkompas.kompas.definition import Kompas
from wijkkompas.processed import ProcessedPaths, rebuild_on_error
from wijkkompas.storage import write_table


@dataclass(frozen=True)
class Feature:
    """One feature: an indicator of the table, the group it belongs to (each group weighs
    the same, shared by its features) and whether it is compared on a log scale."""

    indicator: str
    group: str
    log: bool = False


#: What describes the kind of wijk. The five age shares sum to 100, so one (45-64) is left
#: out; the share of rented dwellings is 100 minus the share of owner-occupied ones.
FEATURES: tuple[Feature, ...] = (
    Feature("adressendichtheid", "dichtheid", log=True),
    Feature("inwoners", "omvang", log=True),
    Feature("aandeel_0_14", "leeftijd"),
    Feature("aandeel_15_24", "leeftijd"),
    Feature("aandeel_25_44", "leeftijd"),
    Feature("aandeel_65plus", "leeftijd"),
    Feature("aandeel_eenpersoonshh", "huishoudens"),
    Feature("aandeel_hh_met_kinderen", "huishoudens"),
    Feature("gem_hh_grootte", "huishoudens"),
    Feature("aandeel_koopwoningen", "woningen"),
    Feature("aandeel_corporatiewoningen", "woningen"),
)
DENSITY = "adressendichtheid"
#: CBS's stedelijkheid: class 1 from 2,500 addresses per km², 2 from 1,500, 3 from 1,000,
#: 4 from 500, 5 below 500.
CLASS_BOUNDS = (2500.0, 1500.0, 1000.0, 500.0)
CLASSES = (1, 2, 3, 4, 5)
K = 10
#: A feature is used when at least this share of the wijken of the year has it.
MIN_POOL_SHARE = 0.5
#: A wijk gets peers when it has at least this share of the used features (and always its
#: address density, which gives its class).
MIN_OWN_SHARE = 2 / 3

PEER_COLUMNS = ["wijk", "wijknaam", "vergelijkbare_wijk", "naam", "gemeente", "gemeentenaam",
                "afstand", "rang", "jaar", "klasse", "klassen", "kenmerken", "reden"]
POSITION_COLUMNS = ["wijk", "indicator", "jaar", "waarde", "met_cijfer", "hoger_dan",
                    "lager_dan", "gelijk_aan", "mediaan"]


def stedelijkheid(density: pd.Series) -> pd.Series:
    """CBS's stedelijkheid class (1 zeer sterk stedelijk ... 5 niet stedelijk) of each
    omgevingsadressendichtheid; missing where the density is missing."""
    values = pd.to_numeric(density, errors="coerce").astype("float64")
    klasse = pd.Series(5.0, index=values.index)
    for number, bound in zip(range(4, 0, -1), reversed(CLASS_BOUNDS), strict=True):
        klasse[values >= bound] = float(number)
    return klasse.where(values.notna()).astype("Int64")


def _gemeente(codes: pd.Index | pd.Series) -> np.ndarray:
    """The gemeente of each wijk code (WK0141xx -> GM0141)."""
    return ("GM" + pd.Series(np.asarray(codes, dtype=object)).str[2:6]).to_numpy(dtype=object)


@dataclass
class PeerResult:
    """Peers (one row per wijk and peer: wijk, vergelijkbare_wijk, gemeente, afstand, rang)
    and per asked wijk its class, the classes searched, the features it was compared on and,
    where it got fewer than k peers or none, why (columns wijk, klasse, klassen, kenmerken,
    reden)."""

    peers: pd.DataFrame
    wijken: pd.DataFrame
    used: list[str]


def _widened(klasse: int, available: dict[int, int], k: int) -> tuple[list[int], str]:
    """The classes searched for a wijk of ``klasse``: its own, and while they hold fewer
    than ``k`` candidates the neighbouring classes one step further each side."""
    chosen = [klasse]
    step = 0
    while sum(available.get(c, 0) for c in chosen) < k and step < len(CLASSES):
        step += 1
        chosen += [c for c in (klasse - step, klasse + step) if c in CLASSES]
    chosen = sorted(set(chosen))
    return chosen, (str(chosen[0]) if len(chosen) == 1 else f"{chosen[0]}-{chosen[-1]}")


def find_peers(features: pd.DataFrame, targets: Iterable[str], k: int = K,
               leave_out: Iterable[str] = ()) -> PeerResult:
    """The ``k`` nearest wijken of other gemeenten for each of ``targets``.

    ``features``: one row per wijk (index: wijk code), one column per indicator of
    :data:`FEATURES` (raw values, missing as NaN); every row is a candidate. ``leave_out``:
    features not to use (the indicators the kompas scores). A feature that fewer than half
    of the wijken have is not used for anyone. Candidates need every used feature; a wijk
    asked for is compared on the features it has (at least two thirds, always the address
    density), its distance scaled up to the full weight. Ties go to the lower code.
    """
    return _find(prepare(features, leave_out), targets, k)


@dataclass
class Prepared:
    """What :func:`find_peers` derives from the features of all wijken before it looks at
    any target: the features used, their standardised values, each wijk's class and
    gemeente, the candidates, and (filled as asked) one search tree per searched classes
    and features. The same for every gemeente of a table, so computed once
    (``PeerSource.prepared``)."""

    reason: str  # why there are no peers at all ("" when there can be)
    columns: list[str] = field(default_factory=list)
    index: pd.Index = field(default_factory=pd.Index)
    scaled_columns: pd.Index = field(default_factory=pd.Index)
    matrix: np.ndarray = field(default_factory=lambda: np.empty((0, 0)))
    klasse: np.ndarray = field(default_factory=lambda: np.empty(0))
    gemeente: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=object))
    pool: Pool | None = None
    counts: dict[tuple[str, int], int] = field(default_factory=dict)
    class_total: dict[int, int] = field(default_factory=dict)
    position: dict[str, int] = field(default_factory=dict)
    scales: dict[tuple[bool, ...], float] = field(default_factory=dict)
    trees: dict[tuple[tuple[int, ...], tuple[bool, ...]], Candidates] = field(
        default_factory=dict)


def prepare(features: pd.DataFrame, leave_out: Iterable[str] = ()) -> Prepared:
    """The part of :func:`find_peers` that does not depend on the targets."""
    leave = set(leave_out)
    present = [f for f in FEATURES if f.indicator in features.columns
               and f.indicator not in leave]
    values = features[[f.indicator for f in present]].apply(pd.to_numeric, errors="coerce")
    values = values.astype("float64")
    used = [f for f in present
            if len(values) and values[f.indicator].notna().mean() >= MIN_POOL_SHARE]
    if DENSITY not in {f.indicator for f in used}:
        return Prepared("geen omgevingsadressendichtheid van genoeg wijken: geen "
                        "stedelijkheidsklasse")
    columns = [f.indicator for f in used]
    x = values[columns].copy()
    for f in used:
        if f.log:
            x[f.indicator] = np.log10(1 + x[f.indicator].clip(lower=0))
    spread = x.std(ddof=0)
    flat = [c for c in columns if not spread[c] > 0]  # one value for all: says nothing
    columns = [c for c in columns if c not in flat]
    used = [f for f in used if f.indicator in columns]
    groups = pd.Series([f.group for f in used]).value_counts()
    weights = np.array([1.0 / groups[f.group] for f in used])
    scaled = (x[columns] - x[columns].mean()) / spread[columns] * np.sqrt(weights)

    klasse = stedelijkheid(values[DENSITY]).to_numpy(dtype="float64", na_value=np.nan)
    gemeente = _gemeente(values.index)
    matrix = scaled.to_numpy()
    present_matrix = ~np.isnan(matrix)
    complete = present_matrix.all(axis=1) & ~np.isnan(klasse)
    pool = Pool(matrix[complete], klasse[complete].astype(int), gemeente[complete],
                values.index.to_numpy(dtype=object)[complete])
    counts: dict[tuple[str, int], int] = {}
    class_total: dict[int, int] = {}
    for own, number in zip(pool.gemeente, pool.klasse, strict=True):
        counts[own, int(number)] = counts.get((own, int(number)), 0) + 1
        class_total[int(number)] = class_total.get(int(number), 0) + 1
    position = {code: i for i, code in enumerate(values.index)}
    return Prepared("", columns, values.index, scaled.columns, matrix, klasse, gemeente, pool,
                    counts, class_total, position)


def _find(prepared: Prepared, targets: Iterable[str], k: int) -> PeerResult:
    """:func:`find_peers` from what :func:`prepare` derived: the search of the build
    (:func:`_find_all`), each target's own gemeente left out."""
    targets = list(dict.fromkeys(targets))
    if prepared.reason:
        return PeerResult(_empty_peers(), _no_peers(targets, prepared.reason), [])
    codes = np.array(targets, dtype=object)
    n = len(codes)
    klasse, reden = np.full(n, np.nan), np.full(n, "", dtype=object)
    klassen, kenmerken = np.full(n, "", dtype=object), np.full(n, "", dtype=object)
    (target, peer, _, afstand, rang), _ = _find_all(
        prepared, codes, np.zeros(n, dtype="int64"), k, klasse, klassen, kenmerken, reden)
    order = np.lexsort((rang, target))
    peer = peer[order]
    peers = pd.DataFrame({"wijk": codes[target[order]], "vergelijkbare_wijk": peer,
                          "afstand": afstand[order], "gemeente": _gemeente(peer),
                          "rang": rang[order]}) if len(peer) else _empty_peers()
    wijken = pd.DataFrame({"wijk": codes, "klasse": pd.array(klasse, dtype="Int64"),
                           "klassen": klassen, "kenmerken": kenmerken, "reden": reden})
    return PeerResult(peers, wijken, prepared.columns)


@dataclass
class Pool:
    """The candidates: wijken with every used feature and a class (rows of ``x``)."""

    x: np.ndarray
    klasse: np.ndarray
    gemeente: np.ndarray
    codes: np.ndarray


@dataclass
class Candidates:
    """The candidates of some classes on some features, with their search tree and the
    order of their codes (for ties)."""

    tree: cKDTree | None
    codes: np.ndarray
    gemeente: np.ndarray
    rank: np.ndarray
    size: int


def _candidates(prepared: Prepared, classes: tuple[int, ...], mask: tuple[bool, ...]
                ) -> Candidates:
    """The candidates of ``classes`` on the features of ``mask``, built once per
    :class:`Prepared`."""
    key = (classes, mask)
    if key not in prepared.trees:
        pool = prepared.pool
        assert pool is not None
        inside = np.isin(pool.klasse, classes)
        points = pool.x[inside][:, np.asarray(mask)]
        codes = pool.codes[inside]
        rank = np.argsort(np.argsort(codes.astype(str), kind="stable"), kind="stable")
        prepared.trees[key] = Candidates(cKDTree(points) if len(points) else None, codes,
                                         pool.gemeente[inside], rank, len(points))
    return prepared.trees[key]


def _scale(mask: np.ndarray, columns: pd.Index) -> float:
    """sqrt(total weight / weight present): a distance on some features made comparable
    with one on all. Every group weighs 1, shared by its features."""
    weight = _weights(columns)
    return float(np.sqrt(weight.sum() / weight[mask].sum()))


def _weights(columns: pd.Index) -> np.ndarray:
    """The weight of each feature of ``columns``: 1 / the number of its group's."""
    groups = {f.indicator: f.group for f in FEATURES}
    sizes = pd.Series([groups[c] for c in columns]).value_counts()
    return np.array([1.0 / sizes[groups[c]] for c in columns])


def _empty_peers() -> pd.DataFrame:
    return pd.DataFrame({"wijk": pd.Series(dtype=object),
                         "vergelijkbare_wijk": pd.Series(dtype=object),
                         "afstand": pd.Series(dtype="float64"),
                         "gemeente": pd.Series(dtype=object),
                         "rang": pd.Series(dtype="int64")})


def _no_peers(targets: list[str], reason: str) -> pd.DataFrame:
    frame = pd.DataFrame({"wijk": pd.Series(targets, dtype=object),
                          "klasse": pd.Series([pd.NA] * len(targets), dtype="Int64"),
                          "klassen": "", "kenmerken": "", "reden": reason})
    return frame


# --- from the indicator table ------------------------------------------------------------

@dataclass
class Cube:
    """Wijk values on their own indeling (as published or summed from their buurten): one
    value per wijk, year and indicator in ``values`` (wijken x years x indicators, NaN where
    missing). Computed once on integer codes: the text columns of a national table are
    never sorted or joined."""

    values: np.ndarray
    codes: pd.Index
    years: np.ndarray
    indicators: list[str]

    def rows(self, codes: Sequence[str]) -> np.ndarray:
        """Each code's position (an all-missing row for a code without values)."""
        found = self.codes.get_indexer(pd.Index(list(codes), dtype=object))
        return np.where(found < 0, len(self.codes), found)

    def padded(self) -> np.ndarray:
        """``values`` with one more, all-missing wijk at the end (for :meth:`rows`)."""
        blank = np.full((1, *self.values.shape[1:]), np.nan)
        return np.concatenate([self.values, blank])


def value_cube(table: pd.DataFrame, indicators: Sequence[str], jaar: int | None = None
               ) -> Cube:
    """The :class:`Cube` of ``indicators`` (of ``jaar`` only, when given). Where two sources
    give a wijk, year and indicator, the first with a value counts."""
    indicators = list(dict.fromkeys(indicators))
    jaren, indeling = table["jaar"].to_numpy(), table["indeling"].to_numpy()
    mask = (jaren == indeling) & (table["niveau"] == "wijk").to_numpy()
    mask &= table["indicator"].isin(indicators).to_numpy() & table["waarde"].notna().to_numpy()
    if jaar is not None:
        mask &= jaren == jaar
    # Text is taken after the mask: turning a national column into Python strings is slow.
    code, codes = _factorized(table["gebiedscode"], mask)
    ind = _lookup(table["indicator"], mask, pd.Index(indicators))
    years = np.unique(jaren[mask])
    year = np.searchsorted(years, jaren[mask])
    values = np.full((len(codes), len(years), len(indicators)), np.nan)
    keys = pd.DataFrame({"c": code, "y": year, "i": ind})
    first = ~keys.duplicated().to_numpy()
    values[code[first], year[first], ind[first]] = table["waarde"].to_numpy()[mask][first]
    return Cube(values, pd.Index(codes.astype(str), dtype=object), years, indicators)


def _factorized(column: pd.Series, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``pd.factorize`` of the text of ``column`` where ``mask``: per row the position of
    its value among the values in order of appearance (as Python strings). A categorical
    column is factorized on its integer codes and only the values found become text."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        codes = column.cat.codes.to_numpy()[mask]
        if not (codes < 0).any():
            code, found = pd.factorize(codes)
            return code, column.cat.categories.to_numpy(dtype=object)[found]
    return pd.factorize(column[mask].to_numpy(dtype=object))


def _lookup(column: pd.Series, mask: np.ndarray, values: pd.Index) -> np.ndarray:
    """The position in ``values`` of the text of ``column`` where ``mask`` (-1 where it is
    not there); on the categories of a categorical column, not on every row."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        codes = column.cat.codes.to_numpy()[mask]
        found = values.get_indexer(column.cat.categories.to_numpy(dtype=object))
        return np.where(codes < 0, -1, np.append(found, -1)[codes])
    return values.get_indexer(column[mask].to_numpy(dtype=object))


class PeerSource:
    """The indicator table with what the peers of every gemeente read from it (value
    cubes, names, wijk codes), each computed once: scoring all gemeenten of a national
    table then scans it a few times, not a few times per gemeente."""

    def __init__(self, table: pd.DataFrame) -> None:
        self.table = table
        self._cubes: dict[tuple[tuple[str, ...], int | None], Cube] = {}
        self._features: dict[int, pd.DataFrame] = {}
        self._names: dict[str, dict[str, str]] = {}
        self._prepared: dict[tuple[int, frozenset[str]], Prepared] = {}
        self._wijken: pd.Series | None = None

    @classmethod
    def of(cls, table: pd.DataFrame | PeerSource) -> PeerSource:
        return table if isinstance(table, PeerSource) else cls(table)

    def cube(self, indicators: Sequence[str], jaar: int | None = None) -> Cube:
        key = (tuple(indicators), jaar)
        if key not in self._cubes:
            self._cubes[key] = value_cube(self.table, indicators, jaar)
        return self._cubes[key]

    def features(self, jaar: int) -> pd.DataFrame:
        if jaar not in self._features:
            self._features[jaar] = wijk_features(self.table, jaar)
        return self._features[jaar]

    def prepared(self, jaar: int, leave_out: Iterable[str]) -> Prepared:
        """:func:`prepare` of the features of ``jaar`` without ``leave_out``."""
        key = (jaar, frozenset(leave_out))
        if key not in self._prepared:
            self._prepared[key] = prepare(self.features(jaar), key[1])
        return self._prepared[key]

    def names(self, niveau: str) -> dict[str, str]:
        if niveau not in self._names:
            self._names[niveau] = _names(self.table, niveau)
        return self._names[niveau]

    def wijken(self) -> pd.Series:
        """Every wijk code in the table, as text."""
        if self._wijken is None:
            table = self.table
            self._wijken = pd.Series(table.loc[table["niveau"] == "wijk", "gebiedscode"].unique(),
                                     dtype=object).astype(str)
        return self._wijken


def peer_year(table: pd.DataFrame | PeerSource, gemeente: str) -> int | None:
    """The latest year in which wijken of ``gemeente`` and of another gemeente have an
    address density; None when there is none."""
    cube = PeerSource.of(table).cube([DENSITY])
    has = ~np.isnan(cube.values[:, :, 0])
    own = (pd.Series(cube.codes, dtype=object).str[2:6] == gemeente[2:6]).to_numpy()
    both = has[own].any(axis=0) & has[~own].any(axis=0)
    return int(cube.years[both].max()) if both.any() else None


def wijk_features(table: pd.DataFrame, jaar: int) -> pd.DataFrame:
    """One row per wijk of ``jaar`` (every gemeente), one column per feature."""
    cube = value_cube(table, [f.indicator for f in FEATURES], jaar)
    data = cube.values[:, 0, :] if len(cube.years) else np.empty((0, len(FEATURES)))
    frame = pd.DataFrame(data, index=pd.Index(cube.codes, name="gebiedscode"),
                         columns=cube.indicators)
    return frame.sort_index()


def _names(table: pd.DataFrame, niveau: str) -> dict[str, str]:
    """The latest name of every area of ``niveau`` (on integer codes: a national table's
    text is not sorted)."""
    mask = ((table["niveau"] == niveau) & table["gebiedsnaam"].notna()).to_numpy()
    code, codes = _factorized(table["gebiedscode"], mask)
    jaar = table["jaar"].to_numpy()[mask]
    order = np.lexsort((jaar, code))
    last = order[np.r_[code[order][1:] != code[order][:-1], True]] if len(order) else order
    names = table["gebiedsnaam"].take(np.flatnonzero(mask)[last]).to_numpy(dtype=object)
    return {str(c): str(n) for c, n in zip(codes[code[last]], names, strict=True)}


def gemeente_peers(table: pd.DataFrame | PeerSource, kompas: Kompas, gemeente: str,
                   k: int = K) -> tuple[pd.DataFrame, int | None]:
    """The peers table (:data:`PEER_COLUMNS`) of every wijk of ``gemeente`` in the table:
    a row per peer, or one row without a peer and with the reason. Features the kompas
    scores are left out. Returns the table and the year of the features. Given a
    :class:`PeerSource`, what it read from the table serves every gemeente; for several
    gemeenten :func:`gemeenten_peers` searches once for all."""
    found = gemeenten_peers(table, {gemeente: kompas}, k)
    return found.peers, found.summaries[0].jaar


def positions(table: pd.DataFrame | PeerSource, peers: pd.DataFrame,
              indicators: Sequence[str]) -> pd.DataFrame:
    """Per wijk, indicator and year in which the wijk has a value: how many of its peers
    have a value then (met_cijfer), how many of those the wijk is higher than (hoger_dan),
    lower than (lager_dan) or equal to (gelijk_aan, to six decimals), and their median.
    Values on each area's own indeling."""
    cube = PeerSource.of(table).cube(indicators)
    values = cube.padded()
    wijken = pd.unique(peers["wijk"].astype(object))
    pairs = peers.dropna(subset=["vergelijkbare_wijk"])
    where = pd.Index(wijken).get_indexer(pairs["wijk"].astype(object))
    column = pairs.groupby("wijk", sort=False).cumcount().to_numpy()
    k = int(column.max()) + 1 if len(column) else 0
    index = np.full((len(wijken), k), len(cube.codes))  # the all-missing row
    index[where, column] = cube.rows(pairs["vergelijkbare_wijk"])
    own = values[cube.rows(wijken)]  # wijken x years x indicators
    theirs = values[index]  # wijken x peers x years x indicators
    counts, median = _place(own, theirs, k)
    w, y, i = np.nonzero(~np.isnan(own))
    out = pd.DataFrame({"wijk": wijken[w], "indicator": np.asarray(cube.indicators,
                                                                   dtype=object)[i],
                        "jaar": cube.years[y].astype("int64"), "waarde": own[w, y, i],
                        **{name: count[w, y, i].astype("int64")
                           for name, count in counts.items()},
                        "mediaan": median[w, y, i]})
    keys = ["wijk", "indicator", "jaar"]
    return out[POSITION_COLUMNS].sort_values(keys, kind="stable").reset_index(drop=True)


# --- every gemeente in one pass ----------------------------------------------------------

@dataclass
class PeerSummary:
    """What the build says of one gemeente's peers: the year of the features (None when
    there is none), its wijken, those with at least one peer, the gemeenten those peers lie
    in, and the reason on its first row (None when it has no wijken)."""

    gemeente: str
    jaar: int | None
    wijken: int
    with_peers: int
    peer_gemeenten: int
    reason: str | None


@dataclass
class GemeentenPeers:
    """The peers table (:data:`PEER_COLUMNS`) and the positions (:data:`POSITION_COLUMNS`)
    of the wijken of several gemeenten, in the order the gemeenten were given and within a
    gemeente by wijk code, and per gemeente a :class:`PeerSummary`."""

    peers: pd.DataFrame
    positions: pd.DataFrame
    summaries: list[PeerSummary]


#: Wijken whose positions are computed at once (a national run: about 500 x 10 peers x 8
#: years x 23 indicators of values).
CHUNK_WIJKEN = 512
NO_YEAR = ("geen wijken van andere gemeenten met omgevingsadressendichtheid in hetzelfde "
           "jaar (importeer of haal andere gemeenten op)")


def _peer_years(source: PeerSource, gemeenten: Sequence[str]) -> list[int | None]:
    """:func:`peer_year` of each of ``gemeenten``, from one grouping of the density cube."""
    cube = source.cube([DENSITY])
    has = ~np.isnan(cube.values[:, :, 0])
    digits, group = np.unique(pd.Series(cube.codes, dtype=object).str[2:6].to_numpy(
        dtype=object).astype(str), return_inverse=True)
    own = np.zeros((len(digits), len(cube.years)), dtype="int64")
    np.add.at(own, group, has.astype("int64"))
    both = (own > 0) & (own < has.sum(axis=0))
    found = dict(zip(digits, both, strict=True))
    years = []
    for code in gemeenten:
        row = found.get(code[2:6])
        years.append(int(cube.years[row].max()) if row is not None and row.any() else None)
    return years


@dataclass
class _Targets:
    """The wijken of all gemeenten asked for, in the order of the tables, and per wijk
    what its row says before any peer is added."""

    codes: np.ndarray  # wijk codes (object)
    owner: np.ndarray  # position of its gemeente among the gemeenten asked for
    klasse: np.ndarray  # float, NaN where none
    klassen: np.ndarray
    kenmerken: np.ndarray
    reden: np.ndarray
    jaar: np.ndarray  # float, NaN where none


def _find_all(prepared: Prepared, codes: np.ndarray, owner: np.ndarray, k: int,
              klasse_out: np.ndarray, klassen_out: np.ndarray, kenmerken_out: np.ndarray,
              reden_out: np.ndarray) -> tuple[list[np.ndarray], dict[int, tuple[int, int]]]:
    """:func:`_find` for the wijken of several gemeenten at once (``owner``: the gemeente of
    each, by position), each wijk's own gemeente left out, each searched exactly as the
    search of its own gemeente alone would (the same tree and as many candidates asked of
    it: k + 5 more than its own gemeente has there). Fills the row columns in place;
    returns the peers as arrays (target, peer code, peer gemeente, distance, rank) and per
    gemeente (by position) how many searches its own search would have made (one per
    classes and features) and how many of those found nobody."""
    columns, matrix, klasse = prepared.columns, prepared.matrix, prepared.klasse
    present = ~np.isnan(matrix)
    width = len(columns)
    need = max(1, math.ceil(MIN_OWN_SHARE * len(columns)))
    at = prepared.index.get_indexer(pd.Index(codes, dtype=object))
    known = at >= 0
    at = np.where(known, at, 0)
    has = present[at] & known[:, None]
    found = has.sum(axis=1)
    labels = np.array([f"{n} van {width}" for n in range(width + 1)] + [""], dtype=object)
    kenmerken_out[:] = labels[np.where(known, found, width + 1)]
    own_klasse = np.where(known, klasse[at], np.nan)
    reden_out[~known] = "geen kenmerken van deze wijk in dit jaar"
    no_class = known & np.isnan(own_klasse)
    reden_out[no_class] = "omgevingsadressendichtheid ontbreekt: geen stedelijkheidsklasse"
    few = known & ~no_class & (found < need)
    reden_out[few] = [f"te weinig kenmerken ({n} van {width}, nodig {need})"
                      for n in found[few]]
    eligible = np.flatnonzero(known & ~no_class & ~few)
    counts, class_total = prepared.counts, prepared.class_total
    gemeente = prepared.gemeente[at]
    plans: dict[tuple[str, int], tuple[tuple[int, ...], str, bool, int]] = {}
    chosen_of, ask_of = [], []
    short = f"minder dan {k} wijken van andere gemeenten met alle kenmerken in alle klassen"
    for i in eligible:
        key = (gemeente[i], int(own_klasse[i]))
        if key not in plans:
            own, number = key
            available = {c: n - counts.get((own, c), 0) for c, n in class_total.items()}
            chosen, label = _widened(number, available, k)
            size = sum(class_total.get(c, 0) for c in chosen)
            ask = min(size, k + size - sum(available.get(c, 0) for c in chosen) + 5)
            plans[key] = (tuple(chosen), label,
                          sum(available.get(c, 0) for c in chosen) < k, ask)
        chosen, label, lacking, ask = plans[key]
        klasse_out[i], klassen_out[i] = key[1], label
        if lacking:
            reden_out[i] = short
        chosen_of.append(chosen)
        ask_of.append(ask)
    # One search per classes, features and number asked, over the wijken of every gemeente.
    bits = (has[eligible].astype("int64") << np.arange(width)).sum(axis=1)
    classes, chosen_id = np.unique(np.array([sum(1 << c for c in ch) for ch in chosen_of],
                                            dtype="int64"), return_inverse=True)
    chosen_by_id = {sum(1 << c for c in ch): ch for ch in chosen_of}
    keys = np.stack([chosen_id.ravel(), bits, np.asarray(ask_of, dtype="int64")], axis=1) \
        if len(eligible) else np.empty((0, 3), dtype="int64")
    unique_keys, plan = np.unique(keys, axis=0, return_inverse=True)
    plan = plan.ravel()
    out: list[list[np.ndarray]] = [[], [], [], [], []]
    for p, (cid, mask_bits, ask) in enumerate(unique_keys):
        ats = eligible[plan == p]
        mask = tuple(bool(int(mask_bits) >> j & 1) for j in range(width))
        chosen = chosen_by_id[int(classes[cid])]
        if mask not in prepared.scales:
            prepared.scales[mask] = _scale(np.asarray(mask), prepared.scaled_columns)
        candidates = _candidates(prepared, chosen, mask)
        if candidates.tree is None:
            continue
        rows = at[ats]
        dist, index = candidates.tree.query(matrix[rows][:, np.asarray(mask)], k=int(ask))
        dist = np.asarray(dist, dtype="float64").reshape(len(ats), -1) * prepared.scales[mask]
        index = np.asarray(index).reshape(len(ats), -1)
        dist[candidates.gemeente[index] == gemeente[ats][:, None]] = np.inf
        order = np.lexsort((candidates.rank[index], np.round(dist, 9)), axis=-1)[:, :k]
        dist = np.take_along_axis(dist, order, axis=-1)
        index = np.take_along_axis(index, order, axis=-1)
        kept = np.isfinite(dist)
        out[0].append(np.repeat(ats, kept.sum(axis=1)))
        out[1].append(candidates.codes[index][kept])
        out[2].append(candidates.gemeente[index][kept])
        out[3].append(dist[kept])
        out[4].append(np.cumsum(kept, axis=1)[kept])
    target = np.concatenate(out[0]) if out[0] else np.empty(0, dtype="int64")
    hit = np.zeros(len(codes), dtype="int64")
    np.add.at(hit, target, 1)
    per_plan = pd.Series(hit[eligible]).groupby([owner[eligible], plan]).sum()
    searches: dict[int, tuple[int, int]] = {}
    for (g, _), n in per_plan.items():
        total, empty = searches.get(int(g), (0, 0))
        searches[int(g)] = (total + 1, empty + int(n == 0))
    arrays = [target, *(np.concatenate(part) if part else np.empty(0, dtype=kind)
                        for part, kind in zip(out[1:], (object, object, "float64", "int64"),
                                              strict=True))]
    return arrays, searches


def gemeenten_peers(table: pd.DataFrame | PeerSource, kompassen: Mapping[str, Kompas],
                    k: int = K) -> GemeentenPeers:
    """:func:`gemeente_peers` and :func:`positions` of every gemeente of ``kompassen`` (code
    to kompas) in one pass: one search per feature year, left-out indicators, classes,
    features and number asked for the wijken of all gemeenten together, and the positions
    per set of scored indicators. The tables are exactly those of the gemeenten one at a
    time, put together in the order of ``kompassen`` (the types of their columns
    included)."""
    source = PeerSource.of(table)
    gemeenten = list(kompassen)
    codes = source.wijken()
    ordered = np.array(sorted(codes), dtype=object)
    digits = pd.Series(ordered, dtype=object).str[2:6].to_numpy(dtype=object)
    groups = pd.Series(np.arange(len(ordered))).groupby(digits, sort=False).indices \
        if len(ordered) else {}
    per = [ordered[groups[code[2:6]]] if code[2:6] in groups else ordered[:0]
           for code in gemeenten]
    sizes = np.array([len(w) for w in per], dtype="int64")
    starts = np.concatenate([[0], np.cumsum(sizes)])
    n = int(starts[-1])
    targets = _Targets(np.concatenate(per) if n else np.empty(0, dtype=object),
                       np.repeat(np.arange(len(gemeenten)), sizes), np.full(n, np.nan),
                       np.full(n, "", dtype=object), np.full(n, "", dtype=object),
                       np.full(n, "", dtype=object), np.full(n, np.nan))
    years = _peer_years(source, gemeenten)
    # The types of the columns of codes, as the tables of the gemeenten one at a time put
    # together had them (the wider type wins): a gemeente's codes of peers were text only
    # when each of its searches (per classes and features) found someone (one that found
    # nobody gave plain objects), its wijk codes also when none found anyone (nothing was
    # joined) or it searched nothing; a gemeente without a search gave plain objects.
    plain = np.zeros(len(gemeenten), dtype=bool)
    wijk_text = np.zeros(len(gemeenten), dtype=bool)
    by_search: dict[tuple[int, frozenset[str]], list[int]] = {}
    for g, (code, jaar) in enumerate(zip(gemeenten, years, strict=True)):
        ours = slice(starts[g], starts[g + 1])
        if jaar is None:
            targets.reden[ours] = NO_YEAR
            continue
        targets.jaar[ours] = jaar
        scored = frozenset(name for name, ind in kompassen[code].indicators.items()
                           if ind.scored)
        by_search.setdefault((jaar, scored), []).append(g)
    found: list[list[np.ndarray]] = []
    for (jaar, scored), members in by_search.items():
        prepared = source.prepared(jaar, scored)
        rows = np.concatenate([np.arange(starts[g], starts[g + 1]) for g in members])
        if prepared.reason:
            targets.reden[rows] = prepared.reason
            continue
        klasse, klassen = targets.klasse[rows], targets.klassen[rows]
        kenmerken, reden = targets.kenmerken[rows], targets.reden[rows]
        arrays, searches = _find_all(prepared, targets.codes[rows], targets.owner[rows], k,
                                     klasse, klassen, kenmerken, reden)
        targets.klasse[rows], targets.klassen[rows] = klasse, klassen
        targets.kenmerken[rows], targets.reden[rows] = kenmerken, reden
        arrays[0] = rows[arrays[0]]
        found.append(arrays)
        for g in members:
            total, empty = searches.get(g, (0, 0))
            plain[g] = total > 0 and empty == 0
            wijk_text[g] = empty == 0 or empty == total
    parts = list(zip(*found, strict=True)) if found else [[] for _ in range(5)]
    target, peer, peer_gemeente, afstand, rang = (
        np.concatenate(part) if len(part) else np.empty(0, dtype=kind)
        for part, kind in zip(parts, ("int64", object, object, "float64", "int64"),
                              strict=True))
    order = np.lexsort((rang, target))
    target, peer, peer_gemeente = target[order], peer[order], peer_gemeente[order]
    afstand, rang = afstand[order], rang[order]
    table_out = _peer_table(source, targets, target, peer, peer_gemeente, afstand, rang,
                            text=bool(plain.all()), wijk_text=bool(wijk_text.all()))
    placed = _positions_all(source, kompassen, gemeenten, targets, starts, target, peer, rang)
    with_peers = np.zeros(len(gemeenten), dtype="int64")
    np.add.at(with_peers, targets.owner[np.unique(target)], 1)
    pairs = np.unique(pd.DataFrame({"g": targets.owner[target], "p": peer_gemeente})
                      .drop_duplicates()["g"].to_numpy(), return_counts=True)
    peer_gemeenten = dict(zip(pairs[0].tolist(), pairs[1].tolist(), strict=True))
    summaries = [PeerSummary(code, years[g],
                             int(sizes[g]), int(with_peers[g]),
                             int(peer_gemeenten.get(g, 0)),
                             str(targets.reden[starts[g]]) if sizes[g] else None)
                 for g, code in enumerate(gemeenten)]
    return GemeentenPeers(table_out, placed, summaries)


def _peer_table(source: PeerSource, targets: _Targets, target: np.ndarray, peer: np.ndarray,
                peer_gemeente: np.ndarray, afstand: np.ndarray, rang: np.ndarray,
                text: bool, wijk_text: bool) -> pd.DataFrame:
    """The rows of :data:`PEER_COLUMNS`: one per wijk and peer, or one without a peer.
    ``text``/``wijk_text``: whether the columns of codes are of the text type, as they
    were when every gemeente's table of its own had them so."""
    count = np.bincount(target, minlength=len(targets.codes))
    repeat = np.maximum(count, 1)
    row = np.repeat(np.arange(len(targets.codes)), repeat)
    first = np.cumsum(repeat) - repeat
    # Peer rows come in the order of their wijk, then rank: the k-th peer of a wijk is the
    # row at its first row plus k - 1.
    at = first[target] + rang - 1
    vergelijkbaar = np.full(len(row), np.nan, dtype=object)
    gemeente = np.full(len(row), np.nan, dtype=object)
    distance = np.full(len(row), np.nan)
    rank = np.full(len(row), np.nan)
    vergelijkbaar[at], gemeente[at], distance[at], rank[at] = peer, peer_gemeente, afstand, rang
    kind = "str" if text else object
    frame = pd.DataFrame({
        "wijk": pd.Series(targets.codes[row], dtype="str" if wijk_text else object),
        "vergelijkbare_wijk": pd.Series(vergelijkbaar, dtype=kind),
        "gemeente": pd.Series(gemeente, dtype=kind),
    })
    wijknamen, gemeentenamen = source.names("wijk"), source.names("gemeente")
    frame["wijknaam"] = frame["wijk"].map(wijknamen)
    frame["naam"] = frame["vergelijkbare_wijk"].map(wijknamen)
    codes = frame["gemeente"].astype(object)
    named = codes.map(gemeentenamen)
    frame["gemeentenaam"] = named.where(named.notna(), codes)
    frame["afstand"] = pd.Series(distance).round(4)
    frame["rang"] = pd.Series(rank).astype("Int64")
    frame["jaar"] = pd.Series(targets.jaar[row]).astype("Int64")
    frame["klasse"] = pd.Series(targets.klasse[row]).astype("Int64")
    for name in ("klassen", "kenmerken", "reden"):
        frame[name] = pd.Series(getattr(targets, name)[row], dtype="str")
    return frame[PEER_COLUMNS]


def _positions_all(source: PeerSource, kompassen: Mapping[str, Kompas],
                   gemeenten: list[str], targets: _Targets, starts: np.ndarray,
                   target: np.ndarray, peer: np.ndarray, rang: np.ndarray) -> pd.DataFrame:
    """:func:`positions` of the wijken of every gemeente (each among its peers, on the
    indicators its kompas scores), in the order of the targets; a few hundred wijken at a
    time, so that the peers' values of a national run are never held at once."""
    by_scored: dict[tuple[str, ...], list[int]] = {}
    for g, code in enumerate(gemeenten):
        scored = tuple(name for name, ind in kompassen[code].indicators.items() if ind.scored)
        by_scored.setdefault(scored, []).append(g)
    k = int(rang.max()) if len(rang) else 0
    names = sorted({name for scored in by_scored for name in scored})
    parts: dict[str, list[np.ndarray]] = {name: [] for name in ["wijk", "indicator",
                                                                 *POSITION_COLUMNS[2:]]}
    for scored, members in by_scored.items():
        cube = source.cube(scored)
        values = cube.padded()
        index = np.full((len(targets.codes), k), len(cube.codes))
        if len(peer):
            index[target, rang - 1] = cube.rows(peer)
        by_name = np.argsort(np.asarray(cube.indicators, dtype=object), kind="stable")
        name_at = np.searchsorted(np.asarray(names, dtype=object),
                                  np.asarray(cube.indicators, dtype=object)[by_name])
        rows = np.concatenate([np.arange(starts[g], starts[g + 1]) for g in members])
        own_rows = cube.rows(targets.codes[rows])
        for start in range(0, len(rows), CHUNK_WIJKEN):
            chunk = rows[start:start + CHUNK_WIJKEN]
            own = values[own_rows[start:start + CHUNK_WIJKEN]][:, :, by_name]
            counts, median = _place(own, values[index[chunk]][:, :, :, by_name], k)
            # Ordered as the table: by wijk, indicator (by name), year.
            w, i, y = np.nonzero(~np.isnan(own.transpose(0, 2, 1)))
            parts["wijk"].append(chunk[w])
            parts["indicator"].append(name_at[i])
            parts["jaar"].append(cube.years[y].astype("int64"))
            parts["waarde"].append(own[w, y, i])
            for name, count in counts.items():
                parts[name].append(count[w, y, i].astype("int64"))
            parts["mediaan"].append(median[w, y, i])
    columns = {name: np.concatenate(part) if part else np.empty(
        0, dtype="float64" if name in ("waarde", "mediaan") else "int64")
        for name, part in parts.items()}
    if len(by_scored) > 1:  # back in the order of the gemeenten
        order = np.argsort(columns["wijk"], kind="stable")
        columns = {name: column[order] for name, column in columns.items()}
    # A gemeente without a position had columns of codes without the text type.
    placed = np.zeros(len(gemeenten), dtype="int64")
    np.add.at(placed, targets.owner[columns["wijk"]], 1)
    text = (placed > 0).all()
    for name, labels in (("wijk", targets.codes), ("indicator", np.asarray(names, dtype=object))):
        columns[name] = pd.Series(pd.array(labels, dtype="str").take(columns[name])) if text \
            else pd.Series(labels[columns[name]], dtype=object)
    return pd.DataFrame({name: columns[name] for name in POSITION_COLUMNS})


def _place(own: np.ndarray, theirs: np.ndarray, k: int
           ) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Counts (met_cijfer, hoger_dan, lager_dan, gelijk_aan) and median of ``theirs``
    (wijken x peers x years x indicators) against ``own`` (wijken x years x indicators).
    The peers are made the last, contiguous axis: summed and sorted along it."""
    theirs = np.ascontiguousarray(np.moveaxis(theirs, 1, -1))
    present = ~np.isnan(theirs)
    mine, peer = np.round(own, 6)[..., None], np.round(theirs, 6)
    with np.errstate(invalid="ignore"):
        counts = {"met_cijfer": present.sum(axis=-1),
                  "hoger_dan": (present & (mine > peer)).sum(axis=-1),
                  "lager_dan": (present & (mine < peer)).sum(axis=-1),
                  "gelijk_aan": (present & (mine == peer)).sum(axis=-1)}
    # The median of the peers with a value: sorted, missing values last, the middle one
    # (or the mean of the middle two) of the n present.
    median = np.full(own.shape, np.nan)
    if k:
        ordered = np.sort(theirs, axis=-1)
        n = counts["met_cijfer"]
        low = np.take_along_axis(ordered, np.maximum((n - 1) // 2, 0)[..., None], axis=-1)
        high = np.take_along_axis(ordered, np.minimum(n // 2, k - 1)[..., None], axis=-1)
        median = np.where(n > 0, (low[..., 0] + high[..., 0]) / 2, np.nan)
    return counts, median


def read_peers(paths: ProcessedPaths, gemeente: str) -> tuple[pd.DataFrame, pd.DataFrame] | None:
    """The peers and positions the build wrote for the wijken of ``gemeente``; None when
    the build wrote none (an older build)."""
    if not paths.peers.is_file() or not paths.peer_positions.is_file():
        return None
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    frames = []
    for path in (paths.peers, paths.peer_positions):
        with rebuild_on_error(path):
            schema = pq.read_schema(path)
            wijk = schema.field("wijk").type if "wijk" in schema.names else None
            # Only the gemeente's rows are read (filtered again below, whatever the type).
            own = (pc.utf8_slice_codeunits(pc.field("wijk"), 2, 6) == gemeente[2:6]) \
                if wijk is not None and (pa.types.is_string(wijk)
                                         or pa.types.is_large_string(wijk)) else None
            frame = pd.read_parquet(path, filters=own)
            if "wijk" not in frame.columns:
                raise KeyError("kolom wijk ontbreekt")
        frames.append(frame[frame["wijk"].astype(str).str[2:6] == gemeente[2:6]]
                      .reset_index(drop=True))
    return frames[0], frames[1]


def write_peers(peers: pd.DataFrame, placed: pd.DataFrame, out_dir: Path) -> list[Path]:
    """Both tables into ``out_dir`` as Parquet and CSV, each atomically."""
    paths = ProcessedPaths(out_dir)
    written = []
    for frame, path in ((peers, paths.peers), (placed, paths.peer_positions)):
        csv = path.with_suffix(".csv")
        write_table(frame, path, csv)
        written += [path, csv]
    return written
