"""The kompas chart of a page, written directly as SVG from its content
(:func:`wijkkompas.output.kompas_content.kompas_content`), without matplotlib.

It shows what :func:`wijkkompas.output.charts.kompas_chart` shows, laid out for a web page:
a sector per theme (radius = score, fill = class colour with its line hatch as a small
``<pattern>``), the earlier years as lines with markers and their values, the score circles,
the dashed reference circle at 100, the axis labels with the values per year, the legend,
the context indicators and why a theme has no score. Every text is an SVG ``<text>`` (one
per line), written by ElementTree, which escapes it; nothing from data becomes markup.

The browser lays out the text. To leave room for it without measuring, widths are estimated
from the advance widths of DejaVu Sans (the first font named; Arial and Helvetica, the
fallbacks, are narrower), so the picture's view box holds every text; long texts are
wrapped. Sizes and coordinates are CSS pixels, rounded to 0.1. Two layouts (:class:`Layout`):
``WIDE`` for a wide screen, ``NARROW`` for a phone and ``PRINT`` for paper; a page carries
all three and its style sheet shows the one that fits, never smaller than its own size, so
no text is below 11 px (:data:`SMALLEST`).
"""

from __future__ import annotations

import math
import textwrap
import xml.etree.ElementTree as ET
from dataclasses import dataclass, replace

from wijkkompas.output.kompas_content import NO_DATA_STUB, KompasContent, Sector

SVG = "http://www.w3.org/2000/svg"
ET.register_namespace("", SVG)
FONTS = "DejaVu Sans, Arial, Helvetica, sans-serif"

#: The characters of the width tables below, in order.
_CHARS = ("".join(chr(c) for c in (*range(32, 127), *range(161, 256))) + "€–—‘’“”…•")
#: Advance widths of DejaVu Sans (Book), in thousandths of an em, rounded up, for each
#: character of ``_CHARS`` (read from the font file with fontTools; tools/font_widths.py
#: prints them again, tests/output/test_kompas_svg.py compares them with the font).
_BOOK = (
    "318 401 460 838 637 951 780 275 391 391 500 838 318 361 318 337 637 637 637 637 637 "
    "637 637 637 637 637 337 337 838 838 838 531 1000 685 687 699 771 632 576 775 752 "
    "295 295 656 558 863 749 788 604 788 695 635 611 732 685 989 686 611 686 391 337 391 "
    "838 500 500 613 635 550 635 616 353 635 634 278 278 580 278 975 634 612 635 635 412 "
    "521 393 634 592 818 592 592 525 637 337 637 838 401 637 637 637 637 337 500 500 "
    "1000 472 612 838 361 1000 500 500 838 401 401 500 637 637 318 500 401 472 612 970 "
    "970 970 531 685 685 685 685 685 685 975 699 632 632 632 632 295 295 295 295 775 749 "
    "788 788 788 788 788 838 788 732 732 732 732 611 605 630 613 613 613 613 613 613 982 "
    "550 616 616 616 616 278 278 278 278 612 634 612 612 612 612 612 838 612 634 634 634 "
    "634 592 635 592 637 500 1000 318 318 519 519 1000 590")
#: The same for DejaVu Sans Bold.
_BOLD = (
    "349 457 521 838 696 1002 873 307 458 458 523 838 380 416 380 366 696 696 696 696 "
    "696 696 696 696 696 696 400 400 838 838 838 581 1000 774 763 734 831 684 684 821 "
    "837 373 373 775 638 996 837 851 733 851 771 721 683 813 774 1104 771 725 726 458 "
    "366 458 838 500 500 675 716 593 716 679 436 716 712 343 343 666 343 1042 712 688 "
    "716 716 494 596 479 712 652 924 646 652 583 712 366 712 838 457 696 696 637 696 366 "
    "500 500 1000 564 646 838 416 1000 500 500 838 438 438 500 736 637 380 500 438 564 "
    "646 1036 1036 1036 581 774 774 774 774 774 774 1085 734 684 684 684 684 373 373 373 "
    "373 838 837 851 851 851 851 851 838 851 813 813 813 813 725 738 720 675 675 675 675 "
    "675 675 1048 593 679 679 679 679 343 343 343 343 688 712 688 688 688 688 688 838 "
    "688 712 712 712 712 652 716 652 696 500 1000 380 380 658 658 1000 640")
WIDTHS = {False: dict(zip(_CHARS, map(int, _BOOK.split()), strict=True)),
          True: dict(zip(_CHARS, map(int, _BOLD.split()), strict=True))}
#: The width assumed for a character outside the tables: the widest of the font's ones.
UNKNOWN_WIDTH = 1200

LINE = 1.2  # line height in ems
ASCENT, DESCENT = 0.93, 0.24  # DejaVu Sans, in ems
#: The smallest text drawn, in CSS pixels at the chart's own size: pages never show a chart
#: smaller than its own size (page.css), so no text is ever below 11 px on screen.
SMALLEST = 11.0


@dataclass(frozen=True)
class Layout:
    """Sizes (CSS pixels) and arrangement of one way to draw the chart.

    ``WIDE`` is for a wide screen: the chart with the legend in three columns below it and
    the context and the reasons beside it. ``NARROW`` is for a phone (from 320 px wide):
    everything below each other in one column, the circle as large as the labels around it
    leave room for within ``width``. ``PRINT`` is for A4 (190 mm, about 718 px, wide): as
    ``WIDE``, smaller, the legend in two columns, so that it fits beside the header on the
    first page.
    """

    name: str
    title: float = 17
    label: float = 12
    value: float = 12
    point: float = 11
    tick: float = 11
    legend: float = 11
    heading: float = 13
    body: float = 11.5
    radius: float = 180.0  # the outer circle (the upper bound of the scores)
    wrap_label: int = 26  # characters per line before a text is wrapped
    wrap_side: int = 62
    wrap_title: int = 1000  # (the wide layout does not wrap its title)
    legend_columns: int = 3
    beside: bool = True  # context and reasons beside the chart (else below)
    width: float | None = None  # the chart and its labels fit within this width
    margin: float = 10.0  # around the picture
    label_pad: float = 10.0  # between the outer circle and the axis labels
    #: Where the score circles are labelled: at this angle (degrees), or None: upright,
    #: in the gap between the bars nearest the top (for a small circle, where labels on a
    #: slant would touch each other).
    tick_angle: float | None = 22.5


WIDE = Layout("breed")
NARROW = Layout("smal", title=15, label=11, value=12, heading=12, body=11, radius=110,
                wrap_label=12, wrap_side=44, wrap_title=30, legend_columns=1,
                beside=False, width=324.0, margin=4.0, label_pad=6.0, tick_angle=None)
PRINT = Layout("druk", title=15, label=11, value=12, heading=12, body=11, radius=110,
               wrap_label=16, wrap_side=38, wrap_title=60, legend_columns=2)


def text_width(text: str, size: float, bold: bool = False) -> float:
    """The width (points) of ``text`` at ``size`` in DejaVu Sans: an upper bound for the
    fonts named in the SVG."""
    table = WIDTHS[bold]
    return sum(table.get(c, UNKNOWN_WIDTH) for c in text) * size / 1000


def _n(value: float) -> str:
    """A coordinate rounded to 0.1, without a trailing ".0" and never "-0"."""
    shown = f"{value:.1f}".rstrip("0").rstrip(".")
    return "0" if shown == "-0" else shown


class _Box:
    """The extent of everything drawn so far (to set the view box)."""

    def __init__(self) -> None:
        self.x0 = self.y0 = math.inf
        self.x1 = self.y1 = -math.inf

    def add(self, x0: float, y0: float, x1: float, y1: float) -> None:
        self.x0, self.y0 = min(self.x0, x0), min(self.y0, y0)
        self.x1, self.y1 = max(self.x1, x1), max(self.y1, y1)


class _Writer:
    """Elements in drawing order, with the extent of each recorded."""

    def __init__(self) -> None:
        self.root = ET.Element(f"{{{SVG}}}svg")
        self.defs = ET.SubElement(self.root, f"{{{SVG}}}defs")
        self.box = _Box()

    def add(self, tag: str, parent: ET.Element | None = None, **attrib: str) -> ET.Element:
        return ET.SubElement(self.root if parent is None else parent, f"{{{SVG}}}{tag}",
                             {k.replace("_", "-"): v for k, v in attrib.items()})

    def text(self, x: float, baseline: float, text: str, size: float, bold: bool = False,
             anchor: str = "start", **attrib: str) -> ET.Element:
        """One line of text; ``x`` is where ``anchor`` puts it."""
        if bold:
            attrib["font_weight"] = "bold"
        if anchor != "start":
            attrib["text_anchor"] = anchor
        element = self.add("text", x=_n(x), y=_n(baseline), font_size=_n(size), **attrib)
        element.text = text
        width = text_width(text, size, bold)
        left = {"start": x, "middle": x - width / 2, "end": x - width}[anchor]
        self.box.add(left, baseline - ASCENT * size, left + width, baseline + DESCENT * size)
        return element

    def lines(self, x: float, top: float, lines: list[str], size: float, bold: bool = False,
              anchor: str = "start", indent: tuple[float, ...] = (), **attrib: str) -> float:
        """Lines of text from ``top`` down; returns the bottom of the last."""
        for i, line in enumerate(lines):
            dx = indent[i] if i < len(indent) else 0.0
            self.text(x + dx, top + (ASCENT + i * LINE) * size, line, size, bold, anchor,
                      **attrib)
        return top + ((len(lines) - 1) * LINE + ASCENT + DESCENT) * size


def _wrapped(text: str, width: int) -> list[str]:
    return textwrap.wrap(text, width, break_long_words=False, break_on_hyphens=False) or [text]


def _hatch_pattern(writer: _Writer, ident: str, colour: str, hatch: str) -> None:
    """A tile of ``colour`` with the line hatch ``hatch`` in matplotlib's notation and
    spacing: each "/", "\\" or "x" adds 6 lines per 2 inches (144 points)."""
    count = sum(hatch.count(c) for c in "/\\x")
    size = 144 / (6 * count)
    s = _n(size)
    pattern = writer.add("pattern", writer.defs, id=ident, patternUnits="userSpaceOnUse",
                         width=s, height=s)
    writer.add("rect", pattern, width=s, height=s, fill=colour)
    up = f"M0 {s}L{s} 0M-1 1L1 -1M{_n(size - 1)} {_n(size + 1)}L{_n(size + 1)} {_n(size - 1)}"
    down = f"M0 0L{s} {s}M-1 {_n(size - 1)}L1 {_n(size + 1)}M{_n(size - 1)} -1L{_n(size + 1)} 1"
    d = ("" if "\\" in hatch and "x" not in hatch else up) + \
        ("" if "/" in hatch and "x" not in hatch else down)
    writer.add("path", pattern, d=d, stroke="#000", stroke_width="1", fill="none")


def _fill(patterns: dict[tuple[str, str], str], colour: str, hatch: str) -> str:
    return f"url(#{patterns[(colour, hatch)]})" if hatch else colour


def _label_anchor(angle: float) -> tuple[str, str]:
    """(horizontal, vertical) placement of an axis label around the circle."""
    c, s = math.cos(angle), math.sin(angle)
    horizontal = "start" if c > 0.35 else "end" if c < -0.35 else "middle"
    vertical = "bottom" if s > 0.35 else "top" if s < -0.35 else "centre"
    return horizontal, vertical


def _label_lines(sector: Sector, layout: Layout) -> list[str]:
    """The axis label: the theme's name wrapped; a value line ("2021: geen score") longer
    than the name's lines is split after its year."""
    name = _wrapped(sector.lines[0], layout.wrap_label)
    values: list[str] = []
    for line in sector.lines[1:]:
        year, colon, rest = line.partition(": ")
        if colon and len(line) > max(layout.wrap_label, *map(len, name)):
            values += [year + ":", rest]
        else:
            values.append(line)
    return [*name, *values]


def _label_top(y: float, vertical: str, count: int, size: float) -> float:
    height = ((count - 1) * LINE + ASCENT + DESCENT) * size
    return {"bottom": y - height, "top": y, "centre": y - height / 2}[vertical]


def _chart_extent(content: KompasContent, layout: Layout) -> _Box:
    """The extent of the circle and its axis labels around a centre at (0, 0)."""
    box = _Box()
    r = layout.radius
    box.add(-r, -r, r, r)
    for sector, angle in zip(content.sectors, content.angles, strict=True):
        x = (r + layout.label_pad) * math.cos(angle)
        y = -(r + layout.label_pad) * math.sin(angle)
        horizontal, vertical = _label_anchor(angle)
        lines = _label_lines(sector, layout)
        width = max(text_width(line, layout.label) for line in lines)
        left = {"start": x, "middle": x - width / 2, "end": x - width}[horizontal]
        top = _label_top(y, vertical, len(lines), layout.label)
        box.add(left, top, left + width, top + ((len(lines) - 1) * LINE + 1.2) * layout.label)
    return box


def _fitted(content: KompasContent, layout: Layout) -> Layout:
    """``layout`` with the circle made smaller until the chart and its labels fit within
    ``layout.width`` (never below a radius of 60)."""
    if layout.width is None:
        return layout
    for _ in range(8):
        extent = _chart_extent(content, layout)
        over = extent.x1 - extent.x0 - layout.width
        if over <= 0.5 or layout.radius <= 60:
            break
        layout = replace(layout, radius=max(60.0, layout.radius - over / 2))
    return layout


def kompas_svg(content: KompasContent, layout: Layout = WIDE) -> str:
    """The kompas chart of ``content`` as SVG markup (from ``<svg`` on) for a page, drawn
    in ``layout`` (sizes in CSS pixels; ids of its hatch patterns carry the layout's name,
    so both layouts can stand on one page)."""
    layout = _fitted(content, layout)
    radius_px = layout.radius
    w = _Writer()
    w.add("rect", width="100%", height="100%", fill="#fff")
    title = _wrapped(content.title, layout.wrap_title)
    bottom = w.lines(layout.margin, layout.margin, title, layout.title)
    extent = _chart_extent(content, layout)
    cx = layout.margin - extent.x0
    cy = bottom + LINE * layout.title - extent.y0
    if layout.width is not None:  # the chart in the middle of the given width
        cx = max(cx, layout.margin + layout.width / 2 - (extent.x0 + extent.x1) / 2)
    span = content.high - content.low

    def radius(score: float) -> float:
        return min(max(score - content.low, 0.0), span) / span * radius_px

    def point(angle: float, r: float) -> tuple[float, float]:
        return cx + r * math.cos(angle), cy - r * math.sin(angle)

    patterns: dict[tuple[str, str], str] = {}
    looks = [(s.colour, s.hatch) for s in content.sectors] + \
        [(c.colour, c.hatch) for c in content.classes]
    for colour, hatch in looks:
        if hatch and (colour, hatch) not in patterns:
            patterns[(colour, hatch)] = f"wkk-{layout.name}-arcering-{len(patterns) + 1}"
            _hatch_pattern(w, patterns[(colour, hatch)], colour, hatch)

    # Score circles and a radial line per sector, the outer circle, the score labels.
    grid = w.add("g", stroke="#999", stroke_width="0.5", fill="none")
    for tick in content.ticks:
        w.add("circle", grid, cx=_n(cx), cy=_n(cy), r=_n(radius(tick)))
    spokes = "".join(f"M{_n(cx)} {_n(cy)}L{_n(x)} {_n(y)}"
                     for x, y in (point(a, radius_px) for a in content.angles))
    if spokes:
        w.add("path", grid, d=spokes)
    w.add("circle", cx=_n(cx), cy=_n(cy), r=_n(radius_px), stroke="#000", stroke_width="1",
          fill="none")
    w.box.add(cx - radius_px, cy - radius_px, cx + radius_px, cy + radius_px)
    if layout.tick_angle is not None:
        for tick in content.ticks:
            x, y = point(math.radians(layout.tick_angle), radius(tick))
            w.text(x + 2, y - 2, str(tick), layout.tick, fill="#444")
    else:
        step = 360 / max(len(content.sectors), 1)
        gap = min(((i + 0.5) * step for i in range(max(len(content.sectors), 1))),
                  key=lambda a: abs(a - 90))
        for tick in content.ticks:
            x, y = point(math.radians(gap), radius(tick))
            w.text(x, y - 2, str(tick), layout.tick, anchor="middle", fill="#444",
                   stroke="#fff", stroke_width="2.5", stroke_linejoin="round",
                   paint_order="stroke")

    # The bars of this year; "geen data" as a short hatched stub at the centre.
    half = content.bar_width / 2
    for sector, angle in zip(content.sectors, content.angles, strict=True):
        r = radius(sector.score) if not math.isnan(sector.score) else \
            radius(content.low + NO_DATA_STUB)
        if r <= 0:
            continue
        (x1, y1), (x2, y2) = point(angle - half, r), point(angle + half, r)
        w.add("path", d=f"M{_n(cx)} {_n(cy)}L{_n(x1)} {_n(y1)}A{_n(r)} {_n(r)} 0 0 0 "
                        f"{_n(x2)} {_n(y2)}Z",
              fill=_fill(patterns, sector.colour, sector.hatch), stroke="#000",
              stroke_width="0.8")

    w.add("circle", cx=_n(cx), cy=_n(cy), r=_n(radius(content.reference)), fill="none",
          stroke="#000", stroke_width="1", stroke_dasharray="3.7 1.6")

    # The earlier years: a closed line through the sectors with a score, broken where a
    # sector has none, a marker and the value at each point.
    point_size = layout.point
    for number, series in enumerate(content.series):
        points = [point(a, radius(v)) if not math.isnan(v) else None
                  for a, v in zip(content.angles, series.values, strict=True)]
        d = "".join(f"M{_n(a[0])} {_n(a[1])}L{_n(b[0])} {_n(b[1])}"
                    for a, b in zip(points, points[1:] + points[:1], strict=True)
                    if a is not None and b is not None and a != b)
        look = {"stroke_dasharray": "1.6 2.6"} if series.dotted else {}
        if d:
            w.add("path", d=d, fill="none", stroke=series.colour, stroke_width="1.6", **look)
        # The value beside its point, off the sector's middle line (where the bar's own
        # score stands): the previous year on the counter-clockwise side, the base year on
        # the clockwise side, so that equal values stay readable.
        side = 1.0 if number == 0 else -1.0
        for p, text, angle in zip(points, series.texts, content.angles, strict=True):
            if p is None or text is None:
                continue
            x, y = p
            if series.marker == "o":
                w.add("circle", cx=_n(x), cy=_n(y), r="3", fill=series.colour)
            else:
                w.add("rect", x=_n(x - 3), y=_n(y - 3), width="6", height="6",
                      fill=series.colour)
            dx, dy = -math.sin(angle) * side, -math.cos(angle) * side
            anchor = "start" if dx > 0.35 else "end" if dx < -0.35 else "middle"
            baseline = y + 6 * dy + (ASCENT * point_size if dy > 0.35 else 0.0 if dy < -0.35
                                     else 0.35 * point_size)
            w.text(x + 6 * dx, baseline, text, point_size, anchor=anchor, fill=series.colour,
                   stroke="#fff", stroke_width="2.5", stroke_linejoin="round",
                   paint_order="stroke")

    # The score of each bar, on a white halo, just beyond the bar (and beyond the stubs
    # at the centre when the score is below the lower bound).
    for sector, angle in zip(content.sectors, content.angles, strict=True):
        if sector.value_text is not None:
            at = max(min(sector.score, content.high), content.low + NO_DATA_STUB) + \
                span * 0.035
            x, y = point(angle, radius(at))
            w.text(x, y + 0.35 * layout.value, sector.value_text, layout.value, bold=True,
                   anchor="middle", stroke="#fff", stroke_width="3", stroke_linejoin="round",
                   paint_order="stroke")

    # Axis labels: the theme and its values per year, outside the circle.
    for sector, angle in zip(content.sectors, content.angles, strict=True):
        x, y = point(angle, radius_px + layout.label_pad)
        horizontal, vertical = _label_anchor(angle)
        lines = _label_lines(sector, layout)
        w.lines(x, _label_top(y, vertical, len(lines), layout.label), lines, layout.label,
                anchor=horizontal)

    chart_bottom = cy + extent.y1
    top = _legend(w, content, patterns, layout, layout.margin, chart_bottom + 16)

    # The context indicators, and why a theme has no score: beside the chart, or below.
    if layout.beside:
        side, top = cx + extent.x1 + 30, cy - radius_px
    else:
        side, top = layout.margin, top + 14
    top = w.lines(side, top, [content.context_title], layout.heading, bold=True) + 6
    lines, indent = _hanging(content.context, layout)
    top = w.lines(side, top, lines, layout.body, indent=indent)
    if content.missing_title is not None:
        top = w.lines(side, top + 18, [content.missing_title], layout.heading, bold=True) + 6
        lines, indent = _hanging(content.missing, layout)
        w.lines(side, top, lines, layout.body, indent=indent)

    box = w.box
    width, height = box.x1 + layout.margin, box.y1 + layout.margin
    w.root.set("viewBox", f"0 0 {_n(width)} {_n(height)}")
    w.root.set("width", _n(width))
    w.root.set("height", _n(height))
    w.root.set("font-family", FONTS)
    return ET.tostring(w.root, encoding="unicode")


def _hanging(texts: tuple[str, ...], layout: Layout) -> tuple[list[str], tuple[float, ...]]:
    """Texts wrapped, their second and later lines indented: (lines, indents)."""
    lines: list[str] = []
    indent: list[float] = []
    for text in texts:
        parts = _wrapped(text, layout.wrap_side)
        lines += parts
        indent += [0.0] + [10.0] * (len(parts) - 1)
    return lines, tuple(indent)


def _legend(w: _Writer, content: KompasContent, patterns: dict[tuple[str, str], str],
            layout: Layout, left: float, top: float) -> float:
    """The legend, filled column by column as matplotlib does: what a bar is (a heading
    without a swatch), the classes, the reference circle and the earlier years. Returns
    its bottom."""
    size = layout.legend
    entries: list[tuple[str, str, dict[str, str]]] = [(content.bar_label, "text", {})]
    entries += [(c.label, "patch", {"fill": _fill(patterns, c.colour, c.hatch)})
                for c in content.classes]
    entries.append((content.reference_label, "line",
                    {"stroke": "#000", "stroke_dasharray": "3.7 1.6", "stroke_width": "1"}))
    entries += [(s.label, s.marker, {"stroke": s.colour, "stroke_width": "1.6",
                                     **({"stroke_dasharray": "1.6 2.6"} if s.dotted else {})})
                for s in content.series]
    columns = layout.legend_columns
    rows = math.ceil(len(entries) / columns)
    step = size * 1.6
    x = left
    for column in range(columns):
        part = entries[column * rows:(column + 1) * rows]
        if not part:
            break
        for i, (label, kind, look) in enumerate(part):
            y = top + i * step  # the middle of the row
            if kind == "text":
                w.text(x, y + 0.35 * size, label, size)
                continue
            if kind == "patch":
                w.add("rect", x=_n(x), y=_n(y - 3.5), width="16", height="7", stroke="#000",
                      stroke_width="0.8", **look)
            else:
                w.add("path", d=f"M{_n(x)} {_n(y)}L{_n(x + 16)} {_n(y)}", fill="none", **look)
                colour = look["stroke"]
                if kind == "o":
                    w.add("circle", cx=_n(x + 8), cy=_n(y), r="3", fill=colour)
                elif kind == "s":
                    w.add("rect", x=_n(x + 5), y=_n(y - 3), width="6", height="6", fill=colour)
            w.text(x + 22, y + 0.35 * size, label, size)
        x += 22 + max(text_width(label, size) for label, _, _ in part) + 18
    return top + (rows - 1) * step + size
