"""What a referent must act on (participants/alerts.py), always computed for a fixed `today`."""

import datetime

import pytest

from participants.alerts import alerts_for, portfolio, with_alerts
from participants.models import DocumentKind, Parcours, Status
from tests.conftest import PESSAC
from tests.factories import PlieFactory, ZoneFactory, with_territory
from tests.factories.participants import (
    ENTRY_ON,
    FOLLOW_UP_ENDS,
    ParticipantFactory,
    add_document,
    add_entretien,
    make_parcours,
    profile,
)

pytestmark = pytest.mark.django_db

D = datetime.date


@pytest.fixture
def follow(plie, operation, referent_a, animation):
    def follow(stage="active", *, contract=True, participant=None, **kwargs):
        parcours = make_parcours(
            participant or ParticipantFactory(plie=plie),
            stage,
            by=animation,
            operation=operation,
            referent=profile(referent_a),
            **kwargs,
        )
        if contract:
            add_document(parcours, DocumentKind.CONTRACT, by=animation)
        return parcours

    return follow


def row_of(parcours, today=ENTRY_ON):
    """The parcours as the portfolio reads it (annotated), or None when the portfolio leaves it out."""
    return portfolio(Parcours.objects.filter(pk=parcours.pk), parcours.participant.plie, today).first()


def alerts(parcours, today):
    return {alert.code: alert for alert in alerts_for(row_of(parcours, today), today)}


class TestNoEntretien:
    def test_an_entretien_within_the_month_raises_nothing(self, follow):
        parcours = follow()
        add_entretien(parcours, D(2023, 3, 1))
        assert alerts(parcours, D(2023, 3, 20)) == {}

    def test_exactly_one_month_without_entretien_is_still_fine(self, follow):
        parcours = follow()
        add_entretien(parcours, D(2023, 3, 1))
        assert "no_entretien" not in alerts(parcours, D(2023, 4, 1))

    def test_more_than_a_month_without_entretien_raises_a_danger_alert(self, follow):
        parcours = follow()
        add_entretien(parcours, D(2023, 2, 10))
        add_entretien(parcours, D(2023, 3, 1))
        alert = alerts(parcours, D(2023, 4, 2))["no_entretien"]
        assert alert.label == "Pas d’entretien depuis le 01/03/2023"
        assert alert.level == "danger"

    def test_without_any_entretien_the_month_counts_from_the_entry(self, follow):
        parcours = follow()
        assert "no_entretien" not in alerts(parcours, D(2023, 3, 1))
        assert alerts(parcours, D(2023, 3, 2))["no_entretien"].label == "Pas d’entretien depuis le 01/02/2023"


class TestFollowUpDue:
    def test_the_six_month_follow_up_is_announced_two_weeks_ahead(self, follow):
        parcours = follow("follow_up")
        add_entretien(parcours, D(2023, 10, 1))
        assert "follow_up_due" not in alerts(parcours, D(2023, 10, 18))
        alert = alerts(parcours, D(2023, 10, 19))["follow_up_due"]
        assert alert.label == "Suivi de 6 mois dans l’emploi : échéance le 02/11/2023"

    def test_an_active_parcours_without_a_job_has_no_follow_up(self, follow):
        parcours = follow("active")
        add_entretien(parcours, D(2023, 12, 1))
        assert "follow_up_due" not in alerts(parcours, D(2023, 12, 10))


class TestExitToValidate:
    def test_a_pending_exit_is_announced_with_its_date_of_validation(self, follow, animation):
        parcours = follow("exit_pending")
        add_document(parcours, DocumentKind.EMPLOYMENT_CONTRACT, by=animation)
        add_entretien(parcours, D(2023, 10, 20))
        alert = alerts(parcours, D(2023, 10, 25))["exit_to_validate"]
        assert alert.label == "Sortie positive à faire valider le 02/11/2023"
        assert alert.level == "info"

    def test_once_the_follow_up_is_over_it_is_to_validate_since_that_day(self, follow, animation):
        parcours = follow("exit_pending")
        add_document(parcours, DocumentKind.EMPLOYMENT_CONTRACT, by=animation)
        add_entretien(parcours, FOLLOW_UP_ENDS)
        assert alerts(parcours, FOLLOW_UP_ENDS)["exit_to_validate"].label == (
            "Sortie positive à faire valider depuis le 02/11/2023"
        )

    def test_a_validated_exit_leaves_the_portfolio(self, follow):
        parcours = follow("exited")
        assert row_of(parcours) is None


class TestReviewDue:
    def test_without_a_review_period_on_the_fiche_there_is_never_a_review(self, follow):
        parcours = follow()
        assert parcours.operation.review_after_months is None
        add_entretien(parcours, D(2026, 1, 10))
        assert "review_due" not in alerts(parcours, D(2026, 1, 20))

    def test_a_24_month_review_is_announced_a_month_ahead(self, follow, operation):
        operation.review_after_months = 24
        operation.save()
        parcours = follow()
        add_entretien(parcours, D(2024, 12, 28))
        assert "review_due" not in alerts(parcours, D(2025, 1, 1))
        alert = alerts(parcours, D(2025, 1, 2))["review_due"]
        assert alert.label == "Point de situation à faire (parcours entré le 01/02/2023)"
        assert row_of(parcours).review_due_on == D(2025, 2, 1)


class TestMissingProofs:
    def test_a_missing_signed_contract_is_flagged(self, follow):
        parcours = follow(contract=False)
        add_entretien(parcours, D(2023, 3, 1))
        assert alerts(parcours, D(2023, 3, 2))["missing_contract"].label == "Contrat d’engagement signé manquant"

    def test_another_kind_of_document_is_not_a_signed_contract(self, follow, animation):
        parcours = follow(contract=False)
        add_document(parcours, DocumentKind.IDENTITY, by=animation)
        assert "missing_contract" in alerts(parcours, ENTRY_ON)

    def test_a_contract_of_another_parcours_of_the_person_does_not_count(self, follow, animation):
        first = follow("exited", exit_label="Abandon")
        second = follow(
            participant=first.participant,
            contract=False,
            prescribed_on=D(2023, 7, 3),
            received_on=D(2023, 7, 5),
            commission_on=D(2023, 7, 10),
            entry_on=D(2023, 7, 17),
        )
        assert "missing_contract" in alerts(second, D(2023, 7, 18))

    @pytest.mark.parametrize("kind", [DocumentKind.EMPLOYMENT_CONTRACT, DocumentKind.CERTIFICATE])
    def test_a_pending_exit_needs_a_proof(self, follow, animation, kind):
        parcours = follow("exit_pending")
        add_entretien(parcours, D(2023, 10, 20))
        assert alerts(parcours, D(2023, 10, 25))["missing_exit_proof"].label == "Justificatif de sortie manquant"
        add_document(parcours, kind, by=animation)
        assert "missing_exit_proof" not in alerts(parcours, D(2023, 10, 25))

    def test_an_exit_proof_is_only_asked_for_a_pending_exit(self, follow):
        parcours = follow("follow_up")
        add_entretien(parcours, D(2023, 6, 1))
        assert "missing_exit_proof" not in alerts(parcours, D(2023, 6, 2))


class TestPortfolioRows:
    @pytest.mark.parametrize("stage", ["prescribed", "received", "accepted", "refused", "exited"])
    def test_only_open_parcours_are_in_the_portfolio(self, follow, stage):
        assert row_of(follow(stage, contract=False)) is None

    @pytest.mark.parametrize("stage", ["active", "follow_up", "exit_pending"])
    def test_open_parcours_are_in_the_portfolio(self, follow, stage):
        assert row_of(follow(stage)) is not None

    def test_rows_carry_the_zone_of_the_plie_and_the_current_referent(self, plie, follow, referent_a):
        ours = ZoneFactory(plie=plie, name="Pessac centre")
        ours.communes.add(PESSAC)
        theirs = with_territory(PlieFactory(slug="voisin"), PESSAC)
        ZoneFactory(plie=theirs, name="Zone d’un autre PLIE").communes.add(PESSAC)
        parcours = follow(participant=ParticipantFactory(plie=plie, commune_id=PESSAC))
        add_entretien(parcours, D(2023, 3, 1), next_appointment=D(2023, 3, 15))
        add_entretien(parcours, D(2023, 2, 15))
        [row] = with_alerts(portfolio(Parcours.objects.filter(pk=parcours.pk), plie, D(2023, 3, 10)), D(2023, 3, 10))
        assert row.zone == ours
        assert row.referent == profile(referent_a)
        assert (row.last_entretien, row.next_appointment) == (D(2023, 3, 1), D(2023, 3, 15))
        assert row.alerts == []

    def test_a_row_without_commune_has_no_zone(self, plie, follow):
        parcours = follow()
        [row] = with_alerts(portfolio(Parcours.objects.filter(pk=parcours.pk), plie, ENTRY_ON), ENTRY_ON)
        assert row.zone is None

    def test_alerts_need_no_query_once_the_rows_are_read(self, plie, follow, django_assert_num_queries):
        for _ in range(3):
            follow("exit_pending", contract=False)
        rows = list(portfolio(Parcours.objects.filter(participant__plie=plie), plie, D(2023, 11, 5)))
        with django_assert_num_queries(0):
            codes = [{a.code for a in alerts_for(row, D(2023, 11, 5))} for row in rows]
        assert (
            codes
            == [
                {"no_entretien", "exit_to_validate", "missing_contract", "missing_exit_proof"},
            ]
            * 3
        )
        assert all(row.status == Status.EXIT_PENDING for row in rows)
