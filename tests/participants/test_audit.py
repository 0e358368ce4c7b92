"""Who changed what (django-simple-history, with the user of the request) and who opened which file (FileAccess)."""

import datetime
import html

import pytest
from django.urls import reverse

from participants.models import Document, Entretien, FileAccess, Parcours, Participant
from tests.factories import ReferentFactory, ReferentPeriodFactory
from tests.factories.participants import (
    ParticipantFactory,
    isolate_private_storage,
    make_parcours,
    pdf,
    png,
    profile,
)

pytestmark = pytest.mark.django_db

D = datetime.date


@pytest.fixture(autouse=True)
def private_files(monkeypatch, tmp_path):
    return isolate_private_storage(monkeypatch, tmp_path)


@pytest.fixture
def followed(plie, operation, referent_a, animation):
    participant = ParticipantFactory(plie=plie, last_name="Durand", first_name="Léa", birth_date=D(1990, 6, 15))
    return make_parcours(participant, "active", by=animation, operation=operation, referent=profile(referent_a))


def history_page(client, participant):
    response = client.get(reverse("participant_history", args=[participant.pk]))
    assert response.status_code == 200
    return response, html.unescape(response.content.decode())


def edit(client, participant, **changes):
    data = {
        "last_name": participant.last_name,
        "first_name": participant.first_name,
        "sex": participant.sex,
        "birth_date": f"{participant.birth_date:%Y-%m-%d}",
        **changes,
    }
    return client.post(reverse("participant_edit", args=[participant.pk]), data)


class TestChangeHistory:
    def test_a_creation_through_the_web_is_signed_by_its_author(self, plie, client_of, animation):
        data = {"last_name": "Durand", "first_name": "Léa", "sex": "F", "birth_date": "1990-06-15"}
        assert client_of(animation).post(reverse("participant_create"), data).status_code == 302
        record = Participant.objects.get(plie=plie).history.get()
        assert (record.history_type, record.history_user) == ("+", animation)

    def test_an_edit_by_the_referent_is_signed_and_shown_to_the_team_with_the_fields_changed(
        self, client_of, animation, referent_a, followed
    ):
        participant = followed.participant
        assert edit(client_of(referent_a), participant, phone="05 56 00 00 00").status_code == 302
        record = participant.history.first()
        assert (record.history_type, record.history_user, record.phone) == ("~", referent_a, "05 56 00 00 00")
        _, page = history_page(client_of(animation), participant)
        assert f"{referent_a}" in page
        assert "Dossier — modification : téléphone" in page

    def test_workflow_steps_through_the_web_are_signed_by_who_acted(
        self, plie, client_of, animation, referent_a, followed
    ):
        client = client_of(referent_a)
        data = {"job_start": "2023-05-02", "contract_type": "cdi"}
        assert client.post(reverse("parcours_employment", args=[followed.pk]), data).status_code == 302
        record = Parcours.history.filter(id=followed.pk).first()
        assert (record.history_user, record.status, record.job_start) == (referent_a, "follow_up", D(2023, 5, 2))
        other = make_parcours(ParticipantFactory(plie=plie), "prescribed", by=animation)
        reception = {"date": "2023-01-10", "kind": "entretien_accueil"}
        assert client_of(animation).post(reverse("parcours_reception", args=[other.pk]), reception).status_code == 302
        assert Parcours.history.filter(id=other.pk).first().history_user == animation

    def test_an_entretien_and_its_sheet_are_signed_by_the_referent(self, client_of, animation, referent_a, followed):
        data = {"date": "2023-03-01", "modality": "physique", "summary": "Premier point.", "sheet": png()}
        response = client_of(referent_a).post(reverse("entretien_create", args=[followed.participant_id]), data)
        assert response.status_code == 302
        assert Entretien.history.get().history_user == referent_a
        assert Document.history.get().history_user == referent_a
        _, page = history_page(client_of(animation), followed.participant)
        assert "Entretien — création" in page and "Justificatif — création" in page

    def test_changes_made_outside_a_request_are_shown_as_import_or_system(self, client_of, animation, followed):
        _, page = history_page(client_of(animation), followed.participant)
        assert "(import ou système)" in page
        assert "Parcours — création" in page and "Parcours — modification : " in page

    def test_the_history_of_a_file_shows_nothing_of_another_person(self, plie, client_of, animation, followed):
        other = ParticipantFactory(plie=plie, last_name="Autre")
        assert edit(client_of(animation), other, phone="09 99 99 99 99").status_code == 302
        response, _ = history_page(client_of(animation), followed.participant)
        assert {change["record"].id for change in response.context["changes"] if change["what"] == "Dossier"} == {
            followed.participant_id
        }

    @pytest.mark.parametrize("persona", ["admin_user", "animation"])
    def test_the_whole_team_reads_the_history(self, request, client_of, followed, persona):
        history_page(client_of(request.getfixturevalue(persona)), followed.participant)


def test_a_reassignment_and_the_commission_decision_are_in_the_history_with_their_author(
    client_of, animation, referent_a, operation, followed
):
    colleague = ReferentFactory(plie=operation.plie, first_name="Inès", last_name="Garcia")
    ReferentPeriodFactory(referent=colleague, operation=operation)
    data = {"referent": colleague.pk, "on": "2023-09-01", "reason": "absence"}
    client = client_of(animation)
    assert client.post(reverse("parcours_assignment", args=[followed.pk]), data).status_code == 302
    response, page = history_page(client, followed.participant)
    assignments = [c for c in response.context["changes"] if c["what"] == "Affectation"]
    assert {(c["record"].history_type, c["record"].history_user) for c in assignments} >= {
        ("+", animation),
        ("~", animation),
    }
    assert "Décision de commission — création" in page


class TestFileAccesses:
    def test_each_opening_of_a_file_is_recorded_with_its_reader(self, client_of, animation, referent_a, followed):
        participant = followed.participant
        client_of(referent_a).get(participant.get_absolute_url())
        client_of(referent_a).get(participant.get_absolute_url())
        client_of(animation).get(participant.get_absolute_url())
        assert list(FileAccess.objects.order_by("pk").values_list("user", "what")) == [
            (referent_a.pk, "fiche"),
            (referent_a.pk, "fiche"),
            (animation.pk, "fiche"),
        ]

    def test_the_team_reads_the_openings_and_downloads_on_the_history_page(
        self, client_of, animation, referent_a, followed
    ):
        participant = followed.participant
        referent = client_of(referent_a)
        referent.post(reverse("document_create", args=[participant.pk]), {"kind": "piece_identite", "file": pdf()})
        referent.get(participant.get_absolute_url())
        download = referent.get(reverse("document_download", args=[Document.objects.get().pk]))
        b"".join(download.streaming_content)
        response, page = history_page(client_of(animation), participant)
        assert [(a.user, a.what) for a in response.context["accesses"]] == [
            (referent_a, "justificatif"),
            (referent_a, "fiche"),
        ]
        assert str(referent_a) in page and "justificatif" in page

    @pytest.mark.parametrize("persona", ["referent_b", "copil", "outsider"])
    def test_a_refused_opening_is_not_an_access(self, request, client_of, followed, persona):
        response = client_of(request.getfixturevalue(persona)).get(followed.participant.get_absolute_url())
        assert response.status_code == 404
        assert not FileAccess.objects.exists()

    def test_a_referent_may_not_read_who_opened_the_file(self, client_of, referent_a, followed):
        assert (
            client_of(referent_a).get(reverse("participant_history", args=[followed.participant_id])).status_code == 403
        )

    def test_the_accesses_of_a_file_are_not_those_of_another(self, plie, client_of, animation, followed):
        other = ParticipantFactory(plie=plie)
        client_of(animation).get(other.get_absolute_url())
        response, _ = history_page(client_of(animation), followed.participant)
        assert list(response.context["accesses"]) == []

    def test_the_history_page_query_count_does_not_grow_with_the_changes(
        self, client_of, animation, referent_a, followed, django_assert_max_num_queries
    ):
        participant = followed.participant
        referent, team = client_of(referent_a), client_of(animation)

        phones = (f"05 56 00 00 {i:02}" for i in range(100))

        def add(n):
            for _ in range(n):
                assert edit(referent, participant, phone=next(phones)).status_code == 302
                referent.get(participant.get_absolute_url())

        add(3)
        with django_assert_max_num_queries(13):
            team.get(reverse("participant_history", args=[participant.pk]))
        add(12)
        with django_assert_max_num_queries(13):
            response = team.get(reverse("participant_history", args=[participant.pk]))
        assert len([c for c in response.context["changes"] if c["what"] == "Dossier"]) == 16
