"""Screenshots of the built sample, the ones the README shows: the home page, the catalog (with
what ran before in a production cell), a service page and a reference page.

`pytest tests/test_screenshots.py --update-screenshots` writes them to docs/images/; a normal
run writes them to a temporary folder. Either way each must be the size of the window and not
blank. What changes from build to build (the build time) and animations are hidden by a style
injected here; the site itself is not changed."""

from __future__ import annotations

import base64
import json
import struct
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import CHROMIUM_ARGS, REPO

pytestmark = pytest.mark.browser

IMAGES = REPO / "docs" / "images"
WINDOW = {"width": 1400, "height": 900}

# For the screenshots only, from the page's first paint: the build time changes every build, and
# nothing may move (a transition cut short leaves corners shaded differently from run to run).
STEADY = """
.pd-built { display: none !important; }
*, *::before, *::after {
  animation: none !important;
  transition: none !important;
  caret-color: transparent !important;
}
"""
WITH_STEADY = f"""document.addEventListener('DOMContentLoaded', () => {{
  const style = document.createElement('style');
  style.textContent = {json.dumps(STEADY)};
  document.head.append(style);
}});"""

# The share of pixels unlike the commonest colour (the background), and how many colours there
# are, of a PNG drawn on a canvas by the browser.
PIXELS = """async data => {
  const image = new Image();
  image.src = 'data:image/png;base64,' + data;
  await image.decode();
  const canvas = document.createElement('canvas');
  canvas.width = image.naturalWidth;
  canvas.height = image.naturalHeight;
  const context = canvas.getContext('2d');
  context.drawImage(image, 0, 0);
  const pixels = new Uint32Array(context.getImageData(0, 0, canvas.width, canvas.height).data.buffer);
  const counts = new Map();
  for (const pixel of pixels) counts.set(pixel, (counts.get(pixel) ?? 0) + 1);
  return {
    width: canvas.width,
    height: canvas.height,
    foreground: 1 - Math.max(...counts.values()) / pixels.length,
    colours: counts.size,
  };
}"""


def _show_what_ran_before(page: Any) -> None:
    """The catalog, the pointer on payments-api's production cell: what ran there before shows.
    The page is scrolled, if need be, just enough for the whole tooltip to be seen."""
    row = page.locator(
        "table.pd-matrix tbody tr", has=page.get_by_role("link", name="payments-api")
    )
    cell = row.locator('td[data-env="production"] .pd-cellbox')
    tip = cell.locator(".pd-tip")
    cell.hover()
    tip.wait_for(state="visible")
    below = tip.evaluate("tip => tip.getBoundingClientRect().bottom + 16 - window.innerHeight")
    if below > 0:
        page.evaluate("y => window.scrollBy(0, y)", below)
        cell.hover()
        tip.wait_for(state="visible")


SHOTS: dict[str, tuple[str, Callable[[Any], None] | None]] = {
    "home": ("", None),
    "catalog": ("catalog/", _show_what_ran_before),
    "service": ("catalog/services/payments-api/", None),
    "reference": ("reference/schemas/service/", None),
}


@pytest.fixture
def page(chromium: str) -> Iterator[Any]:
    """A fresh page of a light-scheme window, `STEADY` on every page it opens."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        # whole tiles redrawn: a tile drawn again in part shades rounded corners a shade apart
        browser = p.chromium.launch(
            executable_path=chromium, args=[*CHROMIUM_ARGS, "--disable-partial-raster"]
        )
        try:
            tab = browser.new_page(viewport=WINDOW, color_scheme="light", reduced_motion="reduce")
            tab.add_init_script(WITH_STEADY)
            yield tab
        finally:
            browser.close()


@pytest.mark.parametrize("name", list(SHOTS))
def test_a_screenshot_is_the_whole_window_and_not_blank(
    name: str, page: Any, served_site: str, update_screenshots: bool, tmp_path: Path
) -> None:
    path, prepare = SHOTS[name]
    folder = IMAGES if update_screenshots else tmp_path
    shot = folder / f"{name}.png"
    page.goto(served_site + path, wait_until="networkidle")
    page.locator("article h1").wait_for()
    page.evaluate("document.fonts.ready.then(() => true)")
    if prepare:
        prepare(page)
    page.screenshot(path=shot, animations="disabled", caret="hide", scale="css")
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    assert struct.unpack(">II", data[16:24]) == (WINDOW["width"], WINDOW["height"])
    seen = page.evaluate(PIXELS, base64.b64encode(data).decode("ascii"))
    assert (seen["width"], seen["height"]) == (WINDOW["width"], WINDOW["height"])
    assert seen["foreground"] > 0.05, f"{shot} is nearly blank: {seen}"
    assert seen["colours"] > 64, f"{shot} has too few colours: {seen}"
