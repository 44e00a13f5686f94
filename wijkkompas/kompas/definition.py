"""The kompas definition of a gemeente: themes, indicators, polarity and the scoring frame.

The default for Almelo is ``wijkkompas/data/kompas_almelo.toml``; another gemeente writes its
own file in the same form and passes it with ``--kompas`` or ``kompas = "..."`` in the config.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, model_validator

from wijkkompas.errors import capped
from wijkkompas.gebied import code_problem, wijk_of
from wijkkompas.schema import Schema, parse_schema
from wijkkompas.tomlfile import read_toml

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


class KompasSchema(Schema):
    """The kompas definition file (see ``wijkkompas/data/kompas_almelo.toml``)."""

    gemeente: Annotated[str, AfterValidator(_gemeente)]
    naam: str
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
            elsewhere = [w for w in spec.gebieden if w[2:6] != self.gemeente[2:6]]
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
    gemeente: str
    naam: str
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

    def theme_name(self, code: str) -> str:
        return {t.code: t.naam for t in self.themes}[code]


def default_path() -> Path:
    return Path(str(resources.files("wijkkompas.data").joinpath("kompas_almelo.toml")))


def load_kompas(path: Path | None = None) -> Kompas:
    """Read and check a kompas definition; every problem names the file and the key."""
    path = Path(path) if path else default_path()
    raw = read_toml(path, "kompasdefinitie")
    spec = parse_schema(KompasSchema, raw, str(path))
    themes = tuple(Theme(t.code, t.naam) for t in spec.thema)
    indicators = {
        code: KompasIndicator(code, item.thema, RICHTINGEN[item.richting], item.soort,
                              tuple(item.gebieden), item.gewicht)
        for code, item in spec.indicator.items()
    }
    frame = spec.model_dump(exclude={"thema", "indicator"})
    return Kompas(**frame, themes=themes, indicators=indicators, path=str(path))
