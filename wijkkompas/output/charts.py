"""Static pictures for reports: the kompas chart of a wijk and choropleth maps.

Both use the fixed classes of :mod:`wijkkompas.kompas.classes`, Dutch labels and Dutch number
notation, and stay readable in black and white: the classes also differ by hatching (line
hatches only: slanted one way for the unfavourable classes, the other way for the favourable
ones, denser at the ends, crossed for "geen data"), and the kompas chart draws the previous
year as a black line with markers.

The kompas chart draws the content of :func:`wijkkompas.output.kompas_content.kompas_content`;
the pages draw the same content as SVG without matplotlib
(:mod:`wijkkompas.output.kompas_svg`).

No matplotlib backend is chosen here: in Jupyter the figures show inline, in scripts and
the command line matplotlib picks its own (Agg without a display). Files are saved
explicitly; names from data are shown as plain text, never as mathtext.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from wijkkompas.kompas.classes import (
    ALL_CHANGE_CLASSES,
    ALL_CLASSES,
    classify,
    classify_change,
)
from wijkkompas.kompas.results import Processed
from wijkkompas.output.kompas_content import HATCHES, NO_DATA_STUB, kompas_content

__all__ = ["HATCHES", "kompas_chart", "static_map"]


def _plain(text: object) -> str:
    """Text from data as matplotlib shows it literally: a ``$`` never starts mathtext."""
    return str(text).replace("$", r"\$")


def kompas_chart(processed: Processed, code: str, jaar: int,
                  out: Path | None = None) -> Figure:
    """The wijkkompas of one area in one year: a sector per theme, radius = score.

    The bars are ``jaar`` (colour and hatching = class); the solid black line with circles
    is the previous year with a score, the dotted grey line with squares the base year
    where that differs; every score is written on the chart and every theme without a score
    says why. The dashed circle is 100 (the gemeente in the base year). Context indicators
    (not scored) are listed apart. Written as ``out``.png and ``out``.svg when ``out`` is
    given. The content comes from :func:`wijkkompas.output.kompas_content.kompas_content`, which
    the pages' SVG chart (:mod:`wijkkompas.output.kompas_svg`) draws too.
    """
    content = kompas_content(processed, code, jaar)
    sectors = content.sectors
    low, high = content.low, content.high

    fig = plt.figure(figsize=(11, 7))
    ax = fig.add_axes([0.07, 0.14, 0.48, 0.72], projection="polar")
    angles = np.linspace(0, 2 * np.pi, len(sectors), endpoint=False)
    width = content.bar_width
    for angle, sector in zip(angles, sectors, strict=True):
        value = sector.score
        # "geen data" is a short hatched stub at the centre: never mistaken for a score.
        radius = value - low if not np.isnan(value) else NO_DATA_STUB
        ax.bar(angle, radius, width=width, bottom=low, color=sector.colour,
               edgecolor="black", linewidth=0.8, hatch=sector.hatch, zorder=2)
        if sector.value_text is not None:
            ax.text(angle, min(value, high) + (high - low) * 0.035, sector.value_text, ha="center",
                    va="center", fontsize=9, weight="bold", zorder=6,
                    bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none"})
    ring = np.linspace(0, 2 * np.pi, 200)
    ax.plot(ring, np.full_like(ring, content.reference), color="black", linestyle="--",
            linewidth=1.0, zorder=3, label=_plain(content.reference_label))
    for series in content.series:
        before = np.array(series.values, dtype=float)
        closed_a = np.append(angles, angles[:1])
        closed_v = np.append(before, before[:1])
        look = {"color": series.colour, "linestyle": ":" if series.dotted else "-",
                "marker": series.marker}
        ax.plot(closed_a, closed_v, linewidth=1.6, markersize=6, zorder=4,
                label=_plain(series.label), **look)
        for angle, value, text in zip(angles, before, series.texts, strict=True):
            if text is not None:
                ax.annotate(text, (angle, value), xytext=(7, 5),
                            textcoords="offset points", fontsize=8, color=series.colour,
                            zorder=6)
    ax.set_ylim(low, high)
    ax.set_yticks(list(content.ticks))
    ax.set_yticklabels([str(t) for t in content.ticks], fontsize=7, color="#444")
    ax.set_xticks(angles)
    ax.set_xticklabels([_plain("\n".join(s.lines)) for s in sectors], fontsize=9)
    ax.tick_params(axis="x", pad=14)
    ax.grid(color="#999", linewidth=0.5)
    fig.suptitle(_plain(content.title), fontsize=13, x=0.03, ha="left")
    # What a bar is: a heading of the classes, without a swatch of its own.
    handles = [Patch(facecolor="none", edgecolor="none", label=_plain(content.bar_label))]
    handles += [Patch(facecolor=c.colour, edgecolor="black", hatch=c.hatch,
                      label=_plain(c.label)) for c in content.classes]
    handles += ax.get_legend_handles_labels()[0]
    fig.legend(handles=handles, loc="lower left", fontsize=8, ncol=3, frameon=False,
               bbox_to_anchor=(0.02, -0.02))

    text_x = 0.66
    fig.text(text_x, 0.9, _plain(content.context_title), fontsize=10, weight="bold",
             va="top")
    fig.text(text_x, 0.86, _plain("\n".join(content.context)), fontsize=8.5, va="top",
             family="DejaVu Sans")
    if content.missing_title is not None:
        fig.text(text_x, 0.5, _plain(content.missing_title), fontsize=10, weight="bold",
                 va="top")
        fig.text(text_x, 0.46, "\n".join(textwrap.fill(_plain(m), 58, subsequent_indent="   ")
                                         for m in content.missing), fontsize=8.5, va="top")
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(out.with_suffix(".png"), dpi=150, bbox_inches="tight")
        fig.savefig(out.with_suffix(".svg"), bbox_inches="tight")
    return fig


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
