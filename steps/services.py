"""The writes of steps and of the validation grid: named functions that own the transaction and name the actor."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from participants.models import OPEN_STATUSES, Document, DocumentKind, Participant, Status
from plie.audit import save_as

from .models import GridRule, GridVersion, Step, StepStatus, Validation


def check_step(step):
    """A step belongs to a type of the participant's PLIE and lies within the dates of its parcours."""
    parcours = step.parcours
    if step.step_type.category.plie_id != parcours.participant.plie_id:
        raise ValidationError("Ce type d’étape n’appartient pas à la nomenclature du PLIE.", code="other_plie")
    if parcours.entry_date is None:
        raise ValidationError("Le parcours n’a pas encore commencé (pas de contrat d’engagement).", code="not_started")
    last_day = parcours.exit_date
    if step.start < parcours.entry_date or (last_day and step.start > last_day):
        raise ValidationError(
            "L’étape doit commencer pendant le parcours (du %(entry)s%(exit)s).",
            params={
                "entry": f"{parcours.entry_date:%d/%m/%Y}",
                "exit": f" au {last_day:%d/%m/%Y}" if last_day else ", toujours en cours",
            },
            code="outside_parcours",
        )
    if step.end and step.end < step.start:
        raise ValidationError("La fin de l’étape ne peut pas précéder son début.", code="end_before_start")
    if step.end and last_day and step.end > last_day:
        raise ValidationError(
            "L’étape doit se terminer avant la sortie du parcours (le %(exit)s).",
            params={"exit": f"{last_day:%d/%m/%Y}"},
            code="after_exit",
        )


@transaction.atomic
def save_step(*, step, by):
    """Creates or changes a step; a validated step is frozen, a refused one goes back to the referent."""
    stored = Step.objects.filter(pk=step.pk).values_list("validation", flat=True).first() if step.pk else None
    if stored == Validation.VALIDATED:
        raise ValidationError("Une étape validée ne peut plus être modifiée.", code="validated")
    if stored == Validation.SUBMITTED:
        raise ValidationError(
            "L’étape est en cours de validation par l’équipe d’animation : attendez sa décision pour la modifier.",
            code="submitted",
        )
    if step.pk is None and not step.parcours.allows("step"):
        raise ValidationError("On ne positionne une personne sur une étape que pendant son parcours.", code="closed")
    check_step(step)
    if step.pk is None:
        step.created_by = by
    return save_as(step, by)


@transaction.atomic
def attach_proof(*, step, uploaded, kind, by):
    if Step.objects.filter(pk=step.pk, validation=Validation.VALIDATED).exists():
        raise ValidationError("Une étape validée ne peut plus être modifiée.", code="validated")
    document = Document(
        participant=step.parcours.participant,
        parcours=step.parcours,
        kind=kind,
        file=uploaded,
        original_name=uploaded.name[:200],
        content_type=uploaded.sniffed_type,
        size=uploaded.size,
        uploaded_by=by,
    )
    save_as(document, by)
    step.proofs.add(document)
    return document


@transaction.atomic
def submit_step(*, step, by):
    if not step.is_submittable:
        raise ValidationError(
            "Cette étape est déjà %(state)s.", params={"state": step.get_validation_display().lower()}
        )
    if step.status not in (StepStatus.IN_PROGRESS, StepStatus.DONE):
        raise ValidationError(
            "Seule une étape en cours ou réalisée peut être soumise à validation.", code="not_started"
        )
    step.validation, step.submitted_at, step.submitted_by = Validation.SUBMITTED, timezone.now(), by
    step.refusal_reason = ""
    return save_as(step, by)


@transaction.atomic
def validate_step(*, step, by):
    """The animation team validates a submitted step once every proof the grid requires is attached."""
    if step.validation != Validation.SUBMITTED:
        raise ValidationError("Seule une étape soumise peut être validée.", code="not_submitted")
    if not step.can_be_validated_by(by):
        raise ValidationError(
            "Une étape est validée par l’équipe d’animation, et jamais par la personne qui la suit ou l’a soumise.",
            code="not_allowed",
        )
    missing = step.missing_proofs()
    if missing:
        raise ValidationError(
            "Justificatifs manquants selon la grille de validation : %(missing)s.",
            params={"missing": ", ".join(DocumentKind(kind).label for kind in missing)},
            code="missing_proofs",
        )
    step.validation, step.decided_at, step.decided_by = Validation.VALIDATED, timezone.now(), by
    return save_as(step, by)


@transaction.atomic
def refuse_step(*, step, reason, by):
    reason = reason.strip()
    if step.validation != Validation.SUBMITTED:
        raise ValidationError("Seule une étape soumise peut être refusée.", code="not_submitted")
    if not step.can_be_validated_by(by):
        raise ValidationError("Seule l’équipe d’animation décide de la validation d’une étape.", code="not_allowed")
    if not reason:
        raise ValidationError("Un refus doit être motivé.", code="no_reason")
    step.validation, step.decided_at, step.decided_by, step.refusal_reason = (
        Validation.REFUSED,
        timezone.now(),
        by,
        reason,
    )
    return save_as(step, by)


@transaction.atomic
def create_grid_version(*, plie, approved_on, notes, rules, by):
    """A new version of the grid; `rules` maps each step type to (criteria, required proof kinds).

    Past versions are never changed: a step is judged against the version in force on its start date."""
    version = GridVersion(plie=plie, approved_on=approved_on, notes=notes, created_by=by)
    version.full_clean()
    version.save()
    GridRule.objects.bulk_create(
        [
            GridRule(version=version, step_type=step_type, criteria=criteria, required_proofs=sorted(kinds))
            for step_type, (criteria, kinds) in rules.items()
            if step_type.category.plie_id == plie.pk and (criteria.strip() or kinds)
        ]
    )
    return version


@transaction.atomic
def create_session_steps(*, session, by):
    """One step per participant present, for a session the PLIE counts as a step; returns how many were made."""
    if session.step_type is None:
        raise ValidationError("Cette action collective ne compte pas comme une étape.", code="not_a_step")
    created = 0
    attendances = session.attendances.filter(
        present=True, participant__in=Participant.objects.in_use(), step__isnull=True
    )
    for attendance in attendances.select_related("participant"):
        parcours = (
            attendance.participant.parcours.filter(status__in=[*OPEN_STATUSES, Status.EXITED])
            .active_on(session.date)
            .first()
        )
        if parcours is None:
            continue
        step = Step(
            parcours=parcours,
            step_type=session.step_type,
            partner=session.facilitator,
            start=session.date,
            end=session.date,
            status=StepStatus.DONE,
            notes=f"Action collective « {session.theme} »",
            created_by=by,
        )
        check_step(step)
        save_as(step, by)
        attendance.step = step
        attendance.save()
        created += 1
    return created
