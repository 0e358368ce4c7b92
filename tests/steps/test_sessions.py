"""Collective sessions (/ateliers/): creation, registration of participants and prospects, émargement, and the
steps made for the participants present."""

import datetime
import html

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from steps import services
from steps.models import Attendance, CollectiveSession, Step, StepStatus, Validation
from tests.factories import ReferentFactory
from tests.factories.participants import ParticipantFactory, make_parcours, profile
from tests.factories.steps import step_type

pytestmark = pytest.mark.django_db

D = datetime.date
SESSION_DAY = D(2023, 3, 10)


def page(response):
    return html.unescape(response.content.decode())


def session_data(plie, **changes):
    data = {
        "kind": "atelier_tre",
        "theme": "Réussir son entretien d’embauche",
        "date": "2023-03-10",
        "facilitator": "Association Trajectoires",
        "place": "Maison de l’emploi",
        "step_type": step_type(plie, "Atelier TRE").pk,
    }
    data.update(changes)
    return data


@pytest.fixture
def session(plie, animation):
    return CollectiveSession.objects.create(
        plie=plie,
        kind="atelier_tre",
        theme="Réussir son entretien d’embauche",
        date=SESSION_DAY,
        facilitator="Association Trajectoires",
        step_type=step_type(plie, "Atelier TRE"),
        created_by=animation,
    )


@pytest.fixture
def info_session(plie, animation):
    return CollectiveSession.objects.create(
        plie=plie,
        kind="info_collective",
        theme="Découvrir le PLIE",
        date=SESSION_DAY,
        facilitator="Équipe d’animation",
        created_by=animation,
    )


@pytest.fixture
def people(plie, operation, animation, referent_a):
    """Léa (referent_a, in parcours), Karim (a colleague's, in parcours), Zoé (exited before the session)."""
    colleague = ReferentFactory(plie=plie)
    lea = make_parcours(
        ParticipantFactory(plie=plie, last_name="Durand", first_name="Léa"),
        by=animation,
        operation=operation,
        referent=profile(referent_a),
    )
    karim = make_parcours(
        ParticipantFactory(plie=plie, last_name="Haddad", first_name="Karim"),
        by=animation,
        operation=operation,
        referent=colleague,
    )
    zoe = make_parcours(
        ParticipantFactory(plie=plie, last_name="Petit", first_name="Zoé"),
        "exited",
        by=animation,
        operation=operation,
        referent=profile(referent_a),
        exit_on=D(2023, 3, 1),
        exit_label="Abandon",
    )
    return {"lea": lea, "karim": karim, "zoe": zoe}


def register(session, parcours, present=True):
    return Attendance.objects.create(session=session, participant=parcours.participant, present=present)


class TestSessions:
    def test_the_team_creates_a_session_that_counts_as_a_step(self, plie, client_of, animation):
        response = client_of(animation).post(reverse("session_create"), session_data(plie), follow=True)
        session = CollectiveSession.objects.get(plie=plie)
        assert response.redirect_chain == [(session.get_absolute_url(), 302)]
        text = page(response)
        assert "L’action collective est créée : inscrivez les personnes." in text
        assert "le 10/03/2023 · animée par Association Trajectoires · Maison de l’emploi" in text
        assert "compte comme étape « Atelier TRE »" in text
        assert (session.created_by, session.step_type.label) == (animation, "Atelier TRE")

    def test_a_referent_creates_an_information_session_without_step(self, plie, client_of, referent_a):
        data = session_data(plie, kind="info_collective", theme="Découvrir le PLIE", step_type="")
        assert client_of(referent_a).post(reverse("session_create"), data).status_code == 302
        assert CollectiveSession.objects.get(plie=plie).step_type is None

    def test_a_step_type_of_another_plie_is_refused(self, plie, other_plie, client_of, animation):
        data = session_data(plie, step_type=step_type(other_plie, "Atelier TRE").pk)
        response = client_of(animation).post(reverse("session_create"), data)
        assert response.status_code == 200
        assert "Sélectionnez un choix valide" in page(response)
        assert not CollectiveSession.objects.exists()

    def test_a_session_needs_a_theme_a_date_and_a_facilitator(self, plie, client_of, animation):
        data = session_data(plie, theme="", date="", facilitator="")
        response = client_of(animation).post(reverse("session_create"), data)
        assert page(response).count("Ce champ est obligatoire.") == 3
        assert not CollectiveSession.objects.exists()

    def test_the_list_shows_the_sessions_of_the_plie_only(self, plie, other_plie, client_of, referent_a, session):
        CollectiveSession.objects.create(
            plie=other_plie, kind="autre", theme="Atelier du Marmandais", date=SESSION_DAY, facilitator="X"
        )
        text = page(client_of(referent_a).get(reverse("session_list")))
        assert "Réussir son entretien d’embauche" in text and "Atelier TRE" in text
        assert "Atelier du Marmandais" not in text

    def test_the_copil_and_other_plies_reach_no_session(self, client_of, copil, outsider, session):
        for user in (copil, outsider):
            client = client_of(user)
            assert client.get(session.get_absolute_url()).status_code == 404
            assert client.post(reverse("session_presence", args=[session.pk])).status_code == 404
        assert client_of(copil).get(reverse("session_list")).status_code == 404
        assert "Réussir son entretien" not in page(client_of(outsider).get(reverse("session_list")))


class TestRegistration:
    def test_participants_and_prospects_are_registered(self, client_of, animation, info_session, people):
        client = client_of(animation)
        response = client.post(
            info_session.get_absolute_url(), {"participant": people["lea"].participant_id}, follow=True
        )
        assert "La personne est inscrite." in page(response)
        client.post(
            info_session.get_absolute_url(), {"prospect_name": "Sam Lefort", "prospect_contact": "06 12 34 56 78"}
        )
        text = page(client.get(info_session.get_absolute_url()))
        assert "DURAND Léa" in text
        assert "Sam Lefort" in text and "hors parcours · 06 12 34 56 78" in text
        assert info_session.attendances.count() == 2

    @pytest.mark.parametrize(
        ("participant", "prospect_name"), [(False, ""), (True, "Sam Lefort")], ids=["nobody", "both"]
    )
    def test_a_registration_names_a_participant_or_else_a_prospect(
        self, client_of, animation, info_session, people, participant, prospect_name
    ):
        data = {
            "participant": people["lea"].participant_id if participant else "",
            "prospect_name": prospect_name,
            "prospect_contact": "",
        }
        response = client_of(animation).post(info_session.get_absolute_url(), data)
        assert response.status_code == 200
        assert "Indiquez un participant ou, à défaut, le nom d’une personne hors parcours." in page(response)
        assert not Attendance.objects.exists()

    def test_a_participant_is_registered_once(self, client_of, animation, session, people):
        client = client_of(animation)
        client.post(session.get_absolute_url(), {"participant": people["lea"].participant_id})
        response = client.post(session.get_absolute_url(), {"participant": people["lea"].participant_id})
        assert response.status_code == 200
        assert "Ce participant est déjà inscrit à cette action." in page(response)
        assert session.attendances.count() == 1

    def test_a_referent_registers_only_the_people_they_follow(self, client_of, referent_a, session, people):
        client = client_of(referent_a)
        form_page = page(client.get(session.get_absolute_url()))
        assert "DURAND Léa" in form_page and "HADDAD Karim" not in form_page
        response = client.post(session.get_absolute_url(), {"participant": people["karim"].participant_id})
        assert "Sélectionnez un choix valide" in page(response)
        assert client.post(session.get_absolute_url(), {"participant": people["lea"].participant_id}).status_code == 302
        assert list(session.attendances.values_list("participant__last_name", flat=True)) == ["Durand"]

    def test_a_participant_of_another_plie_cannot_be_registered(self, other_plie, client_of, animation, session):
        stranger = ParticipantFactory(plie=other_plie)
        response = client_of(animation).post(session.get_absolute_url(), {"participant": stranger.pk})
        assert "Sélectionnez un choix valide" in page(response)
        assert not Attendance.objects.exists()

    def test_the_emargement_records_who_was_present(self, client_of, animation, session, people):
        lea, karim = register(session, people["lea"], present=False), register(session, people["karim"], present=True)
        response = client_of(animation).post(
            reverse("session_presence", args=[session.pk]), {"present": [str(lea.pk)]}, follow=True
        )
        assert "L’émargement est enregistré." in page(response)
        lea.refresh_from_db()
        karim.refresh_from_db()
        assert (lea.present, karim.present) == (True, False)

    def test_an_archived_or_restricted_file_is_left_as_it_is(self, client_of, animation, session, people):
        from django.utils import timezone

        from participants.models import Participant

        lea, karim = register(session, people["lea"], present=False), register(session, people["karim"], present=True)
        Participant.objects.filter(pk=people["lea"].participant_id).update(archived_at=timezone.now())
        Participant.objects.filter(pk=people["karim"].participant_id).update(restricted_at=timezone.now())
        client = client_of(animation)
        client.post(reverse("session_presence", args=[session.pk]), {"present": [str(lea.pk)]})
        lea.refresh_from_db()
        karim.refresh_from_db()
        assert (lea.present, karim.present) == (False, True)
        client.post(reverse("session_steps", args=[session.pk]))
        assert not Step.objects.exists()


class TestSessionSteps:
    def test_a_step_is_created_for_each_participant_present(self, client_of, animation, session, people):
        lea = register(session, people["lea"])
        karim = register(session, people["karim"], present=False)
        zoe = register(session, people["zoe"])  # her parcours ended on 01/03/2023, before the session
        Attendance.objects.create(session=session, prospect_name="Sam Lefort", present=True)
        client = client_of(animation)
        assert "Créer une étape pour chaque participant présent" in page(client.get(session.get_absolute_url()))

        response = client.post(reverse("session_steps", args=[session.pk]), follow=True)
        text = page(response)
        assert "1 étape créée pour les participants présents." in text
        step = Step.objects.get()
        lea.refresh_from_db()
        assert lea.step == step and step.get_absolute_url() in text
        assert (step.parcours, step.step_type.label, step.start, step.end, step.status) == (
            people["lea"],
            "Atelier TRE",
            SESSION_DAY,
            SESSION_DAY,
            StepStatus.DONE,
        )
        assert (step.partner, step.notes, step.created_by, step.validation) == (
            "Association Trajectoires",
            "Action collective « Réussir son entretien d’embauche »",
            animation,
            Validation.DRAFT,
        )
        karim.refresh_from_db()
        zoe.refresh_from_db()
        assert karim.step is None and zoe.step is None

        response = client.post(reverse("session_steps", args=[session.pk]), follow=True)
        assert "0 étape créée pour les participants présents." in page(response)
        assert Step.objects.count() == 1

    def test_the_message_counts_several_steps(self, client_of, animation, session, people):
        register(session, people["lea"])
        register(session, people["karim"])
        response = client_of(animation).post(reverse("session_steps", args=[session.pk]), follow=True)
        assert "2 étapes créées pour les participants présents." in page(response)
        assert sorted(Step.objects.values_list("parcours__participant__last_name", flat=True)) == ["Durand", "Haddad"]

    def test_a_session_that_is_not_a_step_makes_none(self, client_of, animation, info_session, people):
        register(info_session, people["lea"])
        client = client_of(animation)
        assert "Créer une étape pour chaque" not in page(client.get(info_session.get_absolute_url()))
        response = client.post(reverse("session_steps", args=[info_session.pk]), follow=True)
        assert "Cette action collective ne compte pas comme une étape." in page(response)
        assert not Step.objects.exists()

    def test_a_referent_does_not_create_the_steps_of_a_session(self, client_of, referent_a, session, people):
        register(session, people["lea"])
        client = client_of(referent_a)
        assert "Créer une étape pour chaque" not in page(client.get(session.get_absolute_url()))
        assert client.post(reverse("session_steps", args=[session.pk])).status_code == 403
        assert not Step.objects.exists()

    def test_the_steps_of_a_session_go_through_the_validation_and_then_count(
        self, animation, admin_user, referent_a, session, people
    ):
        register(session, people["lea"])
        assert services.create_session_steps(session=session, by=animation) == 1
        step = Step.objects.get()
        assert step.grid_rule() is None
        assert not Step.objects.counting().exists()
        services.submit_step(step=step, by=referent_a)
        services.validate_step(step=step, by=admin_user)
        assert list(Step.objects.counting()) == [step]

    def test_the_service_refuses_a_session_without_step_type(self, animation, info_session):
        with pytest.raises(ValidationError, match="Cette action collective ne compte pas comme une étape."):
            services.create_session_steps(session=info_session, by=animation)
