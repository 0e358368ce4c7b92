import datetime
import io
import json

import pytest
from django.core.management import call_command
from django.urls import reverse

from operations.models import Operation
from participants import services
from participants.models import Document, Entretien, FileAccess, Parcours, Participant
from privacy.retention import PURGED, generalised_birth_date, last_contacts
from reporting.indicators import compute_bilan
from steps.models import Step
from tests.factories.participants import (
    EXIT_ON,
    FOLLOW_UP_ENDS,
    ParticipantFactory,
    add_entretien,
    isolate_private_storage,
    make_parcours,
    profile,
    reason,
)
from tests.factories.steps import submitted_step

pytestmark = pytest.mark.django_db

D = datetime.date
TWO_YEARS_AFTER_EXIT = D(2025, 6, 30)  # the exit of make_parcours is on 30/06/2023
DEADLINE = D(2030, 12, 31)  # last payment in 2025


def retention(*args):
    out = io.StringIO()
    call_command("apply_retention", *args, "--json", stdout=out)
    return json.loads(out.getvalue())


def on(day, *args):
    return retention("--today", day.isoformat(), *args)


@pytest.fixture
def paid_operation(operation):
    operation.last_payment_year = 2025
    operation.save()
    return operation


@pytest.fixture
def storage(monkeypatch, tmp_path):
    return isolate_private_storage(monkeypatch, tmp_path)


@pytest.fixture
def exited(plie, paid_operation, referent_a, animation, storage):
    """Inès Moreau, born 12/04/1985, in a parcours from 01/02/2023 to 30/06/2023, with notes, a step and its proofs."""
    participant = ParticipantFactory(
        plie=plie,
        last_name="Moreau",
        first_name="Inès",
        email="ines.moreau@example.fr",
        other_criterion=True,
        other_criterion_detail="Sortie de détention",
    )
    parcours = make_parcours(
        participant, "follow_up", by=animation, operation=paid_operation, referent=profile(referent_a)
    )
    Parcours.objects.filter(pk=parcours.pk).update(prescriber_detail="Mme Durand, conseillère")
    add_entretien(parcours, D(2023, 3, 1), summary="Évoque ses dettes et sa santé.")
    submitted_step(parcours, by=referent_a, notes="Très motivée malgré sa situation familiale.")
    parcours.refresh_from_db()
    services.record_exit(parcours=parcours, exit_date=EXIT_ON, reason=reason(plie), by=animation)
    services.validate_exit(parcours=parcours, by=animation, today=FOLLOW_UP_ENDS)
    return participant


def test_the_audit_deadline_is_31_december_five_years_after_the_last_payment(paid_operation):
    assert paid_operation.audit_deadline == DEADLINE
    assert paid_operation.history.latest().audit_deadline == DEADLINE
    assert not paid_operation.proofs_may_be_destroyed_on(DEADLINE)
    assert paid_operation.proofs_may_be_destroyed_on(DEADLINE + datetime.timedelta(days=1))


def test_the_last_contact_is_the_latest_date_of_the_parcours_entretiens_and_steps(exited):
    assert last_contacts(Participant.objects.filter(pk=exited.pk)) == {exited.pk: EXIT_ON}
    add_entretien(exited.parcours.get(), D(2023, 9, 1))
    assert last_contacts(Participant.objects.filter(pk=exited.pk)) == {exited.pk: D(2023, 9, 1)}
    Step.objects.filter(parcours__participant=exited).update(end=D(2023, 10, 3))
    assert last_contacts(Participant.objects.filter(pk=exited.pk)) == {exited.pk: D(2023, 10, 3)}


def test_a_person_last_seen_exactly_two_years_ago_is_not_archived(exited):
    assert on(TWO_YEARS_AFTER_EXIT, "--apply")["archived"] == []
    exited.refresh_from_db()
    assert exited.archived_at is None


def test_a_person_last_seen_two_years_and_one_day_ago_is_archived_by_the_job(exited):
    summary = on(TWO_YEARS_AFTER_EXIT + datetime.timedelta(days=1), "--apply")
    assert summary["archived"] == [{"id": exited.pk, "plie": "pessac"}] and summary["anonymised"] == []
    exited.refresh_from_db()
    assert exited.archived_at is not None and exited.archived_by is None
    assert exited.last_name == "Moreau"  # archived, not anonymised: kept for the FSE+ audit


def test_the_dry_run_lists_what_it_would_do_and_writes_nothing(exited):
    before = {model: list(model.history.values()) for model in (Participant, Parcours, Entretien, Step, Document)}
    summary = on(D(2031, 1, 1))
    assert summary["applied"] is False
    assert summary["archived"] == summary["anonymised"] == [{"id": exited.pk, "plie": "pessac"}]
    after = {model: list(model.history.values()) for model in before}
    assert before == after
    exited.refresh_from_db()
    assert (exited.archived_at, exited.anonymised_at, exited.last_name) == (None, None, "Moreau")


def test_the_readable_summary_is_in_french(exited):
    out = io.StringIO()
    call_command("apply_retention", "--today", "2025-07-01", stdout=out)
    assert "Simulation" in out.getvalue() and "1 dossier(s) à archiver." in out.getvalue()


def test_archiving_purges_free_text_from_the_rows_and_from_their_history(exited):
    on(D(2025, 7, 1), "--apply")
    exited.refresh_from_db()
    parcours = exited.parcours.get()
    assert (exited.other_criterion_detail, exited.email, parcours.prescriber_detail) == ("", "", "")
    assert exited.other_criterion  # the criterion itself counts in bilans
    assert Entretien.objects.get(participant=exited).summary == ""
    assert Step.objects.get(parcours=parcours).notes == ""
    histories = [
        *Participant.history.filter(id=exited.pk).values(),
        *Parcours.history.filter(id=parcours.pk).values(),
        *Entretien.history.filter(participant_id=exited.pk).values(),
        *Step.history.filter(parcours_id=parcours.pk).values(),
        *Document.history.filter(participant_id=exited.pk).values(),
    ]
    text = json.dumps(histories, default=str)
    for secret in ("détention", "ines.moreau", "Durand", "dettes", "motivée", "convention.pdf"):
        assert secret not in text, secret
    assert Document.objects.filter(participant=exited).count() == 2  # proofs are kept until the deadline


def test_a_refusal_keeps_a_reason_saying_the_text_was_removed(plie, animation):
    participant = ParticipantFactory(plie=plie)
    parcours = make_parcours(participant, "refused", by=animation)
    on(D(2025, 1, 21), "--apply")
    assert parcours.decisions.get().reason == PURGED


def test_an_open_parcours_without_contact_is_reported_not_archived(plie, operation, referent_a, animation):
    participant = ParticipantFactory(plie=plie)
    make_parcours(participant, "active", by=animation, operation=operation, referent=profile(referent_a))
    summary = on(D(2026, 1, 1), "--apply")
    assert summary["archived"] == [] and summary["open_without_contact"] == [{"id": participant.pk, "plie": "pessac"}]


@pytest.mark.parametrize("persona", ["animation", "referent_a", "copil"])
def test_an_archived_person_is_not_found_by_the_team(request, client_of, exited, persona):
    on(D(2025, 7, 1), "--apply")
    client = client_of(request.getfixturevalue(persona))
    assert client.get(reverse("participant_detail", args=[exited.pk])).status_code == 404
    assert client.get(reverse("archive_detail", args=[exited.pk])).status_code == 404
    if persona != "copil":
        page = client.post(reverse("participant_list"), {"q": "Moreau"}).content.decode()
        assert "Aucun participant ne correspond" in page


def test_the_admin_reads_an_archived_person_in_the_archive_only(client_of, admin_user, exited):
    on(D(2025, 7, 1), "--apply")
    client = client_of(admin_user)
    assert client.get(reverse("participant_detail", args=[exited.pk])).status_code == 404  # no everyday work on it
    page = client.get(reverse("archive_list")).content.decode()
    assert "MOREAU Inès" in page
    assert client.get(reverse("archive_detail", args=[exited.pk])).status_code == 200
    assert FileAccess.objects.filter(participant=exited, user=admin_user, what="archive").exists()
    assert client.get(reverse("participant_export", args=[exited.pk])).status_code == 200


def test_an_archived_person_is_not_named_in_the_figures_behind_the_dashboard(client_of, animation, exited):
    on(D(2025, 7, 1), "--apply")
    operation = exited.parcours.get().operation
    url = reverse("behind_figure", args=["participants_accompagnes"])
    page = client_of(animation).get(f"{url}?operation={operation.pk}").content.decode()
    assert "Dossier archivé" in page and "Moreau" not in page


def test_an_archived_person_is_anonymised_the_day_after_the_deadline_not_on_it(exited):
    on(D(2025, 7, 1), "--apply")
    assert on(DEADLINE, "--apply")["anonymised"] == []
    exited.refresh_from_db()
    assert exited.anonymised_at is None
    assert on(DEADLINE + datetime.timedelta(days=1), "--apply")["anonymised"] == [{"id": exited.pk, "plie": "pessac"}]
    exited.refresh_from_db()
    assert exited.anonymised_at is not None and exited.last_name == "Anonyme"


@pytest.mark.parametrize("hold_on", ["operation", "participant"])
def test_a_legal_hold_keeps_the_person_from_anonymisation(exited, paid_operation, hold_on):
    on(D(2025, 7, 1), "--apply")
    held = paid_operation if hold_on == "operation" else Participant.objects.get(pk=exited.pk)
    held.legal_hold = True
    held.save()
    summary = on(D(2040, 1, 1), "--apply")
    assert summary["anonymised"] == [] and summary["held"][0]["id"] == exited.pk
    exited.refresh_from_db()
    assert exited.anonymised_at is None and exited.last_name == "Moreau"


def test_an_unknown_deadline_keeps_the_person_from_anonymisation(exited, paid_operation):
    Operation.objects.filter(pk=paid_operation.pk).update(last_payment_year=None, audit_deadline=None)
    summary = on(D(2040, 1, 1), "--apply")
    assert summary["archived"] == [{"id": exited.pk, "plie": "pessac"}] and summary["anonymised"] == []
    summary = on(D(2040, 1, 1), "--apply")
    assert summary["held"] == [
        {"id": exited.pk, "plie": "pessac", "reason": "fiche FO1 : date limite d’archivage inconnue"}
    ]


def test_anonymisation_keeps_the_bilan_figures_and_removes_who_the_person_was(exited, paid_operation, storage):
    year = (D(2023, 1, 1), D(2023, 12, 31))
    bilan = compute_bilan(paid_operation, *year)
    assert bilan["fse"]["participations"] == 1
    files = [d.file.name for d in Document.objects.filter(participant=exited)]
    assert files and all(storage.exists(name) for name in files)

    on(D(2031, 1, 1), "--apply")

    assert compute_bilan(paid_operation, *year) == bilan
    exited.refresh_from_db()
    assert (exited.last_name, exited.first_name) == ("Anonyme", f"n° {exited.pk}")
    assert exited.age_on(exited.parcours.get().entry_date) == 37 and exited.birth_date != D(1985, 4, 12)
    assert not Document.objects.filter(participant=exited).exists()
    assert not any(storage.exists(name) for name in files)
    assert not FileAccess.objects.filter(participant=exited).exists()
    records = Participant.history.filter(id=exited.pk)
    assert records.count() == 1 and records.get().last_name == "Anonyme"
    assert not Document.history.filter(participant_id=exited.pk).exists()
    assert Parcours.objects.filter(participant=exited).count() == 1  # counted, with its dates


def test_the_generalised_birth_date_keeps_the_age_at_every_entry_and_nothing_more(exited, paid_operation, referent_a):
    second = make_parcours(
        exited,
        "active",
        by=referent_a,
        operation=paid_operation,
        referent=profile(referent_a),
        prescribed_on=D(2023, 8, 1),
        received_on=D(2023, 8, 2),
        commission_on=D(2023, 8, 3),
        entry_on=D(2023, 8, 4),
    )
    assert [exited.age_on(p.entry_date) for p in exited.parcours.order_by("entry_date")] == [37, 38]
    generalised = generalised_birth_date(exited)
    assert generalised == D(1985, 2, 2)  # the earliest birthday giving 37 on 01/02/2023 and 38 on 04/08/2023
    assert Participant(birth_date=generalised).age_on(second.entry_date) == 38


def test_a_person_who_never_entered_keeps_only_the_year_of_birth(plie, animation):
    participant = ParticipantFactory(plie=plie, birth_date=D(1988, 2, 29))
    make_parcours(participant, "accepted", by=animation)
    assert generalised_birth_date(participant) == D(1988, 1, 1)


def test_a_person_never_entered_is_anonymised_with_the_archiving(plie, animation):
    participant = ParticipantFactory(plie=plie, last_name="Prospect")
    make_parcours(participant, "received", by=animation)
    summary = on(D(2025, 1, 11), "--apply")
    assert summary["archived"] == summary["anonymised"] == [{"id": participant.pk, "plie": "pessac"}]


def test_the_archive_list_costs_the_same_queries_for_one_or_many_files(
    client_of, plie, admin_user, django_assert_max_num_queries
):
    from django.utils import timezone

    from tests.factories.participants import ParticipantFactory

    client = client_of(admin_user)
    for count in (1, 20):
        ParticipantFactory.create_batch(count, plie=plie, archived_at=timezone.now())
        with django_assert_max_num_queries(8):
            assert client.get(reverse("archive_list")).status_code == 200
