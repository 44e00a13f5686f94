"""Screenshots of the pages as their readers see them, to check by eye.

Builds a data folder from the real Almelo files of ../shared/data (unless ``--data-dir``
already holds a build), exports the pages, makes the vlekkenkaart with a toets (from
voorbeelden/zorglocaties.toml, when the care files of ../shared/data are there) and writes
PNG screenshots of the gemeente page, one wijk page, the shared vlekkenkaart and the toets
map, each at two phones' widths (360 and 390 px) and a laptop's (1366 px), with Playwright and
Debian's chromium. The wijk page is also printed to PDF (A4) and every PDF page rendered as
a PNG with pdftoppm (poppler-utils), to look at the paper handout. Every request that would
leave the machine is blocked.

    python tools/gallery.py --out gallery [--data-dir DIR] [--wijk WK014110]

Each picture is one entry of ``SHOTS`` (a name and a function giving the file to open and
what to wait for), so other pages can be added with one function each.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"


@dataclass
class Shot:
    """One screenshot: the page to open and a JavaScript expression that is true when the
    page is drawn (None: wait for the load event only)."""

    name: str
    page: Path
    ready: str | None = "window.wijkkompas !== undefined"
    printed: bool = False  # also printed to PDF (A4), each page rendered as PNG
    full_page: bool = True  # the whole page (a map page: the screen only)


#: The sizes of the screenshots: two phones and a laptop (width, height).
SCREENS = ((360, 740), (390, 844), (1366, 900))


def build_data(data: Path, shared: Path) -> None:
    """Import the real Almelo files and build, as a user would with the command line."""
    sys.path.insert(0, str(REPO))
    from tests.helpers import import_almelo
    from wijkkompas.cli import main

    import_almelo(data, shared)
    if main(["build", "--data-dir", str(data)]) != 0:
        raise SystemExit("wijkkompas build is mislukt")


def export_pages(data: Path, out: Path, wijk: str) -> list[Shot]:
    """The gemeente page and the page of ``wijk``."""
    from wijkkompas.kompas.results import load_processed
    from wijkkompas.output.export import page_name, run_export

    processed = load_processed(data)
    run_export(processed, out, say=lambda _: None)
    return [Shot("gemeente", out / page_name(processed.kompas.gemeente, "gemeente")),
            Shot(f"wijk_{wijk}", out / page_name(wijk, "wijk"), printed=True)]


#: The vlekkenkaart of the gallery: the example configuration and a toets in Binnenstad Noord.
CARE_CONFIG = REPO / "voorbeelden" / "zorglocaties.toml"
TOETS = ["--toets", "241947,486382", "--categorie", "beschermd_wonen", "--capaciteit", "12"]


def vlekkenkaart_pages(data: Path, shared: Path = SHARED) -> list[Shot]:
    """The shared vlekkenkaart and the toets map: made with the example configuration when
    no run has written them and the care files are there."""
    folder = data / "processed" / "vlekkenkaart"
    if not any(folder.glob("*.html")) and (shared / "care").is_dir():
        from wijkkompas.cli import main

        if main(["vlekkenkaart", "--data-dir", str(data), "--zorglocaties", str(CARE_CONFIG),
                 *TOETS]) != 0:
            raise SystemExit("wijkkompas vlekkenkaart is mislukt")
    found = sorted(folder.glob("*.html")) if folder.is_dir() else []
    return [Shot(f"vlekkenkaart_{p.stem}", p, "window.vlekkenkaart !== undefined",
                 full_page=False) for p in found]


#: Producers of screenshots: each gets (data folder, export folder, wijk) and returns shots.
PRODUCERS: list[Callable[[Path, Path, str], list[Shot]]] = [
    lambda data, out, wijk: export_pages(data, out, wijk),
    lambda data, out, wijk: vlekkenkaart_pages(data),
]


def pdf_pages(pdf: Path) -> list[Path]:
    """Every page of ``pdf`` as a PNG beside it (pdftoppm, 80 dpi)."""
    tool = shutil.which("pdftoppm")
    if tool is None:
        print("pdftoppm ontbreekt (apt-get install poppler-utils): geen PNG van de PDF")
        return []
    subprocess.run([tool, "-r", "80", "-png", str(pdf), str(pdf.with_suffix(""))], check=True)
    return sorted(pdf.parent.glob(f"{pdf.stem}-*.png"))


def screenshot(shots: list[Shot], folder: Path,
               screens: tuple[tuple[int, int], ...] = SCREENS) -> list[Path]:
    """A PNG of every shot at every screen size, and for a printed shot its PDF (A4) with
    a PNG per page, in headless Debian chromium with the network off."""
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium")
    if executable is None:
        raise SystemExit("Debian chromium ontbreekt (apt-get install chromium)")
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable,
                                    args=["--headless", "--no-sandbox", "--disable-gpu"])
        try:
            for shot in shots:
                for width, height in screens:
                    page = browser.new_page(viewport={"width": width, "height": height})
                    page.route("**/*", lambda route: route.continue_()
                               if route.request.url.startswith("file:") else route.abort())
                    page.goto(shot.page.as_uri())
                    if shot.ready:
                        page.wait_for_function(shot.ready)
                    page.wait_for_timeout(300)
                    path = folder / f"{shot.name}_{width}.png"
                    page.screenshot(path=str(path), full_page=shot.full_page)
                    written.append(path)
                    if shot.printed and width == screens[-1][0]:
                        pdf = folder / f"{shot.name}_afdruk.pdf"
                        page.pdf(path=str(pdf), format="A4", print_background=True)
                        written += [pdf, *pdf_pages(pdf)]
                    page.close()
        finally:
            browser.close()
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Schermafdrukken van de pagina's.")
    parser.add_argument("--out", type=Path, default=Path("gallery"),
                        help="map voor de PNG-bestanden")
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="datamap met een build (anders: bouw uit ../shared/data)")
    parser.add_argument("--shared", type=Path, default=SHARED, help="map met de echte data")
    parser.add_argument("--wijk", default="WK014110", help="wijk voor de wijkpagina")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        data = args.data_dir
        if data is None:
            data = Path(tmp) / "data"
            build_data(data, args.shared)
        shots: list[Shot] = []
        for producer in PRODUCERS:
            shots += producer(data, Path(tmp) / "export", args.wijk)
        for path in screenshot(shots, args.out):
            print(f"geschreven: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
