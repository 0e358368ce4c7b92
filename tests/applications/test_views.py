"""Applications through the web: who reaches which page, the copil's decision, the money page and its CSV export."""

import csv
import datetime
import io
import re
from decimal import Decimal

import pytest
from django.core.files.storage import FileSystemStorage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from applications.models import Application, Outcome, ProposedReferent, RegulationMeeting
from applications.services import decide_application
from operations.models import ReferentPeriod
from territories.models import Zone
from tests.factories import StructureFactory, UserFactory, ZoneFactory

pytestmark = pytest.mark.django_db

NBSP = "\u00a0"
FUNDING_QUERIES = 14  # session, user, memberships, fiche, applications + zones, totals, checks, meetings…
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def eur(text):
    """`85 000,00 €` as the application writes amounts: non-breaking spaces between thousands and before €."""
    return re.sub(r"(?<=\d) (?=\d{3}[,\s])", NBSP, text).replace(" €", f"{NBSP}€")


def page_of(response):
    return response.content.decode().replace("&#x27;", "'")


def candidature(operation, kind="association", *, fse="85000.00", etp="1", name=None, salaries="80000.00", **fields):
    """A submitted application of 100 000,00 € eligible (80 000 € + 15 % + 8 000 €), budget balanced."""
    structure = StructureFactory(plie=operation.plie, kind=kind, **({"name": name} if name else {}))
    application = Application(
        operation=operation,
        structure=structure,
        contact_name="Camille Durand",
        etp_proposed=Decimal(etp),
        start=operation.start,
        end=operation.end,
        salaries=Decimal(salaries),
        other_costs=Decimal("8000.00"),
        fse_requested=Decimal(fse),
        **fields,
    )
    application.counterpart = application.eligible_cost - application.fse_requested - application.other_cofinancing
    application.save()
    return application


def accept(application, **kwargs):
    return decide_application(
        application=application,
        outcome=Outcome.ACCEPTED,
        decided_on=datetime.date(2023, 2, 15),
        by=UserFactory(),
        **kwargs,
    )


def application_data(structure, **changes):
    data = {
        "structure": structure.pk,
        "contact_name": "Camille Durand",
        "contact_email": "camille.durand@exemple.fr",
        "etp_proposed": "1,5",
        "zones_requested": [],
        "start": "2023-01-01",
        "end": "2023-12-31",
        "salaries": "60000,00",
        "indirect_rate": "15",
        "other_costs": "6000,00",
        "fse_requested": "63750,00",
        "other_cofinancing": "0",
        "counterpart": "11250,00",
        "criteria_answers": "Deux référents expérimentés, une permanence par semaine dans chaque quartier.",
        "referents-TOTAL_FORMS": "0",
        "referents-INITIAL_FORMS": "0",
    }
    data.update(changes)
    return data


def referents_data(*referents):
    data = {"referents-TOTAL_FORMS": str(len(referents)), "referents-INITIAL_FORMS": "0"}
    for index, (first_name, last_name, etp, zone) in enumerate(referents):
        data.update(
            {
                f"referents-{index}-first_name": first_name,
                f"referents-{index}-last_name": last_name,
                f"referents-{index}-etp": etp,
                f"referents-{index}-zone": zone.pk if zone else "",
            }
        )
    return data


def decision_data(outcome="accepted", **changes):
    data = {"outcome": outcome, "decided_on": "2023-02-15", "etp_granted": "", "fse_granted": "", "notes": ""}
    data.update(changes)
    return data


@pytest.fixture
def application(operation):
    application = candidature(operation, name="Association Trait d’Union")
    ProposedReferent.objects.create(application=application, first_name="Inès", last_name="Garcia", etp="1")
    return application


@pytest.fixture
def private_sheets(monkeypatch, tmp_path):
    """Meeting sheets written during a test land in tmp_path, never in var/private."""
    storage = FileSystemStorage(location=tmp_path, base_url=None)
    monkeypatch.setattr(RegulationMeeting._meta.get_field("sheet"), "storage", storage)
    return storage


PERSONAS = ["admin_user", "animation", "referent_a", "copil", "outsider"]
READ = ["funding", "funding_export", "application_detail"]
WRITE = ["application_create", "regulation_create", "application_edit"]
EXPECTED = {
    "admin_user": dict.fromkeys(READ + WRITE, 200),
    "animation": dict.fromkeys(READ + WRITE, 200),
    "referent_a": {**dict.fromkeys(READ, 200), **dict.fromkeys(WRITE, 403)},
    "copil": {**dict.fromkeys(READ, 200), **dict.fromkeys(WRITE, 403)},
    "outsider": dict.fromkeys(READ + WRITE, 404),
}


def url(name, application):
    pk = application.pk if name in ("application_detail", "application_edit") else application.operation_id
    return reverse(name, args=[pk])


class TestAccess:
    @pytest.mark.parametrize("name", READ + WRITE)
    @pytest.mark.parametrize("persona", PERSONAS)
    def test_every_page_answers_each_persona_as_expected(self, request, client_of, application, persona, name):
        response = client_of(request.getfixturevalue(persona)).get(url(name, application))
        assert response.status_code == EXPECTED[persona][name]

    @pytest.mark.parametrize("name", READ + WRITE)
    def test_anonymous_visitors_are_sent_to_the_login_page(self, client, application, name):
        response = client.get(url(name, application))
        assert response.status_code == 302
        assert response.url.startswith(reverse("login"))

    @pytest.mark.parametrize("persona", ["referent_a", "copil"])
    def test_read_only_roles_cannot_write_anything(self, request, client_of, application, persona):
        client = client_of(request.getfixturevalue(persona))
        structure = application.structure
        posts = {
            "application_create": application_data(structure),
            "application_edit": application_data(structure, contact_name="Changé"),
            "regulation_create": {"structure": structure.pk, "date": "2023-03-15", "attendees": "X"},
            "application_detail": decision_data(),
        }
        for name, data in posts.items():
            assert client.post(url(name, application), data).status_code == 403, name
        application.refresh_from_db()
        assert application.outcome == Outcome.SUBMITTED
        assert application.contact_name == "Camille Durand"
        assert Application.objects.count() == 1
        assert not RegulationMeeting.objects.exists()
        assert not ReferentPeriod.objects.filter(referent__last_name="Garcia").exists()

    def test_an_outsider_gets_404_on_every_post_and_changes_nothing(self, client_of, outsider, application):
        client = client_of(outsider)
        structure = application.structure
        posts = {
            "application_create": application_data(structure),
            "application_edit": application_data(structure, contact_name="Changé"),
            "regulation_create": {"structure": structure.pk, "date": "2023-03-15", "attendees": "X"},
            "application_detail": decision_data(),
        }
        for name, data in posts.items():
            assert client.post(url(name, application), data).status_code == 404, name
        application.refresh_from_db()
        assert application.outcome == Outcome.SUBMITTED
        assert Application.objects.count() == 1

    def test_only_admin_and_animation_see_the_buttons_and_the_decision_form(
        self, client_of, animation, copil, application
    ):
        funding = reverse("funding", args=[application.operation_id])
        for user, shown in ((animation, True), (copil, False)):
            client = client_of(user)
            page = page_of(client.get(funding))
            assert (reverse("application_create", args=[application.operation_id]) in page) is shown
            assert (reverse("regulation_create", args=[application.operation_id]) in page) is shown
            detail = page_of(client.get(application.get_absolute_url()))
            assert ("Enregistrer la décision" in detail) is shown
            assert (reverse("application_edit", args=[application.pk]) in detail) is shown

    def test_the_operation_page_links_to_the_funding_page_for_every_role(self, client_of, copil, operation):
        page = page_of(client_of(copil).get(operation.get_absolute_url()))
        assert reverse("funding", args=[operation.pk]) in page


class TestHappyPath:
    def test_animation_records_two_applications_decides_both_and_the_referents_join_the_fiche(
        self, client_of, animation, operation
    ):
        plie = operation.plie
        centre, cestas = ZoneFactory(plie=plie, name="Pessac centre"), ZoneFactory(plie=plie, name="Cestas")
        operation.zones.set([centre, cestas])
        trait_union = StructureFactory(plie=plie, name="Association Trait d’Union", kind="association")
        ccas = StructureFactory(plie=plie, name="CCAS de Cestas", kind="public")
        client = client_of(animation)

        assert client.get(reverse("application_create", args=[operation.pk])).status_code == 200
        response = client.post(
            reverse("application_create", args=[operation.pk]),
            application_data(
                trait_union,
                zones_requested=[centre.pk],
                **referents_data(("Inès", "Garcia", "1", centre), ("Paul", "Dubois", "0,5", centre)),
            ),
        )
        first = Application.objects.get(structure=trait_union)
        assert response.status_code == 302
        assert response.url == first.get_absolute_url()
        assert first.etp_proposed == Decimal("1.5")
        assert first.eligible_cost == Decimal("75000.00")
        assert first.referents.count() == 2
        response = client.post(
            reverse("application_create", args=[operation.pk]),
            application_data(
                ccas,
                etp_proposed="0,8",
                zones_requested=[cestas.pk],
                salaries="40000,00",
                other_costs="4000,00",
                fse_requested="42500,00",
                counterpart="7500,00",
                **referents_data(("Léa", "Martin", "0,8", cestas)),
            ),
        )
        second = Application.objects.get(structure=ccas)
        assert response.status_code == 302
        assert second.eligible_cost == Decimal("50000.00")

        detail = page_of(client.get(first.get_absolute_url()))
        assert eur("75 000,00 €") in detail
        assert "conforme" in detail and "à revoir" not in detail

        response = client.post(
            first.get_absolute_url(),
            decision_data("accepted", etp_granted="1,5", fse_granted="63750,00", zones=[centre.pk]),
        )
        assert response.status_code == 302
        response = client.post(
            second.get_absolute_url(),
            decision_data(
                "accepted_with_changes",
                etp_granted="0,8",
                fse_granted="40000,00",
                zones=[cestas.pk],
                notes="FSE+ ramené à 40 000 € : les frais de déplacement ne sont pas retenus.",
            ),
            follow=True,
        )
        assert "La décision du comité de pilotage est enregistrée." in page_of(response)
        first.refresh_from_db()
        second.refresh_from_db()
        assert (first.outcome, first.fse_granted, first.decided_by) == (
            Outcome.ACCEPTED,
            Decimal("63750.00"),
            animation,
        )
        assert (second.outcome, second.fse_granted, second.etp_granted) == (
            Outcome.ACCEPTED_WITH_CHANGES,
            Decimal("40000.00"),
            Decimal("0.8"),
        )
        assert second.decision_notes.startswith("FSE+ ramené à 40 000 €")

        page = page_of(client.get(operation.get_absolute_url()))
        for name, structure, etp, zone in (
            ("Paul Dubois", "Association Trait d’Union", "0,5", "Pessac centre"),
            ("Inès Garcia", "Association Trait d’Union", "1", "Pessac centre"),
            ("Léa Martin", "CCAS de Cestas", "0,8", "Cestas"),
        ):
            row = re.search(
                rf"{name}</a></td><td>(.*?)</td><td class=\"text-end\">(.*?)</td><td>(.*?)</td><td>(.*?)</td>", page
            )
            assert row, name
            assert row.groups() == (structure, etp, "du 01/01/2023 au 31/12/2023", zone)
        assert ReferentPeriod.objects.filter(operation=operation).count() == 3

        funding = page_of(client.get(reverse("funding", args=[operation.pk])))
        assert f'<div class="fs-4" id="accorde">{eur("103 750,00 €")}</div>' in funding
        assert f'<div class="fs-4" id="reste">{eur("71 450,00 €")}</div>' in funding
        assert "Retenue avec modifications" in funding

    def test_animation_edits_a_submitted_application_but_not_a_decided_one(self, client_of, animation, application):
        client = client_of(animation)
        edit = reverse("application_edit", args=[application.pk])
        data = application_data(
            application.structure,
            contact_name="Nora Haddad",
            **{
                "referents-TOTAL_FORMS": "1",
                "referents-INITIAL_FORMS": "1",
                "referents-0-id": application.referents.get().pk,
                "referents-0-first_name": "Inès",
                "referents-0-last_name": "Garcia",
                "referents-0-etp": "0,5",
                "referents-0-zone": "",
            },
        )
        assert client.post(edit, data).status_code == 302
        application.refresh_from_db()
        assert application.contact_name == "Nora Haddad"
        assert application.referents.get().etp == Decimal("0.5")

        accept(application)
        response = client.get(edit, follow=True)
        assert response.redirect_chain[-1][0] == application.get_absolute_url()
        assert "Une candidature décidée ne se modifie plus." in page_of(response)
        assert client.post(edit, data).status_code == 302
        application.refresh_from_db()
        assert application.contact_name == "Nora Haddad"

    def test_animation_records_a_regulation_meeting_with_its_sheet(
        self, client_of, animation, application, private_sheets
    ):
        data = {
            "structure": application.structure.pk,
            "date": "2023-03-15",
            "attendees": "Animatrice du PLIE, directrice de l’association",
            "minutes": "File active conforme, deux sorties en emploi.",
            "sheet": SimpleUploadedFile("feuille.pdf", PDF, content_type="application/pdf"),
        }
        client = client_of(animation)
        response = client.post(reverse("regulation_create", args=[application.operation_id]), data)
        assert response.status_code == 302
        assert response.url == reverse("funding", args=[application.operation_id])
        meeting = RegulationMeeting.objects.get()
        assert (meeting.created_by, meeting.date) == (animation, datetime.date(2023, 3, 15))
        assert private_sheets.exists(meeting.sheet.name)
        page = page_of(client.get(response.url))
        assert "15/03/2023" in page and "Animatrice du PLIE, directrice de l’association" in page


class TestDecisionThroughTheWeb:
    def test_a_refusal_needs_a_reason_and_keeps_what_was_typed(self, client_of, animation, application):
        client = client_of(animation)
        response = client.post(application.get_absolute_url(), decision_data("refused", decided_on="2023-03-20"))
        assert response.status_code == 200
        page = page_of(response)
        assert "Indiquez le motif du refus ou les modifications décidées." in page
        assert 'value="2023-03-20"' in page
        application.refresh_from_db()
        assert application.outcome == Outcome.SUBMITTED

        response = client.post(
            application.get_absolute_url(),
            decision_data(
                "refused", decided_on="2023-03-20", notes="Le projet ne couvre pas les quartiers prioritaires."
            ),
        )
        assert response.status_code == 302
        application.refresh_from_db()
        assert (application.outcome, application.decided_on) == (Outcome.REFUSED, datetime.date(2023, 3, 20))
        assert application.fse_granted is None
        assert not ReferentPeriod.objects.filter(referent__last_name="Garcia").exists()
        page = page_of(client.get(application.get_absolute_url()))
        assert "Non retenue" in page and "Le projet ne couvre pas les quartiers prioritaires." in page

    def test_accepted_with_changes_also_needs_the_changes(self, client_of, animation, application):
        response = client_of(animation).post(
            application.get_absolute_url(), decision_data("accepted_with_changes", fse_granted="80000")
        )
        assert "Indiquez le motif du refus ou les modifications décidées." in page_of(response)
        assert 'value="80000"' in page_of(response)
        assert Application.objects.get(pk=application.pk).outcome == Outcome.SUBMITTED

    def test_fse_above_the_cap_is_refused_with_the_figures_keeping_what_was_typed(
        self, client_of, animation, application
    ):
        response = client_of(animation).post(
            application.get_absolute_url(), decision_data(fse_granted="85000,01", notes="Accord du comité.")
        )
        assert response.status_code == 200
        page = page_of(response)
        assert eur("FSE+ accordé 85 000,01 € au-delà du plafond de cofinancement") in page
        assert eur("de 100 000,00 € = 85 000,00 €.") in page
        assert 'value="85000,01"' in page
        assert "Accord du comité." in page
        application.refresh_from_db()
        assert application.outcome == Outcome.SUBMITTED
        assert not ReferentPeriod.objects.filter(referent__last_name="Garcia").exists()

    def test_an_allocation_above_the_fiche_ceiling_is_refused_with_the_figures(self, client_of, animation, operation):
        accept(candidature(operation, fse="100000.00", salaries="100000.00"))
        second = candidature(operation, fse="75200.01")
        response = client_of(animation).post(second.get_absolute_url(), decision_data())
        assert response.status_code == 200
        assert eur(
            "FSE+ accordé 75 200,01 € : il ne reste que 75 200,00 € sous le plafond de la fiche "
            "(175 200,00 €, déjà accordé 100 000,00 €)."
        ) in page_of(response)
        assert Application.objects.get(pk=second.pk).outcome == Outcome.SUBMITTED
        response = client_of(animation).post(
            second.get_absolute_url(),
            decision_data("accepted_with_changes", fse_granted="75200,00", notes="Ramené au reste du plafond."),
        )
        assert response.status_code == 302
        funding = page_of(client_of(animation).get(reverse("funding", args=[operation.pk])))
        assert f'<div class="fs-4" id="reste">{eur("0,00 €")}</div>' in funding

    def test_more_etp_than_proposed_is_refused(self, client_of, animation, application):
        response = client_of(animation).post(application.get_absolute_url(), decision_data(etp_granted="2"))
        assert response.status_code == 200
        assert "supérieurs aux ETP proposés par la structure" in page_of(response)
        assert Application.objects.get(pk=application.pk).etp_granted is None

    def test_a_decision_on_a_closed_fiche_is_refused(self, client_of, animation, application):
        response = client_of(animation).post(application.get_absolute_url(), decision_data(decided_on="2024-01-10"))
        assert response.status_code == 200
        assert "La fiche est close depuis le 31/12/2023 : plus aucune décision ne peut y être prise." in page_of(
            response
        )
        assert 'value="2024-01-10"' in page_of(response)
        assert Application.objects.get(pk=application.pk).outcome == Outcome.SUBMITTED

    def test_a_zone_of_another_plie_is_refused(self, client_of, animation, application):
        ZoneFactory(plie=application.operation.plie, name="Pessac centre")  # crispy shows the error under the options
        agenais_zone = Zone.objects.get(plie__slug="agen", name="Zone 1")
        response = client_of(animation).post(application.get_absolute_url(), decision_data(zones=[agenais_zone.pk]))
        assert response.status_code == 200
        assert f"La zone {agenais_zone.pk} n’appartient pas au PLIE." in page_of(response)
        assert Application.objects.get(pk=application.pk).outcome == Outcome.SUBMITTED

    def test_a_second_decision_from_a_stale_page_is_refused_with_a_message(self, client_of, animation, application):
        accept(application)
        response = client_of(animation).post(
            application.get_absolute_url(), decision_data("refused", notes="Changement d’avis."), follow=True
        )
        assert "Cette candidature a déjà fait l’objet d’une décision." in page_of(response)
        assert Application.objects.get(pk=application.pk).outcome == Outcome.ACCEPTED


class TestBadApplicationInput:
    @pytest.mark.parametrize(
        ("changes", "message"),
        [
            ({"start": "2023-06-01", "end": "2023-05-31"}, "La fin ne peut pas précéder le début."),
            ({"end": "2024-06-30"}, "Les dates doivent se situer dans la période de la fiche (du 01/01/2023 au 31/12/2023)."),
            ({"salaries": "-1"}, "Les montants ne peuvent pas être négatifs."),
            ({"etp_proposed": "0"}, "Le nombre d’ETP proposés doit être positif."),
            ({"fse_requested": "beaucoup"}, "Saisissez un nombre."),
            (referents_data(("Inès", "Garcia", "1,2", None)), "L’ETP doit être supérieur à 0 et au plus égal à 1."),
        ],
    )  # fmt: skip
    def test_incoherent_applications_are_refused_in_french_keeping_what_was_typed(
        self, client_of, animation, operation, changes, message
    ):
        structure = StructureFactory(plie=operation.plie)
        data = application_data(structure, contact_name="Contact retapé par l’utilisatrice", **changes)
        response = client_of(animation).post(reverse("application_create", args=[operation.pk]), data)
        assert response.status_code == 200
        page = page_of(response)
        assert message in page
        assert "Contact retapé par l’utilisatrice" in page
        assert 'value="6000,00"' in page
        assert not Application.objects.exists()

    def test_an_indirect_rate_above_100_is_refused_in_french(self, client_of, animation, operation):
        structure = StructureFactory(plie=operation.plie)
        data = application_data(structure, indirect_rate="120", contact_name="Contact retapé")
        response = client_of(animation).post(reverse("application_create", args=[operation.pk]), data)
        assert response.status_code == 200
        assert "Le taux forfaitaire est compris entre 0 et 100 %." in page_of(response)
        assert 'value="120"' in page_of(response)
        assert not Application.objects.exists()

    def test_a_structure_of_another_plie_is_refused(self, client_of, animation, operation, other_plie):
        stranger = StructureFactory(plie=other_plie, name="CCAS de Marmande")
        response = client_of(animation).post(
            reverse("application_create", args=[operation.pk]), application_data(stranger)
        )
        assert response.status_code == 200
        assert "Sélectionnez un choix valide" in page_of(response)
        assert "CCAS de Marmande" not in page_of(response)
        assert not Application.objects.exists()

    def test_the_referent_rows_offer_only_the_zones_of_the_plie(self, client_of, animation, operation):
        ZoneFactory(plie=operation.plie, name="Pessac centre")
        page = page_of(client_of(animation).get(reverse("application_create", args=[operation.pk])))
        assert ">Pessac centre</option>" in page
        assert ">Bègles</option>" not in page
        assert ">Zone 1</option>" not in page

    def test_a_referent_zone_of_another_plie_is_refused(self, client_of, animation, operation):
        structure = StructureFactory(plie=operation.plie)
        begles = Zone.objects.get(plie__slug="graves", name="Bègles")
        data = application_data(structure, **referents_data(("Inès", "Garcia", "1", begles)))
        response = client_of(animation).post(reverse("application_create", args=[operation.pk]), data)
        assert response.status_code == 200
        assert not ProposedReferent.objects.filter(zone=begles).exists()

    def test_a_regulation_meeting_with_a_structure_of_another_plie_is_refused(
        self, client_of, animation, operation, other_plie
    ):
        stranger = StructureFactory(plie=other_plie)
        data = {"structure": stranger.pk, "date": "2023-03-15", "attendees": "Équipe retapée"}
        response = client_of(animation).post(reverse("regulation_create", args=[operation.pk]), data)
        assert response.status_code == 200
        assert "Sélectionnez un choix valide" in page_of(response)
        assert "Équipe retapée" in page_of(response)
        assert not RegulationMeeting.objects.exists()

    def test_a_sheet_that_is_not_a_pdf_or_an_image_is_refused(self, client_of, animation, application, private_sheets):
        data = {
            "structure": application.structure.pk,
            "date": "2023-03-15",
            "attendees": "Animatrice du PLIE",
            "sheet": SimpleUploadedFile("feuille.pdf", b"<script>alert(1)</script>", content_type="application/pdf"),
        }
        response = client_of(animation).post(reverse("regulation_create", args=[application.operation_id]), data)
        assert response.status_code == 200
        assert "Ce fichier n’est ni un PDF, ni une image JPEG ou PNG" in page_of(response)
        assert not RegulationMeeting.objects.exists()


class TestFundingExport:
    def rows(self, response):
        assert response.content.startswith(b"\xef\xbb\xbf")
        return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))

    def test_the_csv_uses_semicolons_a_bom_and_french_decimals(self, client_of, copil, operation):
        accept(
            candidature(operation, "public", name="CCAS de Pessac", fse="85000.00", etp="1.5"),
            etp_granted=Decimal("1.25"),
            fse_granted=Decimal("80000.55"),
        )
        candidature(operation, name="Association Trait d’Union", fse="42500.00", etp="0.5", salaries="40000.00")
        response = client_of(copil).get(reverse("funding_export", args=[operation.pk]))
        assert response.status_code == 200
        assert response["Content-Type"] == "text/csv; charset=utf-8"
        assert response["Content-Disposition"] == 'attachment; filename="financement-pessac-FO1.csv"'
        rows = self.rows(response)
        assert rows[0] == [
            "Structure",
            "Nature",
            "Décision",
            "ETP proposés",
            "ETP accordés",
            "Coût éligible",
            "FSE+ demandé",
            "FSE+ accordé",
        ]
        assert rows[1] == [
            "Association Trait d’Union",
            "Association",
            "Déposée",
            "0,50",
            "",
            "54000,00",
            "42500,00",
            "",
        ]
        assert rows[2] == [
            "CCAS de Pessac",
            "Organisme public",
            "Retenue",
            "1,50",
            "1,25",
            "100000,00",
            "85000,00",
            "80000,55",
        ]
        assert rows[3] == []
        assert rows[4:] == [
            ["Plafond FSE+ de la fiche", "", "", "", "", "", "", "175200,00"],
            ["Total accordé", "", "", "", "", "", "", "80000,55"],
            ["Reste", "", "", "", "", "", "", "95199,45"],
        ]

    def test_a_formula_in_a_structure_name_is_neutralised(self, client_of, animation, operation):
        candidature(operation, name='=HYPERLINK("http://exemple.fr")')
        rows = self.rows(client_of(animation).get(reverse("funding_export", args=[operation.pk])))
        assert rows[1][0] == '\'=HYPERLINK("http://exemple.fr")'

    def test_the_export_never_lists_another_plie(self, client_of, animation, operation, other_operation):
        candidature(other_operation, name="CCAS de Marmande")
        candidature(operation, name="CCAS de Pessac")
        content = client_of(animation).get(reverse("funding_export", args=[operation.pk])).content.decode("utf-8-sig")
        assert "CCAS de Pessac" in content and "CCAS de Marmande" not in content


class TestFundingPage:
    def test_the_page_shows_ceiling_granted_remaining_and_the_checks_in_french(self, client_of, referent_a, operation):
        accept(candidature(operation, "public", name="CCAS de Pessac", fse="85000.00"))
        page = page_of(client_of(referent_a).get(reverse("funding", args=[operation.pk])))
        assert eur("175 200,00 €") in page
        assert f'<div class="fs-4" id="accorde">{eur("85 000,00 €")}</div>' in page
        assert f'<div class="fs-4" id="reste">{eur("90 200,00 €")}</div>' in page
        assert eur("Accordé 85 000,00 € sur 175 200,00 € ; reste 90 200,00 €.") in page
        assert "CCAS de Pessac" in page and "Organisme public" in page

    def test_the_application_page_shows_its_checks(self, client_of, copil, operation):
        application = candidature(operation, fse="85000.01")
        page = page_of(client_of(copil).get(application.get_absolute_url()))
        assert "à revoir" in page
        assert eur("FSE+ demandé 85 000,01 € ; plafond 85 % du coût éligible (100 000,00 €) = 85 000,00 €.") in page

    def test_query_count_does_not_grow_with_the_applications(
        self, client_of, animation, operation, django_assert_max_num_queries
    ):
        zone = ZoneFactory(plie=operation.plie)
        operation.zones.add(zone)

        def add_applications(count):
            for _ in range(count):
                application = candidature(operation, fse="1000.00")
                application.zones_requested.add(zone)
                accept(application)
            RegulationMeeting.objects.create(
                operation=operation, structure=application.structure, date=datetime.date(2023, 3, 1), attendees="X"
            )

        client = client_of(animation)
        add_applications(2)
        with django_assert_max_num_queries(FUNDING_QUERIES) as few:
            assert client.get(reverse("funding", args=[operation.pk])).status_code == 200
        add_applications(10)
        with django_assert_max_num_queries(FUNDING_QUERIES) as many:
            assert client.get(reverse("funding", args=[operation.pk])).status_code == 200
        assert len(many.captured_queries) == len(few.captured_queries)
