"""A referent's colleague from the animation team logs in with a real browser and reads a fiche."""

import os
import shutil
from pathlib import Path

import pytest

from plie.models import Plie, Role
from tests.factories import MembershipFactory

# Playwright's sync API runs an event loop in this thread; the ORM calls of the test itself are still synchronous.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).resolve().parent.parent / "test-results"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture
def page():
    if not Path(CHROMIUM).exists():
        if os.environ.get("REQUIRE_BROWSER"):
            pytest.fail(f"Chromium est introuvable ({CHROMIUM}).")
        pytest.skip("Chromium n’est pas installé (paquets Debian chromium et chromium-driver).")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield browser.new_page(locale="fr-FR", viewport={"width": 1280, "height": 900})
        browser.close()


@pytest.fixture
def user():
    # Created before Playwright starts its event loop: inside it, the ORM would open a connection of its own.
    return MembershipFactory(
        plie=Plie.objects.get(slug="sources"), role=Role.ANIMATION, user__email="animation@plie-sources.fr"
    ).user


def test_the_animation_team_logs_in_and_reads_its_fiche(live_server, user, page):
    page.goto(f"{live_server.url}/")
    page.get_by_label("Adresse e-mail").fill(user.email)
    page.get_by_label("Mot de passe").fill("mot-de-passe-de-test")
    page.get_by_role("button", name="Se connecter").click()

    page.get_by_role("link", name="FO1 — Accompagnement renforcé").click()
    page.wait_for_url("**/operations/*/")
    assert page.locator("#plafond-fse").inner_text() == "175\u00a0200,00\u00a0€"
    assert "85\u00a0%" in page.locator("body").inner_text()
    assert "Déménagement" in page.get_by_text("Sorties neutralisées").inner_text()
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "fiche-sources.png", full_page=True)
