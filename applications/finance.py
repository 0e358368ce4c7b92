"""The bilan financier of a fiche: per structure of an accepted application, the budget forecast (as submitted),
accepted (the copil's FSE+ grant), realised (expenses paid, indirect costs at the flat rate) and the FSE+ due at the
accepted rate, within the grant and, for the fiche, within its FSE+ ceiling. Decimal to the cent; the totals are the
sums of the lines, so the bilan reconciles with the applications by construction, and a test checks it does."""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Q, Sum

from plie.formats import percent_of

from .models import CENT, Application, ExpenseCategory

ZERO = Decimal("0.00")


def cents(amount):
    return Decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass
class Line:
    application: Application
    forecast_cost: Decimal
    fse_requested: Decimal
    accepted_cost: Decimal
    fse_granted: Decimal
    realised_salaries: Decimal
    realised_indirect: Decimal
    realised_other: Decimal

    @property
    def structure(self):
        return self.application.structure

    @property
    def realised_cost(self):
        return self.realised_salaries + self.realised_indirect + self.realised_other

    @property
    def accepted_rate(self):
        """The FSE+ share of the accepted eligible cost, in % (shown with two decimals; computed exactly below)."""
        return cents(percent_of(self.fse_granted / self.accepted_cost)) if self.accepted_cost else ZERO

    @property
    def fse_due(self):
        if not self.accepted_cost:
            return ZERO
        return min(cents(self.realised_cost * self.fse_granted / self.accepted_cost), self.fse_granted)

    @property
    def realisation_rate(self):
        return cents(percent_of(self.realised_cost / self.accepted_cost)) if self.accepted_cost else ZERO


@dataclass
class FinancialBilan:
    operation: object
    lines: list

    def total(self, name):
        return sum((getattr(line, name) for line in self.lines), ZERO)

    @property
    def totals(self):
        names = ["forecast_cost", "fse_requested", "accepted_cost", "fse_granted", "realised_salaries",
                 "realised_indirect", "realised_other", "realised_cost", "fse_due"]  # fmt: skip
        return {name: self.total(name) for name in names}

    @property
    def ceiling(self):
        return self.operation.fse_ceiling

    @property
    def fse_payable(self):
        """The FSE+ due, within the fiche's ceiling."""
        due = self.total("fse_due")
        return min(due, self.ceiling) if self.ceiling is not None else due

    @property
    def capped_by_ceiling(self):
        return self.ceiling is not None and self.total("fse_due") > self.ceiling


def financial_bilan(operation):
    """One query: the accepted applications of the fiche with their realised expenses summed by category."""
    applications = (
        Application.objects.accepted()
        .filter(operation=operation)
        .select_related("structure")
        .annotate(
            paid_salaries=Sum("expenses__amount", filter=Q(expenses__category=ExpenseCategory.SALARIES)),
            paid_other=Sum("expenses__amount", filter=Q(expenses__category=ExpenseCategory.OTHER)),
        )
        .order_by("structure__name", "pk")
    )
    lines = []
    for application in applications:
        salaries = application.paid_salaries or ZERO
        lines.append(
            Line(
                application=application,
                forecast_cost=application.eligible_cost,
                fse_requested=application.fse_requested,
                accepted_cost=application.eligible_cost,
                fse_granted=application.fse_granted or ZERO,
                realised_salaries=salaries,
                realised_indirect=cents(salaries * application.indirect_rate / 100),
                realised_other=application.paid_other or ZERO,
            )
        )
    return FinancialBilan(operation=operation, lines=lines)
