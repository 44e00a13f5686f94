"""Self-contained HTML for dialogue sessions: one page for the gemeente, one per wijk.

Each page is a single file that opens from a USB stick with the network off: Leaflet, the
styles and the compass chart (SVG) are inside it; only the PDOK base map is loaded when
there is a network, and the areas, labels, legend and choices work without it. Every text
from data is escaped. Files are written atomically.
"""

from __future__ import annotations

import html
import io
from collections.abc import Callable
from pathlib import Path

import folium
import matplotlib.pyplot as plt
from branca.element import Element

from wijkkompas.errors import WijkkompasError
from wijkkompas.output.charts import compass_chart
from wijkkompas.output.leaflet import PDOK_TILES
from wijkkompas.output.maps import interactive_map
from wijkkompas.output.processed import Processed
from wijkkompas.output.profile import profile_table
from wijkkompas.storage import write_files_atomic

PAGE_CSS = """
body{font-family:Arial,Helvetica,sans-serif;color:#222;margin:0;background:#fff;
 display:flex;flex-direction:column}
.wk-kop{order:0}.folium-map{order:1;flex:none}.wk-sectie{order:2}.wk-voet{order:3}
.wk-kop{padding:12px 18px 4px}.wk-kop h1{font-size:22px;margin:0 0 4px}
.wk-kop p{margin:4px 0;max-width:900px;line-height:1.45}
.wk-sectie{padding:8px 18px;max-width:1100px}
.wk-sectie h2{font-size:18px;margin:18px 0 6px}
.wk-tabel{border-collapse:collapse;font-size:13px}
.wk-tabel th,.wk-tabel td{border:1px solid #bbb;padding:3px 6px;text-align:left;vertical-align:top}
.wk-tabel th{background:#eee}
.wk-kompas svg{max-width:100%;height:auto}
.wk-voet{font-size:12px;color:#555;padding:10px 18px 24px}
"""

EXPLANATION = (
    "Het wijkkompas laat per thema zien hoe een gebied ervoor staat. Een score van 100 is "
    "het gemiddelde van {gemeente} in {basisjaar}; dat ijkpunt blijft elk jaar hetzelfde, dus "
    "een hogere score betekent dat het gebied zelf vooruit is gegaan. Boven 105 is gunstiger "
    "dan gemiddeld, onder 95 ongunstiger. Grijs betekent: geen gegevens. Samenstelling van de "
    "bevolking (leeftijd, huishoudens) wordt getoond maar niet beoordeeld."
)


def _svg(fig: plt.Figure) -> str:
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight")
    plt.close(fig)
    text = buffer.getvalue()
    return text[text.index("<svg"):]


def _add(fmap: folium.Map, markup: str, before_map: bool = False) -> None:
    html_section = fmap.get_root().html
    element = Element(markup)
    if before_map:
        html_section.add_child(element, index=0)
    else:
        html_section.add_child(element)


def _sources(processed: Processed) -> str:
    rows = processed.table
    sources = sorted(str(b) for b in rows["bron"].dropna().unique())
    items = "".join(f"<li>{html.escape(s)}</li>" for s in sources)
    return (f'<div class="wk-voet"><b>Bronnen</b><ul>{items}</ul>Kaartgegevens: Kadaster '
            "(BRT-Achtergrondkaart, alleen met internet). Cijfers: CBS (CC BY 4.0) en gemeente. "
            "Gemaakt met wijkkompas.</div>")


def _page(processed: Processed, title: str, intro: str, wijk: str | None,
          sections: list[str], tiles_url: str) -> str:
    fmap = interactive_map(processed, wijk=wijk, tiles_url=tiles_url, height="560px")
    root = fmap.get_root()
    root.header.add_child(Element(f"<title>{html.escape(title)}</title>"))
    root.header.add_child(Element(f"<style>{PAGE_CSS}</style>"))
    _add(fmap, f'<div class="wk-kop"><h1>{html.escape(title)}</h1><p>{html.escape(intro)}</p>'
               "</div>", before_map=True)
    for section in sections:
        _add(fmap, section)
    _add(fmap, _sources(processed))
    return root.render()


def gemeente_page(processed: Processed, tiles_url: str = PDOK_TILES) -> str:
    kompas = processed.kompas
    title = f"Wijkkompas {kompas.naam}"
    intro = EXPLANATION.format(gemeente=kompas.naam, basisjaar=kompas.basisjaar)
    themes = processed.result.themes
    wijken = themes[(themes["niveau"] == "wijk") & (themes["deel"] == "totaal")
                    & themes["score"].notna()]
    table = ""
    if len(wijken):
        pivot = wijken.pivot_table(index="gebiedsnaam", columns=["thema_naam", "jaar"],
                                   values="score").round(0)
        pivot.columns = [f"{t} {j}" for t, j in pivot.columns]
        table = ('<div class="wk-sectie"><h2>Scores per wijk</h2>'
                 + pivot.to_html(classes="wk-tabel", escape=True, na_rep="geen data",
                                 float_format=lambda v: f"{v:.0f}") + "</div>")
    return _page(processed, title, intro, None, [table], tiles_url)


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
    title = f"Wijkkompas {name} ({wijk}), {jaar}"
    intro = EXPLANATION.format(gemeente=kompas.naam, basisjaar=kompas.basisjaar)
    chart = _svg(compass_chart(processed, wijk, jaar))
    profile = profile_table(processed, wijk, jaar)
    specific = profile[profile["gebied-specifiek"] == "ja"]
    sections = [
        f'<div class="wk-sectie"><h2>Het kompas</h2><div class="wk-kompas">{chart}</div></div>',
        '<div class="wk-sectie"><h2>Alle indicatoren</h2>'
        + profile.to_html(classes="wk-tabel", index=False, escape=True) + "</div>",
    ]
    if len(specific):
        sections.append('<div class="wk-sectie"><h2>Gebied-specifieke indicatoren</h2>'
                        + specific.to_html(classes="wk-tabel", index=False, escape=True)
                        + "</div>")
    return _page(processed, title, intro, wijk, sections, tiles_url)


def run_export(processed: Processed, out_dir: Path, wijk: str | None = None,
               tiles_url: str = PDOK_TILES, say: Callable[[str], None] = print) -> list[Path]:
    """Write the gemeente page and one page per wijk (or only ``wijk``).

    Every page is rendered first and then all are written together, so a failure leaves
    ``out_dir`` as it was.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)  # a bad --out fails before any work
    pages: dict[Path, bytes] = {}
    if wijk is None:
        path = out_dir / f"wijkkompas_{processed.kompas.gemeente}.html"
        pages[path] = gemeente_page(processed, tiles_url).encode("utf-8")
        themes = processed.result.themes
        wijken = sorted(themes.loc[themes["niveau"] == "wijk", "gebiedscode"].unique())
    else:
        wijken = [wijk]
    for code in wijken:
        path = out_dir / f"wijkkompas_{code}.html"
        pages[path] = wijk_page(processed, code, tiles_url=tiles_url).encode("utf-8")
    write_files_atomic(pages)
    written = list(pages)
    for path in written:
        say(f"geschreven: {path} ({path.stat().st_size / 1024:,.0f} kB)".replace(",", "."))
    return written
