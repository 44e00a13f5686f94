"""Static pictures for reports: the compass chart of a wijk and choropleth maps.

Both use the fixed classes of :mod:`wijkkompas.kompas.classes`, Dutch labels and Dutch number
notation, and stay readable in black and white: the classes also differ by hatching (line
hatches only: slanted one way for the unfavourable classes, the other way for the favourable
ones, denser at the ends, crossed for "geen data"), and the compass chart draws the previous
year as a black line with markers.

For web pages, :func:`svg_text` writes a figure as compact SVG: text stays text, numbers are
rounded, and matplotlib's metadata, unused ids and indentation are left out.

No matplotlib backend is chosen here: in Jupyter the figures show inline, in scripts and
the command line matplotlib picks its own (Agg without a display). Files are saved
explicitly; names from data are shown as plain text, never as mathtext.
"""

from __future__ import annotations

import io
import re
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.backend_bases import DrawEvent
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.transforms import Bbox

from wijkkompas.kompas.classes import (
    ALL_CHANGE_CLASSES,
    ALL_CLASSES,
    classify,
    classify_change,
)
from wijkkompas.output.numbers import nl_number
from wijkkompas.output.processed import Processed
from wijkkompas.output.profile import indicator_label, value_text

#: Line hatches per class code. Dot and circle hatches are avoided: in SVG each of them
#: became a pattern of over 100 kB, where a line hatch takes a few hundred bytes.
HATCHES = {0: "xx", 1: "////", 2: "//", 3: "", 4: "\\\\", 5: "\\\\\\\\"}
NO_DATA_STUB = 8.0


def _plain(text: object) -> str:
    """Text from data as matplotlib shows it literally: a ``$`` never starts mathtext."""
    return str(text).replace("$", r"\$")


def _scored_themes(processed: Processed) -> list[tuple[str, str]]:
    kompas = processed.kompas
    return [(t.code, t.naam) for t in kompas.themes
            if any(i.scored and i.thema == t.code for i in kompas.indicators.values())]


def _series(totaal: pd.DataFrame, jaar: int, basisjaar: int) -> list[tuple[int, str]]:
    """The earlier years drawn as lines: the previous year with a score and the base year
    where it differs, each with its label."""
    scored = totaal[totaal["score"].notna()]
    earlier = sorted({int(j) for j in scored["jaar"]} - {jaar})
    earlier = [j for j in earlier if j < jaar]
    out = []
    if earlier:
        out.append((earlier[-1], f"{earlier[-1]} (vorige meting)"))
    if basisjaar in earlier and basisjaar != earlier[-1]:
        out.append((basisjaar, f"{basisjaar} (basisjaar)"))
    return out


LINE_STYLES = ({"color": "black", "linestyle": "-", "marker": "o"},
               {"color": "#555", "linestyle": ":", "marker": "s"})


def compass_chart(processed: Processed, code: str, jaar: int,
                  out: Path | None = None) -> Figure:
    """The wijkkompas of one area in one year: a sector per theme, radius = score.

    The bars are ``jaar`` (colour and hatching = class); the solid black line with circles
    is the previous year with a score, the dotted grey line with squares the base year
    where that differs; every score is written on the chart and every theme without a score
    says why. The dashed circle is 100 (the gemeente in the base year). Context indicators
    (not scored) are listed apart. Written as ``out``.png and ``out``.svg when ``out`` is
    given.
    """
    from wijkkompas.output.maps import theme_reasons

    themes = processed.result.themes
    totaal = themes[(themes["gebiedscode"] == code) & (themes["deel"] == "totaal")]
    current = totaal[totaal["jaar"] == jaar].set_index("thema")
    sectors = _scored_themes(processed)
    kompas = processed.kompas
    low, high = kompas.ondergrens, kompas.bovengrens

    fig = plt.figure(figsize=(11, 7))
    ax = fig.add_axes([0.07, 0.14, 0.48, 0.72], projection="polar")
    angles = np.linspace(0, 2 * np.pi, len(sectors), endpoint=False)
    width = 2 * np.pi / max(len(sectors), 1) * 0.86
    scores = [current["score"].get(c, np.nan) if len(current) else np.nan for c, _ in sectors]
    codes = classify(pd.Series(scores))
    colours = {c.code: c.colour for c in ALL_CLASSES}
    for angle, value, klasse in zip(angles, scores, codes, strict=True):
        # "geen data" is a short hatched stub at the centre: never mistaken for a score.
        radius = value - low if not np.isnan(value) else NO_DATA_STUB
        ax.bar(angle, radius, width=width, bottom=low, color=colours[int(klasse)],
               edgecolor="black", linewidth=0.8, hatch=HATCHES[int(klasse)], zorder=2)
        if not np.isnan(value):
            ax.text(angle, min(value, high) + 4, nl_number(value, 0), ha="center",
                    va="center", fontsize=9, weight="bold", zorder=6,
                    bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none"})
    ring = np.linspace(0, 2 * np.pi, 200)
    ax.plot(ring, np.full_like(ring, 100), color="black", linestyle="--", linewidth=1.0,
            zorder=3, label=_plain(f"100 = {kompas.naam} in {kompas.basisjaar}"))
    lines = _series(totaal, jaar, kompas.basisjaar)
    earlier_text: dict[str, list[str]] = {c: [] for c, _ in sectors}
    for (year, label_text), look in zip(lines, LINE_STYLES, strict=False):
        values = totaal[totaal["jaar"] == year].set_index("thema")["score"]
        before = np.array([values.get(c, np.nan) for c, _ in sectors], dtype=float)
        closed_a = np.append(angles, angles[:1])
        closed_v = np.append(before, before[:1])
        ax.plot(closed_a, closed_v, linewidth=1.6, markersize=6, zorder=4, label=label_text,
                **look)
        for (c, _), angle, value in zip(sectors, angles, before, strict=True):
            if not np.isnan(value):
                earlier_text[c].append(f"{year}: {nl_number(value, 0)}")
                ax.annotate(nl_number(value, 0), (angle, value), xytext=(7, 5),
                            textcoords="offset points", fontsize=8, color=look["color"],
                            zorder=6)
    ax.set_ylim(low, high)
    ax.set_yticks([60, 80, 100, 120, 140])
    ax.set_yticklabels(["60", "80", "100", "120", "140"], fontsize=7, color="#444")
    ax.set_xticks(angles)
    labels = []
    for (c, naam), value in zip(sectors, scores, strict=True):
        first = f"{jaar}: {nl_number(value, 0)}" if not np.isnan(value) else \
            f"{jaar}: geen score"
        labels.append(_plain("\n".join([naam, first, *earlier_text[c]])))
    ax.set_xticklabels(labels, fontsize=9)
    ax.tick_params(axis="x", pad=14)
    ax.grid(color="#999", linewidth=0.5)
    named = totaal.dropna(subset=["gebiedsnaam"]).sort_values("jaar")
    name = named["gebiedsnaam"].iloc[-1] if len(named) else code  # the latest name
    fig.suptitle(_plain(f"Wijkkompas {name}, {jaar}"), fontsize=13, x=0.03, ha="left")
    handles = [Patch(facecolor="white", edgecolor="black",
                     label=f"balk = score {jaar}; kleur = klasse:")]
    handles += [Patch(facecolor=c.colour, edgecolor="black", hatch=HATCHES[c.code],
                      label=c.label) for c in ALL_CLASSES]
    handles += ax.get_legend_handles_labels()[0]
    fig.legend(handles=handles, loc="lower left", fontsize=8, ncol=3, frameon=False,
               bbox_to_anchor=(0.02, -0.02))

    reasons = theme_reasons(processed)
    missing = [_plain(f"{naam}: {reasons.get((code, c, jaar), 'geen cijfers')}")
               for (c, naam), value in zip(sectors, scores, strict=True) if np.isnan(value)]
    context = _context_lines(processed, code, jaar)
    text_x = 0.66
    fig.text(text_x, 0.9, "Context (niet gescoord)", fontsize=10, weight="bold", va="top")
    fig.text(text_x, 0.86, "\n".join(context) or "geen gegevens", fontsize=8.5, va="top",
             family="DejaVu Sans")
    if missing:
        fig.text(text_x, 0.5, f"Geen score in {jaar}, omdat:", fontsize=10, weight="bold",
                 va="top")
        fig.text(text_x, 0.46, "\n".join(textwrap.fill(m, 58, subsequent_indent="   ")
                                         for m in missing), fontsize=8.5, va="top")
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(out.with_suffix(".png"), dpi=150, bbox_inches="tight")
        fig.savefig(out.with_suffix(".svg"), bbox_inches="tight")
    return fig


SVG = "http://www.w3.org/2000/svg"
XLINK = "http://www.w3.org/1999/xlink"
ET.register_namespace("", SVG)
ET.register_namespace("xlink", XLINK)
#: Decimals kept in SVG coordinates (points; a chart is about 800 wide) and in transforms.
SVG_DECIMALS = 1
TRANSFORM_DECIMALS = 3
_COORDINATES = frozenset({"d", "points", "x", "y", "width", "height", "viewBox", "x1", "x2",
                          "y1", "y2", "cx", "cy", "r"})
_DECIMAL = re.compile(r"-?\d+\.\d+")
_REFERENCE = re.compile(r"url\(#([^)]+)\)")
_TEXT_TAGS = frozenset({f"{{{SVG}}}text", f"{{{SVG}}}tspan"})
#: The fonts named in the SVG: matplotlib's own first (its text is measured in it), then
#: what a browser without it has.
SVG_FONTS = ["DejaVu Sans", "Arial", "Helvetica", "sans-serif"]
#: No metadata block: matplotlib leaves out each entry that is None.
NO_METADATA = {"Creator": None, "Date": None, "Format": None, "Type": None}


def svg_text(fig: Figure) -> str:
    """``fig`` as compact SVG markup (from ``<svg`` on) for inline use in a page.

    Text is written as SVG ``<text>`` (``svg.fonttype`` "none"), escaped by matplotlib and
    again on output; coordinates are rounded to ``SVG_DECIMALS``; metadata, ids nothing
    refers to, empty groups and indentation are left out. Ids are stable (a fixed hash
    salt), so the same figure gives the same text.

    The picture is cropped to its content as ``bbox_inches="tight"`` would, but from a
    single drawing: ``bbox_inches="tight"`` draws the whole figure twice (once only to
    measure it). Here the content's extent is measured with the renderer of the one
    drawing, and the SVG's view box set to it (plus ``savefig.pad_inches``); nothing is
    clipped, as nothing would be with a tight box."""
    buffer = io.StringIO()
    extent: list[Bbox] = []

    def measure(event: DrawEvent) -> None:
        extent.append(fig.get_tightbbox(event.renderer))

    # The font measured is the same (DejaVu Sans, matplotlib's own); only the fallbacks
    # named with every text are fewer.
    listening = fig.canvas.mpl_connect("draw_event", measure)
    try:
        with plt.rc_context({"svg.fonttype": "none", "svg.hashsalt": "wijkkompas",
                             "font.sans-serif": SVG_FONTS}):
            pad = plt.rcParams["savefig.pad_inches"]
            fig.savefig(buffer, format="svg", metadata=NO_METADATA)
    finally:
        fig.canvas.mpl_disconnect(listening)
    box = extent[-1].padded(pad)
    height = fig.get_size_inches()[1]
    # SVG counts y downwards from the top, in points (72 per inch).
    view = (box.x0 * 72, (height - box.y1) * 72, box.width * 72, box.height * 72)
    return compact_svg(buffer.getvalue(), view)


def _rounded(text: str, decimals: int) -> str:
    def one(match: re.Match[str]) -> str:
        shown = f"{float(match.group(0)):.{decimals}f}".rstrip("0").rstrip(".")
        return "0" if shown == "-0" else shown

    return _DECIMAL.sub(one, text)


def _path_data(text: str) -> str:
    """Path data rounded, on one line, without spaces around the commands."""
    text = " ".join(_rounded(text, SVG_DECIMALS).split())
    return re.sub(r" ?([A-Za-z]) ?", r"\1", text)


def compact_svg(text: str, view: tuple[float, float, float, float] | None = None) -> str:
    """SVG as matplotlib writes it, made compact (see :func:`svg_text`), with the view box
    ``view`` (x, y, width, height in points) where given. The text is parsed as XML and
    written again by ElementTree, which escapes every text and attribute."""
    root = ET.fromstring(text.encode("utf-8"))
    if view is not None:
        shown = [_rounded(f"{v:.6f}", SVG_DECIMALS) for v in view]
        root.set("viewBox", " ".join(shown))
        root.set("width", f"{shown[2]}pt")
        root.set("height", f"{shown[3]}pt")
    parents = {child: parent for parent in root.iter() for child in parent}
    used = set()
    for element in root.iter():
        for name, value in element.attrib.items():
            used.update(_REFERENCE.findall(value))
            if name in ("href", f"{{{XLINK}}}href") and value.startswith("#"):
                used.add(value[1:])
    for element in list(root.iter()):
        attrib = element.attrib
        if "id" in attrib and attrib["id"] not in used:
            del attrib["id"]
        for name, value in attrib.items():
            if name == "d":
                attrib[name] = _path_data(value)
            elif name in _COORDINATES:
                attrib[name] = _rounded(value, SVG_DECIMALS)
            elif name == "transform":
                attrib[name] = _rounded(value, TRANSFORM_DECIMALS)
        inside_text = element.tag in _TEXT_TAGS
        if not inside_text and element.text is not None and not element.text.strip():
            element.text = None
        parent_is_text = element in parents and parents[element].tag in _TEXT_TAGS
        if not parent_is_text and element.tail is not None and not element.tail.strip():
            element.tail = None
    # Groups without attributes only nest: their children take their place.
    for group in [e for e in root.iter(f"{{{SVG}}}g") if not e.attrib]:
        parent = parents[group]
        at = list(parent).index(group)
        parent.remove(group)
        for offset, child in enumerate(list(group)):
            parent.insert(at + offset, child)
            parents[child] = parent
    return ET.tostring(root, encoding="unicode")


def _context_lines(processed: Processed, code: str, jaar: int) -> list[str]:
    rows = processed.result.indicators
    rows = rows[(rows["gebiedscode"] == code) & (rows["jaar"] == jaar)
                & (rows["richting"] == 0) & rows["van_toepassing"] & rows["waarde"].notna()]
    order = list(processed.kompas.indicators)
    rows = rows.assign(_order=rows["indicator"].map(order.index)).sort_values("_order")
    lines = []
    for indicator, value in zip(rows["indicator"], rows["waarde"], strict=True):
        naam, eenheid = indicator_label(processed, indicator)
        lines.append(_plain(f"{naam}: {value_text(value, eenheid)}"))
    return lines


def static_map(processed: Processed, niveau: str, thema: str, jaar: int,
               maat: str = "score", out: Path | None = None) -> Figure:
    """A choropleth of one theme and year (``maat``: "score", "vorig" or "basis" for the
    change against the previous year or the base year), with the fixed legend.
    Written as ``out``.png and ``out``.pdf when ``out`` is given."""
    areas = processed.boundaries(niveau)
    themes = processed.result.themes
    rows = themes[(themes["niveau"] == niveau) & (themes["thema"] == thema)
                  & (themes["jaar"] == jaar) & (themes["deel"] == "totaal")]
    column = {"score": "score", "vorig": "verandering_vorig_jaar",
              "basis": "verandering_basisjaar"}[maat]
    data = areas.merge(rows[["gebiedscode", column]], on="gebiedscode", how="left")
    if maat == "score":
        codes, classes = classify(data[column]), ALL_CLASSES
    else:
        codes = classify_change(data[column], processed.kompas.betekenisvolle_verandering)
        classes = ALL_CHANGE_CLASSES
    colours = {c.code: c.colour for c in classes}
    fig, ax = plt.subplots(figsize=(10.5, 8.3))
    for klasse in sorted(set(codes)):
        part = data[(codes == klasse).to_numpy()]
        part.plot(ax=ax, color=colours[int(klasse)], edgecolor="black", linewidth=0.6,
                  hatch=HATCHES[int(klasse)])
    ax.set_axis_off()
    naam = processed.kompas.theme_name(thema)
    what = {"score": "score", "vorig": "verandering t.o.v. vorig jaar",
            "basis": f"verandering t.o.v. {processed.kompas.basisjaar}"}[maat]
    niveau_naam = {"wijk": "wijken", "buurt": "buurten"}[niveau]
    ax.set_title(_plain(f"{naam}, {jaar}: {what} ({niveau_naam} {processed.kompas.naam})"),
                 fontsize=12, loc="left")
    handles = [Patch(facecolor=c.colour, edgecolor="black", hatch=HATCHES[c.code], label=c.label)
               for c in classes]
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8,
              frameon=False,
              title="100 = gemeente in basisjaar" if maat == "score" else "punten")
    fig.text(0.01, 0.01, "Bron: CBS, CBS/Kadaster wijk- en buurtkaart, gemeente; "
             "bewerking wijkkompas", fontsize=7, color="#444")
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(out.with_suffix(".png"), dpi=150, bbox_inches="tight")
        fig.savefig(out.with_suffix(".pdf"), bbox_inches="tight")
    return fig
