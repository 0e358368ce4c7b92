"""A referent's colleague from the animation team logs in with a real browser and reads a fiche."""

import pytest
from playwright.sync_api import expect

from plie.models import Plie, Role
from tests.browser import check_page
from tests.factories import MembershipFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture
def user():
    return MembershipFactory(
        plie=Plie.objects.get(slug="sources"), role=Role.ANIMATION, user__email="animation@plie-sources.fr"
    ).user


def test_the_animation_team_logs_in_and_reads_its_fiche(live_server, user, page):
    page.goto(f"{live_server.url}/")
    check_page(page, "connexion")
    page.get_by_label("Adresse e-mail").fill(user.email)
    page.get_by_label("Mot de passe").fill("mot-de-passe-de-test")
    page.get_by_role("button", name="Se connecter").click()
    page.get_by_role("heading", name="Les files de l’équipe").wait_for()  # the team's home
    check_page(page, "accueil-animation")

    page.locator("#contenu").get_by_role("link", name="Configuration du PLIE").click()
    check_page(page)
    page.get_by_role("link", name="FO1 — Accompagnement renforcé").click()
    page.wait_for_url("**/operations/*/")
    assert page.locator("#plafond-fse").inner_text() == "175\u00a0200,00\u00a0€"
    expect(page.locator("body")).to_contain_text("85\u00a0%", use_inner_text=True)
    expect(page.get_by_text("Sorties neutralisées")).to_contain_text("Déménagement", use_inner_text=True)
    check_page(page, "fiche-sources")


@pytest.fixture
def followed(referent_a, operation, animation, tmp_path, monkeypatch):
    # The sheet uploaded by the browser lands in tmp_path.
    from tests.factories.participants import ParticipantFactory, isolate_private_storage, make_parcours, profile

    isolate_private_storage(monkeypatch, tmp_path)
    participant = ParticipantFactory(plie=operation.plie, last_name="Lefèvre", first_name="Amina")
    return make_parcours(participant, "active", by=animation, operation=operation, referent=profile(referent_a))


def test_a_referent_finds_a_participant_and_records_an_entretien_with_its_signed_sheet(live_server, followed, page):
    page.goto(f"{live_server.url}/")
    check_page(page)
    page.get_by_label("Adresse e-mail").fill("referent.a@pessac.fr")
    page.get_by_label("Mot de passe").fill("mot-de-passe-de-test")
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(f"{live_server.url}/")
    check_page(page)

    page.get_by_role("link", name="Mon portefeuille").click()
    expect(page.locator("table")).to_contain_text("Pas d’entretien depuis le 01/02/2023", use_inner_text=True)
    check_page(page, "portefeuille-referent")

    page.get_by_role("link", name="Participants").click()
    check_page(page)
    page.get_by_role("searchbox").fill("LEFEVRE amina")
    page.get_by_role("button", name="Rechercher").click()
    page.get_by_role("link", name="LEFÈVRE Amina").click()
    check_page(page, "dossier-participant")
    page.get_by_role("link", name="Nouvel entretien").click()
    check_page(page)
    page.locator("#id_date").fill("2023-03-15")
    page.locator("#id_summary").fill("Point sur les candidatures envoyées.")
    page.locator("#id_signed").check()
    page.locator("#id_sheet").set_input_files(
        files=[{"name": "emargement.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4\n%%EOF\n"}]
    )
    page.get_by_role("button", name="Enregistrer").click()

    expect(page.locator(".alert")).to_contain_text("L’entretien du 15/03/2023 est enregistré.", use_inner_text=True)
    expect(page.locator("#titre-entretiens + div table")).to_contain_text("feuille", use_inner_text=True)
    check_page(page, "entretien-referent")


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
    check_page(page)
    page.get_by_label("Adresse e-mail").fill(admin.email)
    page.get_by_label("Mot de passe").fill("mot-de-passe-de-test")
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(f"{live_server.url}/")
    check_page(page, "accueil-admin")
    page.get_by_role("button", name="Référentiels").click()
    page.get_by_role("link", name="Imports d’extractions").click()
    check_page(page)
    page.get_by_role("link", name="Nouvel import").click()
    check_page(page)

    page.get_by_label("Fichiers d’extraction").set_input_files([paths["referents"], paths["wrong"]])
    page.get_by_role("button", name="Analyser les fichiers").click()
    page.wait_for_url("**/imports/*/")
    body = page.locator("body").inner_text()
    assert "CSV, encodage Windows-1252, séparateur point-virgule" in body
    assert "Colonnes obligatoires absentes : Référent." in body
    check_page(page, "import-correspondances")

    page.get_by_label("Conseiller référent").select_option("Référent")
    page.get_by_role("button", name="Enregistrer les correspondances et relancer l’aperçu").click()
    expect(page.get_by_text("Correspondances enregistrées")).to_be_visible()
    errors = page.get_by_role("tabpanel").filter(has_text="31/02/1970")
    assert "valeur attendue : une date qui existe" in errors.inner_text()
    check_page(page, "import-apercu-erreurs")

    page.get_by_role("link", name="Déposer d’autres fichiers").click()
    check_page(page)
    page.get_by_label("Fichiers d’extraction").set_input_files([paths["referents"], paths["fixed"]])
    page.get_by_role("button", name="Analyser les fichiers").click()
    page.wait_for_url("**/imports/*/")
    page.get_by_role("tab", name="Lignes (3)").click()
    check_page(page)
    assert page.locator(".badge", has_text="à créer").count() == 5  # 2 referents and 3 parcours
    page.get_by_role("button", name="Confirmer l’import").click()
    page.wait_for_url("**/imports/*/")
    expect(page.get_by_text("Import lancé")).to_be_visible()
    page.locator("#import-label").get_by_text("Terminé").wait_for()
    body = page.locator("body").inner_text()
    assert "3 créés" in body.replace("\n", " ") or "3 créé" in body
    check_page(page, "import-rapport")

    page.get_by_role("link", name="Imports", exact=True).click()
    expect(page.get_by_text("participants-corrige.csv")).to_be_visible()
    check_page(page)


def test_a_long_report_survives_a_reload_and_an_expired_session(live_server, followed, page):
    """The draft is kept in the tab as it is typed; after the session expired, the report sent comes back in the
    form once the referent has signed in again (static/js/drafts.js, plie/middleware.py)."""
    import datetime

    from django.contrib.sessions.models import Session
    from django.utils import timezone

    report = "Point long : projet de formation, candidatures envoyées, prochain rendez-vous au centre."
    url = f"{live_server.url}/participants/{followed.participant.pk}/entretiens/nouveau/"
    page.goto(url)
    check_page(page)
    page.get_by_label("Adresse e-mail").fill("referent.a@pessac.fr")
    page.get_by_label("Mot de passe").fill("mot-de-passe-de-test")
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(url)
    check_page(page)
    page.locator("#id_summary").fill(report)
    page.wait_for_timeout(800)
    page.reload()
    assert page.locator("#id_summary").input_value() == report
    expect(page.get_by_text("Brouillon restauré")).to_be_visible()

    page.locator("#id_date").fill("2023-03-15")
    Session.objects.update(expire_date=timezone.now() - datetime.timedelta(minutes=1))
    page.get_by_role("button", name="Enregistrer").click()
    page.wait_for_url("**/connexion/**")
    check_page(page)
    page.get_by_label("Adresse e-mail").fill("referent.a@pessac.fr")
    page.get_by_label("Mot de passe").fill("mot-de-passe-de-test")
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(url)
    expect(page.get_by_text("Votre session avait expiré")).to_be_visible()
    assert page.locator("#id_summary").input_value() == report
    assert page.locator("#id_date").input_value() == "2023-03-15"
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_text("L’entretien du 15/03/2023 est enregistré.")).to_be_visible()
    check_page(page)
    assert followed.participant.entretiens.get().summary == report
    page.goto(url)
    assert page.locator("#id_summary").input_value() == "", "the draft went once the save was confirmed"


@pytest.fixture
def superuser():
    from tests.factories import UserFactory

    return UserFactory(email="technique@plie.fr", is_staff=True, is_superuser=True)


def test_a_twelfth_plie_is_set_up_with_rules_of_its_own_from_the_interface(live_server, superuser, page):
    """No developer: the technical administrator creates the PLIE, defines an exit by its fiche's words, writes the
    fiche with a target in the fiche's wording, joins the PLIE, and reads the fiche in the application."""
    page.goto(f"{live_server.url}/")
    check_page(page)
    page.get_by_label("Adresse e-mail").fill(superuser.email)
    page.get_by_label("Mot de passe").fill("mot-de-passe-de-test")
    page.get_by_role("button", name="Se connecter").click()
    check_page(page)

    page.goto(f"{live_server.url}/admin/plie/plie/add/")
    check_page(page)
    page.locator("#id_name").fill("PLIE du Val de Garonne")
    page.locator("#id_slug").fill("val-de-garonne")
    page.locator("input[name=_save]").click()
    page.wait_for_url(f"{live_server.url}/admin/plie/plie/")
    check_page(page)

    page.goto(f"{live_server.url}/admin/operations/exitreason/add/")
    check_page(page)
    page.locator("#id_plie").select_option(label="PLIE du Val de Garonne")
    page.locator("#id_label").fill("CDD de plus de 8 mois")
    page.locator("#id_category").select_option("positive")
    page.locator("#id_contract_type").select_option("cdd")
    page.locator("#id_min_months").fill("8")
    page.locator("#id_duration_rule").select_option("more_than")
    page.locator("#id_working_time").select_option("full_or_chosen")
    page.locator("input[name=_save]").click()
    page.wait_for_url(f"{live_server.url}/admin/operations/exitreason/")
    check_page(page)

    page.goto(f"{live_server.url}/admin/operations/operation/add/")
    check_page(page)
    page.locator("#id_plie").select_option(label="PLIE du Val de Garonne")
    page.locator("#id_code").fill("FO1")
    page.locator("#id_title").fill("Accompagnement renforcé 2023")
    page.locator("#id_start").fill("01/01/2023")
    page.locator("#id_end").fill("31/12/2023")
    page.locator("#id_absence_alert_weeks").fill("4")
    page.locator("#targets-group .add-row a").click()
    page.locator("#id_targets-0-kind").select_option("entretiens_mensuels")
    page.locator("#id_targets-0-qualifier").select_option("minimum")
    page.locator("#id_targets-0-value_min").fill("1")
    page.locator("#id_targets-0-label").fill("Un entretien physique par mois, à distance en formation")
    page.locator("#id_targets-0-modalities").fill("physique")
    page.locator("#id_targets-0-remote_during_steps").check()
    page.locator("input[name=_save]").click()
    page.wait_for_url(f"{live_server.url}/admin/operations/operation/")
    check_page(page)
    expect(page.locator(".messagelist")).to_contain_text("a été ajouté", use_inner_text=True)

    page.goto(f"{live_server.url}/admin/plie/user/{superuser.pk}/change/")
    check_page(page)
    page.locator("#memberships-0 .select2-selection").click()
    page.locator(".select2-search__field").fill("Val de")
    page.locator(".select2-results__option", has_text="PLIE du Val de Garonne").click()
    page.locator("#id_memberships-0-role").select_option("admin")
    page.locator("input[name=_save]").click()
    page.wait_for_url(f"{live_server.url}/admin/plie/user/")
    check_page(page)

    page.goto(f"{live_server.url}/configuration/")
    check_page(page)
    page.get_by_role("link", name="FO1 — Accompagnement renforcé 2023").click()
    page.wait_for_url("**/operations/*/")
    check_page(page)
    expect(page.locator("body")).to_contain_text(
        "Un entretien physique par mois, à distance en formation", use_inner_text=True
    )
    check_page(page, "douzieme-plie")

    from operations.models import ExitReason, Target

    reason = ExitReason.objects.get(plie__name="PLIE du Val de Garonne", label="CDD de plus de 8 mois")
    assert (reason.min_months, reason.duration_rule, reason.working_time) == (8, "more_than", "full_or_chosen")
    target = Target.objects.select_related("operation").get(operation__plie__name="PLIE du Val de Garonne")
    assert (target.modality_list, target.remote_during_steps, target.operation.absence_alert_weeks) == (
        ["physique"],
        True,
        4,
    )


@pytest.fixture
def candidate(tmp_path, monkeypatch):
    """A person on RSA known to the PLIE des Sources, whose fiche asks an identity document and an RSA certificate
    dated within three months of entry."""
    from operations.models import Operation
    from tests.factories import ReferentFactory, ReferentPeriodFactory
    from tests.factories.participants import ParticipantFactory, isolate_private_storage

    isolate_private_storage(monkeypatch, tmp_path)
    operation = Operation.objects.get(plie__slug="sources", code="FO1")
    team = MembershipFactory(plie=operation.plie, role=Role.ANIMATION, user__email="equipe@plie-sources.fr").user
    ReferentPeriodFactory(
        referent=ReferentFactory(plie=operation.plie, first_name="Sonia", last_name="Garcia"), operation=operation
    )
    ParticipantFactory(plie=operation.plie, last_name="Mercier", first_name="Yanis", rsa=True)
    return team


def test_the_team_takes_a_person_from_prescription_to_integration_through_the_eligibility_gate(
    live_server, candidate, page
):
    page.goto(f"{live_server.url}/")
    check_page(page)
    page.get_by_label("Adresse e-mail").fill(candidate.email)
    page.get_by_label("Mot de passe").fill("mot-de-passe-de-test")
    page.get_by_role("button", name="Se connecter").click()
    check_page(page)
    page.get_by_role("link", name="Participants").click()
    check_page(page)
    page.get_by_role("searchbox").fill("mercier")
    page.get_by_role("button", name="Rechercher").click()
    page.get_by_role("link", name="MERCIER Yanis").click()
    check_page(page)
    profile_url = page.url

    page.get_by_role("link", name="Nouvelle prescription").click()
    check_page(page)
    page.locator("#id_prescriber").select_option("france_travail")
    page.locator("#id_prescription_date").fill("2023-01-05")
    page.get_by_role("button", name="Enregistrer").click()
    check_page(page)
    page.get_by_role("link", name="Enregistrer l’accueil").click()
    check_page(page)
    page.locator("#id_date").fill("2023-01-10")
    page.get_by_role("button", name="Enregistrer").click()
    check_page(page)
    page.get_by_role("link", name="Décision de commission").click()
    check_page(page)
    page.locator("#id_date").fill("2023-01-20")
    page.locator("input[name=outcome][value=accepted]").check()
    page.get_by_role("button", name="Enregistrer").click()
    check_page(page)

    def integrate():
        page.get_by_role("link", name="Intégrer (contrat d’engagement)").click()
        check_page(page)
        page.locator("#id_entry_date").fill("2023-02-01")
        page.locator("#id_operation").select_option(
            label="FO1 2023 — Accompagnement renforcé pour l’accès à l’emploi et à la formation PLIE des Sources"
        )
        page.locator("#id_referent").select_option(index=1)
        page.get_by_role("button", name="Enregistrer").click()
        check_page(page)

    integrate()
    refusal = page.locator(".alert-danger").inner_text()
    assert "Intégration impossible" in refusal
    assert "Pièce d’identité ou titre de séjour en cours de validité : pièce manquante" in refusal
    assert "Attestation de droits au RSA (CAF ou MSA) datée de moins de 3 mois à l’entrée : pièce manquante" in refusal
    check_page(page, "integration-refusee")

    for proof_type, day in [("Pièce d’identité ou titre de séjour en cours de validité", "2021-06-01"),
                            ("Attestation de droits au RSA (CAF ou MSA)", "2023-01-12")]:  # fmt: skip
        page.goto(profile_url)
        check_page(page)
        page.get_by_role("link", name="Déposer un justificatif").click()
        check_page(page)
        page.locator("#id_proof_type").select_option(label=proof_type)
        page.locator("#id_attests_on").fill(day)
        page.locator("#id_file").set_input_files(
            files=[{"name": "piece.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4\n%%EOF\n"}]
        )
        page.get_by_role("button", name="Enregistrer").click()
        check_page(page)
        expect(page.locator(".alert")).to_contain_text("Le justificatif est déposé.", use_inner_text=True)

    integrate()
    expect(page.locator(".alert")).to_contain_text("Yanis Mercier est intégr", use_inner_text=True)
    expect(page.locator("body")).to_contain_text("En parcours", use_inner_text=True)
    check_page(page, "integration-acceptee")
