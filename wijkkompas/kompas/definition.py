"""The kompas definition of a gemeente: themes, indicators, polarity and the scoring frame.

``wijkkompas/data/kompas_basis.toml`` is the built-in, gemeente-neutral basis-set: the themes
and CBS-based indicators every gemeente can score. It is used for every gemeente without a
kompas file of its own. A gemeente's own file EXTENDS it with ``basis = "basis"`` (or the
path of another basis file) and holds only what the gemeente adds or changes: its code and
name, its base year, gebied-specifieke and local indicators, other weights. Almelo's file
(``kompas_almelo.toml``) is the default for GM0141.

Merging: top-level values of the file replace those of the basis; a ``[[thema]]`` with a
code of the basis replaces that theme's name, a new code is added; an ``[indicator.X]`` of
the basis gets the keys the file gives for it, a new one is added. The merged definition is
checked as one, with the file's path in every message.
"""

from __future__ import annotations

import difflib
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, model_validator

from wijkkompas.errors import WijkkompasError, capped, os_reason
from wijkkompas.gebied import code_problem, wijk_of
from wijkkompas.schema import Schema, parse_schema
from wijkkompas.tomlfile import read_toml

#: The value of ``basis`` that names the built-in basis-set.
BUILTIN_BASIS = "basis"
#: The gemeente whose own kompas (Almelo's) is the default; every other gets the basis-set.
ALMELO = "GM0141"

RICHTINGEN = {"hoger is beter": 1, "hoger is slechter": -1, "context": 0}
SOORTEN = ("objectief", "subjectief")


def _wijk(code: str) -> str:
    problem = code_problem(code, "wijk")
    if problem:
        raise ValueError(problem)
    return code


def _gemeente(code: str) -> str:
    problem = code_problem(code, "gemeente")
    if problem:
        raise ValueError(problem)
    return code


class ThemeSchema(Schema):
    code: Annotated[str, Field(min_length=1)]
    naam: Annotated[str, Field(min_length=1)]


class IndicatorSchema(Schema):
    thema: str
    richting: Literal["hoger is beter", "hoger is slechter", "context"]
    soort: Literal["objectief", "subjectief"]
    gebieden: list[Annotated[str, AfterValidator(_wijk)]] = []
    gewicht: Annotated[float, Field(gt=0)] = 1.0
    #: A local indicator: its figures come from the gemeente's own files (--lokaal), so
    #: it need not be in the catalogue.
    lokaal: bool = False


class KompasSchema(Schema):
    """The kompas definition file (see ``wijkkompas/data/kompas_almelo.toml``)."""

    basis: Annotated[str, Field(min_length=1)] | None = None
    gemeente: Annotated[str, AfterValidator(_gemeente)] | None = None
    naam: Annotated[str, Field(min_length=1)] | None = None
    basisjaar: Annotated[int, Field(ge=1990, le=2100)]
    punten_per_sd: Annotated[float, Field(gt=0)]
    ondergrens: float
    bovengrens: float
    minimale_dekking: Annotated[float, Field(gt=0, le=1)]
    betekenisvolle_verandering: Annotated[float, Field(ge=0)]
    afglijden_jaren: Annotated[int, Field(ge=1)]
    thema: Annotated[list[ThemeSchema], Field(min_length=1)]
    indicator: Annotated[dict[str, IndicatorSchema], Field(min_length=1)]

    @model_validator(mode="after")
    def _consistent(self) -> KompasSchema:
        if not self.ondergrens < 100 < self.bovengrens:
            raise ValueError("ondergrens en bovengrens moeten 100 insluiten")
        codes = [t.code for t in self.thema]
        twice = sorted({c for c in codes if codes.count(c) > 1})
        if twice:
            raise ValueError(f"geef elk [[thema]] een eigen code; dubbel: {capped(twice)}")
        for code, spec in self.indicator.items():
            if spec.thema not in codes:
                raise ValueError(f"indicator.{code}.thema: thema '{spec.thema}' staat niet in "
                                 "de [[thema]]-lijst")
            if spec.gebieden and self.gemeente is None:
                raise ValueError(f"indicator.{code}.gebieden: noem de gemeente van deze wijken "
                                 "met gemeente = \"GM....\"")
            elsewhere = [w for w in spec.gebieden if w[2:6] != str(self.gemeente)[2:6]]
            if elsewhere:
                raise ValueError(f"indicator.{code}.gebieden: {capped(elsewhere, sep=', ')} "
                                 f"ligt niet in gemeente {self.gemeente}")
        return self


@dataclass(frozen=True)
class Theme:
    code: str
    naam: str


@dataclass(frozen=True)
class KompasIndicator:
    indicator: str
    thema: str
    richting: int  # 1, -1, or 0 for context
    soort: str
    gebieden: tuple[str, ...]  # empty: basis-set
    gewicht: float
    lokaal: bool = False

    @property
    def scored(self) -> bool:
        return self.richting != 0

    def applies_to(self, code: str) -> bool:
        """Basis-set indicators apply everywhere; gebied-specifieke ones to their wijken
        and the buurten in them."""
        if not self.gebieden:
            return True
        wijk = wijk_of(code)
        return wijk in self.gebieden


@dataclass(frozen=True)
class Kompas:
    #: The gemeente the file names; None for the basis-set (any gemeente). After
    #: :func:`for_gemeente`, the gemeente being scored.
    gemeente: str | None
    #: The name shown in titles and legends; after :func:`for_gemeente`, the name from the data.
    naam: str | None
    basisjaar: int
    punten_per_sd: float
    ondergrens: float
    bovengrens: float
    minimale_dekking: float
    betekenisvolle_verandering: float
    afglijden_jaren: int
    themes: tuple[Theme, ...]
    indicators: dict[str, KompasIndicator]
    path: str
    #: sha256 of the file, and of its basis file when it extends one ("" otherwise).
    sha256: str = ""
    basis_sha256: str = ""
    basis_path: str = ""

    def theme_name(self, code: str) -> str:
        return {t.code: t.naam for t in self.themes}[code]


def builtin_path(name: str) -> Path:
    """A kompas file shipped with the package (``basis`` or ``almelo``)."""
    return Path(str(resources.files("wijkkompas.data").joinpath(f"kompas_{name}.toml")))


def default_path(gemeente: str = ALMELO) -> Path:
    """The kompas used when none is given: Almelo's for GM0141, the basis-set otherwise."""
    return builtin_path("almelo" if gemeente == ALMELO else "basis")


def _sha256(path: Path) -> str:
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError as exc:
        raise WijkkompasError(f"Kan kompasdefinitie {path} niet lezen: {os_reason(exc)}.") \
            from None


def _merge(basis: dict[str, Any], own: dict[str, Any]) -> dict[str, Any]:
    """``own`` laid over ``basis`` (see the module docstring)."""
    merged = {k: v for k, v in basis.items() if k not in ("thema", "indicator")}
    merged.update({k: v for k, v in own.items() if k not in ("thema", "indicator", "basis")})
    themes = [dict(t) if isinstance(t, dict) else t for t in basis.get("thema", [])]
    own_themes = own.get("thema", [])
    for theme in own_themes if isinstance(own_themes, list) else [own_themes]:
        same = [t for t in themes if isinstance(t, dict) and isinstance(theme, dict)
                and "code" in theme and t.get("code") == theme["code"]]
        if same:
            same[0].update(theme)
        else:
            themes.append(theme)
    merged["thema"] = themes
    indicators = {k: dict(v) if isinstance(v, dict) else v
                  for k, v in basis.get("indicator", {}).items()}
    own_indicators = own.get("indicator", {})
    if not isinstance(own_indicators, dict):
        merged["indicator"] = own_indicators  # refused by the schema, with its path
        return merged
    for code, spec in own_indicators.items():
        if isinstance(indicators.get(code), dict) and isinstance(spec, dict):
            indicators[code].update(spec)
        else:
            indicators[code] = spec
    merged["indicator"] = indicators
    return merged


def _basis_of(raw: dict[str, Any], path: Path) -> Path | None:
    basis = raw.get("basis")
    if basis is None:
        return None
    if not isinstance(basis, str) or not basis.strip():
        return None  # the schema names the problem
    if basis == BUILTIN_BASIS:
        return builtin_path("basis")
    target = Path(basis)
    return target if target.is_absolute() else path.parent / target


#: Kompas definitions parsed in this process, by path: the sha256 of the file and of its
#: basis when they were parsed, and the result. A run parses each file once; a changed
#: file (another checksum) is parsed again.
_PARSED: dict[str, tuple[str, str, Kompas]] = {}


def load_kompas(path: Path | None = None, gemeente: str = ALMELO) -> Kompas:
    """Read and check a kompas definition (with its basis, when it extends one); every problem
    names the file and the key. Without ``path``: the default for ``gemeente``.

    A file is parsed once per process for as long as its content (and its basis's) stays
    the same: the checksums are compared at every call."""
    path = Path(path) if path else default_path(gemeente)
    known = _PARSED.get(str(path))
    if known is not None:
        sha, basis_sha, kompas = known
        if _sha256(path) == sha and (not kompas.basis_path
                                     or _sha256(Path(kompas.basis_path)) == basis_sha):
            return kompas
    kompas = _parse_kompas(path)
    _PARSED[str(path)] = (kompas.sha256, kompas.basis_sha256, kompas)
    return kompas


def _parse_kompas(path: Path) -> Kompas:
    # The checksum is taken before the file is read: a file changed while it is parsed is
    # parsed again at the next call, never kept under its new checksum.
    sha = _sha256(path)
    raw = read_toml(path, "kompasdefinitie")
    basis_path = _basis_of(raw, path) if isinstance(raw, dict) else None
    basis_sha = ""
    if basis_path is not None:
        basis_sha = _sha256(basis_path)
        basis_raw = read_toml(basis_path, "kompasdefinitie")
        if isinstance(basis_raw, dict) and "basis" in basis_raw:
            raise WijkkompasError(f"{path}: basis: {basis_path} breidt zelf een andere basis "
                                  "uit; een kompas breidt alleen een basis zonder 'basis' uit.")
        if isinstance(basis_raw, dict) and ("gemeente" in basis_raw or "naam" in basis_raw):
            raise WijkkompasError(f"{path}: basis: {basis_path} noemt een gemeente; een basis "
                                  "is gemeente-neutraal (zonder 'gemeente' en 'naam').")
        _unknown_first(raw, basis_raw, path)
        raw = {**_merge(basis_raw, raw), "basis": raw["basis"]}
    else:
        _unknown_first(raw, {}, path)
    spec = parse_schema(KompasSchema, raw, str(path))
    themes = tuple(Theme(t.code, t.naam) for t in spec.thema)
    order = {t.code: i for i, t in enumerate(themes)}
    items = sorted(spec.indicator.items(), key=lambda kv: order.get(kv[1].thema, len(order)))
    indicators = {
        code: KompasIndicator(code, item.thema, RICHTINGEN[item.richting], item.soort,
                              tuple(item.gebieden), item.gewicht, item.lokaal)
        for code, item in items
    }
    frame = spec.model_dump(exclude={"thema", "indicator", "basis"})
    return Kompas(**frame, themes=themes, indicators=indicators, path=str(path),
                  sha256=sha, basis_sha256=basis_sha,
                  basis_path=str(basis_path) if basis_path else "")


#: What a new indicator of a kompas file must say (an indicator of the basis inherits them).
_NEW_KEYS = ("thema", "richting", "soort")


def _unknown_first(own: Any, basis: Any, path: Path) -> None:
    """An indicator that is neither in the basis nor in the catalogue and lacks what a new
    indicator must say (often only ``gewicht``: a typo of a basis indicator's name) is told
    as an unknown name with the nearest known names, before the schema would say that its
    thema, richting and soort are missing. Names marked ``lokaal = true`` are left to the
    schema."""
    specs = own.get("indicator") if isinstance(own, dict) else None
    if not isinstance(specs, dict):
        return
    inherited = basis.get("indicator") if isinstance(basis, dict) else None
    inherited = set(inherited) if isinstance(inherited, dict) else set()
    suspects = [code for code, spec in specs.items()
                if code not in inherited and isinstance(spec, dict)
                and spec.get("lokaal") is not True and any(k not in spec for k in _NEW_KEYS)]
    if not suspects:
        return
    from wijkkompas.catalogue import indicators  # only here: it reads CSVs with pandas

    names = inherited | set(indicators())
    unknown = [code for code in suspects if code not in names]
    if unknown:
        raise WijkkompasError(_unknown_line(str(path), unknown, names))


def _unknown_line(path: str, unknown: list[str], names: Iterable[str]) -> str:
    """One line naming the first unknown indicator, how many more there are, and the
    nearest known names."""
    first = unknown[0]
    close = difflib.get_close_matches(first, sorted(set(names)), n=3, cutoff=0.6)
    hint = f" Bedoelt u {' of '.join(close)}?" if close else ""
    others = f" (en nog {len(unknown) - 1} onbekende)" if len(unknown) > 1 else ""
    return (f"{path}: indicator.{first} bestaat niet{others}: geen indicator van de catalogus "
            f"of van de lokale cijfers.{hint} Verbeter de naam, of zet lokaal = true bij een "
            "lokale indicator (cijfers met --lokaal).")


def check_indicators(kompas: Kompas, known: Iterable[str]) -> None:
    """Refuse a kompas that names an indicator that does not exist: one not in ``known``
    (the catalogue and the indicators of the table being scored) and not marked
    ``lokaal = true``. The line names the first unknown one and the nearest known names."""
    names = sorted(set(known))
    unknown = [code for code, ind in kompas.indicators.items()
               if code not in names and not ind.lokaal]
    if unknown:
        raise WijkkompasError(_unknown_line(kompas.path, unknown, names))


def for_gemeente(kompas: Kompas, gemeente: str, naam: str | None = None) -> Kompas:
    """The kompas as it scores ``gemeente``, named ``naam`` (from the data). A kompas file
    that names another gemeente is refused."""
    if kompas.gemeente is not None and kompas.gemeente != gemeente:
        raise WijkkompasError(
            f"{kompas.path}: deze kompasdefinitie is van gemeente {kompas.gemeente}, maar de "
            f"gemeente is {gemeente}. Geef --gemeente {kompas.gemeente}, of een kompas voor "
            f"{gemeente} (zonder --kompas: de basis-set)."
        )
    return replace(kompas, gemeente=gemeente, naam=naam or kompas.naam or gemeente)


def record(kompas: Kompas) -> dict[str, str | int]:
    """What ``bouwinfo.json`` keeps of the kompas that produced the scores, with the base
    year the scores count from (see :func:`wijkkompas.kompas.scores.base_year`)."""
    return {"gemeente": str(kompas.gemeente), "naam": str(kompas.naam), "pad": kompas.path,
            "sha256": kompas.sha256, "basis_pad": kompas.basis_path,
            "basis_sha256": kompas.basis_sha256, "basisjaar": kompas.basisjaar}

