"""Static pictures for reports: the compass chart of a wijk and choropleth maps.

Both use the fixed classes of :mod:`wijkkompas.kompas.classes`, Dutch labels and Dutch number
notation, and stay readable in black and white: the classes also differ by hatching, and
the compass chart draws the previous year as a black line with markers.

No matplotlib backend is chosen here: in Jupyter the figures show inline, in scripts and
the command line matplotlib picks its own (Agg without a display). Files are saved
explicitly; names from data are shown as plain text, never as mathtext.
"""

from __future__ import annotations

import textwrap
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
from wijkkompas.output.profile import indicator_label, value_text

HATCHES = {0: "xx", 1: "////", 2: "//", 3: "", 4: "..", 5: "oo"}
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
