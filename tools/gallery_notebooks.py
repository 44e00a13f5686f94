"""Screenshots of what readers see: the shared vlekkenkaart page and notebook 03 rendered to
HTML, in Debian's chromium (Playwright, every request off the machine blocked).

Usage, after ``wijkkompas build`` on a data folder::

    python tools/gallery_notebooks.py --data-dir data --out galerij

Writes ``vlekkenkaart_gedeeld.png`` (and the page itself), ``wijkprofiel_WK....ipynb``,
``.html`` and ``.png`` in ``--out``. Look at them before calling a change to these pages done.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import nbconvert
import nbformat
import papermill
from playwright.sync_api import Route, sync_playwright

from wijkkompas.kompas.results import load_processed
from wijkkompas.vlekkenkaart.stage import build_vlekkenkaart, vlekkenkaart_map
from wijkkompas.vlekkenkaart.zorglocaties import read_config

ROOT = Path(__file__).resolve().parents[1]


def shared_vlekkenkaart(data_dir: Path, config: Path, out: Path) -> Path:
    """The shared vlekkenkaart page of ``config`` on the built ``data_dir``."""
    processed = load_processed(data_dir)
    vk = build_vlekkenkaart(processed, read_config(config))
    page = out / "vlekkenkaart_gedeeld.html"
    page.write_text(vlekkenkaart_map(processed, vk, gedeeld=True).get_root().render(),
                    encoding="utf-8")
    return page


def notebook_03(data_dir: Path, wijk: str, out: Path) -> Path:
    """Notebook 03 run with papermill for ``wijk`` and rendered to HTML with nbconvert."""
    book = out / f"wijkprofiel_{wijk}.ipynb"
    papermill.execute_notebook(str(ROOT / "notebooks" / "03_wijkprofiel.ipynb"), str(book),
                               parameters={"data_dir": str(data_dir.resolve()), "wijk": wijk,
                                           "uitvoer_dir": str((out / "profiel").resolve())},
                               cwd=str(ROOT / "notebooks"), kernel_name="python3",
                               progress_bar=False)
    html, _ = nbconvert.HTMLExporter().from_notebook_node(nbformat.read(book, as_version=4))
    page = book.with_suffix(".html")
    page.write_text(html, encoding="utf-8")
    return page


def _local_only(route: Route) -> None:
    if route.request.url.startswith("file:"):
        route.continue_()
    else:
        route.abort()


def screenshot(pages: list[tuple[Path, bool]]) -> list[Path]:
    """A PNG next to each page; ``True`` for a full-page shot (a long notebook)."""
    executable = shutil.which("chromium")
    if executable is None:
        raise SystemExit("Debian's chromium ontbreekt (apt-get install -y chromium).")
    shots = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable,
                                    args=["--headless", "--no-sandbox", "--disable-gpu"])
        try:
            for page_path, full in pages:
                page = browser.new_page(viewport={"width": 1280, "height": 900})
                page.route("**/*", _local_only)
                page.goto(page_path.as_uri())
                page.wait_for_timeout(1500)
                shot = page_path.with_suffix(".png")
                page.screenshot(path=str(shot), full_page=full)
                page.close()
                shots.append(shot)
        finally:
            browser.close()
    return shots


def main() -> None:
    parser = argparse.ArgumentParser(description="Schermafdrukken van de gedeelde "
                                     "vlekkenkaart en notebook 03.")
    parser.add_argument("--data-dir", type=Path, default=Path("data"))
    parser.add_argument("--zorglocaties", type=Path,
                        default=ROOT / "voorbeelden" / "zorglocaties.toml")
    parser.add_argument("--wijk", default="WK014110")
    parser.add_argument("--out", type=Path, default=Path("galerij"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    pages = [(shared_vlekkenkaart(args.data_dir, args.zorglocaties, args.out), False),
             (notebook_03(args.data_dir, args.wijk, args.out), True)]
    for shot in screenshot(pages):
        print(f"geschreven: {shot}")


if __name__ == "__main__":
    main()
