"""FSE+ participations (shared/spec/fse.md): one row per (participant, fiche opération), derived from attribution.

`sync_participations` is the one writer of their dates. It runs after every write that moves attribution (parcours,
assignments, ETP periods, fiches: see `apps.ParticipantsConfig.ready`; imports call it themselves) and nightly
(`manage.py sync_participations`). `record_exit_situations` and `correct_entry_situation` are the team's writes.
"""

import contextlib
import contextvars
from types import SimpleNamespace

from dateutil.relativedelta import relativedelta
from django.db import transaction
from django.db.models import Exists, F, OuterRef
from django.utils import timezone
from simple_history.utils import bulk_update_with_history

from operations.models import FseResult, Operation
from plie import bulk, dataversion

from . import attribution
from .models import ISCED_BANDS, Answer, Education, EmploymentStatus, Parcours, Participant, Participation

SITUATION_FIELDS = [
    "sex",
    "age_at_entry",
    "employment_status",
    "unemployed_since",
    "long_term_unemployed",
    "education",
    "disability",
    "nationality",
    "foreign_background",
    "homeless",
    "commune_id",
]
DATE_FIELDS = ["entry_date", "last_day", "referent_id"]
SYNC_REASON = "Attribution recalculée"
# What situation_of reads of a participant.
PERSON_FIELDS = [
    "birth_date",
    "qualification_declined",
    "qualification_level",
    "sex",
    "employment_status",
    "unemployed_since",
    "disability",
    "nationality",
    "foreign_background",
    "homeless",
    "commune_id",
]


def long_term_unemployed(status, since, entry_date, age):
    """EECO03: unemployed for more than 12 months on the entry date (6 months under 25); None when not known."""
    if status != EmploymentStatus.UNEMPLOYED:
        return None if status in ("", EmploymentStatus.DECLINED) else False
    if since is None:
        return None
    return entry_date > since + relativedelta(months=6 if age < 25 else 12)


def situation_of(participant, entry_date):
    """The entry situation of a participation starting on `entry_date`, from the participant's questionnaire."""
    age = participant.age_on(entry_date)
    education = (
        Education.DECLINED
        if participant.qualification_declined
        else ISCED_BANDS.get(participant.qualification_level, "")
    )
    return {
        "sex": participant.sex,
        "age_at_entry": age,
        "employment_status": participant.employment_status,
        "unemployed_since": participant.unemployed_since,
        "long_term_unemployed": long_term_unemployed(
            participant.employment_status, participant.unemployed_since, entry_date, age
        ),
        "education": education,
        "disability": participant.disability,
        "nationality": participant.nationality,
        "foreign_background": participant.foreign_background,
        "homeless": participant.homeless,
        "commune_id": participant.commune_id,
    }


def _operations(plie_id, participant_ids):
    """{id: fiche} of the fiches that may give the people days, with their `same_fiche_ids` from the same read. For
    some people only, the fiches that none of their parcours overlaps are left out: they would give no segment, and
    a PLIE keeps its fiches year after year, each costing two queries at every save of a parcours."""
    fiches = Operation.objects.filter(plie_id=plie_id)
    if participant_ids is not None:
        overlapping = Parcours.objects.filter(
            attribution.overlaps("", OuterRef("start"), OuterRef("end"), "entry_date", "exit_date"),
            participant_id__in=participant_ids,
        )
        fiches = fiches.annotate(attributable=Exists(overlapping))
    fiches = Operation.share_same_fiche_ids(list(fiches))
    return {fiche.pk: fiche for fiche in fiches if getattr(fiche, "attributable", True)}


def _existing(plie_id, participant_ids):
    """{(participant_id, operation_id): participation} of the PLIE (or of `participant_ids`)."""
    existing = Participation.objects.filter(operation__plie_id=plie_id)
    if participant_ids is not None:
        existing = existing.filter(participant_id__in=participant_ids)
    return {(p.participant_id, p.operation_id): p for p in existing}


def _attributed(operations, participant_ids):
    """{(participant_id, operation_id): [entry, last day, referent of the last day]} from the segments."""
    found = {}
    for operation in operations:
        rows = attribution.segments(operation, operation.start, operation.end)
        if participant_ids is not None:
            rows = rows.filter(participant_id__in=participant_ids)
        rows = rows.annotate(first=F("seg_start"), last=F("seg_end"))
        for participant_id, referent_id, first, last in rows.values_list(
            "participant_id", "referent_id", "first", "last"
        ):
            dates = found.setdefault((participant_id, operation.pk), [first, last, referent_id])
            dates[0] = min(dates[0], first)
            if last >= dates[1]:
                dates[1], dates[2] = last, referent_id
    return found


class _Person(SimpleNamespace):
    """What situation_of reads of a participant, age_on included: a model instance per person was a third of the
    sync of a first import's hundred thousand people."""

    age_on = Participant.age_on


def _people(plie_id, participant_ids, wanted):
    """{id: person} of `wanted`, with what situation_of reads. By PLIE rather than by a list of ids when the whole
    PLIE is synced: a first import attributes a hundred thousand people at once."""
    if not wanted:
        return {}
    people = Participant.objects.filter(plie_id=plie_id)
    if participant_ids is not None:
        people = people.filter(pk__in=participant_ids)
    people = {row["id"]: _Person(**row) for row in people.values("id", *PERSON_FIELDS)}
    if missing := wanted - people.keys():
        others = Participant.objects.filter(pk__in=missing).values("id", *PERSON_FIELDS)
        people.update({row["id"]: _Person(**row) for row in others})
    return people


@transaction.atomic
def sync_participations(plie_id, *, participant_ids=None, today=None, by=None):
    """Creates, moves and deletes the PLIE's participations (or those of `participant_ids`) to match attribution.
    The entry situation follows the participant's questionnaire while the fiche runs and was not corrected by hand;
    after the fiche's end it stays as it was. Returns (created, updated, deleted)."""
    today = today or timezone.localdate()
    operations = _operations(plie_id, participant_ids)
    found = _attributed(operations.values(), participant_ids)
    existing = _existing(plie_id, participant_ids)
    people = _people(plie_id, participant_ids, {participant_id for participant_id, _ in found})

    created, updated = [], []
    for key, (entry, last, referent_id) in found.items():
        participation = existing.pop(key, None)
        participant, operation = people[key[0]], operations[key[1]]
        if participation is None:
            created.append(
                {
                    "participant_id": key[0],
                    "operation_id": key[1],
                    "entry_date": entry,
                    "last_day": last,
                    "referent_id": referent_id,
                    **situation_of(participant, entry),
                }
            )
            continue
        before = [getattr(participation, name) for name in DATE_FIELDS + SITUATION_FIELDS]
        entry_moved = participation.entry_date != entry
        participation.entry_date, participation.last_day, participation.referent_id = entry, last, referent_id
        if operation.end >= today and participation.situation_corrected_by_id is None:
            situation = situation_of(participant, entry)
        elif not entry_moved:
            situation = {}
        else:
            age = participant.age_on(entry)
            situation = {
                "age_at_entry": age,
                "long_term_unemployed": long_term_unemployed(
                    participation.employment_status, participation.unemployed_since, entry, age
                ),
            }
        for name, value in situation.items():
            setattr(participation, name, value)
        if before != [getattr(participation, name) for name in DATE_FIELDS + SITUATION_FIELDS]:
            updated.append(participation)
    # COPY with the history: a first import makes one participation per parcours, hundreds of thousands at once.
    bulk.create(Participation, created, by=by, reason=SYNC_REASON)
    if updated:
        bulk_update_with_history(
            updated, Participation, DATE_FIELDS + SITUATION_FIELDS, default_user=by, default_change_reason=SYNC_REASON
        )
    for participation in existing.values():
        participation._change_reason = "Plus aucun jour attribué à l’opération"
        participation.delete()
    if created or updated:
        dataversion.bump(plie_id)  # bulk writes send no signal (a deletion sends its own)
    return len(created), len(updated), len(existing)


# --- Keeping participations in step with the writes that move attribution -------------------------------------------

_deferred = contextvars.ContextVar("participations_deferred", default=None)


@contextlib.contextmanager
def deferred():
    """Inside this block, syncs asked for are collected and run once at its end (the demo, bulk writes)."""
    if _deferred.get() is not None:
        yield
        return
    pending = {}
    token = _deferred.set(pending)
    try:
        yield
    finally:
        _deferred.reset(token)
    for plie_id, participant_ids in pending.items():
        sync_participations(plie_id, participant_ids=participant_ids)


def resync(plie_id, participant_ids=None):
    """Asks for a sync of some participants (or of the whole PLIE when `participant_ids` is None)."""
    if participant_ids is not None and not participant_ids:
        return
    pending = _deferred.get()
    if pending is None:
        sync_participations(plie_id, participant_ids=None if participant_ids is None else list(participant_ids))
    elif participant_ids is None or pending.get(plie_id, set()) is None:
        pending[plie_id] = None
    else:
        pending.setdefault(plie_id, set()).update(participant_ids)


# --- The team's writes -----------------------------------------------------------------------------------------------

SUGGESTED_BY_RESULT = {
    FseResult.EMPLOYMENT: "exit_employment",
    FseResult.TRAINING: "exit_training",
    FseResult.QUALIFICATION: "exit_qualification",
    FseResult.JOB_SEARCHING: "exit_job_searching",
}


def ended_parcours(participation):
    """The parcours that left the PLIE on the participation's last day, if any (from the prefetched parcours)."""
    return next((p for p in participation.participant.parcours.all() if p.exit_date == participation.last_day), None)


def suggested_exit_situation(participation):
    """What the exit reason of the parcours that ended on the participation's last day suggests; for a person who
    stays in the PLIE after the fiche's end (« sortie d’opération »), nothing: the team says what is true."""
    parcours = ended_parcours(participation)
    answers = dict.fromkeys(Participation.EXIT_FIELDS, "")
    if parcours is None or parcours.exit_reason is None:
        return answers
    answers = dict.fromkeys(Participation.EXIT_FIELDS, Answer.NO)
    field = SUGGESTED_BY_RESULT.get(parcours.exit_reason.fse_result)
    if field:
        answers[field] = Answer.YES
    return answers


@transaction.atomic
def record_exit_situations(*, answers, by):
    """Records the exit situations of participations: {participation: {field: Answer}}. Audited with the actor."""
    now = timezone.now()
    for participation, values in answers.items():
        for field in Participation.EXIT_FIELDS:
            setattr(participation, field, values.get(field, ""))
        participation.exit_recorded_at, participation.exit_recorded_by = now, by
        participation._history_user = by
        participation._change_reason = "Situation de sortie de l’opération"
        participation.save(update_fields=[*Participation.EXIT_FIELDS, "exit_recorded_at", "exit_recorded_by"])


@transaction.atomic
def correct_entry_situation(*, participation, values, reason, by):
    """A correction of a participation's frozen entry situation: audited, and kept by later syncs."""
    for field, value in values.items():
        setattr(participation, field, value)
    age = participation.age_at_entry
    participation.long_term_unemployed = long_term_unemployed(
        participation.employment_status, participation.unemployed_since, participation.entry_date, age
    )
    participation.situation_corrected_by = by
    participation._history_user = by
    participation._change_reason = reason
    participation.save()
