"""Generated pages in a real headless Chromium (Debian's chromium, driven by Playwright), with
every request that would leave the machine blocked and logged."""

from __future__ import annotations

import shutil
from contextlib import contextmanager

import playwright.sync_api as playwright
import pytest

from wijkkompas.web.leaflet import PDOK_TILES

TILE_HOST = PDOK_TILES.split("/brt/")[0]


def launch(p):
    """Debian's chromium, headless, without sandbox (containers) and background traffic."""
    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail("Debian's chromium is not installed (apt-get install -y chromium)")
    return p.chromium.launch(executable_path=executable, args=[
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])


class Page:
    """A page opened with every request that would leave the machine blocked and logged."""

    def __init__(self, browser, path, ready="window.wijkkompas !== undefined",
                 size=(1200, 900)):
        self.requests, self.errors, self.dialogs = [], [], []
        self.page = browser.new_page(viewport={"width": size[0], "height": size[1]})
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        self.page.route("**/*", self._route)
        self.page.goto(path.as_uri())
        self.page.wait_for_function(ready)

    def _route(self, route):
        url = route.request.url
        if url.startswith("file:"):
            route.continue_()
        else:
            self.requests.append(url)
            route.abort()

    def _console(self, message):
        if message.type != "error":
            return
        # With the network off, the blocked PDOK tiles are reported as failed loads;
        # the page is meant to work without them. Anything else is a real error.
        source = (message.location or {}).get("url", "")
        if source.startswith(TILE_HOST) and "Failed to load resource" in message.text:
            return
        self.errors.append(f"{message.text} ({source})")

    def fills(self):
        return self.page.eval_on_selector_all(
            ".leaflet-overlay-pane path.leaflet-interactive",
            "els => els.map(e => e.getAttribute('fill'))")

    def choose(self, name, value):
        self.page.select_option(f"#wk-{name}", str(value))

    def hover_area(self, code, lon, lat):
        point = self.page.evaluate(
            "([lat, lon]) => { const p = window.wijkkompas.map.latLngToContainerPoint([lat, lon]);"
            " const r = window.wijkkompas.map.getContainer().getBoundingClientRect();"
            " return [p.x + r.left, p.y + r.top]; }", [lat, lon])
        self.page.mouse.move(5, 5)
        self.page.mouse.move(*point, steps=5)
        try:
            self.page.wait_for_function(
                "code => [...document.querySelectorAll('.leaflet-tooltip')]"
                ".some(t => t.innerText.includes(code))", arg=code, timeout=5000)
        except playwright.TimeoutError:
            shown = self.page.eval_on_selector_all(".leaflet-tooltip", "ts => ts.map(t => "
                                                   "t.innerText)")
            pytest.fail(f"no tooltip for {code} at {point}; shown: {shown}")
        texts = self.page.eval_on_selector_all(".leaflet-tooltip", "ts => ts.map(t => "
                                               "t.innerText)")
        return next(t for t in texts if code in t)

    def close(self):
        self.page.close()


@contextmanager
def opened(browser, path, ready="window.wijkkompas !== undefined", size=(1200, 900)):
    page = Page(browser, path, ready, size)
    try:
        yield page
    finally:
        page.close()


#: A measured layout of an SVG chart in Chromium (for ``eval_on_selector``): which shapes lie
#: outside the view box (getBBox), which texts are not drawn, which texts overlap, how many
#: texts there are, the width shown and the font used.
LAYOUT = """svg => {
    const view = svg.viewBox.baseVal;
    const shapes = [...svg.querySelectorAll('text, path, rect, circle')]
        .filter(e => !e.closest('defs'));
    const outside = shapes.filter(e => {
        const b = e.getBBox();
        return b.x < view.x - 0.5 || b.y < view.y - 0.5
            || b.x + b.width > view.x + view.width + 0.5
            || b.y + b.height > view.y + view.height + 0.5;
    }).map(e => e.outerHTML.slice(0, 80));
    const texts = [...svg.querySelectorAll('text')];
    const boxes = texts.map(t => t.getBBox());
    const empty = texts.filter((t, i) => boxes[i].width <= 0).map(t => t.textContent);
    const overlaps = [];
    boxes.forEach((a, i) => boxes.forEach((b, j) => {
        if (j > i && a.x < b.x + b.width && b.x < a.x + a.width
            && a.y < b.y + b.height - 1 && b.y < a.y + a.height - 1) {
            overlaps.push([texts[i].textContent, texts[j].textContent]);
        }
    }));
    const box = svg.getBoundingClientRect();
    return {outside, empty, overlaps, count: texts.length,
            width: box.width, font: getComputedStyle(texts[0]).fontFamily};
}"""


#: The screens every page must work on: two phones and a laptop (width, height in px).
SCREENS = [(360, 740), (390, 844), (1366, 900)]

#: Elements wider than the screen (or reaching past its edges) that no scroll box of their
#: own holds, and the width of the page itself (for ``evaluate``).
OVERFLOW = """() => {
    const width = document.documentElement.clientWidth;
    const held = e => {
        for (let p = e.parentElement; p && p !== document.body; p = p.parentElement) {
            const x = getComputedStyle(p).overflowX;
            if (x !== 'visible' && p.getBoundingClientRect().right <= width + 1) {
                return true;
            }
        }
        return false;
    };
    const wide = [...document.body.querySelectorAll('*')].filter(e => {
        const r = e.getBoundingClientRect();
        return r.width > 0 && r.height > 0 && (r.right > width + 1 || r.left < -1) && !held(e);
    }).map(e => `${e.tagName.toLowerCase()}.${e.className.baseVal ?? e.className}`);
    return {page: document.documentElement.scrollWidth, screen: width, wide: wide.slice(0, 8)};
}"""

#: The smallest text of the charts shown, in CSS pixels on the screen (its font size times
#: the scale of the picture), and how many texts are shown.
SMALLEST_TEXT = """selector => {
    const texts = [...document.querySelectorAll(selector)]
        .filter(t => t.getClientRects().length > 0);
    const sizes = texts.map(t => parseFloat(getComputedStyle(t).fontSize)
        * t.getScreenCTM().a);
    return {count: texts.length, smallest: Math.min(...sizes)};
}"""


def zoom_allowed(page) -> bool:
    """Whether the page lets a reader pinch-zoom: one viewport meta tag, without
    user-scalable=no and without a maximum scale of 1."""
    tags = page.eval_on_selector_all('meta[name="viewport"]', "ms => ms.map(m => m.content)")
    if len(tags) != 1:
        return False
    settings = dict(part.strip().split("=", 1) for part in tags[0].replace(";", ",").split(",")
                    if "=" in part)
    settings = {k.strip().lower(): v.strip().lower() for k, v in settings.items()}
    return settings.get("user-scalable", "yes") not in ("no", "0") and \
        float(settings.get("maximum-scale", "10")) >= 2
