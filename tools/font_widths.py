"""Print the advance widths of DejaVu Sans (Book and Bold) for the characters of
``wijkkompas.output.kompas_svg._CHARS``, in thousandths of an em, rounded up: the tables
``_BOOK`` and ``_BOLD`` of that module. Read from matplotlib's copy of the font with
fontTools (both come with matplotlib).

    python tools/font_widths.py
"""

from __future__ import annotations

import math
import textwrap
from pathlib import Path

import matplotlib
from fontTools.ttLib import TTFont

from wijkkompas.output.kompas_svg import _CHARS


def widths(name: str) -> list[int]:
    font = TTFont(Path(matplotlib.get_data_path()) / "fonts" / "ttf" / name)
    advance, cmap, em = font["hmtx"], font.getBestCmap(), font["head"].unitsPerEm
    return [math.ceil(advance[cmap[ord(c)]][0] * 1000 / em) for c in _CHARS]


def main() -> None:
    for name in ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf"):
        print(f"# {name}")
        print(textwrap.fill(" ".join(map(str, widths(name))), 84))


if __name__ == "__main__":
    main()
