"""Each role's day in a real browser, from the home page it lands on: the referent's appointments and a no-show in
one click, the team's queues and a commission session decided for several files at once, the admin's imports and
accounts, the copil's dashboard. Screenshots at 1280 and 390 px in test-results/."""

import datetime
import os

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.browser import check_page

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def log_in(page, live_server, email):
    page.goto(f"{live_server.url}/")
    check_page(page)
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Mot de passe").fill("mot-de-passe-de-test")
    page.get_by_role("button", name="Se connecter").click()


@pytest.fixture
def day(afternoon, plie, operation, referent_a, animation, admin_user, copil):
    """A followed person with a rendez-vous an hour ago and one this afternoon, two people waiting for the
    commission."""
    from agenda.models import Appointment
    from tests.factories.participants import ParticipantFactory, make_parcours, profile

    person = ParticipantFactory(plie=plie, last_name="Lefèvre", first_name="Hélène", email="helene@exemple.fr")
    parcours = make_parcours(person, "active", by=animation, operation=operation, referent=profile(referent_a))
    now = timezone.now()
    for starts_at, place in ((now - datetime.timedelta(hours=1), "Bureau 2"), (now + datetime.timedelta(hours=3), "")):
        Appointment.objects.create(
            participant=person, parcours=parcours, referent=profile(referent_a), starts_at=starts_at, place=place
        )
    for name in ("Arnaud", "Bernard"):
        make_parcours(ParticipantFactory(plie=plie, last_name=name), "received", by=animation)
    return {"referent": referent_a, "animation": animation, "admin": admin_user, "copil": copil}


def test_the_referents_day_and_a_no_show_in_one_click(live_server, day, page):
    log_in(page, live_server, day["referent"].email)
    page.get_by_role("heading", name="Ma journée").wait_for()
    assert page.locator("#nb-rdv").inner_text() == "2"
    assert "Pas d’entretien depuis" in page.get_by_role("table").inner_text()  # an alert due now
    check_page(page, "accueil-referent")

    page.get_by_role("button", name="Absent : LEFÈVRE Hélène").click()
    expect(page.locator(".alert").first).to_contain_text("Absence enregistrée", use_inner_text=True)
    assert page.locator(".badge", has_text="Absence").count() == 1
    check_page(page)

    page.get_by_role("link", name="Mon agenda", exact=True).click()
    page.get_by_role("heading", name="Agenda de Rachida Benali").wait_for()
    assert page.locator("#nb-rdv").inner_text() == "2"
    check_page(page, "agenda-semaine-referent")


def test_the_team_prepares_and_holds_a_commission_session(live_server, day, page):
    log_in(page, live_server, day["animation"].email)
    page.get_by_role("heading", name="Les files de l’équipe").wait_for()
    assert page.locator("#nb-commission").inner_text() == "2"
    check_page(page, "accueil-equipe")

    page.get_by_role("link", name="Dossiers en attente de commission").click()
    check_page(page)
    page.get_by_role("link", name="Préparer une séance").click()
    check_page(page)
    page.get_by_label("Date de la séance").fill(f"{timezone.localdate():%Y-%m-%d}")
    page.get_by_label("Membres").fill("Mme Durand, France Travail\nM. Petit, Département")
    page.get_by_role("button", name="Enregistrer").click()
    page.get_by_role("heading", name="Commission d’intégration du").wait_for()
    assert page.locator("#nb-dossiers").inner_text() == "2"
    check_page(page)

    page.get_by_label("Décision pour ARNAUD Camille").select_option("accepted")
    page.get_by_label("Décision pour BERNARD Camille").select_option("postponed")
    page.get_by_label("Motif pour BERNARD Camille").fill("Projet à préciser")
    page.get_by_role("button", name="Enregistrer les décisions").click()
    expect(page.locator(".alert").first).to_contain_text("2 décision(s) enregistrée(s)", use_inner_text=True)
    check_page(page, "seance-commission")
    with page.expect_download() as download:
        page.get_by_role("link", name="Procès-verbal (PDF)").click()
    assert download.value.suggested_filename.startswith("commission-")


@pytest.fixture
def two_plies(day, plie, other_plie):
    """As in the demo: the admin, also the technical admin, belongs to two PLIE, the current one with a long name;
    the menu must still fit at 1280 px."""
    from plie.models import Role
    from tests.factories import MembershipFactory

    plie.name = "PLIE des Hauts de Garonne (Agglomération de Pessac)"
    plie.save()
    MembershipFactory(user=day["admin"], plie=other_plie, role=Role.ADMIN)
    day["admin"].is_staff = True
    day["admin"].save()
    return day


def test_the_admin_sees_imports_and_accounts_and_the_copil_its_dashboard(live_server, two_plies, page):
    day = two_plies
    log_in(page, live_server, day["admin"].email)
    page.get_by_role("heading", name="Comptes du PLIE").wait_for()
    expect(page.locator("table").last).to_contain_text("copil@pessac.fr", use_inner_text=True)
    check_page(page, "accueil-admin")
    page.get_by_role("button", name=day["admin"].get_full_name() or day["admin"].email).click()
    page.get_by_role("button", name="PLIE du Marmandais — Administrateur du PLIE").click()
    page.get_by_role("heading", name="Administration du PLIE").wait_for()
    expect(page.locator(".navbar-brand")).to_contain_text("Marmandais", use_inner_text=True)
    check_page(page)
    page.context.clear_cookies()

    log_in(page, live_server, day["copil"].email)
    page.wait_for_url("**/tableau-de-bord/**")
    check_page(page, "accueil-copil")
