"""Two people editing the same thing: the second save is refused with the first one's change, never lost."""

import html
import re

import pytest
from django.urls import reverse

from plie.versions import version_of
from tests.factories.participants import isolate_private_storage
from tests.operations.test_views import operation_data
from tests.participants.test_views import followed, participant_data  # noqa: F401 — a fixture and its data


@pytest.fixture(autouse=True)
def private_files(monkeypatch, tmp_path):
    return isolate_private_storage(monkeypatch, tmp_path)


def shown_version(response):
    return re.search(r'name="version" value="(\d+)"', response.content.decode()).group(1)


def page(response):
    return html.unescape(response.content.decode())


class TestParticipant:
    def test_the_second_save_is_refused_with_the_first_change_and_keeps_what_was_typed(
        self,
        client_of,
        animation,
        referent_a,
        followed,  # noqa: F811
    ):
        participant = followed[0].participant
        url = reverse("participant_edit", args=[participant.pk])
        birth = f"{participant.birth_date:%Y-%m-%d}"
        colleague, referent = client_of(animation), client_of(referent_a)
        started_from = shown_version(referent.get(url))
        assert shown_version(colleague.get(url)) == started_from

        data = participant_data(birth_date=birth, phone="06 11 22 33 44", version=started_from)
        assert colleague.post(url, data).status_code == 302

        data = participant_data(birth_date=birth, email="lea@exemple.fr", version=started_from)
        response = referent.post(url, data)
        assert response.status_code == 200
        text = page(response)
        assert "Quelqu’un a enregistré ce dossier pendant votre saisie" in text
        assert f"{animation} l’a modifié le" in text and "téléphone : 06 11 22 33 44" in text
        assert 'value="lea@exemple.fr"' in text, "what the referent typed is still in the form"
        participant.refresh_from_db()
        assert (participant.phone, participant.email) == ("06 11 22 33 44", "")

        # Saving again, knowing the other change, is a choice: the form now carries the current version.
        assert shown_version(response) == version_of(participant)
        data = participant_data(birth_date=birth, phone="06 11 22 33 44", email="lea@exemple.fr")
        data["version"] = shown_version(response)
        assert referent.post(url, data).status_code == 302
        participant.refresh_from_db()
        assert (participant.phone, participant.email) == ("06 11 22 33 44", "lea@exemple.fr")

    def test_a_save_from_the_current_version_goes_through(self, client_of, animation, followed):  # noqa: F811
        participant = followed[0].participant
        url = reverse("participant_edit", args=[participant.pk])
        client = client_of(animation)
        for phone in ("05 56 00 00 01", "05 56 00 00 02"):
            data = participant_data(birth_date=f"{participant.birth_date:%Y-%m-%d}", phone=phone)
            data["version"] = shown_version(client.get(url))
            assert client.post(url, data).status_code == 302
        participant.refresh_from_db()
        assert participant.phone == "05 56 00 00 02"


def test_a_parcours_changed_meanwhile_refuses_the_second_decision(client_of, animation, admin_user, followed):  # noqa: F811
    parcours = followed[0]
    url = reverse("parcours_reception", args=[parcours.pk])
    started_from = shown_version(client_of(admin_user).get(url))
    parcours.prescriber_detail = "Mission locale, antenne de Cestas"  # someone else changes the parcours
    parcours.save()
    response = client_of(admin_user).post(
        url, {"date": "2023-01-10", "kind": "entretien_accueil", "version": started_from}
    )
    assert response.status_code == 200
    assert "Quelqu’un a enregistré ce parcours pendant votre saisie" in page(response)


def test_a_fiche_operation_edited_meanwhile_is_not_overwritten(client_of, animation, admin_user, operation):
    url = reverse("operation_edit", args=[operation.pk])
    started_from = shown_version(client_of(admin_user).get(url))
    data = operation_data(operation, fse_ceiling="180000.00", version=started_from)
    assert client_of(animation).post(url, data).status_code == 302
    response = client_of(admin_user).post(url, operation_data(operation, fse_ceiling="150000.00", version=started_from))
    assert response.status_code == 200
    assert "Quelqu’un a enregistré cette fiche opération pendant votre saisie" in page(response)
    operation.refresh_from_db()
    assert str(operation.fse_ceiling) == "180000.00"


def test_a_step_edited_meanwhile_is_not_overwritten(client_of, animation, referent_a, plie, operation, admin_user):
    from steps.models import Step
    from tests.factories.participants import ParticipantFactory, make_parcours, profile
    from tests.factories.steps import make_grid
    from tests.steps.test_views import step_data

    make_grid(plie, by=admin_user)
    parcours = make_parcours(
        ParticipantFactory(plie=plie), "active", by=animation, operation=operation, referent=profile(referent_a)
    )
    assert client_of(referent_a).post(reverse("step_create", args=[parcours.pk]), step_data(plie)).status_code == 302
    step = Step.objects.get()
    url = reverse("step_edit", args=[step.pk])
    started_from = shown_version(client_of(referent_a).get(url))
    assert client_of(animation).post(url, step_data(plie, notes="Revu", version=started_from)).status_code == 302
    response = client_of(referent_a).post(url, step_data(plie, partner="Autre", version=started_from))
    assert response.status_code == 200
    assert "Quelqu’un a enregistré cette étape pendant votre saisie" in page(response) and "Revu" in page(response)
    step.refresh_from_db()
    assert (step.partner, step.notes) == ("Boulangerie du Bourg", "Revu")
