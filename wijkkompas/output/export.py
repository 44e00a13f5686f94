"""Self-contained HTML for dialogue sessions: one page for the gemeente, one per wijk.

Each page is a single file that opens from a USB stick with the network off: Leaflet, the
styles and the compass chart (SVG) are inside it; only the PDOK base map is loaded when
there is a network, and the areas, labels, legend and choices work without it.

The page is ``templates/page.html``, rendered by the one autoescaping Jinja environment of
:mod:`wijkkompas.output.leaflet`: every text from data (names, titles, sources, tables) is
a variable, escaped, and never template source. File names are built only from validated
area codes. Files are written atomically.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import pandas as pd
from markupsafe import Markup
from matplotlib.figure import Figure

from wijkkompas.errors import WijkkompasError
from wijkkompas.gebied import check_code
from wijkkompas.output.charts import compass_chart
from wijkkompas.output.leaflet import PDOK_TILES, asset, map_parts, template
from wijkkompas.output.maps import interactive_map
from wijkkompas.output.processed import Processed
from wijkkompas.output.profile import profile_table
from wijkkompas.storage import write_files_atomic

EXPLANATION = (
    "Het wijkkompas laat per thema zien hoe een gebied ervoor staat. Een score van 100 is "
    "het gemiddelde van {gemeente} in {basisjaar}; dat ijkpunt blijft elk jaar hetzelfde, dus "
    "een hogere score betekent dat het gebied zelf vooruit is gegaan. Boven 105 is gunstiger "
    "dan gemiddeld, onder 95 ongunstiger. Grijs betekent: geen gegevens. Samenstelling van de "
    "bevolking (leeftijd, huishoudens) wordt getoond maar niet beoordeeld."
)
NO_DATA = "geen data"


def _svg(fig: Figure) -> Markup:
    """The chart as inline SVG; matplotlib escapes every text it writes into it."""
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight")
    plt.close(fig)
    text = buffer.getvalue()
    return Markup(text[text.index("<svg"):])


def _cell(value: Any) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return NO_DATA
    if isinstance(value, float):
        return f"{value:.0f}"
    return str(value)


def _table(frame: pd.DataFrame, index: str | None = None) -> dict[str, list]:
    """A table as plain texts for the page template (columns, rows)."""
    if index is not None:
        frame = frame.reset_index().rename(columns={frame.index.name: index})
    return {"columns": [str(c) for c in frame.columns],
            "rows": [[_cell(v) for v in row] for row in frame.itertuples(index=False)]}


def _sources(processed: Processed) -> list[str]:
    return sorted(str(b) for b in processed.table["bron"].dropna().unique())


def _page(processed: Processed, title: str, intro: str, wijk: str | None,
          sections: list[dict[str, Any]], tiles_url: str) -> str:
    fmap = interactive_map(processed, wijk=wijk, tiles_url=tiles_url, height="560px")
    return template("page.html").render(
        title=title, intro=intro, map=map_parts(fmap), css=Markup(asset("page.css")),
        sections=sections, sources=_sources(processed))


def gemeente_page(processed: Processed, tiles_url: str = PDOK_TILES) -> str:
    kompas = processed.kompas
    title = f"Wijkkompas {kompas.naam}"
    intro = EXPLANATION.format(gemeente=kompas.naam, basisjaar=kompas.basisjaar)
    themes = processed.result.themes
    wijken = themes[(themes["niveau"] == "wijk") & (themes["deel"] == "totaal")
                    & themes["score"].notna()]
    sections = []
    if len(wijken):
        pivot = wijken.pivot_table(index="gebiedsnaam", columns=["thema_naam", "jaar"],
                                   values="score").round(0)
        pivot.columns = [f"{t} {j}" for t, j in pivot.columns]
        sections.append({"title": "Scores per wijk", "table": _table(pivot, index="wijk")})
    return _page(processed, title, intro, None, sections, tiles_url)


def wijk_page(processed: Processed, wijk: str, jaar: int | None = None,
              tiles_url: str = PDOK_TILES) -> str:
    themes = processed.result.themes
    mine = themes[themes["gebiedscode"] == wijk]
    if mine.empty:
        raise WijkkompasError(f"Wijk {wijk} komt niet voor in de scores van "
                              f"{processed.kompas.naam}; kies een wijkcode zoals WK014115.")
    jaar = jaar or int(mine["jaar"].max())
    names = mine["gebiedsnaam"].dropna()
    name = str(names.iloc[0]) if len(names) else wijk
    kompas = processed.kompas
    title = f"Wijkkompas {name} ({wijk}), gemeente {kompas.naam}, {jaar}"
    intro = EXPLANATION.format(gemeente=kompas.naam, basisjaar=kompas.basisjaar)
    chart = _svg(compass_chart(processed, wijk, jaar))
    profile = profile_table(processed, wijk, jaar)
    specific = profile[profile["gebied-specifiek"] == "ja"]
    sections = [{"title": "Het kompas", "chart": chart},
                {"title": "Alle indicatoren", "table": _table(profile)}]
    if len(specific):
        sections.append({"title": "Gebied-specifieke indicatoren", "table": _table(specific)})
    return _page(processed, title, intro, wijk, sections, tiles_url)


def page_name(code: str, niveau: str) -> str:
    """The file name of the page of an area: only ever from a validated code."""
    return f"wijkkompas_{check_code(code, niveau)}.html"


def run_export(processed: Processed, out_dir: Path, wijk: str | None = None,
               tiles_url: str = PDOK_TILES, say: Callable[[str], None] = print) -> list[Path]:
    """Write the gemeente page and one page per wijk (or only ``wijk``).

    Every page is rendered first and then all are written together, so a failure leaves
    ``out_dir`` as it was.
    """
    out_dir = Path(out_dir)
    themes = processed.result.themes
    if wijk is None:
        wijken = sorted(themes.loc[themes["niveau"] == "wijk", "gebiedscode"].unique())
    else:
        wijken = [wijk]
    # Every name is checked before anything is rendered or written.
    names = {code: page_name(code, "wijk") for code in wijken}
    out_dir.mkdir(parents=True, exist_ok=True)  # a bad --out fails before the rendering
    pages: dict[Path, bytes] = {}
    if wijk is None:
        path = out_dir / page_name(processed.kompas.gemeente, "gemeente")
        pages[path] = gemeente_page(processed, tiles_url).encode("utf-8")
    for code in wijken:
        pages[out_dir / names[code]] = wijk_page(processed, code,
                                                 tiles_url=tiles_url).encode("utf-8")
    write_files_atomic(pages)
    written = list(pages)
    for path in written:
        say(f"geschreven: {path} ({path.stat().st_size / 1024:,.0f} kB)".replace(",", "."))
    return written
