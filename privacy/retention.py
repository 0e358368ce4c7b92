"""How long a participant's file is kept (see SECURITY.md, « Durées de conservation »).

1. In use while the person is in contact with the PLIE.
2. Archived (intermediate archiving) when the last contact is more than two years old and no parcours is open:
   free text is purged, from the rows and from their history; identity, eligibility and proofs stay, for the FSE+
   audit; only the PLIE admin reads the file.
3. Anonymised the day after the FSE+ audit deadline of every operation that co-funded one of their parcours:
   identity replaced, birth date generalised (the age at each entry is kept, so that bilans give the same figures),
   justificatifs and their files deleted, history rows deleted.

Archiving is done for the person, not for one parcours: access is granted per person, and a person with a recent
parcours is still followed, with their whole file."""

import datetime
from dataclasses import dataclass, field

from dateutil.relativedelta import relativedelta
from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from participants.models import (
    OPEN_STATUSES,
    CommissionDecision,
    CommissionOutcome,
    Document,
    Entretien,
    Parcours,
    Participant,
    Participation,
    ReferentAssignment,
)
from participants.signals import person_forgotten
from plie.audit import save_as
from steps.models import Attendance, Step, Validation

ARCHIVE_AFTER = relativedelta(years=2)
PURGED = "Texte effacé à l’archivage."
ANONYMOUS_NAME = "Anonyme"


def archive_cutoff(today):
    """Last contact before this day: archived. Exactly two years ago is not yet more than two years."""
    return today - ARCHIVE_AFTER


def last_contacts(participants):
    """{participant pk: date of the last contact}: the latest of the parcours' dates (prescription, reception,
    commission, entry, job start, exit), entretiens (and the next appointment set), steps (start and end) and
    collective sessions attended; for a person without any of these, the creation of the file."""
    pks = list(participants.values_list("pk", flat=True))
    latest = {}

    def take(rows):
        for pk, *days in rows:
            for day in days:
                if isinstance(day, datetime.datetime):
                    day = timezone.localdate(day)
                if day and (pk not in latest or day > latest[pk]):
                    latest[pk] = day

    for rows in _contact_dates(pks):
        take(rows)
    # Without any parcours, the file's creation; not otherwise: an import of old files creates them today.
    take(Participant.objects.filter(pk__in=set(pks) - set(latest)).values_list("pk", "created_at"))
    return latest


def _contact_dates(pks):
    """(participant pk, date, date…) rows, one query per kind of contact."""
    yield (
        Parcours.objects.filter(participant__in=pks)
        .values("participant")
        .annotate(
            Max("prescription_date"),
            Max("reception_date"),
            Max("entry_date"),
            Max("job_start"),
            Max("exit_date"),
        )
        .values_list(
            "participant",
            "prescription_date__max",
            "reception_date__max",
            "entry_date__max",
            "job_start__max",
            "exit_date__max",
        )
    )
    yield (
        CommissionDecision.objects.filter(parcours__participant__in=pks)
        .values("parcours__participant")
        .annotate(last=Max("date"))
        .values_list("parcours__participant", "last")
    )
    yield (
        Entretien.objects.filter(participant__in=pks)
        .values("participant")
        .annotate(Max("date"), Max("next_appointment"))
        .values_list("participant", "date__max", "next_appointment__max")
    )
    yield (
        Step.objects.filter(parcours__participant__in=pks)
        .values("parcours__participant")
        .annotate(Max("start"), Max("end"))
        .values_list("parcours__participant", "start__max", "end__max")
    )
    yield (
        Attendance.objects.filter(participant__in=pks, present=True)
        .values("participant")
        .annotate(last=Max("session__date"))
        .values_list("participant", "last")
    )


def anonymisation_blocker(participant, today):
    """Why the person may not be anonymised on `today` (a French sentence), or None."""
    if participant.legal_hold:
        return "dossier gelé"
    operations = {p.operation for p in participant.parcours.all() if p.operation_id}
    for operation in sorted(operations, key=lambda o: o.code):
        if operation.legal_hold:
            return f"fiche {operation.code} gelée"
        if operation.audit_deadline is None:
            return f"fiche {operation.code} : date limite d’archivage inconnue"
        if not operation.proofs_may_be_destroyed_on(today):
            return f"fiche {operation.code} : pièces à conserver jusqu’au {operation.audit_deadline:%d/%m/%Y}"
    return None


@dataclass
class Plan:
    """What apply_retention does on `today`: people to archive, to anonymise, and those held back with why."""

    today: datetime.date
    to_archive: list = field(default_factory=list)
    to_anonymise: list = field(default_factory=list)
    open_without_contact: list = field(default_factory=list)  # an open parcours: the referent should record the exit
    held: list = field(default_factory=list)  # (participant, reason)
    prospects: list = field(default_factory=list)  # attendances of people never in a parcours, to forget


def plan(today, plie=None):
    people = Participant.objects.filter(anonymised_at__isnull=True).select_related("plie")
    if plie is not None:
        people = people.filter(plie=plie)
    people = people.prefetch_related("parcours__operation").order_by("plie__slug", "pk")
    contacts = last_contacts(people)
    cutoff = archive_cutoff(today)
    result = Plan(today=today)
    for person in people:
        archived = person.archived_at is not None
        if not archived:
            if contacts.get(person.pk, today) >= cutoff:
                continue
            if any(p.status in OPEN_STATUSES for p in person.parcours.all()):
                result.open_without_contact.append(person)
                continue
            if person.legal_hold:
                result.held.append((person, "dossier gelé"))
                continue
            result.to_archive.append(person)
        blocker = anonymisation_blocker(person, today)
        if blocker is None:
            result.to_anonymise.append(person)
        elif archived:
            result.held.append((person, blocker))
    result.prospects = list(prospects_to_forget(today, plie))
    return result


def prospects_to_forget(today, plie=None):
    """Prospects (invited to a session, never in a parcours) are kept as long as a file without contact: two years
    after the session. They are on no FSE+ clock, so their name and contact then go at once."""
    attendances = (
        Attendance.objects.filter(participant__isnull=True, session__date__lt=archive_cutoff(today))
        .exclude(prospect_name=ANONYMOUS_NAME, prospect_contact="")
        .select_related("session__plie")
        .order_by("pk")
    )
    return attendances.filter(session__plie=plie) if plie is not None else attendances


@transaction.atomic
def forget_prospects(attendances):
    pks = [attendance.pk for attendance in attendances]
    for queryset in (Attendance.objects.filter(pk__in=pks), Attendance.history.filter(id__in=pks)):
        queryset.update(prospect_name=ANONYMOUS_NAME, prospect_contact="")
    forget_admin_log(Attendance, pks)
    return len(pks)


def forget_admin_log(model, pks):
    """The Django admin's change log keeps each object's name (object_repr) and what was changed."""
    LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(model), object_id__in=[str(pk) for pk in pks]
    ).delete()


def forget_person_everywhere(participant):
    """Before anonymisation or deletion: the documents of other apps that name the person (the signal), and the admin
    log entries of every row about them. Returns how many stored documents went."""
    for model, queryset in person_rows(participant).items():
        forget_admin_log(model, list(queryset.values_list("pk", flat=True)))
    return sum(count or 0 for _, count in person_forgotten.send(sender=Participant, participant=participant))


def person_rows(participant):
    """{model: queryset} of every row about the person, the participant row itself included."""
    parcours = Parcours.objects.filter(participant=participant)
    return {
        Participant: Participant.objects.filter(pk=participant.pk),
        Parcours: parcours,
        CommissionDecision: CommissionDecision.objects.filter(parcours__in=parcours),
        ReferentAssignment: ReferentAssignment.objects.filter(parcours__in=parcours),
        Entretien: Entretien.objects.filter(participant=participant),
        Document: Document.objects.filter(participant=participant),
        Step: Step.objects.filter(parcours__in=parcours),
        Attendance: Attendance.objects.filter(participant=participant),
        Participation: Participation.objects.filter(participant=participant),
    }


def history_of(model, queryset):
    return model.history.filter(id__in=list(queryset.values_list("pk", flat=True)))


def _purge_free_text(participant):
    """Blanks every free text about the person, in the rows and in the copies simple-history keeps of them."""
    rows = person_rows(participant)
    blank = {
        Participant: {"other_criterion_detail": "", "email": "", "phone": "", "address": ""},
        Parcours: {"prescriber_detail": ""},
        Entretien: {"summary": ""},
        Step: {"notes": "", "partner": ""},
    }
    for model, values in blank.items():
        for queryset in (rows[model], history_of(model, rows[model])):
            queryset.update(**values)
    # A refusal keeps a reason (a database constraint): it says the text was removed.
    for queryset in (rows[CommissionDecision], history_of(CommissionDecision, rows[CommissionDecision])):
        queryset.filter(outcome=CommissionOutcome.ACCEPTED).update(reason="")
        queryset.exclude(outcome=CommissionOutcome.ACCEPTED).update(reason=PURGED)
    for queryset in (rows[Step], history_of(Step, rows[Step])):
        queryset.filter(validation=Validation.REFUSED).update(refusal_reason=PURGED)
        queryset.exclude(validation=Validation.REFUSED).update(refusal_reason="")
    # A file's original name often carries the person's name.
    for document in rows[Document]:
        name = f"justificatif-{document.pk}"
        Document.objects.filter(pk=document.pk).update(original_name=name)
        Document.history.filter(id=document.pk).update(original_name=name)


@transaction.atomic
def archive_participant(*, participant, by=None, now=None):
    """Moves the person to the archive: readable by the PLIE admin only, free text purged. `by` is None for the
    scheduled job."""
    if participant.legal_hold:
        raise ValueError("Dossier gelé : il n’est pas archivé.")
    if participant.archived_at is None:
        _purge_free_text(participant)
        participant.refresh_from_db()
        participant.archived_at, participant.archived_by = now or timezone.now(), by
        save_as(participant, by)
    return participant


def generalised_birth_date(participant):
    """A birth date that tells no more than the age at each entry in a parcours (what FSE+ indicators count):
    the earliest day giving those ages, or 1 January of the birth year for a person who never entered."""
    real = participant.birth_date
    entries = [p.entry_date for p in participant.parcours.all() if p.entry_date]
    if not entries:
        return datetime.date(real.year, 1, 1)
    ages = {day: participant.age_on(day) for day in entries}
    candidate = max(day - relativedelta(years=age + 1) + datetime.timedelta(days=1) for day, age in ages.items())
    probe = Participant(birth_date=candidate)
    while candidate < real and any(probe.age_on(day) != age for day, age in ages.items()):
        candidate += datetime.timedelta(days=1)  # around 29 February; the real date always fits
        probe.birth_date = candidate
    return candidate


def _delete_documents(participant):
    documents = list(Document.objects.filter(participant=participant))
    for document in documents:
        document.file.delete(save=False)
    Document.objects.filter(pk__in=[d.pk for d in documents]).delete()
    Document.history.filter(id__in=[d.pk for d in documents]).delete()  # the "-" records of the deletion too


@transaction.atomic
def anonymise_participant(*, participant, by=None, now=None):
    """Irreversible: what remains counts in bilans and says nothing about who the person was."""
    now = now or timezone.now()
    if participant.archived_at is None:
        archive_participant(participant=participant, by=by, now=now)
    participant.refresh_from_db()
    documents_forgotten = forget_person_everywhere(participant)
    birth_date = generalised_birth_date(participant)
    _delete_documents(participant)
    rows = person_rows(participant)
    for model in (Parcours, Entretien, Step):
        rows[model].update(external_id="")
    for model, queryset in rows.items():
        history_of(model, queryset).delete()
    participant.accesses.all().delete()
    participant.last_name, participant.first_name = ANONYMOUS_NAME, f"n° {participant.pk}"
    participant.birth_date = birth_date
    participant.external_id = participant.postal_code = ""
    participant.email = participant.phone = participant.address = participant.other_criterion_detail = ""
    participant.unemployed_since = None
    participant.anonymised_at = now
    save_as(participant, by)
    participant.documents_forgotten = documents_forgotten
    return participant
