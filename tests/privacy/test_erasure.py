import datetime
import io
import json

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse

from participants.models import Document, ErasureRecord, Participant
from privacy.erasure import erase_participant, read_journal, restrict_participant
from tests.factories.participants import ParticipantFactory, add_document, make_parcours, pdf, profile

pytestmark = pytest.mark.django_db

BORN = datetime.date(1990, 7, 14)


def prospect(plie, by, **fields):
    """A person received but never entered in a co-funded parcours."""
    participant = ParticipantFactory(
        plie=plie, last_name="Lefèvre", first_name="Jean-Noël", birth_date=BORN, external_id="V-77", **fields
    )
    make_parcours(participant, "received", by=by)
    return participant


def bring_back(plie, by, **fields):
    """What restoring an older dump does: the person's rows are there again, as they were."""
    return prospect(plie, by, **fields)


def replay(*args):
    out = io.StringIO()
    call_command("replay_erasures", *args, "--json", stdout=out)
    return json.loads(out.getvalue())


def test_a_person_never_co_funded_is_erased_with_everything_about_them(plie, admin_user, animation):
    participant = prospect(plie, animation)
    pk = participant.pk
    add_document(participant.parcours.get(), by=animation)
    record = erase_participant(participant=participant, reason="Demande écrite du 03/02/2026", by=admin_user)
    assert not Participant.objects.filter(pk=pk).exists()
    assert not Participant.history.filter(id=pk).exists()
    assert not Document.history.filter(participant_id=pk).exists()
    assert (record.kind, record.by, record.plie) == ("erasure", admin_user, plie)


def test_the_journal_holds_no_personal_data(plie, admin_user, animation, erasure_journal):
    erase_participant(participant=prospect(plie, animation), reason="Demande écrite", by=admin_user)
    text = erasure_journal.read_text() + json.dumps(list(ErasureRecord.objects.values()), default=str)
    for personal in ("Lefèvre", "lefevre", "Jean", "1990", "V-77"):
        assert personal not in text
    assert len(read_journal()) == 1


def test_erasure_is_refused_while_the_fse_audit_deadline_has_not_passed(
    plie, operation, admin_user, animation, referent_a
):
    participant = ParticipantFactory(plie=plie)
    make_parcours(participant, "exited", by=animation, operation=operation, referent=profile(referent_a))
    operation.last_payment_year = 2025
    operation.save()
    with pytest.raises(ValidationError, match="31/12/2030"):
        erase_participant(participant=participant, reason="Demande", by=admin_user)
    assert not ErasureRecord.objects.exists()
    erase_participant(participant=participant, reason="Demande", by=admin_user, today=datetime.date(2031, 1, 1))
    participant.refresh_from_db()
    assert participant.anonymised_at and participant.parcours.count() == 1  # co-funded: anonymised, still counted


def test_a_legal_hold_refuses_the_erasure(plie, admin_user, animation):
    participant = prospect(plie, animation, legal_hold=True)
    with pytest.raises(ValidationError, match="gelé"):
        erase_participant(participant=participant, reason="Demande", by=admin_user)


def test_erasure_needs_a_reason(plie, admin_user, animation):
    with pytest.raises(ValidationError, match="motif"):
        erase_participant(participant=prospect(plie, animation), reason="  ", by=admin_user)


def test_an_erased_person_brought_back_by_a_restore_is_erased_again_by_the_replay(
    plie, admin_user, animation, erasure_journal
):
    erase_participant(participant=prospect(plie, animation), reason="Demande écrite", by=admin_user)
    ErasureRecord.objects.all().delete()  # the older dump had neither the person's erasure…
    back = bring_back(plie, animation)  # …nor their absence
    other = ParticipantFactory(plie=plie, last_name="Lefèvre", first_name="Anne", birth_date=BORN)

    dry = replay()
    assert dry["journal_entries_restored"] == 1
    assert dry["applied"] == [{"record": read_journal()[0]["uuid"], "participant": back.pk, "outcome": "deleted"}]
    assert Participant.objects.filter(pk=back.pk).exists() and not ErasureRecord.objects.exists()  # dry run

    replay("--apply")
    assert not Participant.objects.filter(pk=back.pk).exists()
    assert Participant.objects.filter(pk=other.pk).exists()
    assert ErasureRecord.objects.count() == 1  # the journal is whole again in the database
    assert replay("--apply")["applied"] == []


def test_the_replay_recognises_a_name_written_differently_or_the_viesion_identifier(plie, admin_user, animation):
    erase_participant(participant=prospect(plie, animation), reason="Demande", by=admin_user)
    spelled = ParticipantFactory(plie=plie, last_name="LEFEVRE", first_name="jean noel", birth_date=BORN)
    renamed = ParticipantFactory(plie=plie, last_name="Martin", first_name="Jean", external_id="V-77")
    elsewhere = ParticipantFactory(plie=ParticipantFactory().plie, last_name="Lefèvre", first_name="Jean-Noël")
    elsewhere.birth_date = BORN
    elsewhere.save()
    replay("--apply")
    assert not Participant.objects.filter(pk__in=[spelled.pk, renamed.pk]).exists()
    assert Participant.objects.filter(pk=elsewhere.pk).exists()  # another PLIE's person


def test_database_records_missing_from_the_file_are_written_to_it(plie, admin_user, animation, erasure_journal):
    erase_participant(participant=prospect(plie, animation), reason="Demande", by=admin_user)
    erasure_journal.unlink()
    replay("--apply")
    assert [line["uuid"] for line in read_journal()] == [str(ErasureRecord.objects.get().uuid)]


def test_a_restriction_hides_the_person_from_the_team_and_survives_a_restore(
    client_of, plie, operation, admin_user, animation, referent_a
):
    participant = ParticipantFactory(plie=plie, last_name="Lefèvre", first_name="Jean-Noël", birth_date=BORN)
    make_parcours(participant, "active", by=animation, operation=operation, referent=profile(referent_a))
    restrict_participant(participant=participant, reason="Contestation de l’exactitude", by=admin_user)
    for user in (animation, referent_a):
        assert client_of(user).get(reverse("participant_detail", args=[participant.pk])).status_code == 404
    assert client_of(admin_user).get(reverse("archive_detail", args=[participant.pk])).status_code == 200
    Participant.objects.filter(pk=participant.pk).update(restricted_at=None, restricted_by=None)  # an older dump
    assert replay("--apply")["applied"][0]["outcome"] == "restricted"
    participant.refresh_from_db()
    assert participant.restricted_at is not None


def test_the_admin_erases_from_the_participant_page_with_a_reason_and_a_confirmation(
    client_of, plie, admin_user, animation
):
    participant = prospect(plie, animation)
    url = reverse("participant_erase", args=[participant.pk])
    client = client_of(admin_user)
    assert client.get(url).status_code == 200
    response = client.post(url, {"reason": "Demande écrite"})
    assert response.status_code == 200 and Participant.objects.filter(pk=participant.pk).exists()  # not confirmed
    response = client.post(url, {"reason": "Demande écrite", "confirm": "on"})
    assert response.status_code == 302 and not Participant.objects.filter(pk=participant.pk).exists()


def test_the_page_says_why_an_erasure_is_refused(client_of, plie, operation, admin_user, animation, referent_a):
    participant = ParticipantFactory(plie=plie)
    make_parcours(participant, "active", by=animation, operation=operation, referent=profile(referent_a))
    response = client_of(admin_user).post(
        reverse("participant_erase", args=[participant.pk]), {"reason": "Demande", "confirm": "on"}
    )
    assert response.status_code == 200
    assert "cofinancé par le FSE+" in response.content.decode()
    assert Participant.objects.filter(pk=participant.pk).exists()


@pytest.mark.parametrize("name", ["participant_erase", "participant_restrict"])
@pytest.mark.parametrize(("persona", "status"), [("animation", 403), ("copil", 404), ("outsider", 404)])
def test_only_the_plie_admin_erases_or_restricts(request, client_of, plie, animation, name, persona, status):
    participant = prospect(plie, animation)
    client = client_of(request.getfixturevalue(persona))
    url = reverse(name, args=[participant.pk])
    assert client.post(url, {"reason": "Demande", "confirm": "on"}).status_code == status
    assert Participant.objects.get(pk=participant.pk).restricted_at is None


def test_an_uploaded_justificatif_file_is_deleted_with_the_person(
    client_of, plie, admin_user, animation, monkeypatch, tmp_path
):
    from tests.factories.participants import isolate_private_storage

    storage = isolate_private_storage(monkeypatch, tmp_path / "private")
    participant = prospect(plie, animation)
    client_of(animation).post(
        reverse("document_create", args=[participant.pk]), {"kind": "piece_identite", "file": pdf("identite.pdf")}
    )
    name = Document.objects.get(participant=participant).file.name
    assert storage.exists(name)
    erase_participant(participant=participant, reason="Demande", by=admin_user)
    assert not storage.exists(name)


def test_a_lifted_restriction_is_not_restored_by_a_backup_nor_replayed(plie, admin_user, animation):
    from participants.models import ErasureRecord, Participant
    from privacy.erasure import lift_restriction, replay_erasures, restrict_participant
    from tests.factories.participants import ParticipantFactory

    person = ParticipantFactory(plie=plie, last_name="Levée", first_name="Inès")
    restrict_participant(participant=person, reason="Contestation de l’exactitude", by=admin_user)
    restricted_at = Participant.objects.get(pk=person.pk).restricted_at
    person.refresh_from_db()
    lift_restriction(participant=person, reason="Données rectifiées, personne informée", by=admin_user)
    assert Participant.objects.get(pk=person.pk).restricted_at is None

    # A backup taken while the file was restricted, restored without the lift in the database.
    ErasureRecord.objects.filter(kind="lift").delete()
    Participant.objects.filter(pk=person.pk).update(restricted_at=restricted_at)
    summary = replay_erasures(apply=True)
    assert [a["outcome"] for a in summary["applied"]] == ["lifted"]
    assert Participant.objects.get(pk=person.pk).restricted_at is None
    assert replay_erasures(apply=True)["applied"] == []


def test_the_admin_lifts_a_restriction_from_the_archive(client_of, plie, admin_user, animation):
    from django.urls import reverse

    from privacy.erasure import restrict_participant
    from tests.factories.participants import ParticipantFactory

    person = ParticipantFactory(plie=plie, last_name="Levée", first_name="Inès")
    restrict_participant(participant=person, reason="Contestation", by=admin_user)
    client = client_of(admin_user)
    assert "Lever la limitation" in client.get(reverse("archive_detail", args=[person.pk])).content.decode()
    assert client_of(animation).get(reverse("participant_lift_restriction", args=[person.pk])).status_code == 404
    response = client.post(
        reverse("participant_lift_restriction", args=[person.pk]), {"reason": "Personne informée", "confirm": "on"}
    )
    assert response.status_code == 302 and response.url == person.get_absolute_url()
    assert client_of(animation).get(person.get_absolute_url()).status_code == 200
