"""The kompas definition of a gemeente: themes, indicators, polarity and the scoring frame.

The default for Almelo is ``wijkkompas/data/kompas_almelo.toml``; another gemeente writes its
own file in the same form and passes it with ``--kompas`` or ``kompas = "..."`` in the config.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from wijkkompas.errors import WijkkompasError
from wijkkompas.gebied import wijk_of
from wijkkompas.tomlfile import read_toml

RICHTINGEN = {"hoger is beter": 1, "hoger is slechter": -1, "context": 0}
SOORTEN = ("objectief", "subjectief")
_FRAME_KEYS = {
    "gemeente": str, "naam": str, "basisjaar": int, "punten_per_sd": float,
    "ondergrens": float, "bovengrens": float, "minimale_dekking": float,
    "betekenisvolle_verandering": float, "afglijden_jaren": int,
}
_INDICATOR_KEYS = {"thema", "richting", "soort", "gebieden", "gewicht"}


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
    frame = {}
    for key, kind in _FRAME_KEYS.items():
        if key not in raw:
            raise WijkkompasError(f"{path}: '{key}' ontbreekt.")
        try:
            frame[key] = kind(raw[key])
        except (TypeError, ValueError):
            raise WijkkompasError(f"{path}: '{key}' heeft een ongeldige waarde "
                                  f"{raw[key]!r}.") from None
    if not frame["ondergrens"] < 100 < frame["bovengrens"]:
        raise WijkkompasError(f"{path}: ondergrens en bovengrens moeten 100 insluiten.")
    if not 0 < frame["minimale_dekking"] <= 1:
        raise WijkkompasError(f"{path}: minimale_dekking ligt tussen 0 en 1.")
    themes = tuple(Theme(str(t["code"]), str(t["naam"])) for t in raw.get("thema", []))
    theme_codes = {t.code for t in themes}
    if not themes or len(theme_codes) != len(themes):
        raise WijkkompasError(f"{path}: geef elk [[thema]] een eigen code en naam.")
    indicators = {}
    for code, spec in (raw.get("indicator") or {}).items():
        where = f"{path} [indicator.{code}]"
        unknown = set(spec) - _INDICATOR_KEYS
        if unknown:
            raise WijkkompasError(f"{where}: onbekende sleutel(s) {', '.join(sorted(unknown))}.")
        if spec.get("thema") not in theme_codes:
            raise WijkkompasError(f"{where}: thema '{spec.get('thema')}' staat niet in de "
                                  f"[[thema]]-lijst.")
        if spec.get("richting") not in RICHTINGEN:
            raise WijkkompasError(f"{where}: richting moet zijn: "
                                  f"{', '.join(repr(r) for r in RICHTINGEN)}.")
        if spec.get("soort") not in SOORTEN:
            raise WijkkompasError(f"{where}: soort moet objectief of subjectief zijn.")
        gewicht = float(spec.get("gewicht", 1.0))
        if not math.isfinite(gewicht) or gewicht <= 0:
            raise WijkkompasError(f"{where}: gewicht moet een getal groter dan 0 zijn, niet "
                                  f"{gewicht!r}.")
        indicators[code] = KompasIndicator(code, spec["thema"], RICHTINGEN[spec["richting"]],
                                           spec["soort"], tuple(spec.get("gebieden", [])),
                                           gewicht)
    if not indicators:
        raise WijkkompasError(f"{path}: geen enkele [indicator.*].")
    return Kompas(**frame, themes=themes, indicators=indicators, path=str(path))
