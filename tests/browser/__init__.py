"""What every browser test checks on every page it visits: `check_page(page)`.

The `page` fixture (tests/conftest.py) fails a test that left a page it opened unchecked. axe-core comes bundled in
the axe-playwright-python package: no network is needed."""

import hashlib
import os
import re
from pathlib import Path
from urllib.parse import urlsplit

from axe_playwright_python.base import AxeResults

# Full-page screenshots cost 3 to 4 s of a run: taken when asked for (SCREENSHOTS=1), for a person to look at.
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-results" if os.environ.get("SCREENSHOTS") else None
PHONE, LAPTOP, DESKTOP = 390, 1280, 1366
PHONE_SCREEN = {"width": PHONE, "height": 844}
# What axe-core already found clean in this process: a page of the same route whose elements are the same set of
# (tag, class, type, role, attribute names) gives axe the same things to judge (the login page is opened a dozen times).
AXE_CLEAN = set()
SHAPE = """() => {
    const seen = new Set();
    for (const e of document.querySelectorAll('*'))
        seen.add([e.tagName, e.getAttribute('class'), e.getAttribute('type'), e.getAttribute('role'),
                  e.getAttributeNames().sort()].join('.'));
    return [...seen].sort().join('|');
}"""
STYLED = "() => [...document.querySelectorAll('link[rel=stylesheet]')].every(link => link.sheet)"


def path_of(url):
    return urlsplit(url).path


def width_on_a_phone(page):
    """The width of the page's document loaded afresh (GET, same session) in a 390 px wide page."""
    phone = page.context.new_page()
    try:
        phone.set_viewport_size(PHONE_SCREEN)
        phone.goto(page.url)
        phone.wait_for_function(STYLED)
        return phone.evaluate("() => document.documentElement.scrollWidth")
    finally:
        phone.close()


def check_page(page, name=None):
    """axe-core finds no violation; nothing makes the page wider than a 390 px phone; the menu fits on one line at
    1280 and 1366 px with the account menu (and its « Se déconnecter ») on screen. With `name` and SCREENSHOTS=1,
    screenshots at 1280 and 390 px go to test-results/NAME-1280.png and NAME-390.png."""
    page.wait_for_load_state("load")
    # A stylesheet still on its way leaves the page unstyled, wider than any phone (seen once in CI, under load).
    page.wait_for_function(STYLED)
    shape = (re.sub(r"\d+", "N", path_of(page.url)), hashlib.sha256(page.evaluate(SHAPE).encode()).hexdigest())
    if shape not in AXE_CLEAN:
        # axe-core is already in the page (the `page` fixture's init script); only the violations come back (the
        # passes, 50 kB a page, cost as much as the run).
        violations = page.evaluate("axe.run({resultTypes: ['violations']}).then(results => results.violations)")
        assert not violations, f"{page.url}\n{AxeResults({'violations': violations}).generate_report()}"
        AXE_CLEAN.add(shape)
    size = page.viewport_size
    try:
        for width in (DESKTOP, LAPTOP):
            page.set_viewport_size({"width": width, "height": size["height"]})
            overflow = page.evaluate(
                """() => {
                    const menu = document.querySelector('#menu');
                    if (!menu) return null;
                    const items = [...menu.querySelectorAll(':scope > ul > li')];
                    const tops = new Set(items.map(li => Math.round(li.getBoundingClientRect().top)));
                    const right = Math.max(...items.map(li => li.getBoundingClientRect().right));
                    return {lines: tops.size, right: right, width: window.innerWidth};
                }"""
            )
            if overflow:
                assert overflow["lines"] == 1 and overflow["right"] <= overflow["width"], (
                    f"{page.url}: the menu does not fit at {width} px: {overflow}"
                )
            if name and SCREENSHOTS and width == LAPTOP:
                SCREENSHOTS.mkdir(exist_ok=True)
                page.screenshot(path=SCREENSHOTS / f"{name}-{width}.png", full_page=True)
        page.set_viewport_size(PHONE_SCREEN)
        wide = page.evaluate("() => document.documentElement.scrollWidth")
        if wide > PHONE:
            # A phone loads the page at its own width. Resized from 1,280 px, Django's admin lists (exit reasons, fiches)
            # were now and then left at their desktop width, 528 and 1,075 px, all stylesheets loaded, even two frames
            # later (CI on PostgreSQL; 1 run of that test in 24 here): the page loaded at 390 px decides.
            wide = width_on_a_phone(page)
        if wide > PHONE:
            culprits = page.evaluate(
                """(width) => [...document.querySelectorAll('body *')]
                    .filter(e => e.getBoundingClientRect().right > width
                        && (!e.closest('.table-responsive') || getComputedStyle(e).position === 'absolute'))
                    .slice(0, 5).map(e => e.outerHTML.slice(0, 160))""",
                PHONE,
            )
            # The rules each stylesheet holds tell an unstyled page (a sheet empty or cut short) from a layout bug.
            sheets = page.evaluate(
                "() => [...document.styleSheets].map(s => [(s.href || 'inline').split('/').pop(), s.cssRules.length])"
            )
            raise AssertionError(
                f"{page.url}: the page is {wide} px wide on a {PHONE} px phone: {culprits}; "
                f"rules per stylesheet: {sheets}"
            )
        if name and SCREENSHOTS:
            page.screenshot(path=SCREENSHOTS / f"{name}-{PHONE}.png", full_page=True)
    finally:
        page.set_viewport_size(size)
    page.checked_paths.add(path_of(page.url))
