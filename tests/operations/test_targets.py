import datetime
from decimal import Decimal

import pytest

from operations.models import Operation, Target
from operations.targets import Amount, EtpPeriod, etp_moyen, operation_targets, prorate, steps_objective, target_amount

D = Decimal
YEAR_2023 = (datetime.date(2023, 1, 1), datetime.date(2023, 12, 31))


def full_time(etp="1", start=YEAR_2023[0], end=YEAR_2023[1]):
    return [EtpPeriod(D(etp), start, end)]


def fiche(slug):
    operation = Operation.objects.get(plie__slug=slug)
    planned = [EtpPeriod(p.etp, p.start, p.end) for p in operation.planned_etps.all()]
    return operation, planned


def target(operation, kind, scope="per_etp"):
    return Target.objects.get(operation=operation, kind=kind, scope=scope)


class TestEtpMoyen:
    def test_is_the_etp_weighted_by_days_inside_the_period(self):
        periods = [
            EtpPeriod(D("1"), datetime.date(2023, 1, 1), datetime.date(2023, 6, 30)),
            EtpPeriod(D("0.5"), datetime.date(2023, 7, 1), None),
        ]
        assert etp_moyen(periods, *YEAR_2023) == (D(181) + D("0.5") * 184) / 365

    def test_ignores_days_outside_the_period(self):
        periods = [EtpPeriod(D("1"), datetime.date(2022, 1, 1), datetime.date(2023, 1, 31))]
        assert etp_moyen(periods, *YEAR_2023) == D(31) / 365

    def test_is_zero_without_period(self):
        assert etp_moyen([], *YEAR_2023) == 0


class TestProrating:
    def test_a_flow_over_half_a_year_is_prorated_by_days_and_kept_as_a_decimal(self):
        first_half = (datetime.date(2023, 1, 1), datetime.date(2023, 6, 30))
        assert prorate(100, "flow", full_time("0.8"), *first_half) == D(100) * D("0.8") * 181 / 365

    def test_a_stock_is_prorated_by_etp_only(self):
        quarter = (datetime.date(2023, 1, 1), datetime.date(2023, 3, 31))
        assert prorate(70, "stock", full_time("0.8"), *quarter) == D(56)

    def test_a_rate_is_never_prorated(self):
        assert prorate("1.5", "rate", full_time("0.5"), *YEAR_2023) == D("1.5")

    def test_a_period_over_two_years_adds_the_years_rounded_half_up(self):
        periods = [
            EtpPeriod(D("1.25"), datetime.date(2022, 1, 1), datetime.date(2022, 12, 31)),
            EtpPeriod(D("1.75"), datetime.date(2023, 1, 1), datetime.date(2023, 12, 31)),
        ]
        assert prorate(70, "flow", periods, datetime.date(2022, 1, 1), datetime.date(2023, 12, 31)) == 211

    def test_a_part_year_is_not_rounded(self):
        periods = full_time("1.25", datetime.date(2022, 1, 1), datetime.date(2022, 12, 31))
        got = prorate(70, "flow", periods, datetime.date(2022, 7, 1), datetime.date(2022, 12, 31))
        assert got == D(70) * D("1.25") * 184 / 365

    def test_a_leap_year_counts_366_days(self):
        leap = full_time("1", datetime.date(2024, 1, 1), datetime.date(2024, 12, 31))
        assert prorate(366, "flow", leap, datetime.date(2024, 1, 1), datetime.date(2024, 1, 31)) == 31

    def test_a_range_stays_a_range(self, operation):
        file_active = Target(operation=operation, kind="file_active", value_min=70, value_max=90)
        assert target_amount(file_active, full_time("0.5"), *YEAR_2023) == Amount(D(35), D(45))

    def test_an_operation_wide_target_is_not_multiplied_by_etp(self, operation):
        plie_wide = Target(operation=operation, kind="participants_accompagnes", scope="operation", value_min=850)
        assert target_amount(plie_wide, full_time("8"), *YEAR_2023) == Amount(D(850))


@pytest.mark.django_db
class TestWorkedExamplesOfTheFiches:
    def test_agen_four_steps_for_a_file_active_moyenne_of_60_make_240(self):
        operation, _ = fiche("agen")
        steps = target(operation, "etapes")
        assert steps.basis == "file_active_moyenne"
        assert steps_objective(steps.value_min, 60) == 240

    def test_agen_a_full_time_referent_with_70_in_file_active_mobilises_280_steps(self):
        operation, _ = fiche("agen")
        lines = {line.target.kind: line for line in operation_targets(operation.targets.all(), full_time(), *YEAR_2023)}
        assert lines["etapes"].steps == Amount(D(280))

    @pytest.mark.parametrize("slug", ["bordeaux", "portes-du-sud"])
    def test_two_steps_for_a_file_active_moyenne_of_60_make_120(self, slug):
        operation, _ = fiche(slug)
        steps = target(operation, "etapes")
        assert (steps.basis, steps_objective(steps.value_min, 60)) == ("file_active_moyenne", 120)

    def test_sources_one_and_a_half_steps_for_60_make_90(self):
        operation, _ = fiche("sources")
        steps = target(operation, "etapes")
        assert (steps.basis, steps_objective(steps.value_min, 60)) == ("file_active_moyenne", 90)

    def test_grand_perigueux_one_etp_means_100_participants_and_150_steps(self):
        operation, _ = fiche("grand-perigueux")
        lines = {line.target.kind: line for line in operation_targets(operation.targets.all(), full_time(), *YEAR_2023)}
        assert lines["participants_accompagnes"].amount == Amount(D(100))
        assert lines["etapes"].target.basis == "participants_accompagnes"
        assert lines["etapes"].steps == Amount(D(150))

    def test_sud_perigord_88_in_2022_123_in_2023_211_in_all(self):
        operation, planned = fiche("sud-perigord")
        participants = target(operation, "participants_accompagnes")
        by_year = [
            target_amount(participants, planned, datetime.date(year, 1, 1), datetime.date(year, 12, 31))
            for year in (2022, 2023)
        ]
        assert by_year == [Amount(D(88)), Amount(D(123))]
        assert target_amount(participants, planned, operation.start, operation.end) == Amount(D(211))

    def test_portes_du_sud_four_etp_mean_100_new_and_380_accompanied(self):
        operation, planned = fiche("portes-du-sud")
        assert sum(p.etp for p in planned) == 4
        assert target_amount(target(operation, "nouvelles_integrations"), planned, *YEAR_2023) == Amount(D(100))
        assert target_amount(target(operation, "participants_accompagnes"), planned, *YEAR_2023) == Amount(D(380))
