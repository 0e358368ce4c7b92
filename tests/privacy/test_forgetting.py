"""Erasure and anonymisation reach what other apps keep about the person: stored bilans whose nominative annex names
them, the Django admin's change log; prospects (people invited to a session, never in a parcours) are forgotten on
the archive's clock."""

import datetime

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.files.base import ContentFile

from participants.models import ErasureRecord
from privacy.erasure import erase_participant
from reporting.models import BilanRequest
from steps.models import Attendance, CollectiveSession
from tests.factories.participants import ParticipantFactory, isolate_private_storage, make_parcours, profile
from tests.privacy.test_retention import DEADLINE, on

pytestmark = pytest.mark.django_db
D = datetime.date


@pytest.fixture
def storage(monkeypatch, tmp_path):
    storage = isolate_private_storage(monkeypatch, tmp_path)
    monkeypatch.setattr(BilanRequest._meta.get_field("file"), "storage", storage)
    return storage


def stored_bilan(operation, by, *, start, end, with_annex=True):
    bilan = BilanRequest.objects.create(
        plie=operation.plie,
        operation=operation,
        start=start,
        end=end,
        with_annex=with_annex,
        requested_by=by,
        status="done",
    )
    bilan.file.save("bilan.pdf", ContentFile(b"%PDF-1.4\n% Annexe : MOREAU Ines\n%%EOF\n"))
    return bilan


def admin_log_of(obj, by):
    return LogEntry.objects.create(
        user=by,
        content_type=ContentType.objects.get_for_model(obj),
        object_id=str(obj.pk),
        object_repr=str(obj),
        action_flag=CHANGE,
        change_message="Nom corrigé",
    )


@pytest.fixture
def person(plie, operation, animation, referent_a):
    """Inès Moreau, in a parcours on FO1 from 01/02/2023 to 30/06/2023; last FSE+ payment in 2025."""
    operation.last_payment_year = 2025
    operation.save()
    return make_parcours(
        ParticipantFactory(plie=plie, last_name="Moreau", first_name="Inès"),
        "exited",
        by=animation,
        operation=operation,
        referent=profile(referent_a),
    ).participant


def test_erasure_deletes_the_stored_bilans_whose_annex_names_the_person_and_says_so(
    storage, person, operation, admin_user, animation
):
    naming = stored_bilan(operation, animation, start=D(2023, 1, 1), end=D(2023, 12, 31))
    without_annex = stored_bilan(operation, animation, start=D(2023, 1, 1), end=D(2023, 12, 31), with_annex=False)
    before = stored_bilan(operation, animation, start=D(2023, 1, 1), end=D(2023, 1, 31))  # before their entry
    path = naming.file.name
    record = erase_participant(participant=person, reason="Demande écrite", by=admin_user, today=D(2031, 1, 1))
    assert set(BilanRequest.objects.values_list("pk", flat=True)) == {without_annex.pk, before.pk}
    assert not storage.exists(path)
    assert ErasureRecord.objects.get(pk=record.pk).documents_deleted == 1


def test_anonymisation_by_the_retention_job_deletes_them_too(storage, person, operation, animation):
    stored_bilan(operation, animation, start=D(2023, 1, 1), end=D(2023, 12, 31))
    summary = on(DEADLINE + datetime.timedelta(days=1), "--apply")
    assert summary["anonymised"] == [{"id": person.pk, "plie": person.plie.slug}]
    assert summary["bilans_deleted"] == 1
    assert not BilanRequest.objects.exists()


def test_the_admin_change_log_forgets_the_person_with_their_file(storage, person, admin_user):
    parcours = person.parcours.get()
    admin_log_of(person, admin_user)
    admin_log_of(parcours, admin_user)
    other = admin_log_of(ParticipantFactory(plie=person.plie, last_name="Autre"), admin_user)
    erase_participant(participant=person, reason="Demande écrite", by=admin_user, today=D(2031, 1, 1))
    assert list(LogEntry.objects.all()) == [other]


def test_the_admin_change_log_forgets_a_deleted_person(plie, admin_user, animation):
    person = ParticipantFactory(plie=plie, last_name="Lefèvre")
    make_parcours(person, "received", by=animation)
    admin_log_of(person, admin_user)
    erase_participant(participant=person, reason="Demande écrite", by=admin_user)
    assert not LogEntry.objects.exists()


def test_prospects_are_forgotten_two_years_after_their_session(plie, admin_user):
    old = CollectiveSession.objects.create(plie=plie, theme="Information collective", date=D(2023, 3, 1))
    recent = CollectiveSession.objects.create(plie=plie, theme="Information collective", date=D(2024, 9, 1))
    gone = Attendance.objects.create(session=old, prospect_name="Karim Benzaoui", prospect_contact="06 12 34 56 78")
    kept = Attendance.objects.create(session=recent, prospect_name="Lucie Martin", prospect_contact="06 98 76 54 32")
    admin_log_of(gone, admin_user)
    assert on(D(2025, 6, 1))["prospects_forgotten"] == 1  # simulation
    assert Attendance.objects.get(pk=gone.pk).prospect_name == "Karim Benzaoui"
    on(D(2025, 6, 1), "--apply")
    gone.refresh_from_db()
    kept.refresh_from_db()
    assert (gone.prospect_name, gone.prospect_contact) == ("Anonyme", "")
    assert not Attendance.history.filter(prospect_name="Karim Benzaoui").exists()
    assert not Attendance.history.filter(prospect_contact="06 12 34 56 78").exists()
    assert (kept.prospect_name, kept.prospect_contact) == ("Lucie Martin", "06 98 76 54 32")
    assert not LogEntry.objects.exists()
    assert on(D(2025, 6, 1), "--apply")["prospects_forgotten"] == 0  # done once
