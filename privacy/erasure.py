"""Erasure (GDPR art. 17) and restriction (art. 18) of one person, decided by the PLIE admin, and their journal.

Erasure where the law allows it: a person none of whose parcours was co-funded (never entered an operation) is
deleted with everything about them; a person whose parcours were co-funded is kept for the FSE+ audit (art. 17(3)(b):
a legal obligation) and may only be anonymised once every such operation's audit deadline has passed. A legal hold,
on the person or on an operation, refuses both.

Each decision is written to ErasureRecord and appended to ERASURE_JOURNAL_PATH (JSON lines, kept apart from the
database backups): after a restore, `replay_erasures` applies them again to the people the backup brought back."""

import datetime
import json
import uuid
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from participants.erasure import hashes_of
from participants.models import Document, ErasureKind, ErasureRecord, Participant
from plie.audit import save_as
from plie.models import Plie, User

from .retention import anonymisation_blocker, anonymise_participant, forget_person_everywhere, person_rows


def is_cofunded(participant):
    return participant.parcours.filter(operation__isnull=False).exists()


def _check_reason(reason):
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError("Indiquez le motif de la demande.", code="no_reason")
    return reason[:200]


def erasure_blocker(participant, today=None):
    """Why the person may not be erased today (a French sentence), or None."""
    today = today or timezone.localdate()
    if participant.anonymised_at:
        return "Ce dossier est déjà anonymisé."
    if participant.legal_hold:
        return "Ce dossier est gelé (contentieux en cours) : il ne peut pas être effacé."
    if is_cofunded(participant) and (blocker := anonymisation_blocker(participant, today)):
        return (
            "Le parcours de cette personne est cofinancé par le FSE+ : ses données doivent être conservées pour "
            f"le contrôle ({blocker}). Vous pouvez limiter leur traitement."
        )
    return None


def _record(*, participant, kind, reason, by):
    identity, external = hashes_of(participant)
    record = ErasureRecord.objects.create(
        plie=participant.plie,
        kind=kind,
        identity_hash=identity,
        external_id_hash=external,
        reason=reason,
        by=by,
    )
    append_to_journal(record)
    return record


def journal_line(record):
    return {
        "uuid": str(record.uuid),
        "plie": record.plie.slug,
        "kind": record.kind,
        "identity_hash": record.identity_hash,
        "external_id_hash": record.external_id_hash,
        "recorded_at": record.recorded_at.isoformat(),
        "reason": record.reason,
        "by": record.by.email if record.by else "",
    }


def append_to_journal(record):
    """Written inside the transaction: if the file cannot be written, nothing is erased. A line whose transaction
    then fails is harmless: replaying it does what was asked."""
    path = Path(settings.ERASURE_JOURNAL_PATH)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as journal:
        journal.write(json.dumps(journal_line(record), ensure_ascii=False) + "\n")
        journal.flush()


def read_journal():
    path = Path(settings.ERASURE_JOURNAL_PATH)
    if not path.exists():
        return []
    with path.open(encoding="utf-8") as journal:
        return [json.loads(line) for line in journal if line.strip()]


def _delete_person(participant):
    """Everything about a person who was never co-funded: rows, files, history, consultations, admin log entries and
    the stored documents of other apps that name them. Returns how many of those documents went."""
    documents_forgotten = forget_person_everywhere(participant)
    rows = person_rows(participant)
    for document in rows[Document]:
        document.file.delete(save=False)
    history = {model: list(queryset.values_list("pk", flat=True)) for model, queryset in rows.items()}
    participant.accesses.all().delete()
    for model in reversed(list(rows)):  # the rows pointing at others first, the participant last
        rows[model].delete()
    for model, pks in history.items():
        model.history.filter(id__in=pks).delete()  # including the "-" records the deletions just wrote
    return documents_forgotten


def apply_erasure(participant, *, by=None):
    """Anonymises a co-funded person, deletes anyone else. Returns ("anonymised" or "deleted", how many stored
    documents naming them were deleted)."""
    if is_cofunded(participant):
        return "anonymised", anonymise_participant(participant=participant, by=by).documents_forgotten
    return "deleted", _delete_person(participant)


@transaction.atomic
def erase_participant(*, participant, reason, by, today=None):
    reason = _check_reason(reason)
    if blocker := erasure_blocker(participant, today):
        raise ValidationError(blocker, code="erasure_refused")
    record = _record(participant=participant, kind=ErasureKind.ERASURE, reason=reason, by=by)
    _, record.documents_deleted = apply_erasure(participant, by=by)
    record.save(update_fields=["documents_deleted"])
    return record


@transaction.atomic
def set_legal_hold(*, participant, on, by):
    """A control or a dispute: while the hold is on, the file is neither archived, anonymised nor erased."""
    participant.legal_hold = on
    return save_as(participant, by)


@transaction.atomic
def restrict_participant(*, participant, reason, by):
    """Art. 18: the data are kept but no longer processed; the file leaves everyday work, the admin still reads it."""
    reason = _check_reason(reason)
    if participant.anonymised_at:
        raise ValidationError("Ce dossier est déjà anonymisé.", code="anonymised")
    if participant.restricted_at:
        raise ValidationError("Le traitement de ce dossier est déjà limité.", code="already_restricted")
    record = _record(participant=participant, kind=ErasureKind.RESTRICTION, reason=reason, by=by)
    participant.restricted_at, participant.restricted_by = timezone.now(), by
    save_as(participant, by)
    return record


@transaction.atomic
def lift_restriction(*, participant, reason, by):
    """Art. 18.3: the person is told, then their file comes back into everyday work. Journaled, so that a restore of
    a backup taken while it was restricted does not restrict it again."""
    reason = _check_reason(reason)
    if not participant.restricted_at:
        raise ValidationError("Le traitement de ce dossier n’est pas limité.", code="not_restricted")
    record = _record(participant=participant, kind=ErasureKind.LIFT, reason=reason, by=by)
    participant.restricted_at, participant.restricted_by = None, None
    save_as(participant, by)
    return record


def _record_of(line, plies):
    return ErasureRecord(
        uuid=uuid.UUID(line["uuid"]),
        plie=plies[line["plie"]],
        kind=line["kind"],
        identity_hash=line["identity_hash"],
        external_id_hash=line["external_id_hash"],
        recorded_at=datetime.datetime.fromisoformat(line["recorded_at"]),
        reason=line["reason"],
        by=User.objects.filter(email=line["by"]).first() if line["by"] else None,
    )


def journal_records(*, apply):
    """Every record of the database and of the file. With `apply`, the file's records missing from the database
    (a restore of an older dump) are saved again, and the database's records missing from the file appended to it.
    Returns (records, how many came back from the file)."""
    records = {str(r.uuid): r for r in ErasureRecord.objects.select_related("plie", "by")}
    in_file = read_journal()
    plies = {p.slug: p for p in Plie.objects.all()}
    restored = 0
    for line in in_file:
        if line["uuid"] in records or line["plie"] not in plies:
            continue
        record = _record_of(line, plies)
        if apply:
            record.save()
        records[line["uuid"]] = record
        restored += 1
    if apply:
        written = {line["uuid"] for line in in_file}
        for key, record in records.items():
            if key not in written:
                append_to_journal(record)
    return list(records.values()), restored


def matches(records, participants):
    """[(record, participant)] of the people a journal entry names, by identity or by Viesion identifier."""
    by_identity, by_external = {}, {}
    for record in records:
        by_identity.setdefault((record.plie_id, record.identity_hash), []).append(record)
        if record.external_id_hash:
            by_external.setdefault((record.plie_id, record.external_id_hash), []).append(record)
    found = []
    for participant in participants.select_related("plie"):
        identity, external = hashes_of(participant)
        named = by_identity.get((participant.plie_id, identity), [])
        named += [r for r in by_external.get((participant.plie_id, external), []) if r not in named]
        found += [(record, participant) for record in named]
    return found


def pending_replays(records):
    """[(record, participant)] still to apply: erasures of people present and not anonymised; for the others, the
    latest of their restrictions and lifts, when the file does not say so already. An erasure makes them moot."""
    found = matches(records, Participant.objects.filter(anonymised_at__isnull=True))
    erased = {p.pk for r, p in found if r.kind == ErasureKind.ERASURE}
    latest = {}
    for record, participant in found:
        if record.kind != ErasureKind.ERASURE:
            current = latest.get(participant.pk)
            if current is None or (record.recorded_at, record.pk or 0) > (current.recorded_at, current.pk or 0):
                latest[participant.pk] = record
    pending, seen = [], set()
    for record, participant in found:
        if record.kind != ErasureKind.ERASURE and (
            latest[participant.pk] is not record
            or participant.pk in erased
            or bool(participant.restricted_at) == (record.kind == ErasureKind.RESTRICTION)
        ):
            continue
        if (record.kind, participant.pk) in seen:  # asked twice: once is enough
            continue
        seen.add((record.kind, participant.pk))
        pending.append((record, participant))
    return pending


@transaction.atomic
def replay_erasures(*, apply):
    """After a restore: the journal made whole again, then each of its decisions applied again to the people the
    backup brought back. Without `apply`, says what it would do and writes nothing."""
    records, restored = journal_records(apply=apply)
    done = []
    for record, participant in pending_replays(records):
        if record.kind == ErasureKind.RESTRICTION:
            outcome = "restricted"
            if apply:
                participant.restricted_at, participant.restricted_by = record.recorded_at, record.by
                save_as(participant, None)
        elif record.kind == ErasureKind.LIFT:
            outcome = "lifted"
            if apply:
                participant.restricted_at, participant.restricted_by = None, None
                save_as(participant, None)
        elif apply:
            outcome, _ = apply_erasure(participant, by=None)
        else:
            outcome = "anonymised" if is_cofunded(participant) else "deleted"
        done.append({"record": str(record.uuid), "participant": participant.pk, "outcome": outcome})
    return {"journal_entries_restored": restored, "applied": done}
