"""The named write functions of steps (steps/services.py), the validation grid versions and what counts."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from participants.models import DocumentKind
from steps import services
from steps.grid import Grid
from steps.models import GridRule, GridVersion, Step, StepStatus, StepType, Validation
from tests.factories import MembershipFactory, ReferentFactory
from tests.factories.participants import (
    ENTRY_ON,
    EXIT_ON,
    ParticipantFactory,
    isolate_private_storage,
    make_parcours,
    profile,
)
from tests.factories.steps import (
    BILAN_LABEL,
    CONVENTION_LABEL,
    PMSMP_CRITERIA,
    STEP_START,
    add_proof,
    make_grid,
    make_step,
    step_type,
    submitted_step,
)

pytestmark = pytest.mark.django_db

D = datetime.date


@pytest.fixture(autouse=True)
def private_files(monkeypatch, tmp_path):
    return isolate_private_storage(monkeypatch, tmp_path)


def refused_with(message, call):
    """The call raises a ValidationError whose French message contains `message`."""
    with pytest.raises(ValidationError) as error:
        call()
    assert message in " ".join(error.value.messages), error.value.messages


@pytest.fixture
def grid(plie, admin_user):
    """The grid of 01/01/2023: a PMSMP needs a convention and a bilan."""
    return make_grid(plie, by=admin_user)


@pytest.fixture
def parcours(plie, operation, referent_a, animation):
    """Léa Durand, in parcours since 01/02/2023 on FO1, followed by referent_a."""
    participant = ParticipantFactory(plie=plie, last_name="Durand", first_name="Léa")
    return make_parcours(participant, "active", by=animation, operation=operation, referent=profile(referent_a))


@pytest.fixture
def pending(grid, parcours, referent_a):
    """A PMSMP with both proofs, submitted by referent_a."""
    return submitted_step(parcours, by=referent_a)


class TestPositioning:
    def test_a_step_within_the_parcours_is_saved_with_its_author(self, parcours, referent_a):
        step = make_step(parcours, by=referent_a, notes="Découverte du métier de boulanger.")
        step.refresh_from_db()
        assert (step.step_type.label, step.status, step.validation) == ("PMSMP", StepStatus.IN_PROGRESS, "draft")
        assert step.created_by == referent_a
        assert step.history.get().history_user == referent_a

    @pytest.mark.parametrize("start", [ENTRY_ON, D(2023, 12, 31)])
    def test_a_step_may_start_on_the_entry_day_or_any_day_of_an_open_parcours(self, parcours, referent_a, start):
        assert make_step(parcours, by=referent_a, start=start, end=None).pk

    def test_a_step_before_the_entry_is_refused_and_nothing_is_saved(self, parcours, referent_a):
        refused_with(
            "L’étape doit commencer pendant le parcours (du 01/02/2023, toujours en cours).",
            lambda: make_step(parcours, by=referent_a, start=D(2023, 1, 31), end=None),
        )
        assert not Step.objects.exists()

    def test_no_step_is_positioned_once_the_exit_is_declared(self, plie, operation, animation, referent_a):
        """The exit awaits validation: the parcours is over for new steps (participants.models.PARCOURS_ACTIONS)."""
        parcours = make_parcours(
            ParticipantFactory(plie=plie),
            "exit_pending",
            by=animation,
            operation=operation,
            referent=profile(referent_a),
        )
        for start in (D(2023, 7, 1), EXIT_ON):
            refused_with(
                "On ne positionne une personne sur une étape que pendant son parcours.",
                lambda start=start: make_step(parcours, by=referent_a, start=start, end=None),
            )
        assert not parcours.steps.exists()

    def test_an_end_before_the_start_is_refused(self, parcours, referent_a):
        refused_with(
            "La fin de l’étape ne peut pas précéder son début.",
            lambda: make_step(parcours, by=referent_a, start=D(2023, 3, 10), end=D(2023, 3, 9)),
        )
        assert not Step.objects.exists()

    def test_a_step_type_of_another_plie_is_refused(self, other_plie, parcours, referent_a):
        step = Step(parcours=parcours, step_type=step_type(other_plie), start=STEP_START)
        refused_with(
            "Ce type d’étape n’appartient pas à la nomenclature du PLIE.",
            lambda: services.save_step(step=step, by=referent_a),
        )
        assert not Step.objects.exists()

    @pytest.mark.parametrize("stage", ["received", "accepted", "exited"])
    def test_nobody_is_positioned_outside_a_running_parcours(self, plie, operation, animation, referent_a, stage):
        parcours = make_parcours(
            ParticipantFactory(plie=plie), stage, by=animation, operation=operation, referent=profile(referent_a)
        )
        step = Step(parcours=parcours, step_type=step_type(plie), start=STEP_START)
        refused_with(
            "On ne positionne une personne sur une étape que pendant son parcours.",
            lambda: services.save_step(step=step, by=animation),
        )
        assert not Step.objects.exists()

    def test_a_change_is_checked_like_a_creation(self, parcours, referent_a):
        step = make_step(parcours, by=referent_a)
        step.start = D(2023, 1, 15)
        refused_with("L’étape doit commencer pendant le parcours", lambda: services.save_step(step=step, by=referent_a))
        step.refresh_from_db()
        assert step.start == STEP_START

    def test_a_validated_step_is_frozen(self, pending, animation, referent_a):
        services.validate_step(step=pending, by=animation)
        pending.notes = "Changé après coup"
        refused_with(
            "Une étape validée ne peut plus être modifiée.", lambda: services.save_step(step=pending, by=referent_a)
        )
        pending.refresh_from_db()
        assert pending.notes == "" and pending.validation == Validation.VALIDATED

    def test_a_proof_is_a_document_of_the_participant_file(self, parcours, referent_a):
        step = make_step(parcours, by=referent_a)
        document = add_proof(step, DocumentKind.CONVENTION, by=referent_a)
        assert (document.participant, document.parcours, document.uploaded_by) == (
            parcours.participant,
            parcours,
            referent_a,
        )
        assert (document.original_name, document.content_type) == ("convention.pdf", "application/pdf")
        assert list(step.proofs.all()) == [document]
        assert list(parcours.participant.documents.all()) == [document]


class TestSubmission:
    @pytest.mark.parametrize("status", [StepStatus.IN_PROGRESS, StepStatus.DONE])
    def test_the_referent_submits_a_step_in_progress_or_done(self, parcours, referent_a, status):
        step = make_step(parcours, by=referent_a, status=status)
        before = timezone.now()
        services.submit_step(step=step, by=referent_a)
        step.refresh_from_db()
        assert (step.validation, step.submitted_by) == (Validation.SUBMITTED, referent_a)
        assert before <= step.submitted_at <= timezone.now()

    @pytest.mark.parametrize("status", [StepStatus.PROPOSED, StepStatus.ABANDONED])
    def test_a_proposed_or_abandoned_step_cannot_be_submitted(self, parcours, referent_a, status):
        step = make_step(parcours, by=referent_a, status=status)
        refused_with(
            "Seule une étape en cours ou réalisée peut être soumise à validation.",
            lambda: services.submit_step(step=step, by=referent_a),
        )
        step.refresh_from_db()
        assert (step.validation, step.submitted_at) == (Validation.DRAFT, None)

    def test_a_step_is_submitted_once(self, pending, animation, referent_a):
        refused_with(
            "Cette étape est déjà soumise à validation.", lambda: services.submit_step(step=pending, by=referent_a)
        )
        services.validate_step(step=pending, by=animation)
        refused_with("Cette étape est déjà validée.", lambda: services.submit_step(step=pending, by=referent_a))


class TestValidation:
    @pytest.mark.parametrize("persona", ["animation", "admin_user"])
    def test_the_team_validates_a_complete_step_dated_and_attributed(self, request, pending, persona):
        user = request.getfixturevalue(persona)
        before = timezone.now()
        services.validate_step(step=pending, by=user)
        pending.refresh_from_db()
        assert (pending.validation, pending.decided_by) == (Validation.VALIDATED, user)
        assert before <= pending.decided_at <= timezone.now()
        assert pending.history.first().history_user == user

    def test_missing_proofs_are_named_and_the_step_stays_submitted(self, grid, parcours, referent_a, animation):
        step = submitted_step(parcours, by=referent_a, kinds=())
        refused_with(
            f"Justificatifs manquants selon la grille de validation : {BILAN_LABEL}, {CONVENTION_LABEL}.",
            lambda: services.validate_step(step=step, by=animation),
        )
        add_proof(step, DocumentKind.CONVENTION, by=referent_a)
        add_proof(step, DocumentKind.OTHER, by=referent_a)  # a proof of another kind does not stand in for the bilan
        refused_with(
            f"Justificatifs manquants selon la grille de validation : {BILAN_LABEL}.",
            lambda: services.validate_step(step=step, by=animation),
        )
        step.refresh_from_db()
        assert (step.validation, step.decided_at, step.decided_by) == (Validation.SUBMITTED, None, None)

    def test_missing_proofs_follow_the_grid_rule_of_the_step_type(self, grid, parcours, referent_a):
        step = make_step(parcours, by=referent_a)
        assert step.missing_proofs() == [DocumentKind.ASSESSMENT, DocumentKind.CONVENTION]
        add_proof(step, DocumentKind.ASSESSMENT, by=referent_a)
        assert step.missing_proofs() == [DocumentKind.CONVENTION]
        rule = step.grid_rule()
        assert (rule.version, rule.criteria, rule.required_labels) == (
            grid,
            PMSMP_CRITERIA,
            [BILAN_LABEL, CONVENTION_LABEL],
        )

    def test_a_type_without_rule_needs_no_proof(self, grid, parcours, referent_a, animation):
        step = make_step(parcours, "Stage", by=referent_a)
        services.submit_step(step=step, by=referent_a)
        assert step.grid_rule() is None and step.missing_proofs() == []
        services.validate_step(step=step, by=animation)
        assert step.validation == Validation.VALIDATED

    def test_without_any_grid_no_proof_is_required(self, parcours, referent_a, animation):
        step = submitted_step(parcours, by=referent_a, kinds=())
        services.validate_step(step=step, by=animation)
        assert Step.objects.get().validation == Validation.VALIDATED

    def test_a_referent_cannot_validate_the_step_they_follow(self, pending, referent_a):
        refused_with(
            "Une étape est validée par l’équipe d’animation, et jamais par la personne qui la suit ou l’a soumise.",
            lambda: services.validate_step(step=pending, by=referent_a),
        )
        pending.refresh_from_db()
        assert pending.validation == Validation.SUBMITTED

    def test_the_team_member_who_submitted_a_step_does_not_validate_it(self, grid, parcours, animation):
        step = submitted_step(parcours, by=animation)
        assert not step.can_be_validated_by(animation)
        refused_with(
            "jamais par la personne qui la suit ou l’a soumise", lambda: services.validate_step(step=step, by=animation)
        )
        assert Step.objects.get().validation == Validation.SUBMITTED

    def test_a_team_member_who_follows_the_parcours_as_referent_does_not_validate_it(
        self, plie, operation, grid, animation, admin_user
    ):
        """An animation member may also hold a portfolio: they never validate a step of their own participants."""
        own = ReferentFactory(plie=plie, user=animation)
        parcours = make_parcours(ParticipantFactory(plie=plie), by=admin_user, operation=operation, referent=own)
        step = submitted_step(parcours, by=admin_user)
        assert not step.can_be_validated_by(animation)
        refused_with("jamais par la personne qui la suit", lambda: services.validate_step(step=step, by=animation))
        services.validate_step(step=step, by=MembershipFactory(plie=plie, role="animation").user)
        assert Step.objects.get().validation == Validation.VALIDATED

    @pytest.mark.parametrize("persona", ["referent_b", "copil", "outsider"])
    def test_other_roles_and_other_plies_never_validate(self, request, pending, persona):
        user = request.getfixturevalue(persona)
        assert not pending.can_be_validated_by(user)
        refused_with(
            "Une étape est validée par l’équipe d’animation", lambda: services.validate_step(step=pending, by=user)
        )
        refused_with(
            "Seule l’équipe d’animation décide de la validation d’une étape.",
            lambda: services.refuse_step(step=pending, reason="Non", by=user),
        )
        pending.refresh_from_db()
        assert pending.validation == Validation.SUBMITTED

    def test_only_a_submitted_step_is_validated_or_refused(self, grid, parcours, referent_a, animation):
        step = make_step(parcours, by=referent_a)
        refused_with(
            "Seule une étape soumise peut être validée.", lambda: services.validate_step(step=step, by=animation)
        )
        refused_with(
            "Seule une étape soumise peut être refusée.",
            lambda: services.refuse_step(step=step, reason="Incomplet", by=animation),
        )
        assert Step.objects.get().validation == Validation.DRAFT


class TestRefusal:
    @pytest.mark.parametrize("reason", ["", "   "])
    def test_a_refusal_must_give_its_reason(self, pending, animation, reason):
        refused_with(
            "Un refus doit être motivé.", lambda: services.refuse_step(step=pending, reason=reason, by=animation)
        )
        pending.refresh_from_db()
        assert (pending.validation, pending.decided_by, pending.refusal_reason) == (Validation.SUBMITTED, None, "")

    def test_a_refused_step_is_completed_resubmitted_and_validated(self, grid, parcours, referent_a, animation):
        step = submitted_step(parcours, by=referent_a, kinds=(DocumentKind.CONVENTION,))
        services.refuse_step(step=step, reason="  Le bilan de la PMSMP manque.  ", by=animation)
        step.refresh_from_db()
        assert (step.validation, step.refusal_reason, step.decided_by) == (
            Validation.REFUSED,
            "Le bilan de la PMSMP manque.",
            animation,
        )
        assert step.decided_at is not None

        step.status, step.end = StepStatus.DONE, D(2023, 3, 20)
        services.save_step(step=step, by=referent_a)  # a refused step goes back to the referent, who completes it
        add_proof(step, DocumentKind.ASSESSMENT, by=referent_a)
        services.submit_step(step=step, by=referent_a)
        step.refresh_from_db()
        assert (step.validation, step.refusal_reason) == (Validation.SUBMITTED, "")

        services.validate_step(step=step, by=animation)
        step.refresh_from_db()
        assert (step.validation, step.decided_by, step.status) == (Validation.VALIDATED, animation, StepStatus.DONE)
        assert list(step.history.order_by("history_id").values_list("validation", flat=True)) == [
            "draft",
            "submitted",
            "refused",
            "refused",
            "submitted",
            "validated",
        ]


class TestGridVersions:
    @pytest.fixture
    def two_versions(self, plie, admin_user):
        """01/01/2023: a PMSMP needs a convention. From 01/04/2023 it also needs a bilan."""
        old = make_grid(plie, by=admin_user, rules={"PMSMP": ("", [DocumentKind.CONVENTION])})
        new = make_grid(
            plie,
            by=admin_user,
            approved_on=D(2023, 4, 1),
            notes="Le bilan devient obligatoire",
            rules={"PMSMP": (PMSMP_CRITERIA, [DocumentKind.CONVENTION, DocumentKind.ASSESSMENT])},
        )
        return old, new

    def test_a_step_started_before_a_grid_change_is_judged_against_the_old_version(
        self, two_versions, parcours, referent_a, animation
    ):
        old, new = two_versions
        before = submitted_step(
            parcours, by=referent_a, kinds=(DocumentKind.CONVENTION,), start=D(2023, 3, 31), end=None
        )
        assert before.grid_rule().version == old and before.missing_proofs() == []
        services.validate_step(step=before, by=animation)  # validated today, long after the change: still the old rule
        assert Step.objects.get(pk=before.pk).validation == Validation.VALIDATED

        after = submitted_step(parcours, by=referent_a, kinds=(DocumentKind.CONVENTION,), start=D(2023, 4, 1), end=None)
        assert after.grid_rule().version == new
        refused_with(
            f"Justificatifs manquants selon la grille de validation : {BILAN_LABEL}.",
            lambda: services.validate_step(step=after, by=animation),
        )

    def test_the_version_in_force_is_the_latest_approved_on_or_before_the_day(self, plie, two_versions):
        old, new = two_versions
        versions = GridVersion.objects.filter(plie=plie)
        assert versions.in_force_on(D(2022, 12, 31)) is None
        assert versions.in_force_on(D(2023, 1, 1)) == old
        assert versions.in_force_on(D(2023, 3, 31)) == old
        assert versions.in_force_on(D(2023, 4, 1)) == new
        assert versions.in_force_on(D(2030, 1, 1)) == new

    def test_a_step_started_before_the_first_grid_needs_no_proof(self, plie, admin_user, parcours, referent_a):
        make_grid(plie, by=admin_user, approved_on=D(2023, 3, 1))
        step = make_step(parcours, by=referent_a, start=D(2023, 2, 28), end=None)
        assert step.grid_rule() is None and step.missing_proofs() == []
        assert make_step(parcours, by=referent_a, start=D(2023, 3, 1), end=None).missing_proofs() != []

    def test_the_in_memory_grid_agrees_with_each_step(self, plie, two_versions, parcours, referent_a):
        old, new = two_versions
        grid = Grid(plie)
        assert grid.current(D(2023, 3, 31)) == old and grid.current(D(2023, 4, 1)) == new
        for start in (D(2023, 2, 1), D(2023, 3, 31), D(2023, 4, 1), D(2023, 9, 1)):
            step = make_step(parcours, by=referent_a, start=start, end=None)
            assert grid.rule_for(step) == step.grid_rule(), start
        assert grid.rule_for(make_step(parcours, "Stage", by=referent_a)) is None

    def test_a_new_version_leaves_the_past_ones_as_approved(self, two_versions):
        old, new = two_versions
        assert list(old.rules.values_list("required_proofs", "criteria")) == [([DocumentKind.CONVENTION], "")]
        assert list(new.rules.values_list("required_proofs", "criteria")) == [
            ([DocumentKind.ASSESSMENT, DocumentKind.CONVENTION], PMSMP_CRITERIA)
        ]
        assert (new.notes, new.created_by.email) == ("Le bilan devient obligatoire", "admin@pessac.fr")

    def test_two_versions_on_the_same_day_are_refused_and_nothing_is_saved(self, plie, admin_user, two_versions):
        refused_with(
            "Une version de la grille est déjà approuvée à cette date.",
            lambda: make_grid(plie, by=admin_user, approved_on=D(2023, 4, 1)),
        )
        assert GridVersion.objects.filter(plie=plie).count() == 2
        assert GridRule.objects.filter(version__plie=plie).count() == 2

    def test_a_rule_only_keeps_types_of_the_plie_and_rules_that_say_something(self, plie, other_plie, admin_user):
        version = services.create_grid_version(
            plie=plie,
            approved_on=D(2023, 1, 1),
            notes="",
            rules={
                step_type(plie, "PMSMP"): ("", [DocumentKind.CONVENTION]),
                step_type(plie, "Stage"): ("   ", []),
                step_type(plie, "CDI"): ("Contrat d’au moins 6 mois", []),
                step_type(other_plie, "PMSMP"): ("", [DocumentKind.OTHER]),
            },
            by=admin_user,
        )
        assert sorted(version.rules.values_list("step_type__label", flat=True)) == ["CDI", "PMSMP"]
        assert not GridRule.objects.filter(step_type__category__plie=other_plie).exists()

    def test_the_grid_of_another_plie_never_judges_a_step(self, other_plie, outsider, grid, parcours, referent_a):
        make_grid(other_plie, by=outsider, approved_on=D(2023, 2, 1), rules={"PMSMP": ("", [DocumentKind.OTHER])})
        step = make_step(parcours, by=referent_a)
        assert step.grid_rule().version == grid
        assert step.missing_proofs() == [DocumentKind.ASSESSMENT, DocumentKind.CONVENTION]


class TestCounting:
    def test_only_validated_steps_of_counting_types_count(self, plie, grid, parcours, referent_a, animation):
        accompaniment = step_type(plie, "Accompagnement")
        accompaniment.counts_toward_target = False
        accompaniment.save()

        validated = submitted_step(parcours, by=referent_a)
        services.validate_step(step=validated, by=animation)
        draft = make_step(parcours, by=referent_a)
        waiting = submitted_step(parcours, by=referent_a)
        refused = submitted_step(parcours, by=referent_a)
        services.refuse_step(step=refused, reason="Convention non signée", by=animation)
        support = make_step(parcours, "Accompagnement", by=referent_a)
        services.submit_step(step=support, by=referent_a)
        services.validate_step(step=support, by=animation)

        assert list(Step.objects.counting()) == [validated]
        assert {draft, waiting, refused, support}.isdisjoint(Step.objects.counting())
        assert parcours.steps.counting().count() == 1

    def test_a_type_taken_out_of_the_target_stops_counting(self, plie, pending, animation):
        services.validate_step(step=pending, by=animation)
        assert Step.objects.counting().count() == 1
        StepType.objects.filter(category__plie=plie, label="PMSMP").update(counts_toward_target=False)
        assert Step.objects.counting().count() == 0
