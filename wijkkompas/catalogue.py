"""The variable and indicator catalogues, and resolving them against a source's own keys.

CBS renumbers its keys between years (``Woningvoorraad_34`` became ``_35``) and repeats
titles in one table (``Nederland_17`` and ``Nederland_20`` differ only by their parent
group). A variable is therefore found by its key without the number ("stem"), narrowed
where needed by a fragment of its parent group chain in DataProperties; explicit
overrides per table win over both. The wijk- en buurtkaart files are matched by column
name, in count form (``AANT_INW``) or percentage form (``P_65_EO_JR``).

Indicators from other sources name them in ``bron`` (empty: the KWB). The crime groups
of the Politie table 47018NED are in ``misdrijven.csv``: per count variable the
``SoortMisdrijf`` codes it sums.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd

from wijkkompas.errors import WijkkompasError, capped

#: The source of an indicator whose ``bron`` in indicatoren.csv is empty.
KWB_BRON = "CBS Kerncijfers wijken en buurten"
#: How an indicator is computed from its teller and noemer, and the factor applied.
FACTORS = {"aantal": 1.0, "aandeel": 100.0, "per_1000": 1000.0, "gemiddelde": 1.0,
           "dichtheid": 100.0, "verhouding": 1.0}


@dataclass(frozen=True)
class Variable:
    variabele: str
    naam: str
    eenheid: str
    soort: str  # aantal, gemiddelde or code
    basis: str  # the variable a percentage refers to, or the weight of an average
    odata: tuple[str, ...]
    odata_groep: str
    kaart: tuple[str, ...]
    kaart_procent: tuple[str, ...]
    #: How the variable is re-allocated onto another indeling: "inwoners", "huishoudens" or
    #: "woningen" (by that count of the target indeling), "oppervlak" (by area), or empty
    #: for a code, which is never re-allocated.
    gewicht: str = ""


#: The weights a variable can take when it is re-allocated onto another indeling.
GEWICHTEN = ("inwoners", "huishoudens", "woningen", "oppervlak")


@dataclass(frozen=True)
class Indicator:
    indicator: str
    naam: str
    eenheid: str
    berekening: str
    teller: str
    noemer: str  # empty for counts
    bron: str = KWB_BRON
    #: The reference date of the figure within its year ("1 januari"); empty: the year.
    peildatum: str = ""

    @property
    def factor(self) -> float:
        return FACTORS[self.berekening]


def factor_table(extra: dict[str, tuple[str, float]] | None = None) -> dict[str, float | None]:
    """Per indicator its factor, or None for a count; ``extra`` adds local indicators."""
    table: dict[str, float | None] = {
        name: None if ind.berekening == "aantal" else ind.factor
        for name, ind in indicators().items()
    }
    for name, (berekening, factor) in (extra or {}).items():
        table[name] = None if berekening == "aantal" else factor
    return table


def _split(text: Any) -> tuple[str, ...]:
    if not isinstance(text, str) or not text.strip():
        return ()
    return tuple(part.strip() for part in text.split("|") if part.strip())


def _read(name: str) -> pd.DataFrame:
    with resources.files("wijkkompas.data").joinpath(name).open("r", encoding="utf-8") as f:
        return pd.read_csv(f, dtype=str, keep_default_na=False)


@cache
def variables() -> dict[str, Variable]:
    frame = _read("variabelen.csv")
    result = {}
    for row in frame.itertuples():
        gewicht = row.gewicht.strip()
        if gewicht not in GEWICHTEN and not (row.soort == "code" and gewicht == ""):
            raise WijkkompasError(
                f"variabelen.csv: variabele '{row.variabele}' heeft gewicht '{gewicht}'; "
                f"kies uit {', '.join(GEWICHTEN)} (leeg alleen bij een code)."
            )
        result[row.variabele] = Variable(row.variabele, row.naam, row.eenheid, row.soort,
                                         row.basis, _split(row.odata), row.odata_groep.strip(),
                                         _split(row.kaart), _split(row.kaart_procent), gewicht)
    return result


def weight_table() -> dict[str, tuple[str, str]]:
    """Per catalogue indicator the weight of its teller and of its noemer on re-allocation.

    A count has no noemer; its second weight repeats the first. The teller of an average
    (average x weight) moves with its weight variable, so it takes the noemer's weight.
    """
    known = variables()
    table = {}
    for name, ind in indicators().items():
        noemer = known[ind.noemer].gewicht if ind.noemer else known[ind.teller].gewicht
        teller = noemer if ind.berekening == "gemiddelde" else known[ind.teller].gewicht
        table[name] = (teller, noemer)
    return table


@cache
def indicators() -> dict[str, Indicator]:
    frame = _read("indicatoren.csv")
    known = variables()
    result = {}
    for row in frame.itertuples():
        ind = Indicator(row.indicator, row.naam, row.eenheid, row.berekening, row.teller,
                        row.noemer, row.bron.strip() or KWB_BRON, row.peildatum.strip())
        if ind.berekening not in FACTORS:
            raise WijkkompasError(f"indicatoren.csv: onbekende berekening '{ind.berekening}' "
                                  f"bij {ind.indicator}.")
        for part in filter(None, (ind.teller, ind.noemer)):
            if part not in known:
                raise WijkkompasError(f"indicatoren.csv: {ind.indicator} noemt onbekende "
                                      f"variabele '{part}'.")
        result[ind.indicator] = ind
    return result


_CRIME_CODE = re.compile(r"^\d\.\d\.\d{1,2}$", re.ASCII)


@cache
def crime_groups() -> dict[str, tuple[str, ...]]:
    """The crime groups of ``misdrijven.csv``: per count variable the 47018NED
    ``SoortMisdrijf`` codes (unpadded, ``1.4.2``) it is the sum of."""
    groups: dict[str, tuple[str, ...]] = {}
    for row in _read("misdrijven.csv").itertuples():
        codes = tuple(c.strip() for c in row.soorten.split("|") if c.strip())
        if not codes or any(not _CRIME_CODE.match(c) for c in codes):
            raise WijkkompasError(f"misdrijven.csv: ongeldige of geen soorten misdrijf bij "
                                  f"'{row.variabele}' (verwacht bijvoorbeeld 1.4.2).")
        groups[row.variabele.strip()] = codes
    unknown = sorted(set(groups) - set(variables()))
    if unknown:
        raise WijkkompasError(f"misdrijven.csv: onbekende variabele(n) {', '.join(unknown)}; "
                              "zet ze ook in variabelen.csv.")
    return groups


_INDELING_RE = re.compile(r"indeling (?:van )?(\d{4})", re.ASCII)


def politie_indeling(props: list[dict[str, Any]], infos: list[dict[str, Any]],
                     folder: Path) -> int:
    """The buurt indeling of 47018NED, as its metadata states it ("indeling 2024")."""
    texts = [str(p.get("Description") or "") for p in props if p.get("Type") == "GeoDetail"]
    for info in infos:
        texts += [str(info.get(k) or "") for k in ("ExplanatoryText", "ShortDescription")]
    for text in texts:
        match = _INDELING_RE.search(text)
        if match:
            return int(match.group(1))
    raise WijkkompasError(
        f"{folder}: de metadata zeggen niet in welke buurtindeling de misdrijven staan "
        "('indeling JJJJ' in DataProperties of TableInfos); zonder die indeling kunnen de "
        "cijfers niet aan inwoners gekoppeld worden. Haal de tabel opnieuw op."
    )


def crime_codes() -> list[str]:
    """Every SoortMisdrijf code some crime group uses, sorted."""
    return sorted({code for codes in crime_groups().values() for code in codes})


@cache
def overrides() -> dict[tuple[str, str], str]:
    frame = _read("overrides.csv")
    return {(row.tabel, row.variabele): row.sleutel for row in frame.itertuples()}


def stem(key: str) -> str:
    """A CBS key without its trailing number: 'Woningvoorraad_35' -> 'Woningvoorraad'."""
    return re.sub(r"_\d+$", "", key, flags=re.ASCII)


def group_chains(data_properties: list[dict[str, Any]]) -> dict[str, str]:
    """Each topic key with the titles of its parent groups, outermost first."""
    by_id = {prop.get("ID"): prop for prop in data_properties}
    chains = {}
    for prop in data_properties:
        if prop.get("Type") != "Topic":
            continue
        titles = []
        parent = prop.get("ParentID")
        while parent is not None and parent in by_id:
            titles.append(str(by_id[parent].get("Title", "")).strip())
            parent = by_id[parent].get("ParentID")
        chains[prop["Key"]] = " > ".join(reversed(titles))
    return chains


@dataclass
class Resolution:
    """Which key of a table holds which variable, and what could not be matched."""

    table: str
    keys: dict[str, str]  # variabele -> key
    percent: set[str]  # variables the table gives as a percentage of their basis
    unmatched: list[str]  # topic keys no variable claims

    def report(self) -> list[dict[str, str]]:
        rows = [{"tabel": self.table, "variabele": v, "sleutel": k, "status": "gekoppeld"}
                for v, k in sorted(self.keys.items())]
        rows += [{"tabel": self.table, "variabele": "", "sleutel": k, "status": "niet gebruikt"}
                 for k in self.unmatched]
        return rows


def resolve_odata(table: str, data_properties: list[dict[str, Any]],
                  fixed: dict[tuple[str, str], str] | None = None) -> Resolution:
    """Match the catalogue's variables to the topic keys of one CBS table.

    A variable that matches no key is simply absent from that year. A variable that
    matches several keys raises an error naming them, so nobody gets a silent guess.
    ``fixed`` ({(table, variabele): key}, default overrides.csv) wins over the rules.
    """
    chains = group_chains(data_properties)
    units = {p["Key"]: str(p.get("Unit", "")).strip() for p in data_properties
             if p.get("Type") == "Topic"}
    fixed = overrides() if fixed is None else fixed
    stems = {k: stem(k) for k in chains}
    keys: dict[str, str] = {}
    percent: set[str] = set()
    for var in variables().values():
        if (table, var.variabele) in fixed:
            key = fixed[(table, var.variabele)]
            if key not in chains:
                raise WijkkompasError(
                    f"overrides.csv: sleutel '{key}' voor {var.variabele} bestaat niet in "
                    f"tabel {table}."
                )
            found = [key]
        else:
            found = [k for k in chains if stems[k] in var.odata
                     and (not var.odata_groep or var.odata_groep in chains[k])]
        if len(found) > 1:
            listed = capped(f"{k} ({chains[k]})" for k in found)
            raise WijkkompasError(
                f"Tabel {table}: variabele '{var.variabele}' past op meer dan één sleutel: "
                f"{listed}. Maak de keuze expliciet in wijkkompas/data/overrides.csv of met "
                "odata_groep in variabelen.csv."
            )
        if found:
            keys[var.variabele] = found[0]
            if units.get(found[0]) == "%" and var.soort == "aantal":
                if not var.basis:
                    raise WijkkompasError(
                        f"Tabel {table}: {found[0]} is een percentage, maar variabele "
                        f"'{var.variabele}' heeft geen basis in variabelen.csv."
                    )
                percent.add(var.variabele)
    used = set(keys.values())
    skipped = {"Gemeentenaam", "SoortRegio", "Codering"}
    unmatched = [k for k in chains if k not in used and stem(k) not in skipped]
    return Resolution(table, keys, percent, unmatched)


def resolve_kaart(columns: list[str]) -> tuple[dict[str, str], set[str]]:
    """Match variables to the columns of a wijk- en buurtkaart file: {variabele: column}."""
    present = set(columns)
    keys: dict[str, str] = {}
    percent: set[str] = set()
    for var in variables().values():
        for name in var.kaart:
            if name in present:
                keys[var.variabele] = name
                break
        else:
            for name in var.kaart_procent:
                if name in present:
                    keys[var.variabele] = name
                    percent.add(var.variabele)
                    break
    return keys, percent
