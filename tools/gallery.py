"""Screenshots of the pages as their readers see them, to check by eye.

Builds a data folder from the real Almelo files of ../shared/data (unless ``--data-dir``
already holds a build), exports the pages and writes PNG screenshots of the gemeente page,
one wijk page and, where present, the shared vlekkenkaart page, with Playwright and Debian's
chromium. Every request that would leave the machine is blocked.

    python tools/gallery.py --out gallery [--data-dir DIR] [--wijk WK014110]

Each picture is one entry of ``SHOTS`` (a name and a function giving the file to open and
what to wait for), so other pages can be added with one function each.
"""

from __future__ import annotations

import argparse
import shutil
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
            Shot(f"wijk_{wijk}", out / page_name(wijk, "wijk"))]


def vlekkenkaart_pages(data: Path) -> list[Shot]:
    """The shared vlekkenkaart page, if a run has written one."""
    folder = data / "processed" / "vlekkenkaart"
    found = sorted(folder.glob("*.html")) if folder.is_dir() else []
    return [Shot(f"vlekkenkaart_{p.stem}", p, None) for p in found]


#: Producers of screenshots: each gets (data folder, export folder, wijk) and returns shots.
PRODUCERS: list[Callable[[Path, Path, str], list[Shot]]] = [
    lambda data, out, wijk: export_pages(data, out, wijk),
    lambda data, out, wijk: vlekkenkaart_pages(data),
]


def screenshot(shots: list[Shot], folder: Path, width: int = 1280) -> list[Path]:
    """A full-page PNG of every shot, in headless Debian chromium with the network off."""
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
                page = browser.new_page(viewport={"width": width, "height": 900})
                page.route("**/*", lambda route: route.continue_()
                           if route.request.url.startswith("file:") else route.abort())
                page.goto(shot.page.as_uri())
                if shot.ready:
                    page.wait_for_function(shot.ready)
                page.wait_for_timeout(300)
                path = folder / f"{shot.name}.png"
                page.screenshot(path=str(path), full_page=True)
                written.append(path)
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
