"""Writes on fiches opération that are more than a form save."""

from dateutil.relativedelta import relativedelta
from django.db import transaction

from plie.audit import save_as

from .models import EligibilityRule, Operation

# What next year's fiche takes from this one; the FSE+ payment year and the legal hold belong to each year's fiche.
COPIED_FIELDS = [
    "code",
    "title",
    "priority",
    "specific_objective",
    "fse_ceiling",
    "referents_expected",
    "context",
    "territory_notes",
    "content",
    "selection_criteria",
    "expected_proofs",
    "review_after_months",
]


def next_period(operation):
    """The day after the fiche's end, for as many whole years as the fiche lasts (Sud Périgord: two)."""
    years = operation.end.year - operation.start.year + 1
    start = operation.end + relativedelta(days=1)
    return start, start + relativedelta(years=years, days=-1)


@transaction.atomic
def renew_operation(*, operation, start, end, by):
    """« Reconduire la fiche »: next programming period's fiche of the same code, with this one's zones, caps,
    targets, eligibility rules, planned ETP (moved by whole years), neutralised exit reasons and text, for the team to adjust.
    ETP periods still running carry on by themselves: a period counts, day by day, for the fiche of its code in
    force that day."""
    renewed = Operation(plie=operation.plie, start=start, end=end, **{f: getattr(operation, f) for f in COPIED_FIELDS})
    renewed._history_user = by
    renewed._change_reason = f"Reconduction de la fiche {operation.code} {operation.years}"
    renewed.full_clean()
    renewed.save()
    renewed.zones.set(operation.zones.all())
    renewed.neutralised_exit_reasons.set(operation.neutralised_exit_reasons.all())
    shift = relativedelta(years=start.year - operation.start.year)
    for target in operation.targets.all():
        target.pk, target.operation = None, renewed
        target.save()
    for cap in operation.cofinancing_caps.all():
        cap.pk, cap.operation = None, renewed
        cap.save()
    for rule in operation.eligibility_rules.all():
        rule.pk, rule.operation = None, renewed
        rule.save()
    for planned in operation.planned_etps.all():
        planned.pk, planned.operation = None, renewed
        planned.start, planned.end = planned.start + shift, planned.end + shift
        if planned.start <= end:
            planned.end = min(planned.end, end)
            planned.save()
    return renewed


@transaction.atomic
def set_retention(*, operation, last_payment_year, legal_hold, by):
    """The PLIE administrator sets when the fiche's proofs may go, or freezes them; the history keeps who did."""
    operation = Operation.objects.select_for_update().get(pk=operation.pk)
    if last_payment_year is None and operation.last_payment_year is not None:
        operation.audit_deadline = None  # it followed from the year taken back (Operation.save)
    operation.last_payment_year = last_payment_year
    operation.legal_hold = legal_hold
    return save_as(operation, by)


@transaction.atomic
def add_eligibility_rule(*, operation, criterion, proof_type, by):
    """The fiche now requires `proof_type` for `criterion` ("": of everyone entering); kept in the history."""
    if proof_type.plie_id != operation.plie_id:
        raise ValueError("proof type of another PLIE")
    rule = EligibilityRule.objects.filter(operation=operation, criterion=criterion, proof_type=proof_type).first()
    return rule or save_as(EligibilityRule(operation=operation, criterion=criterion, proof_type=proof_type), by)


@transaction.atomic
def remove_eligibility_rule(*, rule, by):
    rule._history_user = by
    rule.delete()
