"""The writes of a parcours, each a named function that owns its transaction and records who acted.

Each raises ValidationError with a French message when the parcours is not at the right stage."""

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from operations.models import ExitCategory, ExitValidation
from plie.audit import save_as

from . import eligibility
from .models import (
    OPEN_STATUSES,
    AssignmentReason,
    CommissionDecision,
    CommissionOutcome,
    Document,
    DocumentKind,
    EligibilityWaiver,
    Parcours,
    ReferentAssignment,
    Status,
)
from .participations import deferred  # a write saving a parcours and its assignment syncs participations once

UNFINISHED = [Status.PRESCRIBED, Status.RECEIVED, Status.POSTPONED, Status.ACCEPTED, *OPEN_STATUSES]


def _expect(parcours, action):
    if not parcours.allows(action):
        raise ValidationError(
            "Ce parcours est à l’étape « %(status)s » : cette action n’est pas possible maintenant.",
            params={"status": parcours.get_status_display()},
            code="wrong_status",
        )


def _expect_status(parcours, *statuses):
    """For the records about a parcours that are not steps of it (contract signatures, eligibility waiver)."""
    if parcours.status not in statuses:
        raise ValidationError(
            "Ce parcours est à l’étape « %(status)s » : cette action n’est pas possible maintenant.",
            params={"status": parcours.get_status_display()},
            code="wrong_status",
        )


def _not_in_future(day, what):
    if day > timezone.localdate():
        raise ValidationError(f"{what} ne peut pas être dans le futur.", code="future")


@transaction.atomic
def prescribe(*, participant, prescriber, prescription_date, by, prescriber_detail=""):
    """A prescription opens a new parcours; a person leaves one before another can start (a later parcours)."""
    _not_in_future(prescription_date, "La date de prescription")
    if participant.parcours.filter(status__in=UNFINISHED).exists():
        raise ValidationError("Ce participant a déjà un parcours en cours.", code="already_open")
    last_exit = participant.parcours.filter(exit_date__isnull=False).order_by("-exit_date").first()
    if last_exit and prescription_date <= last_exit.exit_date:
        raise ValidationError(
            "Un nouveau parcours commence après la sortie du précédent (le %(exit)s).",
            params={"exit": f"{last_exit.exit_date:%d/%m/%Y}"},
            code="overlap",
        )
    return save_as(
        Parcours(
            participant=participant,
            prescriber=prescriber,
            prescriber_detail=prescriber_detail,
            prescription_date=prescription_date,
            status=Status.PRESCRIBED,
        ),
        by,
    )


@transaction.atomic
def record_reception(*, parcours, date, kind, by):
    _expect(parcours, "reception")
    _not_in_future(date, "La date d’accueil")
    if date < parcours.prescription_date:
        raise ValidationError("L’accueil ne peut pas précéder la prescription.", code="before_prescription")
    parcours.reception_date, parcours.reception_kind, parcours.status = date, kind, Status.RECEIVED
    save_as(parcours, by)
    return parcours


@transaction.atomic
def decide_admission(*, parcours, date, outcome, reason, by):
    """The integration commission's decision; refusals and postponements are kept with their reason."""
    _expect(parcours, "commission")
    reason = reason.strip()
    _not_in_future(date, "La date de la commission")
    if date < (parcours.reception_date or parcours.prescription_date):
        raise ValidationError("La commission ne peut pas précéder l’accueil.", code="before_reception")
    decision = CommissionDecision(parcours=parcours, date=date, outcome=outcome, reason=reason, decided_by=by)
    decision.full_clean()
    save_as(decision, by)
    parcours.status = {
        CommissionOutcome.ACCEPTED: Status.ACCEPTED,
        CommissionOutcome.REFUSED: Status.REFUSED,
        CommissionOutcome.POSTPONED: Status.POSTPONED,
    }[outcome]
    save_as(parcours, by)
    return decision


@transaction.atomic
@deferred()
def integrate(*, parcours, entry_date, operation, referent, by):
    """The contrat d'engagement is signed: the parcours starts on the operation, followed by its referent."""
    _expect(parcours, "integration")
    _not_in_future(entry_date, "La date de signature du contrat d’engagement")
    plie_id = parcours.participant.plie_id
    if operation.plie_id != plie_id or referent.plie_id != plie_id:
        raise ValidationError("La fiche opération et le référent doivent être ceux du PLIE.", code="other_plie")
    decided_on = parcours.decisions.filter(outcome=CommissionOutcome.ACCEPTED).latest("date").date
    if entry_date < decided_on:
        raise ValidationError("Le contrat d’engagement ne peut pas précéder la commission.", code="before_commission")
    if not operation.start <= entry_date <= operation.end:
        raise ValidationError(
            "L’entrée doit se situer dans la période d’exécution de la fiche (du %(start)s au %(end)s).",
            params={"start": f"{operation.start:%d/%m/%Y}", "end": f"{operation.end:%d/%m/%Y}"},
            code="outside_operation",
        )
    verdict = eligibility.check(parcours=parcours, operation=operation, entry_date=entry_date)
    if not verdict.eligible:
        raise ValidationError(
            [
                ValidationError(
                    "Intégration impossible : les justificatifs d’éligibilité exigés par la fiche ne sont pas tous là.",
                    code="not_eligible",
                ),
                *(ValidationError(gap, code="missing_proof") for gap in verdict.missing),
            ]
        )
    parcours.entry_date, parcours.operation, parcours.status = entry_date, operation, Status.ACTIVE
    parcours.eligibility_basis = verdict.basis
    save_as(parcours, by)
    save_as(
        ReferentAssignment(
            parcours=parcours, referent=referent, start=entry_date, reason=AssignmentReason.INTEGRATION, assigned_by=by
        ),
        by,
    )
    return parcours


@transaction.atomic
def record_contract(*, parcours, participant_on, referent_on, direction_on, fse_notice_on, by):
    """The contrat d'engagement's three signatures and the FSE+ information notice, each with its date."""
    _expect_status(parcours, *OPEN_STATUSES, Status.EXITED)
    for day, what in [
        (participant_on, "La signature du participant"),
        (referent_on, "La signature du référent"),
        (direction_on, "La signature de la direction du PLIE"),
        (fse_notice_on, "La remise de la notice FSE+"),
    ]:
        if day is not None:
            _not_in_future(day, what)
            if day < parcours.prescription_date:
                raise ValidationError(f"{what} ne peut pas précéder la prescription.", code="before_prescription")
    parcours.contract_signed_by_participant_on = participant_on
    parcours.contract_signed_by_referent_on = referent_on
    parcours.contract_signed_by_direction_on = direction_on
    parcours.fse_notice_on = fse_notice_on
    return save_as(parcours, by)


@transaction.atomic
def grant_waiver(*, parcours, reason, signatory, signed_on, document, by):
    """The PLIE direction's signed exception to the eligibility proofs, kept with its letter."""
    _expect_status(parcours, Status.RECEIVED, Status.POSTPONED, Status.ACCEPTED)
    _not_in_future(signed_on, "La date de la dérogation")
    if document.participant_id != parcours.participant_id or document.kind != DocumentKind.WAIVER:
        raise ValidationError("Joignez la dérogation signée de ce participant.", code="no_letter")
    if not reason.strip() or not signatory.strip():
        raise ValidationError("Indiquez le motif et le signataire de la dérogation.", code="incomplete")
    waiver = EligibilityWaiver(
        parcours=parcours,
        reason=reason.strip(),
        signatory=signatory.strip(),
        signed_on=signed_on,
        document=document,
        recorded_by=by,
    )
    waiver.full_clean()
    return save_as(waiver, by)


@transaction.atomic
@deferred()
def assign_referent(*, parcours, referent, on, reason, by):
    """A new referent from `on`; the previous assignment ends the day before and stays in the history."""
    _expect(parcours, "assignment")
    if referent.plie_id != parcours.participant.plie_id:
        raise ValidationError("Ce référent n’appartient pas au PLIE.", code="other_plie")
    current = parcours.assignments.select_for_update().filter(end__isnull=True).first()
    if current and current.referent_id == referent.pk:
        raise ValidationError("Ce référent suit déjà ce parcours.", code="same_referent")
    if current and on <= current.start:
        raise ValidationError(
            "La nouvelle affectation doit commencer après le %(start)s, début de l’affectation en cours.",
            params={"start": f"{current.start:%d/%m/%Y}"},
            code="before_current",
        )
    if on < parcours.entry_date:
        raise ValidationError("L’affectation ne peut pas précéder l’entrée dans le parcours.", code="before_entry")
    if current:
        current.end = on - datetime.timedelta(days=1)
        save_as(current, by)
    return save_as(
        ReferentAssignment(parcours=parcours, referent=referent, start=on, reason=reason, assigned_by=by), by
    )


@transaction.atomic
def start_employment_follow_up(*, parcours, job_start, contract_type, by):
    """The person found a job: the 6-month follow-up in employment starts."""
    _expect(parcours, "employment")
    _not_in_future(job_start, "Le début de l’emploi")
    if job_start < parcours.entry_date:
        raise ValidationError("L’emploi ne peut pas commencer avant l’entrée dans le parcours.", code="before_entry")
    parcours.job_start, parcours.contract_type, parcours.status = job_start, contract_type, Status.FOLLOW_UP
    save_as(parcours, by)
    return parcours


@transaction.atomic
@deferred()
def record_exit(
    *,
    parcours,
    exit_date,
    reason,
    by,
    contract_months=None,
    working_time="",
    months_in_year=None,
    training_validated_on=None,
):
    """An exit, with the facts the fiche's exit definitions judge (contract duration, working time, months worked in
    the year). A positive exit waits for the animation team's validation, after the follow-up its reason names."""
    _expect(parcours, "exit")
    _not_in_future(exit_date, "La date de sortie")
    if reason.plie_id != parcours.participant.plie_id or not reason.is_active:
        raise ValidationError("Ce motif de sortie n’existe pas dans la nomenclature du PLIE.", code="unknown_reason")
    if exit_date < parcours.entry_date:
        raise ValidationError("La sortie ne peut pas précéder l’entrée dans le parcours.", code="before_entry")
    follows_a_job = reason.validation in (ExitValidation.EMPLOYMENT, ExitValidation.CREATION)
    if reason.category == ExitCategory.POSITIVE and follows_a_job:
        if parcours.job_start is None:
            raise ValidationError(
                "Enregistrez d’abord le début de l’emploi ou de la formation (« Emploi trouvé ») : une sortie positive "
                "est validée après les 6 mois de suivi.",
                code="no_job_start",
            )
        if exit_date < parcours.job_start:
            raise ValidationError("Une sortie positive ne peut pas précéder le début de l’emploi.", code="before_job")
    if training_validated_on is not None:
        _not_in_future(training_validated_on, "La validation de la formation")
    parcours.exit_date, parcours.exit_reason = exit_date, reason
    parcours.contract_months, parcours.working_time = contract_months, working_time or ""
    parcours.months_in_year, parcours.training_validated_on = months_in_year, training_validated_on
    if reason.contract_type and not parcours.contract_type:
        parcours.contract_type = reason.contract_type
    if reason.category == ExitCategory.POSITIVE and reason.validation != ExitValidation.AT_ONCE:
        parcours.status = Status.EXIT_PENDING
    else:
        _close(parcours, by)
    save_as(parcours, by)
    return parcours


@transaction.atomic
def record_training_validation(*, parcours, on, by):
    """The qualifying training is validated: the exit it ended can be validated at once, without a job follow-up."""
    _expect(parcours, "validate_exit")  # the training is validated with the exit
    _not_in_future(on, "La validation de la formation")
    parcours.training_validated_on = on
    save_as(parcours, by)
    return parcours


@transaction.atomic
@deferred()
def validate_exit(*, parcours, by, today=None):
    """The animation team validates a positive exit once the follow-up its reason names is over: 6 months in
    employment (or after the business creation), or the training's validation."""
    _expect(parcours, "validate_exit")
    due = parcours.follow_up_due_on
    if parcours.exit_reason.validation == ExitValidation.TRAINING:
        if due is None or (today or timezone.localdate()) < due:
            raise ValidationError(
                "La sortie sera validée à la validation de la formation : enregistrez-en d’abord la date.",
                code="training_not_validated",
            )
    elif due and (today or timezone.localdate()) < due:
        raise ValidationError(
            "Le suivi de 6 mois dans l’emploi se termine le %(due)s : la sortie pourra être validée à cette date.",
            params={"due": f"{due:%d/%m/%Y}"},
            code="follow_up_running",
        )
    _close(parcours, by)
    save_as(parcours, by)
    return parcours


def _close(parcours, by):
    parcours.status = Status.EXITED
    parcours.exit_validated_at, parcours.exit_validated_by = timezone.now(), by
    for assignment in parcours.assignments.filter(end__isnull=True):
        assignment.end = parcours.exit_date
        save_as(assignment, by)


@transaction.atomic
def correct_entretien(*, entretien, changes, reason, by):
    """A correction: the history keeps the previous version, its author and the reason."""
    for field, value in changes.items():
        setattr(entretien, field, value)
    entretien._change_reason = reason
    return save_as(entretien, by)


@transaction.atomic
def attach_sheet(*, entretien, uploaded, by):
    """The signed attendance sheet, stored privately like every justificatif; the entretien is then marked signed."""
    document = Document.objects.create(
        participant=entretien.participant,
        parcours=entretien.parcours,
        entretien=entretien,
        kind=DocumentKind.ATTENDANCE,
        file=uploaded,
        original_name=uploaded.name[:200],
        content_type=uploaded.sniffed_type,
        size=uploaded.size,
        uploaded_by=by,
    )
    if not entretien.signed:
        entretien.signed = True
        entretien._change_reason = "Feuille d’émargement signée déposée"
        save_as(entretien, by)
    return document
