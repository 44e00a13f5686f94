"""Static pictures for reports: the compass chart of a wijk and choropleth maps.

Both use the fixed classes of :mod:`wijkkompas.kompas.classes`, Dutch labels and Dutch number
notation, and stay readable in black and white: the classes also differ by hatching, and
the compass chart draws the previous year as a black line with markers.

No matplotlib backend is chosen here: in Jupyter the figures show inline, in scripts and
the command line matplotlib picks its own (Agg without a display). Files are saved
explicitly; names from data are shown as plain text, never as mathtext.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from wijkkompas.kompas.classes import (
    ALL_CHANGE_CLASSES,
    ALL_CLASSES,
    classify,
    classify_change,
)
from wijkkompas.output.numbers import nl_number
from wijkkompas.output.processed import Processed

HATCHES = {0: "xx", 1: "////", 2: "//", 3: "", 4: "..", 5: "oo"}
NO_DATA_STUB = 8.0


def _plain(text: object) -> str:
    """Text from data as matplotlib shows it literally: a ``$`` never starts mathtext."""
    return str(text).replace("$", r"\$")


def _scored_themes(processed: Processed) -> list[tuple[str, str]]:
    kompas = processed.kompas
    return [(t.code, t.naam) for t in kompas.themes
            if any(i.scored and i.thema == t.code for i in kompas.indicators.values())]


def compass_chart(processed: Processed, code: str, jaar: int,
                  out: Path | None = None) -> Figure:
    """The wijkkompas of one area in one year: a sector per theme, radius = score.

    The dashed circle is 100 (the gemeente in the base year); the black line with markers
    is the previous year with a score. Context indicators (not scored) are listed apart.
    Written as ``out``.png and ``out``.svg when ``out`` is given.
    """
    themes = processed.result.themes
    totaal = themes[(themes["gebiedscode"] == code) & (themes["deel"] == "totaal")]
    current = totaal[totaal["jaar"] == jaar].set_index("thema")
    earlier = sorted(j for j in totaal["jaar"].unique() if j < jaar)
    previous = totaal[totaal["jaar"] == earlier[-1]].set_index("thema") if earlier else None
    sectors = _scored_themes(processed)
    kompas = processed.kompas
    low, high = kompas.ondergrens, kompas.bovengrens

    fig = plt.figure(figsize=(10, 6.2))
    ax = fig.add_axes([0.03, 0.08, 0.58, 0.8], projection="polar")
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
    ring = np.linspace(0, 2 * np.pi, 200)
    ax.plot(ring, np.full_like(ring, 100), color="black", linestyle="--", linewidth=1.2,
            zorder=3, label=_plain(f"100 = {kompas.naam} in {kompas.basisjaar}"))
    if previous is not None:
        before = [previous["score"].get(c, np.nan) for c, _ in sectors]
        closed_a = np.append(angles, angles[:1])
        closed_v = np.append(before, before[:1])
        ax.plot(closed_a, closed_v, color="black", linewidth=1.6, marker="o", markersize=5,
                zorder=4, label=f"{earlier[-1]}")
    ax.set_ylim(low, high)
    ax.set_yticks([60, 80, 100, 120, 140])
    ax.set_yticklabels(["60", "80", "100", "120", "140"], fontsize=7, color="#444")
    ax.set_xticks(angles)
    labels = []
    for (_, naam), value in zip(sectors, scores, strict=True):
        labels.append(_plain(f"{naam}\n{nl_number(value, 0)}"))
    ax.set_xticklabels(labels, fontsize=9)
    ax.grid(color="#999", linewidth=0.5)
    name = current["gebiedsnaam"].dropna().iloc[0] if len(current) and \
        current["gebiedsnaam"].notna().any() else code
    fig.suptitle(_plain(f"Wijkkompas {name} ({code}), {jaar}"), fontsize=13, x=0.03, ha="left")
    handles = [Patch(facecolor=c.colour, edgecolor="black", hatch=HATCHES[c.code], label=c.label)
               for c in ALL_CLASSES]
    handles += ax.get_legend_handles_labels()[0]
    fig.legend(handles=handles, loc="lower left", fontsize=7.5, ncol=3, frameon=False,
               bbox_to_anchor=(0.02, -0.01))

    context = _context_lines(processed, code, jaar)
    fig.text(0.64, 0.86, "Context (niet gescoord)", fontsize=10, weight="bold", va="top")
    fig.text(0.64, 0.81, "\n".join(context) or "geen gegevens", fontsize=8.5, va="top",
             family="DejaVu Sans")
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(out.with_suffix(".png"), dpi=150, bbox_inches="tight")
        fig.savefig(out.with_suffix(".svg"), bbox_inches="tight")
    return fig


def _context_lines(processed: Processed, code: str, jaar: int) -> list[str]:
    rows = processed.result.indicators
    rows = rows[(rows["gebiedscode"] == code) & (rows["jaar"] == jaar)
                & (rows["richting"] == 0) & rows["van_toepassing"]]
    order = list(processed.kompas.indicators)
    rows = rows.assign(_order=rows["indicator"].map(order.index)).sort_values("_order")
    lines = []
    for indicator, value in zip(rows["indicator"], rows["waarde"], strict=True):
        naam, eenheid = processed.indicator_name(indicator)
        decimals = 0 if eenheid == "aantal" else 1
        unit = "" if eenheid == "aantal" else f" {eenheid}"
        lines.append(_plain(f"{naam}: {nl_number(value, decimals)}{unit}"))
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
