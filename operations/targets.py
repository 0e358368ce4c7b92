"""Targets of a fiche for a period, prorated as shared/spec/indicators.md says.

A fiche states its targets per ETP (or for the whole operation) for a calendar year. For a period P:
flows are `value × etp_moyen × days / days(year)` per calendar year crossed, whole years rounded half-up;
stocks are `value × etp_moyen(P)`; rates are never prorated. Ranges stay ranges.
"""

import datetime
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from .models import Nature, StepBasis, TargetKind, TargetScope

BASIS_KIND = {StepBasis.FILE_ACTIVE: TargetKind.FILE_ACTIVE, StepBasis.PARTICIPANTS: TargetKind.PARTICIPANTS}


@dataclass(frozen=True)
class EtpPeriod:
    etp: Decimal
    start: datetime.date
    end: datetime.date | None


@dataclass(frozen=True)
class Amount:
    low: Decimal
    high: Decimal | None = None

    @property
    def is_range(self):
        return self.high is not None and self.high != self.low

    def map(self, func):
        return Amount(func(self.low), None if self.high is None else func(self.high))

    def __mul__(self, factor):
        return self.map(lambda v: v * Decimal(factor))


def days(start, end):
    return (end - start).days + 1


def overlap_days(start, end, other_start, other_end):
    first = max(start, other_start)
    last = end if other_end is None else min(end, other_end)
    return max(0, (last - first).days + 1)


def etp_moyen(periods, start, end):
    """Σ (etp × days of the period inside [start, end]) / days([start, end])."""
    weighted = sum(
        (Decimal(p.etp) * overlap_days(start, end, p.start, p.end) for p in periods),
        Decimal(0),
    )
    return weighted / days(start, end)


def year_parts(start, end):
    """[start, end] cut at calendar year boundaries."""
    for year in range(start.year, end.year + 1):
        yield (
            max(start, datetime.date(year, 1, 1)),
            min(end, datetime.date(year, 12, 31)),
        )


def round_half_up(value):
    return value.quantize(Decimal(1), rounding=ROUND_HALF_UP)


def flow_factor(periods, start, end, per_etp):
    """The factors by which a yearly flow value is multiplied for [start, end], one per calendar year crossed.

    Returned as (factor, whole_year) pairs so that whole years can be rounded before they are added.
    """
    for part_start, part_end in year_parts(start, end):
        year = part_start.year
        year_days = days(datetime.date(year, 1, 1), datetime.date(year, 12, 31))
        etp = etp_moyen(periods, part_start, part_end) if per_etp else Decimal(1)
        yield (
            etp * days(part_start, part_end) / year_days,
            days(part_start, part_end) == year_days,
        )


def prorate(value, nature, periods, start, end, per_etp=True):
    value = Decimal(value)
    if nature == Nature.RATE:
        return value
    if nature == Nature.STOCK:
        return value * etp_moyen(periods, start, end) if per_etp else value
    total = Decimal(0)
    for factor, whole_year in flow_factor(periods, start, end, per_etp):
        part = value * factor
        total += round_half_up(part) if whole_year else part
    return total


def target_amount(target, periods, start, end):
    """The target for [start, end] given the ETP periods (a referent's, or the whole operation's)."""
    per_etp = target.scope == TargetScope.PER_ETP
    amount = Amount(target.value_min, target.value_max if target.is_range else None)
    return amount.map(lambda v: prorate(v, target.nature, periods, start, end, per_etp))


def steps_objective(rate, basis_value):
    """`etapes_objectif`: steps per participant × the basis (file active moyenne or participants accompagnés)."""
    if rate is None or basis_value is None:
        return None
    return Decimal(rate) * Decimal(basis_value)


def steps_objective_of(target, figures):
    """The steps target of a fiche as a number of steps, on the basis it names: `figures` gives the value of each
    StepBasis (file active moyenne, participants accompagnés)."""
    return steps_objective(target.value_min, figures.get(target.basis))


@dataclass
class TargetLine:
    target: object
    amount: Amount
    steps: Amount | None = None  # for the steps target: the number of steps it means


def operation_targets(targets, periods, start, end):
    """One line per target of the fiche for [start, end]; the steps target is also given as a number of steps,
    computed on the basis the fiche names (the per-ETP target of file active or participants accompanied)."""
    lines = [TargetLine(t, target_amount(t, periods, start, end)) for t in targets]
    per_etp = {line.target.kind: line.amount for line in lines if line.target.scope == TargetScope.PER_ETP}
    for line in lines:
        if line.target.kind == TargetKind.STEPS:
            basis = per_etp.get(BASIS_KIND[StepBasis(line.target.basis)])
            if basis is not None:
                line.steps = basis.map(lambda value, target=line.target: steps_objective(target.value_min, value))
    return lines


def targets_by_year(targets, periods, start, end):
    """The table a fiche page shows: one row per target, one column per calendar year, and the whole period
    when it spans several years."""
    years = [
        (y_start, y_end, operation_targets(targets, periods, y_start, y_end))
        for y_start, y_end in year_parts(start, end)
    ]
    whole = operation_targets(targets, periods, start, end) if len(years) > 1 else None
    return {
        "years": [y_start for y_start, _, _ in years],
        "rows": [
            {"target": target, "years": [lines[i] for _, _, lines in years], "whole": whole[i] if whole else None}
            for i, target in enumerate(targets)
        ],
    }
