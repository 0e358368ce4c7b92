"""The participants pages: who may open what, the whole parcours through the web, search, portfolios, team pages."""

import datetime
import html

import pytest
from django.urls import reverse
from django.utils import timezone

from operations.models import Operation
from participants.models import (
    CommissionDecision,
    Document,
    DocumentKind,
    Entretien,
    FileAccess,
    Participant,
    Participation,
    Status,
)
from tests.conftest import PESSAC
from tests.factories import MembershipFactory, ReferentFactory, ZoneFactory
from tests.factories.participants import (
    ParticipantFactory,
    add_document,
    add_entretien,
    isolate_private_storage,
    jpeg,
    make_parcours,
    pdf,
    png,
    profile,
    reason,
)

pytestmark = pytest.mark.django_db

D = datetime.date
PERSONAS = ["admin_user", "animation", "referent_a", "referent_b", "copil", "outsider"]


@pytest.fixture(autouse=True)
def private_files(monkeypatch, tmp_path):
    return isolate_private_storage(monkeypatch, tmp_path)


def page(response):
    return html.unescape(response.content.decode())


def participant_data(**changes):
    data = {"last_name": "Durand", "first_name": "Léa", "sex": "F", "birth_date": "1990-06-15", "commune": PESSAC}
    data.update(changes)
    return data


@pytest.fixture
def followed(plie, operation, referent_a, animation):
    """Léa Durand of Pessac, in parcours on FO1 since 01/02/2023, followed by referent_a; with one justificatif."""
    participant = ParticipantFactory(plie=plie, last_name="Durand", first_name="Léa", commune_id=PESSAC)
    parcours = make_parcours(participant, "active", by=animation, operation=operation, referent=profile(referent_a))
    document = Document.objects.create(
        participant=participant,
        parcours=parcours,
        kind=DocumentKind.CONTRACT,
        file=pdf("contrat signé.pdf"),
        original_name="contrat signé.pdf",
        content_type="application/pdf",
        size=15,
        uploaded_by=animation,
    )
    return parcours, document


# url name → (method, what its argument is, expected status for each of PERSONAS)
ACCESS = {
    "participant_list": ("get", None, [200, 200, 200, 200, 404, 200]),
    "participant_create": ("get", None, [200, 200, 403, 403, 403, 200]),
    "participant_detail": ("get", "participant", [200, 200, 200, 404, 404, 404]),
    "participant_edit": ("get", "participant", [200, 200, 200, 404, 404, 404]),
    "participant_history": ("get", "participant", [200, 200, 403, 404, 404, 404]),
    "prescription_create": ("get", "participant", [200, 200, 403, 404, 404, 404]),
    "entretien_create": ("get", "participant", [200, 200, 200, 404, 404, 404]),
    "document_create": ("get", "participant", [200, 200, 200, 404, 404, 404]),
    "document_download": ("get", "document", [200, 200, 200, 404, 404, 404]),
    "parcours_reception": ("get", "parcours", [200, 200, 403, 404, 404, 404]),
    "parcours_commission": ("get", "parcours", [200, 200, 403, 404, 404, 404]),
    "parcours_integration": ("get", "parcours", [200, 200, 403, 404, 404, 404]),
    "parcours_assignment": ("get", "parcours", [200, 200, 403, 404, 404, 404]),
    "parcours_employment": ("get", "parcours", [200, 200, 200, 404, 404, 404]),
    "parcours_exit": ("get", "parcours", [200, 200, 200, 404, 404, 404]),
    "parcours_validate_exit": ("post", "parcours", [302, 302, 403, 404, 404, 404]),
    "portfolio": ("get", None, [200, 200, 200, 404, 404, 200]),
    "team_portfolios": ("get", None, [200, 200, 403, 403, 403, 200]),
    "commission_agenda": ("get", None, [200, 200, 403, 403, 403, 200]),
    "exits_to_validate": ("get", None, [200, 200, 403, 403, 403, 200]),
}


def url_of(name, what, parcours, document):
    arg = {"participant": parcours.participant_id, "parcours": parcours.pk, "document": document.pk}.get(what)
    return reverse(name, args=[arg] if arg else [])


class TestAccess:
    @pytest.mark.parametrize("name", list(ACCESS))
    def test_every_page_answers_each_persona_as_the_rules_say(self, request, client_of, followed, name):
        method, what, expected = ACCESS[name]
        url = url_of(name, what, *followed)
        got = {}
        for persona in PERSONAS:  # the team comes first: a POST of theirs does not change what the others get
            response = getattr(client_of(request.getfixturevalue(persona)), method)(url)
            if response.streaming:  # reading a download to the end closes its file, as a browser would
                b"".join(response.streaming_content)
            got[persona] = response.status_code
        assert got == dict(zip(PERSONAS, expected, strict=True))

    def test_anonymous_visitors_are_sent_to_the_login_page(self, client, followed):
        for name, (method, what, _) in ACCESS.items():
            response = getattr(client, method)(url_of(name, what, *followed))
            assert response.status_code == 302, name
            assert response.url.startswith(reverse("login")), name

    def test_a_referent_loses_the_file_when_the_parcours_goes_to_a_colleague(
        self, plie, client_of, animation, referent_a, followed
    ):
        parcours, _ = followed
        colleague = ReferentFactory(plie=plie, user=MembershipFactory(plie=plie, role="referent").user)
        response = client_of(animation).post(
            reverse("parcours_assignment", args=[parcours.pk]),
            {"referent": colleague.pk, "on": "2023-04-01", "reason": "rebalancing"},
        )
        assert response.status_code == 302
        history = page(client_of(animation).get(reverse("parcours_assignment", args=[parcours.pk])))
        assert "Rachida Benali du 01/02/2023 au 31/03/2023 — Intégration" in history
        assert f"{colleague.full_name} du 01/04/2023 — Rééquilibrage des portefeuilles" in history
        client = client_of(referent_a)
        assert client.get(reverse("participant_detail", args=[parcours.participant_id])).status_code == 404
        assert client.get(reverse("parcours_exit", args=[parcours.pk])).status_code == 404
        assert client_of(colleague.user).get(parcours.participant.get_absolute_url()).status_code == 200

    def test_a_referent_never_reaches_a_participant_of_a_colleague(
        self, plie, operation, client_of, referent_a, animation
    ):
        colleague = ReferentFactory(plie=plie)
        parcours = make_parcours(
            ParticipantFactory(plie=plie), "active", by=animation, operation=operation, referent=colleague
        )
        client = client_of(referent_a)
        for url in (
            parcours.participant.get_absolute_url(),
            reverse("parcours_employment", args=[parcours.pk]),
            reverse("parcours_reception", args=[parcours.pk]),  # team-only, and not theirs: 404, not 403
            reverse("participant_history", args=[parcours.participant_id]),
        ):
            assert client.get(url).status_code == 404, url

    @pytest.mark.parametrize("change", ["becomes_copil", "leaves_the_plie"])
    def test_a_former_referent_no_longer_sees_the_people_still_assigned_to_them(
        self, client_of, referent_a, followed, change
    ):
        parcours, _ = followed
        membership = referent_a.memberships.get()
        if change == "becomes_copil":
            membership.role = "copil"
            membership.save()
        else:
            membership.delete()
        client = client_of(referent_a)
        assert client.get(parcours.participant.get_absolute_url()).status_code == 404
        assert client.get(reverse("parcours_exit", args=[parcours.pk])).status_code == 404

    @pytest.mark.parametrize("persona", ["referent_b", "copil", "outsider"])
    def test_refused_posts_change_nothing(self, request, client_of, plie, followed, persona):
        parcours, _ = followed
        client = client_of(request.getfixturevalue(persona))
        participant_url = reverse("participant_edit", args=[parcours.participant_id])
        assert client.post(participant_url, participant_data(last_name="Piraté")).status_code == 404
        exit_data = {"exit_date": "2023-06-30", "reason": reason(plie, "Abandon").pk}
        assert client.post(reverse("parcours_exit", args=[parcours.pk]), exit_data).status_code == 404
        entretien = {"date": "2023-03-01", "modality": "physique", "summary": "x"}
        assert client.post(reverse("entretien_create", args=[parcours.participant_id]), entretien).status_code == 404
        parcours.refresh_from_db()
        assert parcours.status == Status.ACTIVE
        assert parcours.participant.last_name == "Durand"
        assert not Entretien.objects.exists()

    def test_a_referent_may_not_run_the_team_steps_of_their_own_participant(
        self, plie, client_of, referent_a, followed
    ):
        parcours, _ = followed
        colleague = ReferentFactory(plie=plie)
        client = client_of(referent_a)
        data = {"referent": colleague.pk, "on": "2023-04-01", "reason": "rebalancing"}
        assert client.post(reverse("parcours_assignment", args=[parcours.pk]), data).status_code == 403
        assert parcours.assignments.get().referent == profile(referent_a)

    def test_the_detail_page_shows_team_buttons_only_to_the_team(self, client_of, animation, referent_a, followed):
        parcours, _ = followed
        history_url = reverse("participant_history", args=[parcours.participant_id])
        prescription_url = reverse("prescription_create", args=[parcours.participant_id])
        team_page = page(client_of(animation).get(parcours.participant.get_absolute_url()))
        referent_page = page(client_of(referent_a).get(parcours.participant.get_absolute_url()))
        assert history_url in team_page and prescription_url in team_page
        assert history_url not in referent_page and prescription_url not in referent_page
        assert reverse("parcours_exit", args=[parcours.pk]) in referent_page


class TestHappyPath:
    def test_a_person_goes_from_creation_to_a_validated_exit_through_the_web(
        self, plie, operation, client_of, animation, referent_a
    ):
        team, referent = client_of(animation), client_of(referent_a)

        response = team.post(reverse("participant_create"), participant_data(), follow=True)
        participant = Participant.objects.get(plie=plie, last_name="Durand")
        assert response.redirect_chain == [(participant.get_absolute_url(), 302)]
        assert "Le dossier de Léa Durand est créé." in page(response)

        prescription = {
            "prescriber": "france_travail",
            "prescriber_detail": "Agence de Pessac",
            "prescription_date": "2023-01-05",
            "prescription_form": pdf("fiche de prescription.pdf"),
        }
        assert team.post(reverse("prescription_create", args=[participant.pk]), prescription).status_code == 302
        parcours = participant.parcours.get()
        assert parcours.status == Status.PRESCRIBED

        reception = {"date": "2023-01-10", "kind": "info_collective"}
        assert team.post(reverse("parcours_reception", args=[parcours.pk]), reception).status_code == 302

        commission_url = reverse("parcours_commission", args=[parcours.pk])
        response = team.post(commission_url, {"date": "2023-01-20", "outcome": "postponed", "reason": ""})
        assert response.status_code == 200
        assert "Un refus ou un ajournement doit être motivé." in page(response)
        postponed = {"date": "2023-01-20", "outcome": "postponed", "reason": "Projet à préciser"}
        assert team.post(commission_url, postponed).status_code == 302
        accepted = {"date": "2023-02-17", "outcome": "accepted", "reason": ""}
        assert team.post(commission_url, accepted).status_code == 302
        assert list(parcours.decisions.values_list("outcome", flat=True)) == ["postponed", "accepted"]

        integration = {
            "entry_date": "2023-03-01",
            "operation": operation.pk,
            "referent": profile(referent_a).pk,
            "signed_contract": pdf("contrat signé.pdf"),
        }
        response = team.post(reverse("parcours_integration", args=[parcours.pk]), integration, follow=True)
        assert "Le participant est intégré au PLIE." in page(response)
        parcours.refresh_from_db()
        assert (parcours.status, parcours.entry_date, parcours.operation) == (Status.ACTIVE, D(2023, 3, 1), operation)
        assert parcours.assignments.get().referent == profile(referent_a)

        assert "DURAND Léa" in page(referent.get(reverse("portfolio")))
        entretien = {
            "date": "2023-03-15",
            "modality": "physique",
            "duration": "45",
            "summary": "Point sur le projet professionnel.",
            "signed": "on",
            "next_appointment": "2023-04-12",
            "sheet": png("émargement.png"),
        }
        response = referent.post(reverse("entretien_create", args=[participant.pk]), entretien, follow=True)
        assert "L’entretien du 15/03/2023 est enregistré." in page(response)
        saved = participant.entretiens.get()
        assert (saved.parcours, saved.referent, saved.created_by, saved.signed) == (
            parcours,
            profile(referent_a),
            referent_a,
            True,
        )
        assert saved.documents.get().kind == DocumentKind.ATTENDANCE

        employment = {"job_start": "2023-05-02", "contract_type": "cdi"}
        assert referent.post(reverse("parcours_employment", args=[parcours.pk]), employment).status_code == 302
        exit_data = {"exit_date": "2023-06-30", "reason": reason(plie, "CDI").pk, "proof": jpeg("attestation.jpg"),
                     "exit_employment": "yes", "exit_job_searching": "no"}  # fmt: skip
        assert referent.post(reverse("parcours_exit", args=[parcours.pk]), exit_data).status_code == 302
        parcours.refresh_from_db()
        assert (parcours.status, parcours.job_start, parcours.exit_date) == (
            Status.EXIT_PENDING,
            D(2023, 5, 2),
            D(2023, 6, 30),
        )
        left = Participation.objects.get(participant=participant)  # the FSE+ exit situation, confirmed at once
        assert (left.last_day, left.exit_employment, left.exit_job_searching, left.exit_training) == (
            D(2023, 6, 30),
            "yes",
            "no",
            "",
        )
        assert left.exit_recorded_by == referent_a

        validate_url = reverse("parcours_validate_exit", args=[parcours.pk])
        assert referent.post(validate_url).status_code == 403
        exits = page(team.get(reverse("exits_to_validate")))
        assert "DURAND Léa" in exits and "02/11/2023" in exits and "Valider la sortie" in exits
        response = team.post(validate_url, {"next": reverse("exits_to_validate")}, follow=True)
        assert response.redirect_chain == [(reverse("exits_to_validate"), 302)]
        assert "La sortie est validée." in page(response)
        parcours.refresh_from_db()
        assert parcours.status == Status.EXITED and parcours.exit_validated_by == animation
        assert parcours.assignments.get().end == D(2023, 6, 30)

        assert referent.get(participant.get_absolute_url()).status_code == 404
        detail = page(team.get(participant.get_absolute_url()))
        assert "Sortie le 30/06/2023 : CDI · validée le" in detail
        assert sorted(participant.documents.values_list("kind", flat=True)) == sorted(
            [DocumentKind.PRESCRIPTION, DocumentKind.CONTRACT, DocumentKind.ATTENDANCE, DocumentKind.CERTIFICATE]
        )

        prescription_url = reverse("prescription_create", args=[participant.pk])
        again = {"prescriber": "ccas", "prescription_date": "2023-06-15"}
        response = team.post(prescription_url, again)
        assert "Un nouveau parcours commence après la sortie du précédent (le 30/06/2023)." in page(response)
        again["prescription_date"] = "2023-07-10"
        assert team.post(prescription_url, again).status_code == 302
        assert participant.parcours.count() == 2

    def test_a_positive_exit_cannot_be_validated_through_the_web_before_six_months_of_employment(
        self, plie, client_of, animation, referent_a
    ):
        today = timezone.localdate()
        current = Operation.objects.create(
            plie=plie,
            code="FO-COURANTE",
            title="Fiche en cours",
            start=today - datetime.timedelta(days=400),
            end=today + datetime.timedelta(days=400),
        )
        parcours = make_parcours(
            ParticipantFactory(plie=plie, last_name="Récent"),
            "exit_pending",
            by=animation,
            operation=current,
            referent=profile(referent_a),
            prescribed_on=today - datetime.timedelta(days=90),
            received_on=today - datetime.timedelta(days=85),
            commission_on=today - datetime.timedelta(days=80),
            entry_on=today - datetime.timedelta(days=60),
            job_start=today - datetime.timedelta(days=30),
            exit_on=today - datetime.timedelta(days=1),
        )
        team = client_of(animation)
        assert "suivi en cours" in page(team.get(reverse("exits_to_validate")))
        response = team.post(reverse("parcours_validate_exit", args=[parcours.pk]), follow=True)
        due = f"{parcours.follow_up_due_on:%d/%m/%Y}"
        assert f"Le suivi de 6 mois dans l’emploi se termine le {due} : la sortie pourra être validée" in page(response)
        parcours.refresh_from_db()
        assert parcours.status == Status.EXIT_PENDING

    def test_the_validation_never_redirects_to_another_site(self, plie, operation, client_of, animation, referent_a):
        parcours = make_parcours(
            ParticipantFactory(plie=plie),
            "exit_pending",
            by=animation,
            operation=operation,
            referent=profile(referent_a),
        )
        response = client_of(animation).post(
            reverse("parcours_validate_exit", args=[parcours.pk]), {"next": "https://pirate.example/"}
        )
        assert response.status_code == 302
        assert not response.url.startswith("https://pirate.example")

    def test_the_follow_up_in_employment_is_recorded_after_a_positive_exit(
        self, plie, operation, client_of, animation, referent_a
    ):
        parcours = make_parcours(
            ParticipantFactory(plie=plie),
            "exit_pending",
            by=animation,
            operation=operation,
            referent=profile(referent_a),
        )
        data = {"date": "2023-08-01", "modality": "telephone", "summary": "Toujours en poste."}
        response = client_of(referent_a).post(reverse("entretien_create", args=[parcours.participant_id]), data)
        assert response.status_code == 302
        assert parcours.entretiens.get().date == D(2023, 8, 1)


class TestDuplicates:
    def test_a_dossier_with_the_same_name_and_birth_date_is_flagged_before_creation(self, plie, client_of, animation):
        existing = ParticipantFactory(plie=plie, last_name="Durand", first_name="Léa", birth_date=D(1990, 6, 15))
        client = client_of(animation)
        data = participant_data(last_name="DURAND", first_name=" léa ", phone="05 56 00 00 00")
        response = client.post(reverse("participant_create"), data)
        assert response.status_code == 200
        text = page(response)
        assert "Un dossier existe déjà pour léa DURAND, né(e) le 15/06/1990." in text
        assert existing.get_absolute_url() in text
        assert 'type="checkbox" name="confirm_duplicate"' in text
        assert 'value="05 56 00 00 00"' in text
        assert Participant.objects.filter(plie=plie).count() == 1
        data["confirm_duplicate"] = "on"
        assert client.post(reverse("participant_create"), data).status_code == 302
        assert Participant.objects.filter(plie=plie, last_name__iexact="durand").count() == 2

    def test_a_referent_is_not_told_whose_file_a_colleague_follows(
        self, plie, operation, client_of, animation, referent_a
    ):
        mine = make_parcours(
            ParticipantFactory(plie=plie, last_name="Martin", first_name="Paul", birth_date=D(1980, 1, 1)),
            "active",
            by=animation,
            operation=operation,
            referent=profile(referent_a),
        ).participant
        hidden = ParticipantFactory(plie=plie, last_name="Durand", first_name="Léa", birth_date=D(1990, 6, 15))
        client = client_of(referent_a)
        response = client.post(reverse("participant_edit", args=[mine.pk]), participant_data())
        assert response.status_code == 200
        text = page(response)
        assert "contactez l’équipe d’animation du PLIE" in text
        assert hidden.get_absolute_url() not in text and "existe déjà" not in text and "15/06/1990" not in text
        assert 'type="checkbox" name="confirm_duplicate"' in text

    def test_an_archived_namesake_is_not_named_to_the_team_either(self, plie, client_of, animation):
        archived = ParticipantFactory(plie=plie, last_name="Durand", first_name="Léa", birth_date=D(1990, 6, 15))
        Participant.objects.filter(pk=archived.pk).update(archived_at=timezone.now())
        text = page(client_of(animation).post(reverse("participant_create"), participant_data()))
        assert "contactez l’équipe d’animation du PLIE" in text and archived.get_absolute_url() not in text

    def test_another_birth_date_is_not_a_duplicate(self, plie, client_of, animation):
        ParticipantFactory(plie=plie, last_name="Durand", first_name="Léa", birth_date=D(1990, 6, 15))
        response = client_of(animation).post(reverse("participant_create"), participant_data(birth_date="1990-06-16"))
        assert response.status_code == 302

    def test_a_namesake_in_another_plie_is_neither_flagged_nor_revealed(self, plie, client_of, outsider):
        ParticipantFactory(plie=plie, last_name="Durand", first_name="Léa", birth_date=D(1990, 6, 15))
        response = client_of(outsider).post(reverse("participant_create"), participant_data(commune=""))
        assert response.status_code == 302
        assert Participant.objects.filter(last_name="Durand").count() == 2

    def test_editing_a_dossier_does_not_flag_itself(self, client_of, animation, followed):
        parcours, _ = followed
        participant = parcours.participant
        data = participant_data(birth_date=f"{participant.birth_date:%Y-%m-%d}", phone="06 00 00 00 00")
        response = client_of(animation).post(reverse("participant_edit", args=[participant.pk]), data)
        assert response.status_code == 302
        participant.refresh_from_db()
        assert participant.phone == "06 00 00 00 00"

    def test_a_referent_edits_the_dossier_they_follow(self, client_of, referent_a, followed):
        participant = followed[0].participant
        data = participant_data(birth_date=f"{participant.birth_date:%Y-%m-%d}", email="lea@exemple.fr")
        assert client_of(referent_a).post(reverse("participant_edit", args=[participant.pk]), data).status_code == 302
        participant.refresh_from_db()
        assert participant.email == "lea@exemple.fr"


class TestBadInput:
    """Refused with a French message, what was typed is kept, nothing is saved."""

    def test_a_birth_date_in_the_future(self, plie, client_of, animation):
        tomorrow = timezone.localdate() + datetime.timedelta(days=1)
        response = client_of(animation).post(
            reverse("participant_create"), participant_data(birth_date=f"{tomorrow:%Y-%m-%d}", phone="0556")
        )
        assert response.status_code == 200
        assert "La date de naissance ne peut pas être dans le futur." in page(response)
        assert 'value="Durand"' in page(response) and 'value="0556"' in page(response)
        assert not Participant.objects.filter(plie=plie).exists()

    def test_a_contract_signed_in_the_future(self, plie, operation, client_of, animation, referent_a):
        parcours = make_parcours(ParticipantFactory(plie=plie), "accepted", by=animation)
        tomorrow = f"{timezone.localdate() + datetime.timedelta(days=1):%Y-%m-%d}"
        data = {"entry_date": tomorrow, "operation": operation.pk, "referent": profile(referent_a).pk}
        response = client_of(animation).post(reverse("parcours_integration", args=[parcours.pk]), data)
        assert response.status_code == 200
        assert "La date de signature du contrat d’engagement ne peut pas être dans le futur." in page(response)
        assert f'value="{tomorrow}"' in page(response)
        parcours.refresh_from_db()
        assert parcours.status == Status.ACCEPTED and not parcours.assignments.exists()

    def test_an_operation_of_another_plie_at_integration(self, plie, other_operation, client_of, animation, referent_a):
        parcours = make_parcours(ParticipantFactory(plie=plie), "accepted", by=animation)
        data = {"entry_date": "2023-03-01", "operation": other_operation.pk, "referent": profile(referent_a).pk}
        response = client_of(animation).post(reverse("parcours_integration", args=[parcours.pk]), data)
        assert response.status_code == 200
        assert "Sélectionnez un choix valide." in page(response)
        parcours.refresh_from_db()
        assert parcours.status == Status.ACCEPTED

    def test_an_exit_in_the_future(self, plie, client_of, referent_a, followed):
        parcours, _ = followed
        tomorrow = f"{timezone.localdate() + datetime.timedelta(days=1):%Y-%m-%d}"
        data = {"exit_date": tomorrow, "reason": reason(plie, "Abandon").pk}
        response = client_of(referent_a).post(reverse("parcours_exit", args=[parcours.pk]), data)
        assert "La date de sortie ne peut pas être dans le futur." in page(response)
        assert f'value="{tomorrow}"' in page(response)
        parcours.refresh_from_db()
        assert parcours.status == Status.ACTIVE and parcours.exit_date is None

    def test_an_exit_before_the_entry(self, plie, client_of, referent_a, followed):
        parcours, _ = followed
        data = {"exit_date": "2023-01-15", "reason": reason(plie, "Abandon").pk, "proof": jpeg()}
        response = client_of(referent_a).post(reverse("parcours_exit", args=[parcours.pk]), data)
        assert response.status_code == 200
        assert "La sortie ne peut pas précéder l’entrée dans le parcours." in page(response)
        assert 'value="2023-01-15"' in page(response)
        parcours.refresh_from_db()
        assert parcours.status == Status.ACTIVE
        assert not parcours.documents.filter(kind=DocumentKind.CERTIFICATE).exists()

    def test_an_exit_reason_of_another_plie(self, other_plie, client_of, referent_a, followed):
        parcours, _ = followed
        data = {"exit_date": "2023-06-30", "reason": reason(other_plie, "Abandon").pk}
        response = client_of(referent_a).post(reverse("parcours_exit", args=[parcours.pk]), data)
        assert response.status_code == 200
        assert "Ce motif de sortie n’existe pas dans la nomenclature du PLIE." in page(response)
        assert 'value="2023-06-30"' in page(response)
        parcours.refresh_from_db()
        assert parcours.status == Status.ACTIVE

    def test_an_overlapping_parcours(self, plie, operation, client_of, animation, referent_a):
        participant = ParticipantFactory(plie=plie)
        make_parcours(participant, "exited", by=animation, operation=operation, referent=profile(referent_a))
        data = {"prescriber": "ccas", "prescriber_detail": "CCAS de Pessac", "prescription_date": "2023-05-01"}
        response = client_of(animation).post(reverse("prescription_create", args=[participant.pk]), data)
        assert response.status_code == 200
        assert "Un nouveau parcours commence après la sortie du précédent (le 30/06/2023)." in page(response)
        assert 'value="CCAS de Pessac"' in page(response)
        assert participant.parcours.count() == 1

    def test_an_entretien_when_the_person_had_no_active_parcours(self, client_of, referent_a, followed):
        parcours, _ = followed
        data = {"date": "2023-01-20", "modality": "telephone", "summary": "Appel de suivi."}
        response = client_of(referent_a).post(reverse("entretien_create", args=[parcours.participant_id]), data)
        assert response.status_code == 200
        assert "Ce jour-là, la personne n’avait pas de parcours en cours : l’entretien ne peut pas être saisi." in page(
            response
        )
        assert "Appel de suivi." in page(response)
        assert not Entretien.objects.exists()

    def test_an_entretien_in_the_future(self, client_of, referent_a, followed):
        parcours, _ = followed
        tomorrow = f"{timezone.localdate() + datetime.timedelta(days=1):%Y-%m-%d}"
        data = {"date": tomorrow, "modality": "physique", "summary": "À venir."}
        response = client_of(referent_a).post(reverse("entretien_create", args=[parcours.participant_id]), data)
        assert "La date de l’entretien ne peut pas être dans le futur." in page(response)
        assert not Entretien.objects.exists()

    def test_a_next_appointment_before_the_entretien(self, client_of, referent_a, followed):
        parcours, _ = followed
        data = {"date": "2023-03-01", "modality": "physique", "next_appointment": "2023-02-28"}
        response = client_of(referent_a).post(reverse("entretien_create", args=[parcours.participant_id]), data)
        assert "Le prochain rendez-vous doit suivre l’entretien." in page(response)
        assert not Entretien.objects.exists()

    def test_a_bad_upload_with_an_entretien(self, client_of, referent_a, followed):
        parcours, _ = followed
        data = {
            "date": "2023-03-01",
            "modality": "physique",
            "summary": "Compte rendu à garder.",
            "signed": "on",
            "sheet": pdf("feuille.pdf", content=b"Bonjour, je suis du texte."),
        }
        response = client_of(referent_a).post(reverse("entretien_create", args=[parcours.participant_id]), data)
        assert response.status_code == 200
        assert "Ce fichier n’est ni un PDF, ni une image JPEG ou PNG" in page(response)
        assert "Compte rendu à garder." in page(response)
        assert not Entretien.objects.exists()
        assert parcours.participant.documents.count() == 1  # only the contract of the fixture


class TestSearch:
    @pytest.fixture
    def people(self, plie, other_plie):
        lea = ParticipantFactory(
            plie=plie, last_name="Durand", first_name="Léa", birth_date=D(1990, 6, 15), external_id="V-123"
        )
        ParticipantFactory(plie=plie, last_name="Martin", first_name="Paul", birth_date=D(1978, 2, 3))
        ParticipantFactory(plie=other_plie, last_name="Durand", first_name="Léon", birth_date=D(1990, 6, 15))
        return lea

    @pytest.mark.parametrize("query", ["durand", "léa DURAND", "Dur", "15/06/1990", "v-123"])
    def test_the_team_finds_a_person_by_name_birth_date_or_viesion_id(self, client_of, animation, people, query):
        response = client_of(animation).post(reverse("participant_list"), {"q": query})
        text = page(response)
        assert "DURAND Léa" in text
        assert "MARTIN Paul" not in text
        assert "Léon" not in text  # the namesake of the other PLIE

    def test_an_empty_search_lists_the_whole_plie_to_the_team(self, client_of, animation, people):
        text = page(client_of(animation).get(reverse("participant_list")))
        assert "DURAND Léa" in text and "MARTIN Paul" in text and "Léon" not in text

    def test_nothing_found_is_said_in_french(self, client_of, animation, people):
        text = page(client_of(animation).post(reverse("participant_list"), {"q": "Zola"}))
        assert "Aucun participant ne correspond à « Zola »." in text

    def test_a_referent_searches_only_the_people_they_follow(self, plie, operation, client_of, animation, referent_a):
        mine = ParticipantFactory(plie=plie, last_name="Durand", first_name="Léa")
        make_parcours(mine, "active", by=animation, operation=operation, referent=profile(referent_a))
        ParticipantFactory(plie=plie, last_name="Durand", first_name="Inès")
        text = page(client_of(referent_a).post(reverse("participant_list"), {"q": "durand"}))
        assert "DURAND Léa" in text and "Inès" not in text
        assert reverse("participant_create") not in text

    def test_the_outsider_finds_nobody_of_this_plie(self, client_of, outsider, people):
        text = page(client_of(outsider).post(reverse("participant_list"), {"q": "durand"}))
        assert "Léon" in text and "Léa" not in text

    def test_the_list_shows_the_stage_of_the_last_parcours(self, plie, operation, client_of, animation, referent_a):
        participant = ParticipantFactory(plie=plie, last_name="Durand")
        make_parcours(participant, "exited", by=animation, operation=operation, referent=profile(referent_a))
        make_parcours(participant, "prescribed", by=animation, prescribed_on=D(2023, 7, 10))
        text = page(client_of(animation).post(reverse("participant_list"), {"q": "durand"}))
        assert "Prescrit" in text and "(prescrit le 10/07/2023)" in text

    def test_results_stop_at_fifty(self, plie, client_of, animation):
        Participant.objects.bulk_create(
            Participant(plie=plie, last_name=f"Nom{i:02}", first_name="Test", sex="F", birth_date=D(1980, 1, 1))
            for i in range(51)
        )
        response = client_of(animation).post(reverse("participant_list"), {"q": "test"})
        assert len(response.context["participants"]) == 50
        assert "Seuls les 50 premiers résultats sont affichés : précisez la recherche." in page(response)

    def test_the_query_count_does_not_grow_with_the_results(
        self, plie, operation, client_of, animation, referent_a, django_assert_max_num_queries
    ):
        def add(n):
            for _ in range(n):
                participant = ParticipantFactory(plie=plie, first_name="Test", commune_id=PESSAC)
                make_parcours(participant, "active", by=animation, operation=operation, referent=profile(referent_a))

        client = client_of(animation)
        add(3)
        with django_assert_max_num_queries(8):
            client.post(reverse("participant_list"), {"q": "test"})
        add(12)
        with django_assert_max_num_queries(8):
            response = client.post(reverse("participant_list"), {"q": "test"})
        assert len(response.context["participants"]) == 15


class TestPortfolio:
    def test_a_referent_sees_their_open_parcours_with_alerts(self, plie, operation, client_of, animation, referent_a):
        followed = make_parcours(
            ParticipantFactory(plie=plie, last_name="Suivie"),
            "active",
            by=animation,
            operation=operation,
            referent=profile(referent_a),
        )
        make_parcours(
            ParticipantFactory(plie=plie, last_name="Ailleurs"),
            "active",
            by=animation,
            operation=operation,
            referent=ReferentFactory(plie=plie),
        )
        make_parcours(
            ParticipantFactory(plie=plie, last_name="Sortie"),
            "exited",
            by=animation,
            operation=operation,
            referent=profile(referent_a),
        )
        response = client_of(referent_a).get(reverse("portfolio"))
        text = page(response)
        assert "Mon portefeuille" in text
        assert "SUIVIE" in text and "AILLEURS" not in text and "SORTIE" not in text
        assert "Contrat d’engagement signé manquant" in text
        assert "Pas d’entretien depuis le 01/02/2023" in text
        assert [row.pk for row in response.context["rows"]] == [followed.pk]

    def test_the_portfolio_filters_by_stage_and_by_alert(self, plie, operation, client_of, animation, referent_a):
        for name, stage in (("Actif", "active"), ("Emploi", "follow_up")):
            parcours = make_parcours(
                ParticipantFactory(plie=plie, last_name=name),
                stage,
                by=animation,
                operation=operation,
                referent=profile(referent_a),
            )
            if stage == "active":
                add_document(parcours, DocumentKind.CONTRACT, by=animation)
        client = client_of(referent_a)
        text = page(client.get(reverse("portfolio"), {"statut": "follow_up"}))
        assert "EMPLOI" in text and "ACTIF" not in text
        text = page(client.get(reverse("portfolio"), {"alerte": "missing_contract"}))
        assert "EMPLOI" in text and "ACTIF" not in text
        text = page(client.get(reverse("portfolio"), {"statut": "exit_pending"}))
        assert "Aucun parcours pour ces filtres." in text

    def test_the_team_opens_any_referent_portfolio_of_its_plie(self, plie, client_of, animation, referent_a, followed):
        text = page(client_of(animation).get(reverse("portfolio"), {"referent": profile(referent_a).pk}))
        assert "Portefeuille de Rachida Benali" in text and "DURAND Léa" in text

    def test_a_referent_cannot_open_a_colleague_portfolio(self, plie, operation, client_of, animation, referent_a):
        colleague = ReferentFactory(plie=plie)
        make_parcours(
            ParticipantFactory(plie=plie, last_name="Collègue"),
            "active",
            by=animation,
            operation=operation,
            referent=colleague,
        )
        text = page(client_of(referent_a).get(reverse("portfolio"), {"referent": colleague.pk}))
        assert "Mon portefeuille" in text and "COLLÈGUE" not in text

    def test_an_outsider_cannot_open_a_referent_of_this_plie(self, client_of, outsider, referent_a, followed):
        response = client_of(outsider).get(reverse("portfolio"), {"referent": profile(referent_a).pk})
        assert response.status_code == 404

    def test_the_query_count_does_not_grow_with_the_rows(
        self, plie, operation, client_of, animation, referent_a, django_assert_max_num_queries
    ):
        zone = ZoneFactory(plie=plie)
        zone.communes.add(PESSAC)

        def add(n):
            for _ in range(n):
                participant = ParticipantFactory(plie=plie, commune_id=PESSAC)
                parcours = make_parcours(
                    participant, "exit_pending", by=animation, operation=operation, referent=profile(referent_a)
                )
                add_entretien(parcours, D(2023, 3, 1), next_appointment=D(2023, 4, 1))
                add_document(parcours, DocumentKind.CONTRACT, by=animation)

        client = client_of(referent_a)
        add(3)
        with django_assert_max_num_queries(15):
            client.get(reverse("portfolio"))
        add(12)
        with django_assert_max_num_queries(15):
            response = client.get(reverse("portfolio"))
        assert len(response.context["rows"]) == 15


class TestTeamPages:
    def test_the_commission_agenda_lists_the_files_waiting_and_the_last_decisions(
        self, plie, other_plie, client_of, animation, outsider
    ):
        make_parcours(ParticipantFactory(plie=plie, last_name="Attente"), "received", by=animation)
        make_parcours(ParticipantFactory(plie=plie, last_name="Refusée"), "refused", by=animation)
        text = page(client_of(animation).get(reverse("commission_agenda")))
        assert "ATTENTE" in text and "Décision de commission" in text
        assert "REFUSÉE" in text and "Projet à préciser" in text
        assert "ATTENTE" not in page(client_of(outsider).get(reverse("commission_agenda")))

    def test_team_portfolios_count_each_referent_load_and_alerts(
        self, plie, operation, client_of, animation, referent_a
    ):
        for _ in range(2):
            make_parcours(
                ParticipantFactory(plie=plie), "active", by=animation, operation=operation, referent=profile(referent_a)
            )
        response = client_of(animation).get(reverse("team_portfolios"))
        [line] = [line for line in response.context["lines"] if line["referent"] == profile(referent_a)]
        assert line["load"]["load"] == 2
        assert line["no_entretien"] == 2
        assert line["alerts"] == 4  # no entretien + no signed contract, twice
        assert "Rachida Benali" in page(response)

    def test_exits_to_validate_list_only_pending_exits_of_the_plie(
        self, plie, operation, client_of, animation, outsider, referent_a
    ):
        make_parcours(
            ParticipantFactory(plie=plie, last_name="Attente"),
            "exit_pending",
            by=animation,
            operation=operation,
            referent=profile(referent_a),
        )
        make_parcours(
            ParticipantFactory(plie=plie, last_name="Validée"),
            "exited",
            by=animation,
            operation=operation,
            referent=profile(referent_a),
        )
        text = page(client_of(animation).get(reverse("exits_to_validate")))
        assert "ATTENTE" in text and "VALIDÉE" not in text
        assert "ATTENTE" not in page(client_of(outsider).get(reverse("exits_to_validate")))

    @pytest.mark.parametrize(
        ("name", "pinned"), [("commission_agenda", 8), ("team_portfolios", 12), ("exits_to_validate", 9)]
    )
    def test_the_query_count_does_not_grow_with_the_rows(
        self, plie, operation, client_of, animation, django_assert_max_num_queries, name, pinned
    ):
        def add(n):
            for _ in range(n):
                referent = ReferentFactory(plie=plie)
                make_parcours(
                    ParticipantFactory(plie=plie, commune_id=PESSAC),
                    "exit_pending",
                    by=animation,
                    operation=operation,
                    referent=referent,
                )
                make_parcours(ParticipantFactory(plie=plie), "postponed", by=animation)

        client = client_of(animation)
        add(3)
        with django_assert_max_num_queries(pinned):
            client.get(reverse(name))
        add(12)
        with django_assert_max_num_queries(pinned):
            client.get(reverse(name))
        assert CommissionDecision.objects.count() == 15 + 15

    def test_the_detail_page_query_count_does_not_grow_with_the_file(
        self, plie, operation, client_of, animation, referent_a, django_assert_max_num_queries
    ):
        participant = ParticipantFactory(plie=plie, commune_id=PESSAC)
        first = make_parcours(participant, "exited", by=animation, operation=operation, referent=profile(referent_a))

        def add(parcours, n, start):
            for i in range(n):
                entretien = add_entretien(parcours, start + datetime.timedelta(days=i))
                add_document(parcours, DocumentKind.ATTENDANCE, by=animation, entretien=entretien)

        client = client_of(animation)
        add(first, 3, D(2023, 2, 2))
        with django_assert_max_num_queries(16):
            client.get(participant.get_absolute_url())
        add(first, 12, D(2023, 3, 2))
        with django_assert_max_num_queries(16):
            client.get(participant.get_absolute_url())
        assert FileAccess.objects.filter(participant=participant).count() == 2
