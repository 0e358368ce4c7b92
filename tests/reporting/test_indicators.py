"""reporting.indicators.compute_bilan against shared/spec/indicators.md, data written directly with the ORM."""

import datetime
import random
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Q
from django.test.utils import CaptureQueriesContext

from operations.models import Operation
from participants.models import Entretien, Parcours, Participant, ReferentAssignment, Status
from participants.participations import deferred
from reporting.indicators import INDICATORS, compute_bilan, months_of
from steps.models import Step, StepCategory, StepType, Validation
from tests.factories import OperationFactory, PlieFactory, ReferentFactory, ReferentPeriodFactory, TargetFactory
from tests.factories.participants import ParticipantFactory, reason

D = datetime.date
YEAR_2023 = (D(2023, 1, 1), D(2023, 12, 31))


@pytest.fixture
def plie(db):
    return PlieFactory(slug="reporting", name="PLIE du bilan")


@pytest.fixture
def operation(plie):
    return OperationFactory(plie=plie, code="FO1", start=D(2022, 1, 1), end=D(2023, 12, 31))


def attach(operation, etp="1", start=YEAR_2023[0], end=YEAR_2023[1], referent=None, **names):
    """A referent (new unless given) with one ETP period on the operation."""
    referent = referent or ReferentFactory(plie=operation.plie, **names)
    ReferentPeriodFactory(referent=referent, operation=operation, etp=Decimal(etp), start=start, end=end)
    return referent


@deferred()  # one sync of the participations, once the parcours has its referent
def enrol(referent, entry, exit=None, label="Abandon", *, status=None, participant=None, operation=None):
    """A parcours entered on `entry`, followed by `referent` until its exit; positive exits are validated unless
    `status` says otherwise."""
    participant = participant or ParticipantFactory(plie=referent.plie)
    exit_reason = reason(referent.plie, label) if exit else None
    if status is None:
        status = Status.EXITED if exit else Status.ACTIVE
    parcours = Parcours.objects.create(
        participant=participant,
        operation=operation,
        status=status,
        prescriber="france_travail",
        prescription_date=entry - datetime.timedelta(days=20),
        entry_date=entry,
        exit_date=exit,
        exit_reason=exit_reason,
        job_start=entry if exit_reason and exit_reason.category == "positive" else None,
    )
    ReferentAssignment.objects.create(parcours=parcours, referent=referent, start=entry, end=exit, reason="integration")
    return parcours


def reassign(parcours, referent, on):
    """From `on`, `referent` follows the parcours; the assignment running on `on` ends the day before."""
    parcours.assignments.filter(start__lt=on).filter(Q(end__isnull=True) | Q(end__gte=on)).update(
        end=on - datetime.timedelta(days=1)
    )
    return ReferentAssignment.objects.create(
        parcours=parcours, referent=referent, start=on, end=parcours.exit_date, reason="rebalancing"
    )


def meet(parcours, day, referent=None):
    return Entretien.objects.create(participant=parcours.participant, parcours=parcours, date=day, referent=referent)


def step_types(plie):
    category = StepCategory.objects.create(plie=plie, name="Étapes du bilan")
    counting = StepType.objects.create(category=category, label="PMSMP du bilan")
    excluded = StepType.objects.create(category=category, label="Accompagnement du bilan", counts_toward_target=False)
    return counting, excluded


def add_step(parcours, step_type, start, validation=Validation.VALIDATED):
    return Step.objects.create(parcours=parcours, step_type=step_type, start=start, validation=validation)


def line_of(bilan, referent):
    return next(line for line in bilan["referents"] if line["referent_id"] == referent.pk)


def test_the_small_case_of_the_spec_is_computed_exactly(operation):
    referent = attach(operation)
    enrol(referent, D(2022, 6, 1))
    enrol(referent, D(2023, 7, 1), D(2023, 9, 30), "CDI")
    enrol(referent, D(2023, 12, 31))

    bilan = compute_bilan(operation, *YEAR_2023)

    assert bilan["plie"] == "reporting"
    assert bilan["operation"] == "FO1"
    assert bilan["period"] == {"start": "2023-01-01", "end": "2023-12-31", "days": 365}
    totals = bilan["totals"]
    assert set(totals) == set(INDICATORS)
    assert totals["etp_moyen"] == 1.0
    assert totals["file_active_moyenne"] == pytest.approx(458 / 365)
    assert round(totals["file_active_moyenne"], 4) == 1.2548
    assert totals["participants_accompagnes"] == 3
    assert totals["nouvelles_integrations"] == 2
    assert totals["sorties"] == 1
    assert totals["sorties_positives"] == 1
    assert totals["sorties_neutralisees"] == 0
    assert totals["taux_sorties_positives"] == 1.0
    assert totals["taux_sorties_positives_brut"] == 1.0
    assert totals["file_active_mensuelle"] == pytest.approx(16 / 12)
    assert totals["entretiens"] == 0
    assert totals["taux_suivi_mensuel"] == 0.0
    assert totals["etapes_validees"] == 0
    assert totals["etapes_objectif"] is None  # this fiche sets no step target
    [line] = bilan["referents"]
    assert line["referent"] == referent.full_name
    assert line["structure"] == referent.structure.name
    assert {key: line[key] for key in INDICATORS} == totals


def test_a_positive_exit_waiting_for_validation_is_an_exit_but_not_yet_a_positive_one(operation):
    referent = attach(operation)
    enrol(referent, D(2023, 2, 1), D(2023, 6, 30), "CDI", status=Status.EXIT_PENDING)
    enrol(referent, D(2023, 2, 1), D(2023, 8, 31), "CDI")

    totals = compute_bilan(operation, *YEAR_2023)["totals"]

    assert totals["sorties"] == 2
    assert totals["sorties_positives"] == 1
    assert totals["taux_sorties_positives"] == 0.5


def test_a_reassignment_splits_the_days_and_the_participant_counts_once_in_the_totals(operation):
    first = attach(operation, first_name="Anne", last_name="Abadie")
    second = attach(operation, first_name="Bruno", last_name="Bernard")
    parcours = enrol(first, D(2023, 1, 1))
    reassign(parcours, second, D(2023, 7, 15))
    counting, _ = step_types(operation.plie)
    add_step(parcours, counting, D(2023, 3, 1))
    add_step(parcours, counting, D(2023, 8, 1))
    meet(parcours, D(2023, 7, 20), second)

    bilan = compute_bilan(operation, *YEAR_2023)

    one, two = bilan["referents"]
    assert (one["referent_id"], two["referent_id"]) == (first.pk, second.pk)
    assert one["file_active_moyenne"] == pytest.approx(195 / 365)  # 1 January → 14 July
    assert two["file_active_moyenne"] == pytest.approx(170 / 365)  # 15 July → 31 December
    assert bilan["totals"]["file_active_moyenne"] == pytest.approx(1.0)
    assert one["participants_accompagnes"] == two["participants_accompagnes"] == 1
    assert bilan["totals"]["participants_accompagnes"] == 1
    assert (one["nouvelles_integrations"], two["nouvelles_integrations"]) == (1, 0)
    assert (one["etapes_validees"], two["etapes_validees"]) == (1, 1)
    assert bilan["totals"]["etapes_validees"] == 2
    assert one["file_active_mensuelle"] == pytest.approx(6 / 12)  # month ends January → June
    assert two["file_active_mensuelle"] == pytest.approx(6 / 12)  # July → December
    assert bilan["totals"]["file_active_mensuelle"] == pytest.approx(1.0)
    # July is a pair of both referents (an entretien in July follows it for both), but one pair of the operation.
    assert one["taux_suivi_mensuel"] == pytest.approx(1 / 7)
    assert two["taux_suivi_mensuel"] == pytest.approx(1 / 6)
    assert bilan["totals"]["taux_suivi_mensuel"] == pytest.approx(1 / 12)
    assert (one["entretiens"], two["entretiens"]) == (0, 1)


def test_an_etp_change_mid_year_gives_a_weighted_etp_moyen(operation):
    referent = attach(operation, "1", D(2023, 1, 1), D(2023, 6, 30))
    attach(operation, "0.5", D(2023, 7, 1), None, referent=referent)
    other = attach(operation, "0.8")

    bilan = compute_bilan(operation, *YEAR_2023)

    assert len(bilan["referents"]) == 2
    assert line_of(bilan, referent)["etp_moyen"] == pytest.approx((181 * 1 + 184 * 0.5) / 365)
    assert line_of(bilan, other)["etp_moyen"] == pytest.approx(0.8)
    assert bilan["totals"]["etp_moyen"] == pytest.approx(273 / 365 + 0.8)


def test_a_parcours_counts_only_while_its_referent_is_attached_to_the_operation(operation, plie):
    referent = attach(operation, "1", D(2023, 1, 1), D(2023, 3, 31))
    elsewhere = OperationFactory(plie=plie, code="FO2")
    attach(elsewhere, referent=referent, start=D(2023, 4, 1), end=D(2023, 12, 31))
    outsider = attach(elsewhere)
    followed = enrol(referent, D(2022, 12, 1), operation=elsewhere)  # the referent's attachment decides, not this
    enrol(outsider, D(2023, 2, 1))
    meet(followed, D(2023, 2, 15), referent)
    meet(followed, D(2023, 5, 15), referent)  # held while the referent works on FO2

    bilan = compute_bilan(operation, *YEAR_2023)

    [line] = bilan["referents"]
    assert line["referent_id"] == referent.pk
    assert line["file_active_moyenne"] == pytest.approx(90 / 365)
    assert line["participants_accompagnes"] == 1
    assert line["entretiens"] == 1
    assert line["file_active_mensuelle"] == pytest.approx(3 / 12)
    assert line["taux_suivi_mensuel"] == pytest.approx(1 / 3)
    assert line["etp_moyen"] == pytest.approx(90 / 365)
    other = compute_bilan(elsewhere, *YEAR_2023)
    assert other["totals"]["participants_accompagnes"] == 2
    assert other["totals"]["file_active_moyenne"] == pytest.approx((275 + 334) / 365)


def test_neutralised_exits_leave_the_denominator_of_the_rate_but_not_of_the_raw_rate(db):
    operation = Operation.objects.get(plie__slug="sources", code="FO1")
    assert [r.label for r in operation.neutralised_exit_reasons.all()] == ["Déménagement"]
    referent = attach(operation)
    enrol(referent, D(2023, 1, 10), D(2023, 6, 30), "CDI")
    enrol(referent, D(2023, 1, 10), D(2023, 7, 31), "CDD de 6 mois et plus", status=Status.EXIT_PENDING)
    enrol(referent, D(2023, 1, 10), D(2023, 3, 31), "Abandon")
    enrol(referent, D(2023, 1, 10), D(2023, 4, 30), "Déménagement")
    enrol(referent, D(2023, 1, 10), D(2023, 5, 31), "Déménagement")

    totals = compute_bilan(operation, *YEAR_2023)["totals"]

    assert totals["sorties"] == 5
    assert totals["sorties_positives"] == 1
    assert totals["sorties_neutralisees"] == 2
    assert totals["taux_sorties_positives"] == pytest.approx(1 / 3)
    assert totals["taux_sorties_positives_brut"] == pytest.approx(1 / 5)


def test_a_fiche_without_neutralised_reasons_counts_every_exit(operation):
    referent = attach(operation)
    enrol(referent, D(2023, 1, 10), D(2023, 6, 30), "CDI")
    enrol(referent, D(2023, 1, 10), D(2023, 4, 30), "Déménagement")

    totals = compute_bilan(operation, *YEAR_2023)["totals"]

    assert totals["sorties_neutralisees"] == 0
    assert totals["taux_sorties_positives"] == totals["taux_sorties_positives_brut"] == 0.5


def test_only_validated_steps_of_counting_types_started_in_the_period_count(operation):
    referent = attach(operation, start=D(2022, 1, 1))
    parcours = enrol(referent, D(2022, 10, 1))
    counting, excluded = step_types(operation.plie)
    add_step(parcours, counting, D(2023, 1, 1))
    add_step(parcours, counting, D(2023, 12, 31))
    add_step(parcours, excluded, D(2023, 3, 1))  # the fiche excludes this type
    add_step(parcours, counting, D(2023, 4, 1), Validation.SUBMITTED)
    add_step(parcours, counting, D(2023, 5, 1), Validation.DRAFT)
    add_step(parcours, counting, D(2022, 12, 31))  # before P
    Step.objects.create(
        parcours=parcours, step_type=counting, start=D(2023, 6, 1), validation="refused", refusal_reason="Incomplet"
    )

    assert compute_bilan(operation, *YEAR_2023)["totals"]["etapes_validees"] == 2


def test_the_steps_objective_on_the_file_active_moyenne_is_sources_style(operation):
    TargetFactory(operation=operation, kind="etapes", value_min=Decimal("1.5"), basis="file_active_moyenne")
    referent = attach(operation, start=D(2022, 1, 1))
    small = attach(operation, start=D(2022, 1, 1))
    participants = Participant.objects.bulk_create(
        [
            Participant(
                plie=operation.plie, last_name=f"Durand{i}", first_name="Lou", sex="F", birth_date=D(1990, 1, 1)
            )
            for i in range(61)
        ]
    )
    for participant in participants[:60]:
        enrol(referent, D(2022, 9, 1), participant=participant)
    enrol(small, D(2023, 7, 1), participant=participants[60])  # 184 days

    bilan = compute_bilan(operation, *YEAR_2023)

    assert line_of(bilan, referent)["file_active_moyenne"] == 60.0
    assert line_of(bilan, referent)["etapes_objectif"] == pytest.approx(90.0)
    assert line_of(bilan, small)["etapes_objectif"] == pytest.approx(1.5 * 184 / 365)
    assert bilan["totals"]["etapes_objectif"] == pytest.approx(1.5 * (60 + 184 / 365))


def test_the_steps_objective_on_participants_accompanied_is_grand_perigueux_style(operation):
    TargetFactory(operation=operation, kind="etapes", value_min=Decimal("1.5"), basis="participants_accompagnes")
    first = attach(operation)
    second = attach(operation)
    shared = enrol(first, D(2023, 1, 1), D(2023, 3, 31))
    reassign(shared, second, D(2023, 2, 1))
    enrol(first, D(2023, 11, 1))
    enrol(second, D(2023, 6, 1), D(2023, 6, 30))

    bilan = compute_bilan(operation, *YEAR_2023)

    assert line_of(bilan, first)["etapes_objectif"] == pytest.approx(3.0)  # 2 participants
    assert line_of(bilan, second)["etapes_objectif"] == pytest.approx(3.0)  # 2 participants
    assert bilan["totals"]["participants_accompagnes"] == 3
    assert bilan["totals"]["etapes_objectif"] == pytest.approx(4.5)  # recomputed, not 3 + 3


def test_a_period_of_two_calendar_years(operation):
    referent = attach(operation, "1", D(2022, 1, 1), None)
    early = enrol(referent, D(2022, 3, 15), D(2023, 2, 10), "Abandon")
    late = enrol(referent, D(2023, 11, 1))
    meet(early, D(2022, 3, 20), referent)
    meet(early, D(2023, 1, 5), referent)
    meet(late, D(2023, 12, 1), referent)
    meet(late, D(2024, 1, 2), referent)  # after P
    start, end = D(2022, 1, 1), D(2023, 12, 31)

    bilan = compute_bilan(operation, start, end)

    assert bilan["period"] == {"start": "2022-01-01", "end": "2023-12-31", "days": 730}
    totals = bilan["totals"]
    assert totals["etp_moyen"] == 1.0
    early_days = (D(2023, 2, 10) - D(2022, 3, 15)).days + 1
    late_days = (D(2023, 12, 31) - D(2023, 11, 1)).days + 1
    assert (early_days, late_days) == (333, 61)
    assert totals["file_active_moyenne"] == pytest.approx(394 / 730)
    # Month ends: March 2022 → January 2023 for the first parcours, November and December 2023 for the second.
    assert totals["file_active_mensuelle"] == pytest.approx(13 / 24)
    assert totals["participants_accompagnes"] == 2
    assert totals["nouvelles_integrations"] == 2
    assert totals["sorties"] == 1
    assert totals["taux_sorties_positives"] == 0.0
    assert totals["entretiens"] == 3
    # Pairs: March 2022 → February 2023 (12) and November, December 2023 (2); followed: March 2022, January 2023,
    # December 2023.
    assert totals["taux_suivi_mensuel"] == pytest.approx(3 / 14)
    assert len(months_of(start, end)) == 24


def test_the_monthly_follow_up_rate_counts_participant_months_and_entretiens_go_to_who_held_them(operation):
    first = attach(operation, first_name="Anne", last_name="Abadie")
    second = attach(operation, first_name="Bruno", last_name="Bernard")
    short = enrol(first, D(2023, 1, 1), D(2023, 3, 31), "Abandon")
    long = enrol(second, D(2023, 1, 1))
    meet(short, D(2023, 1, 10), first)
    meet(short, D(2023, 1, 25), first)  # a second entretien in January: still one followed pair
    meet(short, D(2023, 3, 10), first)
    meet(long, D(2023, 2, 10), second)
    meet(long, D(2023, 5, 10), first)  # a replacement: the entretien is Anne's, the pair stays Bruno's
    meet(long, D(2023, 9, 10))  # nobody held it: no referent's, yet the participant was seen in September
    meet(long, D(2022, 12, 20), second)  # before P

    bilan = compute_bilan(operation, *YEAR_2023)

    one, two = bilan["referents"]
    assert (one["entretiens"], two["entretiens"]) == (4, 1)
    assert bilan["totals"]["entretiens"] == 5
    assert one["taux_suivi_mensuel"] == pytest.approx(2 / 3)
    assert two["taux_suivi_mensuel"] == pytest.approx(3 / 12)
    assert bilan["totals"]["taux_suivi_mensuel"] == pytest.approx(5 / 15)


def test_the_months_of_a_partial_period_are_clipped(operation):
    referent = attach(operation)
    parcours = enrol(referent, D(2023, 1, 1))
    meet(parcours, D(2023, 1, 5), referent)  # January, but before P
    meet(parcours, D(2023, 2, 20), referent)

    totals = compute_bilan(operation, D(2023, 1, 15), D(2023, 2, 10))["totals"]

    assert totals["file_active_mensuelle"] == 1.0  # 31 January and 10 February (the end of P)
    assert totals["taux_suivi_mensuel"] == 0.0
    assert totals["entretiens"] == 0
    assert totals["file_active_moyenne"] == 1.0


def test_an_empty_period_gives_zeros_and_no_rates(operation):
    TargetFactory(operation=operation, kind="etapes", value_min=Decimal("2"), basis="file_active_moyenne")
    referent = attach(operation)
    enrol(referent, D(2023, 6, 1))

    bilan = compute_bilan(operation, D(2023, 1, 1), D(2023, 3, 31))

    [line] = bilan["referents"]
    for figures in (bilan["totals"], line):
        assert figures["etp_moyen"] == 1.0
        assert figures["file_active_moyenne"] == figures["file_active_mensuelle"] == 0
        assert figures["participants_accompagnes"] == figures["sorties"] == figures["entretiens"] == 0
        assert figures["etapes_objectif"] == 0.0
        assert figures["taux_sorties_positives"] is None
        assert figures["taux_sorties_positives_brut"] is None
        assert figures["taux_suivi_mensuel"] is None


def test_an_operation_without_referents_gives_empty_lines_and_zero_totals(plie):
    bare = OperationFactory(plie=plie, code="FO9")
    with_target = OperationFactory(plie=plie, code="FO8")
    TargetFactory(operation=with_target, kind="etapes", value_min=Decimal("2"), basis="participants_accompagnes")

    bilan = compute_bilan(bare, *YEAR_2023)

    assert bilan["referents"] == []
    totals = bilan["totals"]
    assert totals["etp_moyen"] == 0.0
    assert totals["file_active_moyenne"] == totals["file_active_mensuelle"] == 0
    assert totals["participants_accompagnes"] == totals["nouvelles_integrations"] == totals["etapes_validees"] == 0
    assert totals["sorties"] == totals["sorties_positives"] == totals["sorties_neutralisees"] == 0
    assert totals["entretiens"] == 0
    assert totals["etapes_objectif"] is None
    assert totals["taux_sorties_positives"] is totals["taux_sorties_positives_brut"] is None
    assert totals["taux_suivi_mensuel"] is None
    assert compute_bilan(with_target, *YEAR_2023)["totals"]["etapes_objectif"] == 0.0


def test_a_single_day_period_and_iso_strings_are_accepted(operation):
    referent = attach(operation)
    enrol(referent, D(2023, 12, 31))

    bilan = compute_bilan(operation, "2023-12-31", "2023-12-31")

    assert bilan["period"] == {"start": "2023-12-31", "end": "2023-12-31", "days": 1}
    assert bilan["totals"]["file_active_moyenne"] == 1.0
    assert bilan["totals"]["file_active_mensuelle"] == 1.0
    assert bilan["totals"]["nouvelles_integrations"] == 1


def test_an_end_before_the_start_is_refused_in_french(operation):
    with pytest.raises(ValueError, match="ne peut pas précéder son début"):
        compute_bilan(operation, D(2023, 12, 31), D(2023, 1, 1))


def test_referents_are_sorted_by_last_name_then_first_name(operation):
    for first_name, last_name in [("Zoé", "Martin"), ("Hugo", "Lambert"), ("Élodie", "Écuyer"), ("Anne", "Martin")]:
        attach(operation, first_name=first_name, last_name=last_name)

    names = [line["referent"] for line in compute_bilan(operation, *YEAR_2023)["referents"]]

    assert names == ["Élodie Écuyer", "Hugo Lambert", "Anne Martin", "Zoé Martin"]


# --- Against a day-by-day reference ----------------------------------------------------------------------------------


def reference(operation, start, end):
    """The spec read literally, day by day in Python (slow, for tests only): per referent and for the totals."""
    periods = list(operation.referent_periods.all())

    def attached(referent_id, day):
        return any(p.referent_id == referent_id and p.start <= day and (p.end is None or day <= p.end) for p in periods)

    def holder(parcours, day):
        for a in parcours.assignments.all():
            if a.start <= day and (a.end is None or day <= a.end) and attached(a.referent_id, day):
                return a.referent_id
        return None

    def in_p(day):
        return day is not None and start <= day <= end

    days_of_p = [start + datetime.timedelta(days=i) for i in range((end - start).days + 1)]
    month_ends = [last for _, last in months_of(start, end)]
    month_of = {day: (day.year, day.month) for day in days_of_p}
    per = {}

    def add(referent_id, key, value=1):
        per.setdefault(referent_id, {}).setdefault(key, 0)
        per[referent_id][key] += value

    people, pairs = {}, {}
    entretien_months = {
        (e.participant_id, (e.date.year, e.date.month)) for e in Entretien.objects.all() if in_p(e.date)
    }
    for parcours in Parcours.objects.exclude(entry_date=None).prefetch_related("assignments"):
        for day in days_of_p:
            if parcours.is_active_on(day) and (r := holder(parcours, day)):
                add(r, "active_days")
                people.setdefault(r, set()).add(parcours.participant_id)
                pairs.setdefault(r, set()).add((parcours.participant_id, month_of[day]))
                if day in month_ends:
                    add(r, "month_end")
        if in_p(parcours.entry_date) and (r := holder(parcours, parcours.entry_date)):
            add(r, "integrations")
        if in_p(parcours.exit_date) and (r := holder(parcours, parcours.exit_date)):
            add(r, "exits")
            if parcours.exit_reason.category == "positive" and parcours.status == Status.EXITED:
                add(r, "positive")
    for step in Step.objects.counting().select_related("parcours"):
        if in_p(step.start) and (r := holder(step.parcours, step.start)):
            add(r, "steps")
    for entretien in Entretien.objects.exclude(referent=None):
        if in_p(entretien.date) and attached(entretien.referent_id, entretien.date):
            add(entretien.referent_id, "entretiens")
    for r, found in people.items():
        per[r]["participants"] = len(found)
        per[r]["pairs"] = len(pairs[r])
        per[r]["followed"] = len(pairs[r] & entretien_months)
    all_pairs = set().union(*pairs.values()) if pairs else set()
    totals = {
        key: sum(figures.get(key, 0) for figures in per.values())
        for key in ("active_days", "month_end", "integrations", "exits", "positive", "steps", "entretiens")
    }
    totals["participants"] = len(set().union(*people.values())) if people else 0
    totals["pairs"] = len(all_pairs)
    totals["followed"] = len(all_pairs & entretien_months)
    return per, totals


def expected(figures, days, months):
    return {
        "file_active_moyenne": pytest.approx(figures.get("active_days", 0) / days),
        "file_active_mensuelle": pytest.approx(figures.get("month_end", 0) / months),
        "participants_accompagnes": figures.get("participants", 0),
        "nouvelles_integrations": figures.get("integrations", 0),
        "sorties": figures.get("exits", 0),
        "sorties_positives": figures.get("positive", 0),
        "etapes_validees": figures.get("steps", 0),
        "entretiens": figures.get("entretiens", 0),
        "taux_suivi_mensuel": pytest.approx(figures["followed"] / figures["pairs"]) if figures.get("pairs") else None,
    }


def random_portfolio(operation, rng, participants=30):
    """Referents with changing ETP periods, parcours with reassignments, exits, steps and entretiens."""
    plie = operation.plie
    referents = [attach(operation, "1", D(2022, 1, 1), D(2022, 12, 31)) for _ in range(3)]
    attach(operation, "0.5", D(2023, 1, 1), D(2023, 8, 15), referent=referents[0])
    attach(operation, "0.8", D(2023, 3, 1), None, referent=referents[1])
    counting, excluded = step_types(plie)
    labels = ["CDI", "Abandon", "Déménagement", "CDD de moins de 6 mois"]
    for _ in range(participants):
        participant = ParticipantFactory(plie=plie)
        day = D(2021, 10, 1) + datetime.timedelta(days=rng.randrange(300))
        for _ in range(rng.randrange(1, 3)):
            entry = day + datetime.timedelta(days=rng.randrange(120))
            exit = entry + datetime.timedelta(days=rng.randrange(400)) if rng.random() < 0.7 else None
            status = rng.choice([Status.EXITED, Status.EXIT_PENDING]) if exit else None
            parcours = enrol(
                rng.choice(referents), entry, exit, rng.choice(labels), status=status, participant=participant
            )
            on = entry + datetime.timedelta(days=rng.randrange(1, 300))
            if rng.random() < 0.5 and (exit is None or on <= exit):
                reassign(parcours, rng.choice(referents), on)
            for _ in range(rng.randrange(4)):
                when = entry + datetime.timedelta(days=rng.randrange(500))
                add_step(parcours, rng.choice([counting, counting, excluded]), when, rng.choice(list(Validation)[:3]))
                meet(parcours, when, rng.choice([*referents, None]))
            if exit is None:
                break
            day = exit + datetime.timedelta(days=1)


@pytest.mark.parametrize("start, end", [(D(2023, 1, 1), D(2023, 12, 31)), (D(2022, 2, 10), D(2023, 9, 20))])
def test_the_aggregates_agree_with_a_day_by_day_reading_of_the_spec(operation, start, end):
    random_portfolio(operation, random.Random(20231231))
    per, totals = reference(operation, start, end)
    days, months = (end - start).days + 1, len(months_of(start, end))

    bilan = compute_bilan(operation, start, end)

    assert sum(totals.values()) > 0
    keys = list(expected({}, days, months))
    assert {key: bilan["totals"][key] for key in keys} == expected(totals, days, months)
    for line in bilan["referents"]:
        assert {key: line[key] for key in keys} == expected(per.get(line["referent_id"], {}), days, months)


def test_another_plie_with_the_same_fiche_and_portfolio_changes_nothing(operation):
    """Attribution reads the PLIE's rows first (participants/attribution.py): a second PLIE with a fiche of the same
    code over the same days, and the same portfolio, neither adds to the first PLIE's figures nor takes from them."""
    random_portfolio(operation, random.Random(7))
    alone = compute_bilan(operation, *YEAR_2023)
    other = OperationFactory(plie=PlieFactory(slug="autre", name="Autre PLIE"), code="FO1", start=D(2022, 1, 1))
    random_portfolio(other, random.Random(7))

    assert compute_bilan(operation, *YEAR_2023) == alone
    assert compute_bilan(other, *YEAR_2023)["totals"] == alone["totals"]
    assert alone["totals"]["participants_accompagnes"] > 0


# --- Query counts ----------------------------------------------------------------------------------------------------


def portfolio(referents, counting, size, first=0):
    """`size` parcours spread over the referents, with reassignments, validated positive exits, steps, entretiens."""
    for i in range(first, first + size):
        referent = referents[i % len(referents)]
        exit = D(2023, 10, 31) if i % 4 == 0 else None
        parcours = enrol(referent, D(2022, 11, 1) + datetime.timedelta(days=i % 200), exit, "CDI")
        if i % 3 == 0:
            reassign(parcours, referents[(i + 1) % len(referents)], D(2023, 6, 1))
        add_step(parcours, counting, D(2023, 3, 1))
        meet(parcours, D(2023, 4, 1) + datetime.timedelta(days=i % 60), referent)


def count_queries(operation_pk, start, end):
    operation = Operation.objects.get(pk=operation_pk)  # its PLIE not loaded: the worst case
    with CaptureQueriesContext(connection) as queries:
        compute_bilan(operation, start, end)
    return len(queries)


def test_the_number_of_queries_is_small_and_does_not_grow_with_the_data(operation, django_assert_max_num_queries):
    TargetFactory(operation=operation, kind="etapes", value_min=Decimal("1.5"), basis="file_active_moyenne")
    counting, _ = step_types(operation.plie)
    referents = [attach(operation, start=D(2022, 1, 1)) for _ in range(3)]
    portfolio(referents, counting, 10)
    fresh = Operation.objects.get(pk=operation.pk)
    with django_assert_max_num_queries(12):
        small = compute_bilan(fresh, *YEAR_2023)
    before = count_queries(operation.pk, *YEAR_2023)

    portfolio(referents, counting, 20, first=10)  # three times the participants

    assert count_queries(operation.pk, *YEAR_2023) == before
    large = compute_bilan(operation, *YEAR_2023)
    assert (small["totals"]["participants_accompagnes"], large["totals"]["participants_accompagnes"]) == (10, 30)
    assert (small["totals"]["etapes_validees"], large["totals"]["etapes_validees"]) == (10, 30)
    referents.append(attach(operation, start=D(2022, 1, 1)))  # one more referent
    portfolio(referents[3:], counting, 5, first=30)
    assert count_queries(operation.pk, *YEAR_2023) == before
    assert count_queries(operation.pk, D(2022, 1, 1), D(2023, 12, 31)) == before  # 24 months, not 12


def test_parcours_without_an_entry_date_never_count(operation):
    referent = attach(operation)
    waiting = Parcours.objects.create(
        participant=ParticipantFactory(plie=operation.plie),
        status=Status.ACCEPTED,
        prescriber="france_travail",
        prescription_date=D(2023, 1, 5),
    )
    ReferentAssignment.objects.create(parcours=waiting, referent=referent, start=D(2023, 1, 20), reason="other")
    meet(waiting, D(2023, 2, 1), referent)  # an entretien still counts: it was held by an attached referent

    totals = compute_bilan(operation, *YEAR_2023)["totals"]

    assert totals["participants_accompagnes"] == totals["nouvelles_integrations"] == 0
    assert totals["file_active_moyenne"] == totals["file_active_mensuelle"] == 0
    assert totals["taux_suivi_mensuel"] is None
    assert totals["entretiens"] == 1
