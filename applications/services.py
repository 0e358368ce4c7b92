from django.core.exceptions import ValidationError
from django.db import transaction

from operations.models import Operation, Referent, ReferentPeriod
from plie.formats import french_number

from .checks import cap_for, euros, granted_total, max_fse
from .models import ACCEPTED, Application, Outcome


@transaction.atomic
def decide_application(*, application, outcome, decided_on, by, etp_granted=None, zones=(), fse_granted=None, notes=""):
    """The copil's decision. An accepted application becomes a convention: its referents get their ETP periods."""
    # Decisions on one fiche are taken one at a time: two of them must not both fit under the ceiling's remainder.
    Operation.objects.select_for_update().filter(pk=application.operation_id).first()
    application = (
        Application.objects.select_for_update().select_related("operation__plie", "structure").get(pk=application.pk)
    )
    operation = application.operation
    if application.outcome != Outcome.SUBMITTED:
        raise ValidationError("Cette candidature a déjà fait l’objet d’une décision.", code="decided")
    if decided_on > operation.end:
        raise ValidationError(
            "La fiche est close depuis le %(end)s : plus aucune décision ne peut y être prise.",
            params={"end": f"{operation.end:%d/%m/%Y}"},
            code="closed",
        )
    if any(zone.plie_id != operation.plie_id for zone in zones):
        raise ValidationError("Une des zones n’appartient pas au PLIE.", code="other_plie")
    application.outcome, application.decided_on, application.decided_by, application.decision_notes = (
        outcome,
        decided_on,
        by,
        notes,
    )
    if outcome in ACCEPTED:
        etp_granted, fse_granted = _granted(application, etp_granted, fse_granted)
        application.etp_granted, application.fse_granted = etp_granted, fse_granted
    application._history_user = by
    application.save()
    if outcome in ACCEPTED:
        application.zones_granted.set(zones or application.zones_requested.all())
        _convention(application)
    return application


def _granted(application, etp_granted, fse_granted):
    """The ETP and FSE+ granted (by default what was asked), within what was proposed, the cofinancing cap of the
    structure's kind and what remains under the fiche's FSE+ ceiling."""
    operation = application.operation
    etp_granted = application.etp_proposed if etp_granted is None else etp_granted
    fse_granted = application.fse_requested if fse_granted is None else fse_granted
    if etp_granted > application.etp_proposed:
        raise ValidationError(
            "ETP accordés (%(granted)s) supérieurs aux ETP proposés par la structure (%(proposed)s).",
            params={"granted": french_number(etp_granted), "proposed": french_number(application.etp_proposed)},
            code="etp",
        )
    cap = cap_for(operation, application.structure.kind)
    ceiling = max_fse(application, cap)
    if ceiling is not None and fse_granted > ceiling:
        raise ValidationError(
            "FSE+ accordé %(granted)s au-delà du plafond de cofinancement : %(cap)s %% de %(cost)s = %(ceiling)s.",
            params={
                "granted": euros(fse_granted),
                "cap": french_number(cap),
                "cost": euros(application.eligible_cost),
                "ceiling": euros(ceiling),
            },
            code="cap",
        )
    already = granted_total(operation, exclude=application)
    if operation.fse_ceiling is not None and already + fse_granted > operation.fse_ceiling:
        raise ValidationError(
            "FSE+ accordé %(granted)s : il ne reste que %(remaining)s sous le plafond de la fiche (%(ceiling)s, déjà accordé %(already)s).",
            params={
                "granted": euros(fse_granted),
                "remaining": euros(operation.fse_ceiling - already),
                "ceiling": euros(operation.fse_ceiling),
                "already": euros(already),
            },
            code="ceiling",
        )
    return etp_granted, fse_granted


def _convention(application):
    """Each proposed referent gets an ETP period on the operation, for the dates of the application."""
    zones = set(application.zones_granted.all())
    for proposed in application.referents.all():
        referent, _ = Referent.objects.get_or_create(
            plie=application.operation.plie,
            first_name=proposed.first_name,
            last_name=proposed.last_name,
            defaults={"structure": application.structure},
        )
        periods = ReferentPeriod.objects.filter(referent=referent, operation=application.operation)
        if periods.overlapping(application.start, application.end).exists():
            raise ValidationError(
                "%(name)s a déjà une période d’ETP sur cette fiche pendant ces dates.",
                params={"name": referent.full_name},
                code="overlap",
            )
        ReferentPeriod.objects.create(
            referent=referent,
            operation=application.operation,
            etp=proposed.etp,
            start=application.start,
            end=application.end,
            zone=proposed.zone if proposed.zone in zones else None,
        )
