"""Targets of the fiche against the results of a bilan: prorated target, result, gap, status, projection."""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from operations.models import Nature, ReferentPeriod, TargetKind, TargetScope
from operations.targets import Amount, EtpPeriod, operation_targets
from plie.formats import percent_of

# Which figure of the bilan answers each kind of target; rates are compared in percent.
RESULT_OF = {
    TargetKind.FILE_ACTIVE: "file_active_moyenne",
    TargetKind.PARTICIPANTS: "participants_accompagnes",
    TargetKind.INTEGRATIONS: "nouvelles_integrations",
    TargetKind.STEPS: "etapes_validees",
    TargetKind.EXITS: "sorties",
    TargetKind.POSITIVE_EXITS: "sorties_positives",
    TargetKind.POSITIVE_EXIT_RATE: "taux_sorties_positives",
    TargetKind.MONTHLY_INTERVIEWS: "taux_suivi_mensuel",
}

STATUS_LABELS = {
    "reached": "Atteint",
    "on_track": "En bonne voie",
    "behind": "En retard",
    "below": "En dessous de la fourchette",
    "within": "Dans la fourchette",
    "above": "Au-dessus de la fourchette",
    "unknown": "Non mesuré ici",
    "masked": "Masqué (effectif de moins de 5)",
}


@dataclass
class ResultLine:
    target: object
    goal: Amount | None
    result: float | None
    status: str
    projection: float | None = None
    unit: str = ""

    @property
    def status_label(self):
        return STATUS_LABELS[self.status]

    @property
    def gap(self):
        if self.goal is None or not isinstance(self.result, int | float):
            return None
        return self.result - float(self.goal.low)


def _result(kind, totals):
    if kind == TargetKind.EXIT_RATE:
        accompanied = totals["participants_accompagnes"]
        return percent_of(totals["sorties"] / accompanied) if accompanied else None
    value = totals.get(RESULT_OF.get(kind, ""))
    if value is None:
        return None
    if kind in (TargetKind.POSITIVE_EXIT_RATE, TargetKind.MONTHLY_INTERVIEWS):
        return percent_of(value)
    return float(value)


def targets_vs_results(targets, periods, totals, start, end, today=None):
    """One line per target. `periods` are the ETP periods of the referents counted, `totals` the bilan's figures."""
    today = min(today or datetime.date.today(), end)
    lines = []
    for line in operation_targets(targets, periods, start, end):
        target = line.target
        goal = line.amount
        if target.kind == TargetKind.STEPS:
            goal = (
                Amount(Decimal(str(totals["etapes_objectif"]))) if totals.get("etapes_objectif") is not None else None
            )
        elif target.kind == TargetKind.MONTHLY_INTERVIEWS:
            goal = Amount(Decimal(100))
        result = _result(target.kind, totals)
        percent = target.is_percentage or target.kind == TargetKind.MONTHLY_INTERVIEWS
        lines.append(_judge(target, goal, result, start, end, today, "%" if percent else ""))
    return lines


def _judge(target, goal, result, start, end, today, unit):
    if goal is None or result is None:
        return ResultLine(target, goal, result, "unknown", unit=unit)
    low, high = float(goal.low), float(goal.high if goal.high is not None else goal.low)
    if goal.is_range and target.nature != Nature.FLOW:
        status = "below" if result < low else "above" if result > high else "within"
        return ResultLine(target, goal, result, status, unit=unit)
    if result >= low:
        return ResultLine(target, goal, result, "reached", unit=unit)
    projection = None
    if target.nature == Nature.FLOW and today < end and target.scope in (TargetScope.PER_ETP, TargetScope.OPERATION):
        elapsed = (today - start).days + 1
        projection = result * ((end - start).days + 1) / elapsed if elapsed > 0 else None
    status = "on_track" if projection is not None and projection >= low else "behind"
    return ResultLine(target, goal, result, status, projection, unit)


def etp_periods_of(operation):
    """The ETP periods counted for the fiche, cut to its period (see `ReferentPeriod.counting_for`)."""
    return [EtpPeriod(p.etp, *p.days_within(operation)) for p in ReferentPeriod.objects.counting_for(operation)]
