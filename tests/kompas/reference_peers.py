"""The vergelijkbare wijken as the build computed them before issue #30, kept as the
reference that tests/kompas/test_peers_equivalence.py compares the one pass over all
gemeenten with.

One gemeente at a time: its wijken picked from every wijk code by their digits, its
feature year looked up, one neighbour search per searched classes and features of its
own wijken (as many candidates asked of the tree as its own gemeente has there, plus
k + 5), its table merged and named, its positions computed and sorted by text; the
tables of all gemeenten put together and a line said per gemeente, as ``_write_peers``
in kompas/stage.py did. Unchanged in behaviour.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from wijkkompas.kompas.definition import Kompas
from wijkkompas.kompas.peers import (
    DENSITY,
    MIN_OWN_SHARE,
    PEER_COLUMNS,
    POSITION_COLUMNS,
    Candidates,
    K,
    PeerResult,
    PeerSource,
    Prepared,
    _candidates,
    _empty_peers,
    _gemeente,
    _no_peers,
    _scale,
    _widened,
)


def write_peers(table: pd.DataFrame, kompassen: Mapping[str, Kompas],
                say: Callable[[str], None]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The two tables of every gemeente of ``kompassen`` and the lines said, as
    ``_write_peers`` made them (without writing)."""
    found, placed = [], []
    source = PeerSource(table)
    for code, kompas in kompassen.items():
        peers_of, jaar = gemeente_peers(source, kompas, code)
        scored = [name for name, ind in kompas.indicators.items() if ind.scored]
        found.append(peers_of)
        placed.append(positions(source, peers_of, scored))
        named = peers_of.dropna(subset=["vergelijkbare_wijk"])
        if len(named):
            say(f"Vergelijkbare wijken ({code}, kenmerken van {jaar}): "
                f"{named['wijk'].nunique()} van {peers_of['wijk'].nunique()} wijken, uit "
                f"{named['gemeente'].nunique()} andere gemeenten.")
        else:
            reason = peers_of["reden"].iloc[0] if len(peers_of) else "geen wijken"
            say(f"Geen vergelijkbare wijken voor {code}: {reason}.")
    return pd.concat(found, ignore_index=True), pd.concat(placed, ignore_index=True)


def _find(prepared: Prepared, targets: Iterable[str], k: int) -> PeerResult:
    """:func:`find_peers` from what :func:`prepare` derived."""
    targets = list(dict.fromkeys(targets))
    if prepared.reason:
        return PeerResult(_empty_peers(), _no_peers(targets, prepared.reason), [])
    columns, matrix, klasse = prepared.columns, prepared.matrix, prepared.klasse
    gemeente, counts, class_total = prepared.gemeente, prepared.counts, prepared.class_total
    position = prepared.position
    present_matrix = ~np.isnan(matrix)
    need = max(1, math.ceil(MIN_OWN_SHARE * len(columns)))
    plans: dict[tuple[tuple[int, ...], tuple[bool, ...]], list[int]] = {}
    rows = []
    for code in targets:
        row: dict[str, object] = {"wijk": code, "klasse": pd.NA, "klassen": "",
                                  "kenmerken": "", "reden": ""}
        rows.append(row)
        at = position.get(code)
        if at is None:
            row["reden"] = "geen kenmerken van deze wijk in dit jaar"
            continue
        has = present_matrix[at]
        found = int(has.sum())
        row["kenmerken"] = f"{found} van {len(columns)}"
        if np.isnan(klasse[at]):
            row["reden"] = "omgevingsadressendichtheid ontbreekt: geen stedelijkheidsklasse"
            continue
        if found < need:
            row["reden"] = f"te weinig kenmerken ({found} van {len(columns)}, nodig {need})"
            continue
        own = gemeente[at]
        available = {c: n - counts.get((own, c), 0) for c, n in class_total.items()}
        chosen, label = _widened(int(klasse[at]), available, k)
        row["klasse"], row["klassen"] = int(klasse[at]), label
        if sum(available.get(c, 0) for c in chosen) < k:
            row["reden"] = (f"minder dan {k} wijken van andere gemeenten met alle kenmerken "
                            "in alle klassen")
        plans.setdefault((tuple(chosen), tuple(bool(b) for b in has)), []).append(at)

    for _, mask in plans:
        if mask not in prepared.scales:
            prepared.scales[mask] = _scale(np.asarray(mask), prepared.scaled_columns)
    codes = prepared.index.to_numpy(dtype=object)
    found_peers = [_search(_candidates(prepared, classes, mask), np.asarray(mask),
                           matrix[ats], gemeente[ats], codes[ats], k, prepared.scales[mask])
                   for (classes, mask), ats in plans.items()]
    peers = pd.concat(found_peers, ignore_index=True) if found_peers else _empty_peers()
    order = {code: i for i, code in enumerate(targets)}
    peers = peers.sort_values(["wijk", "rang"], key=lambda s: s.map(order)
                              if s.name == "wijk" else s, kind="stable").reset_index(drop=True)
    wijken = pd.DataFrame(rows, columns=["wijk", "klasse", "klassen", "kenmerken", "reden"])
    wijken["klasse"] = wijken["klasse"].astype("Int64")
    return PeerResult(peers, wijken, columns)


def _search(found: Candidates, mask: np.ndarray, query: np.ndarray,
            gemeente: np.ndarray, codes: np.ndarray, k: int, scale: float) -> pd.DataFrame:
    """The peers of the wijken ``codes`` (rows ``query``, all of the same searched classes
    and features present) in one tree over the candidates of those classes, on those
    features. ``scale`` makes a distance on fewer features comparable (``_scale``)."""
    if found.tree is None:
        return _empty_peers()
    tree, cand_codes, cand_gemeente, rank = found.tree, found.codes, found.gemeente, found.rank
    candidates = found
    own_max = max(int((cand_gemeente == g).sum()) for g in set(gemeente))
    # Enough to keep k after leaving out the wijk's own gemeente, and a few more so that
    # ties at the k-th place are settled by code, not by the tree.
    ask = min(candidates.size, k + own_max + 5)
    dist, index = tree.query(query[:, mask], k=ask)
    dist = np.asarray(dist, dtype="float64").reshape(len(codes), -1) * scale
    index = np.asarray(index).reshape(len(codes), -1)
    # Leave out the wijk's own gemeente; order by distance (to 9 decimals), then by code.
    dist[cand_gemeente[index] == gemeente[:, None]] = np.inf
    order = np.lexsort((rank[index], np.round(dist, 9)), axis=-1)[:, :k]
    dist = np.take_along_axis(dist, order, axis=-1)
    index = np.take_along_axis(index, order, axis=-1)
    kept = np.isfinite(dist)
    peer = cand_codes[index][kept]
    return pd.DataFrame({"wijk": np.repeat(codes, kept.sum(axis=1)),
                         "vergelijkbare_wijk": peer, "afstand": dist[kept],
                         "gemeente": _gemeente(peer),
                         "rang": np.cumsum(kept, axis=1)[kept]})


def peer_year(table: pd.DataFrame | PeerSource, gemeente: str) -> int | None:
    """The latest year in which wijken of ``gemeente`` and of another gemeente have an
    address density; None when there is none."""
    cube = PeerSource.of(table).cube([DENSITY])
    has = ~np.isnan(cube.values[:, :, 0])
    own = (pd.Series(cube.codes, dtype=object).str[2:6] == gemeente[2:6]).to_numpy()
    both = has[own].any(axis=0) & has[~own].any(axis=0)
    return int(cube.years[both].max()) if both.any() else None


def gemeente_peers(table: pd.DataFrame | PeerSource, kompas: Kompas, gemeente: str,
                   k: int = K) -> tuple[pd.DataFrame, int | None]:
    """The peers table (:data:`PEER_COLUMNS`) of every wijk of ``gemeente`` in the table:
    a row per peer, or one row without a peer and with the reason. Features the kompas
    scores are left out. Returns the table and the year of the features. Given a
    :class:`PeerSource`, what it read from the table serves every gemeente."""
    source = PeerSource.of(table)
    codes = source.wijken()
    wijken = sorted(codes[codes.str[2:6] == gemeente[2:6]])
    wijknamen, gemeentenamen = source.names("wijk"), source.names("gemeente")
    jaar = peer_year(source, gemeente)
    if jaar is None:
        result = PeerResult(_empty_peers(), _no_peers(
            wijken, "geen wijken van andere gemeenten met omgevingsadressendichtheid in "
                    "hetzelfde jaar (importeer of haal andere gemeenten op)"), [])
    else:
        scored = {name for name, ind in kompas.indicators.items() if ind.scored}
        result = _find(source.prepared(jaar, scored), wijken, k)
    peers = result.wijken.merge(result.peers, on="wijk", how="left")
    peers["jaar"] = jaar
    peers["wijknaam"] = peers["wijk"].map(wijknamen)
    peers["naam"] = peers["vergelijkbare_wijk"].map(wijknamen)
    gemeente = peers["gemeente"].astype(object)
    named = gemeente.map(gemeentenamen)
    peers["gemeentenaam"] = named.where(named.notna(), gemeente)
    peers["rang"] = peers["rang"].astype("Int64")
    peers["jaar"] = peers["jaar"].astype("Int64")
    peers["afstand"] = peers["afstand"].astype("float64").round(4)
    return peers[PEER_COLUMNS].reset_index(drop=True), jaar


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
    present = ~np.isnan(theirs)
    mine, peer = np.round(own, 6)[:, None], np.round(theirs, 6)
    with np.errstate(invalid="ignore"):
        counts = {"met_cijfer": present.sum(axis=1),
                  "hoger_dan": (present & (mine > peer)).sum(axis=1),
                  "lager_dan": (present & (mine < peer)).sum(axis=1),
                  "gelijk_aan": (present & (mine == peer)).sum(axis=1)}
    # The median of the peers with a value: sorted, missing values last, the middle one
    # (or the mean of the middle two) of the n present.
    median = np.full(own.shape, np.nan)
    if k:
        ordered = np.sort(theirs, axis=1)
        n = counts["met_cijfer"]
        low = np.take_along_axis(ordered, np.maximum((n - 1) // 2, 0)[:, None], axis=1)
        high = np.take_along_axis(ordered, np.minimum(n // 2, k - 1)[:, None], axis=1)
        median = np.where(n > 0, (low[:, 0] + high[:, 0]) / 2, np.nan)
    w, y, i = np.nonzero(~np.isnan(own))
    out = pd.DataFrame({"wijk": wijken[w], "indicator": np.asarray(cube.indicators,
                                                                   dtype=object)[i],
                        "jaar": cube.years[y].astype("int64"), "waarde": own[w, y, i],
                        **{name: count[w, y, i].astype("int64")
                           for name, count in counts.items()},
                        "mediaan": median[w, y, i]})
    keys = ["wijk", "indicator", "jaar"]
    return out[POSITION_COLUMNS].sort_values(keys, kind="stable").reset_index(drop=True)
