"""The named write functions of a parcours (participants/services.py), with fixed dates."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from participants import services
from participants.models import (
    AssignmentReason,
    CommissionDecision,
    CommissionOutcome,
    ContractType,
    Parcours,
    Participant,
    Prescriber,
    ReceptionKind,
    ReferentAssignment,
    Status,
)
from steps.models import Step
from tests.factories import MembershipFactory, ReferentFactory
from tests.factories.participants import (
    COMMISSION_ON,
    ENTRY_ON,
    EXIT_ON,
    FOLLOW_UP_ENDS,
    JOB_START,
    ParticipantFactory,
    make_parcours,
    profile,
    reason,
    reassign,
)
from tests.factories.steps import step_type

pytestmark = pytest.mark.django_db

D = datetime.date


def refused_with(message, call):
    """The call raises a ValidationError whose French message contains `message`."""
    with pytest.raises(ValidationError) as error:
        call()
    assert message in " ".join(error.value.messages), error.value.messages


@pytest.fixture
def participant(plie):
    return ParticipantFactory(plie=plie, last_name="Durand", first_name="Léa")


@pytest.fixture
def follow(operation, referent_a, animation):
    """Take `participant` to a stage, integrated on FO1 2023 with referent_a's profile, animation acting."""

    def follow(participant, stage="active", **kwargs):
        return make_parcours(
            participant, stage, by=animation, operation=operation, referent=profile(referent_a), **kwargs
        )

    return follow


class TestPrescription:
    def test_a_prescription_opens_a_parcours_at_the_prescribed_stage(self, participant, animation):
        parcours = services.prescribe(
            participant=participant,
            prescriber=Prescriber.CCAS,
            prescriber_detail="CCAS de Pessac",
            prescription_date=D(2023, 1, 5),
            by=animation,
        )
        parcours.refresh_from_db()
        assert parcours.status == Status.PRESCRIBED
        assert (parcours.prescriber, parcours.prescriber_detail) == ("ccas", "CCAS de Pessac")
        assert parcours.operation is None and parcours.entry_date is None

    def test_a_prescription_in_the_future_is_refused(self, participant, animation):
        tomorrow = timezone.localdate() + datetime.timedelta(days=1)
        refused_with(
            "La date de prescription ne peut pas être dans le futur.",
            lambda: services.prescribe(
                participant=participant, prescriber=Prescriber.CCAS, prescription_date=tomorrow, by=animation
            ),
        )
        assert not participant.parcours.exists()

    @pytest.mark.parametrize("stage", ["prescribed", "received", "postponed", "accepted", "active", "follow_up"])
    def test_a_second_prescription_is_refused_while_a_parcours_is_unfinished(
        self, participant, animation, follow, stage
    ):
        follow(participant, stage)
        refused_with(
            "Ce participant a déjà un parcours en cours.",
            lambda: services.prescribe(
                participant=participant, prescriber=Prescriber.CCAS, prescription_date=D(2023, 7, 10), by=animation
            ),
        )
        assert participant.parcours.count() == 1

    def test_a_second_prescription_is_refused_while_a_positive_exit_waits_for_validation(
        self, participant, animation, follow
    ):
        follow(participant, "exit_pending")
        refused_with(
            "Ce participant a déjà un parcours en cours.",
            lambda: services.prescribe(
                participant=participant, prescriber=Prescriber.CCAS, prescription_date=D(2023, 7, 10), by=animation
            ),
        )

    def test_a_person_refused_in_commission_may_be_prescribed_again(self, participant, animation, follow):
        follow(participant, "refused")
        again = services.prescribe(
            participant=participant, prescriber=Prescriber.CCAS, prescription_date=D(2023, 3, 1), by=animation
        )
        assert again.status == Status.PRESCRIBED
        assert participant.parcours.count() == 2

    def test_a_new_parcours_may_be_prescribed_after_the_previous_one_ended(self, participant, animation, follow):
        first = follow(participant, "exited")
        assert first.exit_date == EXIT_ON
        second = services.prescribe(
            participant=participant, prescriber=Prescriber.CCAS, prescription_date=D(2023, 7, 1), by=animation
        )
        assert second.status == Status.PRESCRIBED
        assert list(participant.parcours.values_list("status", flat=True)) == [Status.PRESCRIBED, Status.EXITED]

    @pytest.mark.parametrize("day", [D(2023, 6, 30), D(2023, 3, 1)])
    def test_a_new_parcours_overlapping_the_previous_one_is_refused(self, participant, animation, follow, day):
        follow(participant, "exited")
        refused_with(
            "Un nouveau parcours commence après la sortie du précédent (le 30/06/2023).",
            lambda: services.prescribe(
                participant=participant, prescriber=Prescriber.CCAS, prescription_date=day, by=animation
            ),
        )
        assert participant.parcours.count() == 1


class TestReception:
    def test_the_reception_records_its_date_and_kind(self, participant, animation, follow):
        parcours = follow(participant, "prescribed")
        services.record_reception(parcours=parcours, date=D(2023, 1, 10), kind=ReceptionKind.INTERVIEW, by=animation)
        parcours.refresh_from_db()
        assert parcours.status == Status.RECEIVED
        assert (parcours.reception_date, parcours.reception_kind) == (D(2023, 1, 10), "entretien_accueil")

    def test_a_reception_before_the_prescription_is_refused(self, participant, animation, follow):
        parcours = follow(participant, "prescribed")
        refused_with(
            "L’accueil ne peut pas précéder la prescription.",
            lambda: services.record_reception(
                parcours=parcours, date=D(2023, 1, 4), kind=ReceptionKind.INTERVIEW, by=animation
            ),
        )
        parcours.refresh_from_db()
        assert parcours.status == Status.PRESCRIBED and parcours.reception_date is None

    def test_a_reception_in_the_future_is_refused(self, participant, animation, follow):
        parcours = follow(participant, "prescribed")
        refused_with(
            "La date d’accueil ne peut pas être dans le futur.",
            lambda: services.record_reception(
                parcours=parcours,
                date=timezone.localdate() + datetime.timedelta(days=1),
                kind=ReceptionKind.INTERVIEW,
                by=animation,
            ),
        )

    def test_a_second_reception_is_refused_at_the_wrong_stage(self, participant, animation, follow):
        parcours = follow(participant, "received")
        refused_with(
            "Ce parcours est à l’étape « Accueilli » : cette action n’est pas possible maintenant.",
            lambda: services.record_reception(
                parcours=parcours, date=D(2023, 1, 12), kind=ReceptionKind.INTERVIEW, by=animation
            ),
        )


class TestCommission:
    def test_an_admission_is_recorded_with_who_decided(self, participant, animation, follow):
        parcours = follow(participant, "received")
        decision = services.decide_admission(
            parcours=parcours, date=COMMISSION_ON, outcome=CommissionOutcome.ACCEPTED, reason="", by=animation
        )
        parcours.refresh_from_db()
        assert parcours.status == Status.ACCEPTED
        assert (decision.date, decision.outcome, decision.decided_by) == (COMMISSION_ON, "accepted", animation)

    @pytest.mark.parametrize("outcome", [CommissionOutcome.REFUSED, CommissionOutcome.POSTPONED])
    @pytest.mark.parametrize(
        "blank",
        [
            "",
            pytest.param(
                "   ",
                id="spaces",
            ),
        ],
    )
    def test_a_refusal_or_postponement_without_reason_is_refused_and_nothing_is_saved(
        self, participant, animation, follow, outcome, blank
    ):
        parcours = follow(participant, "received")
        refused_with(
            "Un refus ou un ajournement doit être motivé.",
            lambda: services.decide_admission(
                parcours=parcours, date=COMMISSION_ON, outcome=outcome, reason=blank, by=animation
            ),
        )
        parcours.refresh_from_db()
        assert parcours.status == Status.RECEIVED
        assert not CommissionDecision.objects.filter(parcours=parcours).exists()

    def test_a_refusal_is_kept_with_its_reason(self, participant, animation, follow):
        parcours = follow(participant, "received")
        services.decide_admission(
            parcours=parcours,
            date=COMMISSION_ON,
            outcome=CommissionOutcome.REFUSED,
            reason="Ne relève pas du PLIE",
            by=animation,
        )
        parcours.refresh_from_db()
        assert parcours.status == Status.REFUSED
        assert parcours.decisions.get().reason == "Ne relève pas du PLIE"
        refused_with(
            "Ce parcours est à l’étape « Refusé en commission »",
            lambda: services.decide_admission(
                parcours=parcours, date=D(2023, 2, 1), outcome=CommissionOutcome.ACCEPTED, reason="", by=animation
            ),
        )

    def test_a_postponed_file_comes_back_to_commission_and_both_decisions_are_kept(
        self, participant, animation, follow
    ):
        parcours = follow(participant, "postponed")
        services.decide_admission(
            parcours=parcours, date=D(2023, 2, 17), outcome=CommissionOutcome.ACCEPTED, reason="", by=animation
        )
        parcours.refresh_from_db()
        assert parcours.status == Status.ACCEPTED
        assert list(parcours.decisions.values_list("outcome", "reason")) == [
            ("postponed", "Projet à préciser"),
            ("accepted", ""),
        ]

    def test_a_commission_before_the_reception_is_refused(self, participant, animation, follow):
        parcours = follow(participant, "received")
        refused_with(
            "La commission ne peut pas précéder l’accueil.",
            lambda: services.decide_admission(
                parcours=parcours, date=D(2023, 1, 9), outcome=CommissionOutcome.ACCEPTED, reason="", by=animation
            ),
        )

    def test_a_commission_before_the_reception_is_refused_at_the_wrong_stage(self, participant, animation, follow):
        parcours = follow(participant, "prescribed")
        refused_with(
            "Ce parcours est à l’étape « Prescrit »",
            lambda: services.decide_admission(
                parcours=parcours, date=COMMISSION_ON, outcome=CommissionOutcome.ACCEPTED, reason="", by=animation
            ),
        )


class TestIntegration:
    def test_the_signed_contract_starts_the_parcours_with_its_referent(
        self, participant, animation, referent_a, operation, follow
    ):
        parcours = follow(participant, "accepted")
        assert not Participant.objects.for_user(referent_a).filter(pk=participant.pk).exists()
        services.integrate(
            parcours=parcours, entry_date=ENTRY_ON, operation=operation, referent=profile(referent_a), by=animation
        )
        parcours.refresh_from_db()
        assert (parcours.status, parcours.entry_date, parcours.operation) == (Status.ACTIVE, ENTRY_ON, operation)
        assignment = parcours.assignments.get()
        assert (assignment.referent, assignment.start, assignment.end) == (profile(referent_a), ENTRY_ON, None)
        assert (assignment.reason, assignment.assigned_by) == (AssignmentReason.INTEGRATION, animation)
        assert Participant.objects.for_user(referent_a).filter(pk=participant.pk).exists()

    def test_a_contract_signed_in_the_future_is_refused(self, participant, animation, referent_a, operation, follow):
        parcours = follow(participant, "accepted")
        refused_with(
            "La date de signature du contrat d’engagement ne peut pas être dans le futur.",
            lambda: services.integrate(
                parcours=parcours,
                entry_date=timezone.localdate() + datetime.timedelta(days=1),
                operation=operation,
                referent=profile(referent_a),
                by=animation,
            ),
        )
        parcours.refresh_from_db()
        assert parcours.status == Status.ACCEPTED and not parcours.assignments.exists()

    def test_a_contract_signed_before_the_commission_is_refused(
        self, participant, animation, referent_a, operation, follow
    ):
        parcours = follow(participant, "accepted")
        refused_with(
            "Le contrat d’engagement ne peut pas précéder la commission.",
            lambda: services.integrate(
                parcours=parcours,
                entry_date=D(2023, 1, 19),
                operation=operation,
                referent=profile(referent_a),
                by=animation,
            ),
        )

    def test_an_entry_outside_the_fiche_is_refused(self, participant, animation, referent_a, operation, follow):
        parcours = follow(
            participant,
            "accepted",
            prescribed_on=D(2022, 11, 2),
            received_on=D(2022, 11, 11),
            commission_on=D(2022, 12, 1),
        )
        refused_with(
            "L’entrée doit se situer dans la période d’exécution de la fiche (du 01/01/2023 au 31/12/2023).",
            lambda: services.integrate(
                parcours=parcours,
                entry_date=D(2022, 12, 15),
                operation=operation,
                referent=profile(referent_a),
                by=animation,
            ),
        )
        parcours.refresh_from_db()
        assert parcours.status == Status.ACCEPTED

    def test_an_integration_without_admission_is_refused(self, participant, animation, referent_a, operation, follow):
        parcours = follow(participant, "postponed")
        refused_with(
            "Ce parcours est à l’étape « Ajourné en commission »",
            lambda: services.integrate(
                parcours=parcours, entry_date=ENTRY_ON, operation=operation, referent=profile(referent_a), by=animation
            ),
        )


class TestReassignment:
    def test_the_previous_assignment_ends_the_day_before_and_stays_in_the_history(
        self, plie, participant, animation, referent_a, follow
    ):
        parcours = follow(participant, "active")
        colleague_user = MembershipFactory(plie=plie, role="referent").user
        colleague = ReferentFactory(plie=plie, user=colleague_user)
        reassign(parcours, colleague, D(2023, 4, 1), animation)
        first, second = parcours.assignments.order_by("start")
        assert (first.referent, first.start, first.end) == (profile(referent_a), ENTRY_ON, D(2023, 3, 31))
        assert (second.referent, second.start, second.end, second.reason) == (colleague, D(2023, 4, 1), None, "other")
        assert parcours.referent_on(D(2023, 3, 31)) == profile(referent_a)
        assert parcours.referent_on(D(2023, 4, 1)) == colleague

    def test_the_former_referent_loses_the_file_and_the_new_one_gets_it(
        self, plie, participant, animation, referent_a, follow
    ):
        parcours = follow(participant, "active")
        colleague_user = MembershipFactory(plie=plie, role="referent").user
        reassign(parcours, ReferentFactory(plie=plie, user=colleague_user), D(2023, 4, 1), animation)
        assert not Participant.objects.for_user(referent_a).filter(pk=participant.pk).exists()
        assert Participant.objects.for_user(colleague_user).filter(pk=participant.pk).exists()

    def test_reassigning_to_the_same_referent_is_refused(self, participant, animation, referent_a, follow):
        parcours = follow(participant, "active")
        refused_with(
            "Ce référent suit déjà ce parcours.",
            lambda: reassign(parcours, profile(referent_a), D(2023, 4, 1), animation),
        )

    @pytest.mark.parametrize("day", [ENTRY_ON, D(2023, 1, 31)])
    def test_a_reassignment_not_after_the_current_one_is_refused(self, plie, participant, animation, follow, day):
        parcours = follow(participant, "active")
        refused_with(
            "La nouvelle affectation doit commencer après le 01/02/2023, début de l’affectation en cours.",
            lambda: reassign(parcours, ReferentFactory(plie=plie), day, animation),
        )
        assert parcours.assignments.get().end is None

    def test_an_ended_parcours_cannot_be_reassigned(self, plie, participant, animation, follow):
        parcours = follow(participant, "exited")
        refused_with(
            "Ce parcours est à l’étape « Sorti »",
            lambda: reassign(parcours, ReferentFactory(plie=plie), D(2023, 12, 1), animation),
        )


class TestEmployment:
    def test_a_job_starts_the_six_month_follow_up(self, participant, referent_a, follow):
        parcours = follow(participant, "active")
        services.start_employment_follow_up(
            parcours=parcours, job_start=JOB_START, contract_type=ContractType.CDD, by=referent_a
        )
        parcours.refresh_from_db()
        assert (parcours.status, parcours.job_start, parcours.contract_type) == (Status.FOLLOW_UP, JOB_START, "cdd")
        assert parcours.follow_up_due_on == FOLLOW_UP_ENDS

    def test_a_job_before_the_entry_is_refused(self, participant, referent_a, follow):
        parcours = follow(participant, "active")
        refused_with(
            "L’emploi ne peut pas commencer avant l’entrée dans le parcours.",
            lambda: services.start_employment_follow_up(
                parcours=parcours, job_start=D(2023, 1, 31), contract_type=ContractType.CDI, by=referent_a
            ),
        )
        parcours.refresh_from_db()
        assert parcours.status == Status.ACTIVE and parcours.job_start is None

    def test_a_job_cannot_be_recorded_before_the_integration(self, participant, referent_a, follow):
        parcours = follow(participant, "accepted")
        refused_with(
            "Ce parcours est à l’étape « Admis en commission »",
            lambda: services.start_employment_follow_up(
                parcours=parcours, job_start=JOB_START, contract_type=ContractType.CDI, by=referent_a
            ),
        )


class TestExit:
    def test_a_positive_exit_waits_for_validation(self, plie, participant, referent_a, follow):
        parcours = follow(participant, "follow_up")
        services.record_exit(parcours=parcours, exit_date=EXIT_ON, reason=reason(plie, "CDI"), by=referent_a)
        parcours.refresh_from_db()
        assert (parcours.status, parcours.exit_date, parcours.exit_reason.label) == (
            Status.EXIT_PENDING,
            EXIT_ON,
            "CDI",
        )
        assert parcours.exit_validated_at is None and parcours.exit_validated_by is None
        assert parcours.assignments.get().end is None  # the referent keeps following the person until validation

    @pytest.mark.parametrize("label", ["Abandon", "CDD de moins de 6 mois", "Déménagement"])
    def test_any_other_exit_closes_the_parcours_and_its_assignment(self, plie, participant, referent_a, follow, label):
        parcours = follow(participant, "active")
        services.record_exit(parcours=parcours, exit_date=EXIT_ON, reason=reason(plie, label), by=referent_a)
        parcours.refresh_from_db()
        assert parcours.status == Status.EXITED
        assert parcours.exit_validated_by == referent_a
        assert parcours.assignments.get().end == EXIT_ON
        assert not Participant.objects.for_user(referent_a).filter(pk=participant.pk).exists()

    def test_an_exit_in_the_future_is_refused(self, plie, participant, referent_a, follow):
        parcours = follow(participant, "active")
        refused_with(
            "La date de sortie ne peut pas être dans le futur.",
            lambda: services.record_exit(
                parcours=parcours,
                exit_date=timezone.localdate() + datetime.timedelta(days=1),
                reason=reason(plie, "Abandon"),
                by=referent_a,
            ),
        )

    def test_an_exit_before_the_entry_is_refused(self, plie, participant, referent_a, follow):
        parcours = follow(participant, "active")
        refused_with(
            "La sortie ne peut pas précéder l’entrée dans le parcours.",
            lambda: services.record_exit(
                parcours=parcours, exit_date=D(2023, 1, 31), reason=reason(plie, "Abandon"), by=referent_a
            ),
        )
        parcours.refresh_from_db()
        assert parcours.status == Status.ACTIVE and parcours.exit_date is None

    def test_an_exit_reason_of_another_plie_is_refused(self, other_plie, participant, referent_a, follow):
        parcours = follow(participant, "active")
        refused_with(
            "Ce motif de sortie n’existe pas dans la nomenclature du PLIE.",
            lambda: services.record_exit(
                parcours=parcours, exit_date=EXIT_ON, reason=reason(other_plie, "Abandon"), by=referent_a
            ),
        )
        parcours.refresh_from_db()
        assert parcours.status == Status.ACTIVE

    def test_an_exit_reason_no_longer_in_use_is_refused(self, plie, participant, referent_a, follow):
        parcours = follow(participant, "active")
        retired = reason(plie, "Santé")
        retired.is_active = False
        retired.save()
        refused_with(
            "Ce motif de sortie n’existe pas dans la nomenclature du PLIE.",
            lambda: services.record_exit(parcours=parcours, exit_date=EXIT_ON, reason=retired, by=referent_a),
        )

    def test_an_exit_before_the_integration_is_refused(self, plie, participant, referent_a, follow):
        parcours = follow(participant, "received")
        refused_with(
            "Ce parcours est à l’étape « Accueilli »",
            lambda: services.record_exit(
                parcours=parcours, exit_date=EXIT_ON, reason=reason(plie, "Abandon"), by=referent_a
            ),
        )


class TestExitValidation:
    def test_a_positive_exit_cannot_be_validated_before_the_end_of_the_six_month_follow_up(
        self, participant, animation, follow
    ):
        parcours = follow(participant, "exit_pending")
        refused_with(
            "Le suivi de 6 mois dans l’emploi se termine le 02/11/2023 : la sortie pourra être validée à cette date.",
            lambda: services.validate_exit(parcours=parcours, by=animation, today=D(2023, 11, 1)),
        )
        parcours.refresh_from_db()
        assert parcours.status == Status.EXIT_PENDING

    def test_the_animation_team_validates_it_once_the_follow_up_is_over(
        self, participant, animation, referent_a, follow
    ):
        parcours = follow(participant, "exit_pending")
        services.validate_exit(parcours=parcours, by=animation, today=FOLLOW_UP_ENDS)
        parcours.refresh_from_db()
        assert parcours.status == Status.EXITED
        assert parcours.exit_validated_by == animation and parcours.exit_validated_at is not None
        assert parcours.assignments.get().end == EXIT_ON
        assert not Participant.objects.for_user(referent_a).filter(pk=participant.pk).exists()

    def test_only_a_pending_exit_can_be_validated(self, participant, animation, follow):
        parcours = follow(participant, "follow_up")
        refused_with(
            "Ce parcours est à l’étape « Suivi dans l’emploi »",
            lambda: services.validate_exit(parcours=parcours, by=animation, today=D(2024, 1, 1)),
        )

    def test_a_positive_exit_without_a_recorded_job_cannot_skip_the_six_month_follow_up(
        self, plie, participant, animation, referent_a, follow
    ):
        parcours = follow(participant, "active")
        with pytest.raises(ValidationError):  # either the exit itself or its validation on the same day is refused
            services.record_exit(parcours=parcours, exit_date=EXIT_ON, reason=reason(plie, "CDI"), by=referent_a)
            services.validate_exit(parcours=parcours, by=animation, today=EXIT_ON)


class TestDatabaseGuards:
    """Whatever code writes the rows, the database refuses an incoherent parcours."""

    def test_two_overlapping_parcours_of_one_person_are_refused(self, participant, follow):
        first = follow(participant, "active")
        with pytest.raises(IntegrityError), transaction.atomic():
            Parcours.objects.create(
                participant=participant,
                prescriber=Prescriber.CCAS,
                prescription_date=D(2023, 1, 6),
                entry_date=D(2023, 3, 1),
                status=Status.ACTIVE,
                operation=first.operation,
            )

    def test_an_exit_before_the_entry_is_refused(self, participant, follow):
        parcours = follow(participant, "active")
        parcours.exit_date, parcours.exit_reason = D(2023, 1, 15), reason(participant.plie, "Abandon")
        with pytest.raises(IntegrityError), transaction.atomic():
            parcours.save()

    def test_a_parcours_and_its_steps_carry_the_participants_plie(self, participant, follow):
        parcours = follow(participant, "active")
        step = Step.objects.create(parcours=parcours, step_type=step_type(participant.plie), start=D(2023, 3, 1))
        assert (parcours.plie, step.plie) == (participant.plie, participant.plie)

    @pytest.mark.parametrize("model", ["parcours", "step"])
    @pytest.mark.parametrize("write", ["create", "update"])
    def test_another_plie_than_the_participants_is_refused(self, participant, follow, other_plie, model, write):
        """The column that reports read first (participants/attribution.py) never disagrees with the participant:
        a composite foreign key on PostgreSQL, checked at commit, triggers on SQLite."""
        parcours = follow(participant, "active")
        step = Step.objects.create(parcours=parcours, step_type=step_type(participant.plie), start=D(2023, 3, 1))
        target = {"parcours": parcours, "step": step}[model]
        with pytest.raises(IntegrityError), transaction.atomic():
            if write == "update":
                type(target).objects.filter(pk=target.pk).update(plie=other_plie)
            elif model == "parcours":
                Parcours.objects.create(
                    participant=participant,
                    plie=other_plie,
                    prescriber=Prescriber.CCAS,
                    prescription_date=D(2024, 1, 6),
                    operation=parcours.operation,
                )
            else:
                Step.objects.create(parcours=parcours, plie=other_plie, step_type=step.step_type, start=D(2023, 4, 1))
            connection.check_constraints()

    def test_a_parcours_has_one_current_referent_at_most(self, plie, participant, follow):
        parcours = follow(participant, "active")
        with pytest.raises(IntegrityError), transaction.atomic():
            ReferentAssignment.objects.create(
                parcours=parcours, referent=ReferentFactory(plie=plie), start=D(2023, 3, 1), reason="other"
            )
