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
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-results"

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
        yield browser.new_page(locale="fr-FR", viewport={"width": 1440, "height": 900})
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
    page.get_by_role("heading", name="Les files de l’équipe").wait_for()  # the team's home

    page.locator("#contenu").get_by_role("link", name="Configuration du PLIE").click()
    page.get_by_role("link", name="FO1 — Accompagnement renforcé").click()
    page.wait_for_url("**/operations/*/")
    assert page.locator("#plafond-fse").inner_text() == "175\u00a0200,00\u00a0€"
    assert "85\u00a0%" in page.locator("body").inner_text()
    assert "Déménagement" in page.get_by_text("Sorties neutralisées").inner_text()
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "fiche-sources.png", full_page=True)


@pytest.fixture
def followed(referent_a, operation, animation, tmp_path, monkeypatch):
    # Created before Playwright starts, like `user`; the sheet uploaded by the browser lands in tmp_path.
    from tests.factories.participants import ParticipantFactory, isolate_private_storage, make_parcours, profile

    isolate_private_storage(monkeypatch, tmp_path)
    participant = ParticipantFactory(plie=operation.plie, last_name="Lefèvre", first_name="Amina")
    return make_parcours(participant, "active", by=animation, operation=operation, referent=profile(referent_a))


def test_a_referent_finds_a_participant_and_records_an_entretien_with_its_signed_sheet(live_server, followed, page):
    page.goto(f"{live_server.url}/")
    page.get_by_label("Adresse e-mail").fill("referent.a@pessac.fr")
    page.get_by_label("Mot de passe").fill("mot-de-passe-de-test")
    page.get_by_role("button", name="Se connecter").click()

    page.get_by_role("link", name="Mon portefeuille").click()
    assert "Pas d’entretien depuis le 01/02/2023" in page.locator("table").inner_text()

    page.get_by_role("link", name="Participants").click()
    page.get_by_role("searchbox").fill("lefèvre")
    page.get_by_role("button", name="Rechercher").click()
    page.get_by_role("link", name="LEFÈVRE Amina").click()
    page.get_by_role("link", name="Nouvel entretien").click()
    page.locator("#id_date").fill("2023-03-15")
    page.locator("#id_summary").fill("Point sur les candidatures envoyées.")
    page.locator("#id_signed").check()
    page.locator("#id_sheet").set_input_files(
        files=[{"name": "emargement.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4\n%%EOF\n"}]
    )
    page.get_by_role("button", name="Enregistrer").click()

    assert "L’entretien du 15/03/2023 est enregistré." in page.locator(".alert").inner_text()
    assert "feuille" in page.locator("#titre-entretiens + table").inner_text()
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "entretien-referent.png", full_page=True)


@pytest.fixture
def extracts(admin_user, operation, tmp_path, monkeypatch):
    """A PLIE's extracts as its admin holds them: Windows-1252, headers spelled its way, one date wrong."""
    from django.core.files.storage import FileSystemStorage

    from imports.models import ImportFile
    from tests.imports.files import PARTICIPANTS, REFERENTS, changed, csv_bytes

    monkeypatch.setattr(ImportFile._meta.get_field("content"), "storage", FileSystemStorage(location=tmp_path / "p"))
    rows = changed(PARTICIPANTS, 1, "Référent", "Conseiller référent")
    rows = changed(rows, 1, "Date d'entrée", "DATE D’ENTREE")
    paths = {
        "referents": tmp_path / "referents.csv",
        "wrong": tmp_path / "participants.csv",
        "fixed": tmp_path / "participants-corrige.csv",
    }
    paths["referents"].write_bytes(csv_bytes(REFERENTS, encoding="cp1252"))
    paths["wrong"].write_bytes(csv_bytes(changed(rows, 3, "Date de naissance", "31/02/1970"), encoding="cp1252"))
    paths["fixed"].write_bytes(csv_bytes(rows, encoding="cp1252"))
    return admin_user, paths


def test_the_admin_imports_extracts_maps_a_column_fixes_an_error_and_reads_the_report(live_server, extracts, page):
    admin, paths = extracts
    page.goto(f"{live_server.url}/")
    page.get_by_label("Adresse e-mail").fill(admin.email)
    page.get_by_label("Mot de passe").fill("mot-de-passe-de-test")
    page.get_by_role("button", name="Se connecter").click()
    page.get_by_role("button", name="Référentiels").click()
    page.get_by_role("link", name="Imports d’extractions").click()
    page.get_by_role("link", name="Nouvel import").click()

    page.get_by_label("Fichiers d’extraction").set_input_files([paths["referents"], paths["wrong"]])
    page.get_by_role("button", name="Analyser les fichiers").click()
    page.wait_for_url("**/imports/*/")
    body = page.locator("body").inner_text()
    assert "CSV, encodage Windows-1252, séparateur point-virgule" in body
    assert "Colonnes obligatoires absentes : Référent." in body

    page.get_by_label("Conseiller référent").select_option("Référent")
    page.get_by_role("button", name="Enregistrer les correspondances et relancer l’aperçu").click()
    assert page.get_by_text("Correspondances enregistrées").is_visible()
    errors = page.get_by_role("tabpanel").filter(has_text="31/02/1970")
    assert "valeur attendue : une date qui existe" in errors.inner_text()
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "import-apercu-erreurs.png", full_page=True)

    page.get_by_role("link", name="Déposer d’autres fichiers").click()
    page.get_by_label("Fichiers d’extraction").set_input_files([paths["referents"], paths["fixed"]])
    page.get_by_role("button", name="Analyser les fichiers").click()
    page.wait_for_url("**/imports/*/")
    page.get_by_role("tab", name="Lignes (3)").click()
    assert page.locator(".badge", has_text="à créer").count() == 5  # 2 referents and 3 parcours
    page.get_by_role("button", name="Confirmer l’import").click()
    page.wait_for_url("**/imports/*/")
    assert page.get_by_text("Import lancé").is_visible()
    page.locator("#import-label").get_by_text("Terminé").wait_for()
    body = page.locator("body").inner_text()
    assert "3 créés" in body.replace("\n", " ") or "3 créé" in body
    page.screenshot(path=SCREENSHOTS / "import-rapport.png", full_page=True)

    page.get_by_role("link", name="Imports", exact=True).click()
    assert page.get_by_text("participants-corrige.csv").is_visible()


@pytest.fixture
def orm():
    """Runs an ORM call in a thread of its own and closes its connection: inside Playwright's event loop the ORM
    would open a connection that outlives the test (and keeps PostgreSQL from dropping the test database)."""
    import threading

    from django.db import connection

    def call(function):
        result = []

        def target():
            try:
                result.append(function())
            finally:
                connection.close()

        thread = threading.Thread(target=target)
        thread.start()
        thread.join()
        return result[0]

    return call


def test_a_long_report_survives_a_reload_and_an_expired_session(live_server, followed, page, orm):
    """The draft is kept in the tab as it is typed; after the session expired, the report sent comes back in the
    form once the referent has signed in again (static/js/drafts.js, plie/middleware.py)."""
    import datetime

    from django.contrib.sessions.models import Session
    from django.utils import timezone

    report = "Point long : projet de formation, candidatures envoyées, prochain rendez-vous au centre."
    url = f"{live_server.url}/participants/{followed.participant.pk}/entretiens/nouveau/"
    page.goto(url)
    page.get_by_label("Adresse e-mail").fill("referent.a@pessac.fr")
    page.get_by_label("Mot de passe").fill("mot-de-passe-de-test")
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(url)
    page.locator("#id_summary").fill(report)
    page.wait_for_timeout(800)
    page.reload()
    assert page.locator("#id_summary").input_value() == report
    assert page.get_by_text("Brouillon restauré").is_visible()

    page.locator("#id_date").fill("2023-03-15")
    orm(lambda: Session.objects.update(expire_date=timezone.now() - datetime.timedelta(minutes=1)))
    page.get_by_role("button", name="Enregistrer").click()
    page.wait_for_url("**/connexion/**")
    page.get_by_label("Adresse e-mail").fill("referent.a@pessac.fr")
    page.get_by_label("Mot de passe").fill("mot-de-passe-de-test")
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(url)
    assert page.get_by_text("Votre session avait expiré").is_visible()
    assert page.locator("#id_summary").input_value() == report
    assert page.locator("#id_date").input_value() == "2023-03-15"
    page.get_by_role("button", name="Enregistrer").click()
    assert page.get_by_text("L’entretien du 15/03/2023 est enregistré.").is_visible()
    assert orm(lambda: followed.participant.entretiens.get().summary) == report
    page.goto(url)
    assert page.locator("#id_summary").input_value() == "", "the draft went once the save was confirmed"
