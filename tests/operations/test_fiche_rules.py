"""Each rule of a seed fiche, tested on the fiche that states it (docs/regles-des-fiches.md lists them)."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from applications.models import RegulationMeeting
from operations.models import EligibilityRule, ExitReason, Operation, Target, TargetKind
from participants import services
from participants.alerts import portfolio, vacancies, with_alerts
from participants.models import Modality, Parcours, Status
from plie.models import Plie
from reporting.indicators import compute_bilan
from reporting.report import target_lines
from steps.models import Step, StepStatus, StepType
from territories.models import Commune, Zone
from tests.factories import ReferentFactory, ReferentPeriodFactory, UserFactory
from tests.factories.participants import ParticipantFactory, add_entretien, make_parcours

pytestmark = pytest.mark.django_db

YEAR = (datetime.date(2023, 1, 1), datetime.date(2023, 12, 31))
AFTER_YEAR = datetime.date(2024, 6, 30)
# Admitted in December 2022, so that a parcours may start on the first days of 2023.
EARLY = {
    "prescribed_on": datetime.date(2022, 12, 1),
    "received_on": datetime.date(2022, 12, 5),
    "commission_on": datetime.date(2022, 12, 12),
}


@pytest.fixture(autouse=True)
def no_eligibility_gate():
    """The gate of integration has its own tests (tests/controls): here the fiches' other rules are the subject."""
    EligibilityRule.objects.all().delete()


def fiche(slug):
    """The seed fiche of `slug`, a referent at 1 ETP on it all year, and a team member who acts."""
    operation = Operation.objects.filter(plie__slug=slug).order_by("start").first()
    referent = ReferentFactory(plie=operation.plie)
    ReferentPeriodFactory(referent=referent, operation=operation, start=operation.start, end=operation.end)
    return operation, referent, UserFactory()


def exited(operation, referent, by, label, *, contract_type="cdd", job_start=datetime.date(2023, 3, 1), exit_on=datetime.date(2023, 3, 31),
           validate_on=datetime.date(2023, 9, 1), **facts):  # fmt: skip
    """A parcours of the fiche that left with the reason `label` and the facts the exit records, validated on
    `validate_on` when it waits for validation."""
    participant = ParticipantFactory(plie=operation.plie)
    parcours = make_parcours(participant, "active", by=by, operation=operation, referent=referent)
    if job_start:
        services.start_employment_follow_up(parcours=parcours, job_start=job_start, contract_type=contract_type, by=by)
    reason = ExitReason.objects.get(plie=operation.plie, label=label)
    services.record_exit(parcours=parcours, exit_date=exit_on, reason=reason, by=by, **facts)
    if parcours.status == Status.EXIT_PENDING and validate_on:
        services.validate_exit(parcours=parcours, by=by, today=validate_on)
    return parcours


def line_of(operation, kind, scope="per_etp", today=AFTER_YEAR):
    return next(
        line
        for line in target_lines(operation, *YEAR, today=today)
        if line.target.kind == kind and line.target.scope == scope
    )


# --- Exits --------------------------------------------------------------------------------------------------------


def test_technowest_alternance_exit_is_not_positive_but_a_cdi_is():
    operation, referent, by = fiche("technowest")
    exited(operation, referent, by, "Contrat en alternance", contract_months=Decimal(12))
    exited(operation, referent, by, "CDI", working_time="full")
    totals = compute_bilan(operation, *YEAR)["totals"]
    assert (totals["sorties"], totals["sorties_positives"]) == (2, 1)


def test_a_cdd_of_exactly_six_months_is_not_positive_where_the_fiche_says_plus_de():
    operation, referent, by = fiche("technowest")  # « CDI, CDD de plus de 6 mois »
    exited(operation, referent, by, "CDD de plus de 6 mois", contract_months=Decimal(6))
    exited(operation, referent, by, "CDD de plus de 6 mois", contract_months=Decimal("6.5"))
    totals = compute_bilan(operation, *YEAR)["totals"]
    assert (totals["sorties"], totals["sorties_positives"]) == (2, 1)


def test_a_cdd_of_exactly_six_months_chosen_part_time_is_positive_where_the_fiche_says_6_mois_ou_plus():
    operation, referent, by = fiche("hauts-de-garonne")  # « CDD ≥ 6 mois à temps partiel choisi ou en temps complet »
    label = "CDD de 6 mois ou plus, à temps complet ou partiel choisi"
    exited(operation, referent, by, label, contract_months=Decimal(6), working_time="chosen_part")
    exited(operation, referent, by, label, contract_months=Decimal(6), working_time="imposed_part")
    exited(operation, referent, by, label, contract_months=Decimal(5), working_time="full")
    assert compute_bilan(operation, *YEAR)["totals"]["sorties_positives"] == 1


def test_libournais_counts_seasonal_work_of_at_least_8_months_in_the_year():
    operation, referent, by = fiche("libournais")
    label = "Travail saisonnier d’au moins 8 mois sur l’année"
    exited(operation, referent, by, label, contract_type="saisonnier", months_in_year=8)
    exited(operation, referent, by, label, contract_type="saisonnier", months_in_year=7)
    exited(operation, referent, by, label, contract_type="cdd", months_in_year=9)  # not seasonal work
    assert compute_bilan(operation, *YEAR)["totals"]["sorties_positives"] == 1


def test_a_training_exit_is_validated_at_the_trainings_validation_without_a_job_follow_up():
    operation, referent, by = fiche("technowest")  # « jusqu'à validation d'une formation qualifiante »
    parcours = exited(operation, referent, by, "Formation qualifiante", job_start=None, validate_on=None)
    assert parcours.status == Status.EXIT_PENDING
    with pytest.raises(ValidationError, match="validation de la formation"):
        services.validate_exit(parcours=parcours, by=by, today=datetime.date(2023, 4, 3))
    services.record_training_validation(parcours=parcours, on=datetime.date(2023, 4, 14), by=by)
    services.validate_exit(parcours=parcours, by=by, today=datetime.date(2023, 4, 14))  # 2 weeks, not 6 months
    assert Parcours.objects.get(pk=parcours.pk).status == Status.EXITED
    assert compute_bilan(operation, *YEAR)["totals"]["sorties_positives"] == 1


def test_an_employment_exit_still_waits_for_six_months_in_employment():
    operation, referent, by = fiche("technowest")
    parcours = exited(operation, referent, by, "CDI", validate_on=None)
    with pytest.raises(ValidationError, match="6 mois"):
        services.validate_exit(parcours=parcours, by=by, today=datetime.date(2023, 8, 31))
    services.validate_exit(parcours=parcours, by=by, today=datetime.date(2023, 9, 1))


# --- Targets ------------------------------------------------------------------------------------------------------


def test_portes_du_sud_regulation_meetings_are_measured_from_the_meetings_recorded():
    operation, referent, _ = fiche("portes-du-sud")
    for month in (3, 6):
        RegulationMeeting.objects.create(
            operation=operation, structure=referent.structure, date=datetime.date(2023, month, 10), attendees="PLIE"
        )
    line = line_of(operation, TargetKind.REGULATION_MEETINGS, "operation")
    assert (line.result, line.status) == (2.0, "behind")
    assert line.target.display_label == "A minima 3 réunions de régulation réalisées par an"
    RegulationMeeting.objects.create(
        operation=operation, structure=referent.structure, date=datetime.date(2023, 11, 11), attendees="PLIE"
    )
    RegulationMeeting.objects.create(  # next year's meeting is not this year's
        operation=operation, structure=referent.structure, date=datetime.date(2024, 1, 11), attendees="PLIE"
    )
    line = line_of(operation, TargetKind.REGULATION_MEETINGS, "operation")
    assert (line.result, line.status) == (3.0, "reached")


def test_grand_perigueux_counts_monthly_physical_entretiens_and_remote_ones_during_an_employment_step():
    operation, referent, by = fiche("grand-perigueux")
    participant = ParticipantFactory(plie=operation.plie)
    parcours = make_parcours(
        participant,
        "active",
        by=by,
        operation=operation,
        referent=referent,
        entry_on=datetime.date(2023, 1, 2),
        **EARLY,
    )
    add_entretien(parcours, datetime.date(2023, 1, 10), modality=Modality.IN_PERSON, referent=referent)
    add_entretien(parcours, datetime.date(2023, 2, 10), modality=Modality.PHONE, referent=referent)  # no step
    employment = StepType.objects.filter(category__plie=operation.plie, category__name="Emploi").first()
    Step.objects.create(
        parcours=parcours,
        step_type=employment,
        start=datetime.date(2023, 3, 1),
        end=datetime.date(2023, 3, 31),
        status=StepStatus.DONE,
    )
    add_entretien(parcours, datetime.date(2023, 3, 10), modality=Modality.PHONE, referent=referent)  # in the step
    period = (datetime.date(2023, 1, 1), datetime.date(2023, 3, 31))
    bilan = compute_bilan(operation, *period)
    assert bilan["totals"]["taux_suivi_mensuel"] == 1.0  # the contractual rate counts any entretien
    assert bilan["regles"]["taux_suivi_modalites"] == pytest.approx(2 / 3)
    line = next(
        line
        for line in target_lines(operation, *period, today=AFTER_YEAR, bilan=bilan)
        if line.target.kind == TargetKind.MONTHLY_INTERVIEWS
    )
    assert line.result == pytest.approx(200 / 3)
    assert line.status == "behind"


def test_graves_file_active_is_a_floor_at_every_month_end_not_an_average():
    operation, referent, by = fiche("graves")
    Target.objects.filter(operation=operation, kind=TargetKind.FILE_ACTIVE, scope="per_etp").update(
        value_min=1, value_max=2
    )
    for entry in (datetime.date(2023, 1, 2), datetime.date(2023, 3, 1)):
        make_parcours(ParticipantFactory(plie=operation.plie), "active", by=by, operation=operation,
                      referent=referent, entry_on=entry, **EARLY)  # fmt: skip
    period = (datetime.date(2023, 1, 1), datetime.date(2023, 4, 30))
    bilan = compute_bilan(operation, *period)
    assert [month["file_active"] for month in bilan["mois"]] == [1, 1, 2, 2]
    assert bilan["regles"]["file_active_plancher"] == 1
    line = next(line for line in target_lines(operation, *period, today=AFTER_YEAR, bilan=bilan)
                if line.target.kind == TargetKind.FILE_ACTIVE and line.target.scope == "per_etp")  # fmt: skip
    assert line.result == 1.0  # the lowest month end, although the daily average is about 1.5
    assert line.status == "within"


def test_hauts_de_garonne_counts_the_steps_realised_not_only_those_validated():
    operation, referent, by = fiche("hauts-de-garonne")
    parcours = make_parcours(ParticipantFactory(plie=operation.plie), "active", by=by, operation=operation,
                             referent=referent)  # fmt: skip
    step_type = StepType.objects.filter(category__plie=operation.plie, counts_toward_target=True).first()
    for day in (1, 2):
        Step.objects.create(parcours=parcours, step_type=step_type, start=datetime.date(2023, 4, day),
                            status=StepStatus.DONE)  # fmt: skip
    bilan = compute_bilan(operation, *YEAR)
    assert (bilan["totals"]["etapes_validees"], bilan["regles"]["etapes_realisees"]) == (0, 2)
    assert line_of(operation, TargetKind.STEPS).result == 2.0


def test_plie_wide_and_protocol_volumes_show_the_fiches_contribution():
    operation, _, _ = fiche("bordeaux")
    plie_line = line_of(operation, TargetKind.PARTICIPANTS, "plie")
    protocol = line_of(operation, TargetKind.PARTICIPANTS, "protocol")
    assert (plie_line.goal.low, plie_line.status) == (Decimal(850), "contribution")
    assert (protocol.goal.low, protocol.status, protocol.target.scope_label) == (
        Decimal(5100),
        "contribution",
        "pour tout le PLIE, protocole 2022-2027",
    )


def test_a_target_of_zero_shows_sans_objectif_not_atteint():
    operation, _, _ = fiche("sources")
    Target.objects.create(operation=operation, kind=TargetKind.EXITS, value_min=0)
    line = line_of(operation, TargetKind.EXITS)
    assert line.status_label == "Sans objectif"


def test_labels_follow_the_fiches_wording():
    operation, _, _ = fiche("agen")
    line = line_of(operation, TargetKind.STEPS)
    assert line.target.display_label == "4 étapes par participant (280 pour 70 participants par ETP)"


def test_query_counts_do_not_grow_with_the_number_of_rules():
    operation, referent, by = fiche("technowest")
    exited(operation, referent, by, "CDI", working_time="full")

    def queries():
        fresh = Operation.objects.select_related("plie").get(pk=operation.pk)  # its fiche's ids not yet fetched
        with CaptureQueriesContext(connection) as context:
            target_lines(fresh, *YEAR, today=AFTER_YEAR)
        return len(context)

    before = queries()
    plie = operation.plie
    for n in range(15):
        ExitReason.objects.create(plie=plie, label=f"Motif {n}", category="positive", min_months=n, working_time="full")
    Target.objects.create(operation=operation, kind=TargetKind.REGULATION_MEETINGS, scope="operation", value_min=3)
    Target.objects.create(operation=operation, kind=TargetKind.MONTHLY_INTERVIEWS, value_min=1, modalities="physique",
                          remote_during_steps=True)  # fmt: skip
    Target.objects.create(operation=operation, kind=TargetKind.PARTICIPANTS, scope="plie", value_min=700)
    with_rules = queries()
    assert before == 13
    assert with_rules == before + 2  # one for the régulation meetings, one for the entretiens by modality
    for n in range(15, 30):
        ExitReason.objects.create(plie=plie, label=f"Motif {n}", category="positive", min_months_in_year=8)
    assert queries() == with_rules


# --- Geography ----------------------------------------------------------------------------------------------------


def test_an_agen_resident_of_montanou_is_in_zone_5():
    agen = Plie.objects.get(slug="agen")
    commune = Commune.objects.get(code_insee="47001")
    resident = ParticipantFactory(plie=agen, commune=commune, address="12 rue de Montanou", qpv=True)
    assert resident.zone.name == "Zone 5"
    centre = Zone.objects.get(plie=agen, name="Zone 6")
    centre.streets = "Boulevard de la République\nRue Montesquieu"
    centre.save()
    assert ParticipantFactory(plie=agen, commune=commune, address="3, boulevard de la République").zone == centre
    # Elsewhere in Agen the address leaves the choice to the team: no longer « Zone 1 » for everyone.
    assert ParticipantFactory(plie=agen, commune=commune, address="8 avenue Jean Jaurès").zone is None
    boe = ParticipantFactory(plie=agen, commune=Commune.objects.get(code_insee="47031"), address="1 place de la Mairie")
    assert boe.zone.name == "Zone 2"


def test_grand_perigueux_southern_communes_have_their_monthly_permanences():
    zone = Zone.objects.get(plie__slug="grand-perigueux", name="Sud de l’agglomération")
    assert zone.communes.count() == 18
    assert [str(p) for p in zone.permanences.all()] == ["Locaux des partenaires du PLIE — 1 à 2 fois par mois"]


# --- Alerts -------------------------------------------------------------------------------------------------------


def test_bordeaux_alerts_after_more_than_four_weeks_without_contact():
    operation, referent, by = fiche("bordeaux")
    parcours = make_parcours(ParticipantFactory(plie=operation.plie), "active", by=by, operation=operation,
                             referent=referent)  # fmt: skip
    add_entretien(parcours, datetime.date(2023, 3, 1))
    rows = Parcours.objects.filter(pk=parcours.pk)

    def codes(today):
        return [alert.code for alert in with_alerts(portfolio(rows, operation.plie, today), today)[0].alerts]

    assert "continuity" not in codes(datetime.date(2023, 3, 29))
    assert "continuity" in codes(datetime.date(2023, 3, 30))


def test_libournais_asks_for_a_new_integration_after_an_exit():
    operation, referent, by = fiche("libournais")
    exited(operation, referent, by, "Abandon", job_start=None, exit_on=datetime.date(2023, 5, 2))
    assert vacancies(referent, datetime.date(2023, 5, 10)) == [datetime.date(2023, 5, 2)]
    make_parcours(ParticipantFactory(plie=operation.plie), "active", by=by, operation=operation, referent=referent,
                  entry_on=datetime.date(2023, 5, 9))  # fmt: skip
    assert vacancies(referent, datetime.date(2023, 5, 10)) == []
    other, other_referent, _ = fiche("technowest")  # no such option on this fiche
    exited(other, other_referent, by, "Abandon", job_start=None, exit_on=datetime.date(2023, 5, 2))
    assert vacancies(other_referent, datetime.date(2023, 5, 10)) == []


def test_the_team_validates_a_training_exit_with_the_trainings_date_on_its_confirmation_page(client_of):
    from django.urls import reverse

    from plie.models import Role
    from tests.factories import MembershipFactory

    operation, referent, by = fiche("technowest")
    parcours = exited(operation, referent, by, "Formation qualifiante", job_start=None, validate_on=None)
    team = MembershipFactory(plie=operation.plie, role=Role.ANIMATION).user
    page = client_of(team).get(reverse("parcours_validate_exit", args=[parcours.pk]))
    assert "Formation validée le" in page.content.decode()
    client_of(team).post(reverse("parcours_validate_exit", args=[parcours.pk]), {"training_validated_on": "2023-04-14"})
    parcours.refresh_from_db()
    assert (parcours.status, parcours.training_validated_on) == (Status.EXITED, datetime.date(2023, 4, 14))
