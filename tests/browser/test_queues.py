"""The animation team works through its queues in a real browser: steps validated together, an exit checked against
its proof and confirmed by name. Every page goes through axe-core and the width checks (tests.browser.check_page)."""

import pytest
from playwright.sync_api import expect

from participants.models import DocumentKind
from tests.browser import check_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture
def queues(plie, operation, animation, admin_user, referent_a, tmp_path, monkeypatch):
    from tests.factories.participants import (
        ParticipantFactory,
        add_document,
        isolate_private_storage,
        make_parcours,
        profile,
    )
    from tests.factories.steps import make_grid, submitted_step

    isolate_private_storage(monkeypatch, tmp_path)
    make_grid(plie, by=admin_user)
    for last_name, first_name in (("Lefèvre", "Hélène"), ("Boé", "Noël")):
        parcours = make_parcours(
            ParticipantFactory(plie=plie, last_name=last_name, first_name=first_name, sex="F"),
            "active",
            by=animation,
            operation=operation,
            referent=profile(referent_a),
        )
        submitted_step(parcours, by=referent_a)
    leaving = make_parcours(
        ParticipantFactory(plie=plie, last_name="Abadie", first_name="Inès", sex="F"),
        "exit_pending",
        by=animation,
        operation=operation,
        referent=profile(referent_a),
    )
    add_document(leaving, DocumentKind.CERTIFICATE, by=referent_a, name="attestation-employeur.pdf")
    return leaving


def test_the_team_validates_steps_together_and_an_exit_after_seeing_its_proof(live_server, queues, page):
    page.goto(f"{live_server.url}/")
    check_page(page)
    page.get_by_label("Adresse e-mail").fill("animation@pessac.fr")
    page.get_by_label("Mot de passe").fill("mot-de-passe-de-test")
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(f"{live_server.url}/")
    check_page(page)

    page.get_by_role("button", name="Animation").click()
    page.locator("#menu").get_by_role("link", name="Étapes à valider").click()
    page.wait_for_url("**/etapes/a-valider/")
    assert page.locator("[aria-current=page]", has_text="Étapes à valider").count() == 1
    check_page(page, "etapes-a-valider")
    page.get_by_label("Sélectionner PMSMP de LEFÈVRE Hélène").check()
    page.get_by_label("Sélectionner PMSMP de BOÉ Noël").check()
    page.get_by_role("button", name="Valider les étapes cochées").click()
    page.wait_for_url("**/etapes/a-valider/")
    expect(page.locator(".alert")).to_contain_text(
        "2 étapes validées : BOÉ Noël (PMSMP), LEFÈVRE Hélène (PMSMP).", use_inner_text=True
    )
    check_page(page)

    page.get_by_role("button", name="Animation").click()
    page.get_by_role("link", name="Sorties à valider").click()
    page.wait_for_url("**/sorties-a-valider/")
    expect(page.get_by_role("link", name="attestation-employeur.pdf")).to_be_visible()
    check_page(page, "sorties-a-valider")
    page.get_by_role("link", name="Vérifier et valider").click()
    page.wait_for_url(f"**/parcours/{queues.pk}/valider-sortie/")
    expect(page.locator("main")).to_contain_text("née le", use_inner_text=True)
    expect(page.get_by_role("link", name="attestation-employeur.pdf")).to_be_visible()
    check_page(page, "sortie-confirmation")
    page.get_by_role("button", name="Valider la sortie d’Inès Abadie").click()
    page.wait_for_url("**/sorties-a-valider/")
    expect(page.locator(".alert")).to_contain_text("La sortie d’Inès Abadie est validée.", use_inner_text=True)
    check_page(page)
