"""The database itself refuses incoherent rows, whatever code writes them."""

import datetime
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from operations.models import CofinancingCap, Operation, ReferentPeriod, Target
from tests.conftest import AGEN, PESSAC
from tests.factories import OperationFactory, ReferentFactory, ReferentPeriodFactory, ZoneFactory

pytestmark = pytest.mark.django_db


def refused(create):
    with pytest.raises(IntegrityError), transaction.atomic():
        create()


def test_an_operation_ending_before_it_starts(plie):
    refused(lambda: OperationFactory(plie=plie, start=datetime.date(2023, 1, 1), end=datetime.date(2022, 12, 31)))


def test_a_negative_ceiling(plie):
    refused(lambda: OperationFactory(plie=plie, fse_ceiling=Decimal("-0.01")))


@pytest.mark.parametrize("rate", ["0", "100.01"])
def test_a_cofinancing_cap_outside_0_100(operation, rate):
    refused(lambda: CofinancingCap.objects.create(operation=operation, beneficiary_kind="public", rate=Decimal(rate)))


@pytest.mark.parametrize("etp", ["0", "1.01"])
def test_an_etp_outside_0_1(operation, etp):
    refused(
        lambda: ReferentPeriodFactory(
            referent=ReferentFactory(plie=operation.plie), operation=operation, etp=Decimal(etp)
        )
    )


@pytest.mark.parametrize(
    ("start", "end"),
    [("2023-06-01", "2023-06-30"), ("2022-06-01", "2023-01-01"), ("2023-12-31", None)],
)
def test_overlapping_etp_periods_of_one_referent_on_one_operation(operation, start, end):
    referent = ReferentFactory(plie=operation.plie)
    ReferentPeriodFactory(referent=referent, operation=operation)
    refused(lambda: ReferentPeriod.objects.create(referent=referent, operation=operation, etp=1, start=start, end=end))


def test_consecutive_etp_periods_are_fine(operation):
    referent = ReferentFactory(plie=operation.plie)
    ReferentPeriodFactory(referent=referent, operation=operation)
    ReferentPeriod.objects.create(referent=referent, operation=operation, etp=Decimal("0.5"), start="2024-01-01")
    period = referent.periods.get(start="2024-01-01")
    period.end = datetime.date(2024, 12, 31)
    period.save()
    assert referent.periods.count() == 2


def test_a_period_moved_onto_another_one_is_refused_on_update(operation):
    referent = ReferentFactory(plie=operation.plie)
    ReferentPeriodFactory(referent=referent, operation=operation)
    later = ReferentPeriod.objects.create(referent=referent, operation=operation, etp=1, start="2024-01-01")
    later.start = datetime.date(2023, 12, 1)
    refused(later.save)


def test_the_same_dates_on_two_operations_are_fine(operation):
    referent = ReferentFactory(plie=operation.plie)
    ReferentPeriodFactory(referent=referent, operation=operation, etp=Decimal("0.5"))
    other = Operation.objects.create(
        plie=operation.plie, code="FO2", title="Autre", start=operation.start, end=operation.end
    )
    ReferentPeriodFactory(referent=referent, operation=other, etp=Decimal("0.5"))


def test_a_zone_commune_outside_the_plie_territory(plie):
    zone = ZoneFactory(plie=plie)
    zone.communes.add(PESSAC)
    refused(lambda: zone.communes.add(AGEN))
    assert list(zone.communes.values_list("pk", flat=True)) == [PESSAC]


def test_a_range_whose_maximum_is_below_its_minimum(operation):
    refused(lambda: Target.objects.create(operation=operation, kind="sorties", value_min=30, value_max=20))


def test_a_steps_target_without_basis(operation):
    refused(lambda: Target.objects.create(operation=operation, kind="etapes", scope="operation", value_min=2))


def test_a_rate_above_100_percent(operation):
    refused(lambda: Target.objects.create(operation=operation, kind="taux_sorties", value_min=120))
