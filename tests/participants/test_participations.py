"""FSE+ participations (shared/spec/fse.md): annual fiches, carried-over people, one attribution behind every figure,
frozen entry situations and the reconduction of a fiche."""

import datetime
import json
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from operations.models import Operation, ReferentPeriod
from operations.services import next_period, renew_operation
from participants import participations
from participants.models import Answer, EmploymentStatus, Participation, Sex
from participants.participations import (
    correct_entry_situation,
    long_term_unemployed,
    record_exit_situations,
    sync_participations,
)
from reporting.indicators import compute_bilan
from reporting.report import annex, build_report
from reporting.views import BEHIND
from tests.factories import OperationFactory, PlieFactory, ReferentFactory, ReferentPeriodFactory, UserFactory
from tests.factories.participants import ParticipantFactory
from tests.reporting.test_indicators import enrol

D = datetime.date
YEAR_2023 = (D(2023, 1, 1), D(2023, 12, 31))
TODAY = D(2026, 12, 3)


@pytest.fixture
def plie(db):
    return PlieFactory(slug="annuel", name="PLIE annuel")


@pytest.fixture
def fiches(plie):
    """FO1 of 2022 and of 2023, and a referent attached since 2022 by one period that spans both years."""
    fo1_2022 = OperationFactory(plie=plie, code="FO1", start=D(2022, 1, 1), end=D(2022, 12, 31))
    fo1_2023 = OperationFactory(plie=plie, code="FO1", start=D(2023, 1, 1), end=D(2023, 12, 31))
    return fo1_2022, fo1_2023


@pytest.fixture
def referent(plie, fiches):
    referent = ReferentFactory(plie=plie, first_name="Élodie", last_name="Fabre")
    ReferentPeriodFactory(referent=referent, operation=fiches[0], etp=Decimal(1), start=D(2022, 1, 1), end=None)
    return referent


@pytest.fixture
def year(fiches, referent):
    """The issue's case: parcours entered in June 2022, July 2023 and December 2023, plus an exit on 31/12/2023, one
    on 1/1/2023, a person with two parcours in 2023, and a colleague whose period ends on 30 June 2023."""
    colleague = ReferentFactory(plie=referent.plie, first_name="Rachida", last_name="Benali")
    ReferentPeriodFactory(
        referent=colleague, operation=fiches[1], etp=Decimal("0.5"), start=D(2023, 1, 1), end=D(2023, 6, 30)
    )
    twice = ParticipantFactory(plie=referent.plie, sex=Sex.FEMALE)
    people = {
        "carried": enrol(referent, D(2022, 6, 1)),
        "july": enrol(referent, D(2023, 7, 1), D(2023, 9, 30), "CDI"),
        "december": enrol(referent, D(2023, 12, 31)),
        "new_year_eve": enrol(referent, D(2023, 3, 1), D(2023, 12, 31), "Abandon"),
        "new_year_day": enrol(referent, D(2022, 3, 1), D(2023, 1, 1), "Abandon"),
        "twice_first": enrol(referent, D(2023, 2, 1), D(2023, 3, 31), "Abandon", participant=twice),
        "twice_second": enrol(referent, D(2023, 10, 1), participant=twice),
        "colleague": enrol(colleague, D(2023, 2, 1)),  # attributed until 30/06 only: the period ends then
    }
    return people


def participation(parcours, operation):
    return Participation.objects.get(participant=parcours.participant, operation=operation)


def test_a_fiche_is_identified_by_its_code_and_its_period(fiches):
    fo1_2022, fo1_2023 = fiches
    assert str(fo1_2023).startswith("FO1 2023")
    with pytest.raises(IntegrityError), transaction.atomic():  # fiches of one code never overlap
        OperationFactory(plie=fo1_2023.plie, code="FO1", start=D(2023, 6, 1), end=D(2024, 5, 31))


def test_a_period_spanning_two_years_counts_day_by_day_for_the_fiche_in_force(fiches, year):
    fo1_2022, fo1_2023 = fiches
    carried = year["carried"]
    assert (participation(carried, fo1_2022).entry_date, participation(carried, fo1_2022).last_day) == (
        D(2022, 6, 1),
        D(2022, 12, 31),
    )
    assert (participation(carried, fo1_2023).entry_date, participation(carried, fo1_2023).last_day) == (
        D(2023, 1, 1),
        D(2023, 12, 31),
    )
    bilan = compute_bilan(fo1_2023, *YEAR_2023, today=TODAY)
    assert bilan["totals"]["etp_moyen"] == pytest.approx(1 + 0.5 * 181 / 365)


def test_whole_fiche_figures_agree_with_the_participations_and_the_people_behind_them(fiches, year):
    fo1_2023 = fiches[1]
    bilan = compute_bilan(fo1_2023, *YEAR_2023, today=TODAY)
    fse = bilan["fse"]

    assert fse["participations"] == bilan["totals"]["participants_accompagnes"] == 7
    assert fse["indicateurs"]["EECO01"]["total"] == fse["entrees"]
    # Entered FO1 2023: carried (1/1), new_year_day (1/1), july, december, new_year_eve, twice, colleague.
    assert fse["entrees"] == 7
    # Left FO1 2023: everyone still there on 31/12 leaves the operation that day, plus new_year_day on 1/1 and the
    # colleague's participant on 30/06 (no referent attached the next day); twice leaves once, on its last day.
    assert fse["sorties"] == 7
    assert participation(year["twice_first"], fo1_2023).last_day == D(2023, 12, 31)
    assert participation(year["colleague"], fo1_2023).last_day == D(2023, 6, 30)
    assert participation(year["new_year_day"], fo1_2023).last_day == D(2023, 1, 1)

    people = {p.participant_id for p in annex(fo1_2023, *YEAR_2023)}
    assert len(people) == bilan["totals"]["participants_accompagnes"]
    for key, (_, select) in BEHIND.items():
        behind = select(fo1_2023, *YEAR_2023)
        if key == "participants_accompagnes":
            behind = behind.values("participant")
        assert behind.distinct().count() == bilan["totals"][key], key
    months = build_report(fo1_2023, *YEAR_2023, today=TODAY)["months"]
    assert sum(count for _, count in months) / 12 == pytest.approx(bilan["totals"]["file_active_mensuelle"])


def test_a_referent_leaving_mid_year_ends_the_participation_without_leaving_the_plie(fiches, year):
    fo1_2023 = fiches[1]
    bilan = compute_bilan(fo1_2023, D(2023, 7, 1), D(2023, 12, 31), today=TODAY)
    assert bilan["fse"]["participations"] == bilan["totals"]["participants_accompagnes"]
    assert year["colleague"].participant_id not in {
        p.participant_id for p in annex(fo1_2023, D(2023, 7, 1), D(2023, 12, 31))
    }


def test_a_person_still_in_the_parcours_has_not_left_before_the_fiche_ends(fiches, year):
    fo1_2023 = fiches[1]
    during = compute_bilan(fo1_2023, *YEAR_2023, today=D(2023, 12, 31))
    # Left by then: the colleague's participant (30/06), new_year_day (1/1) and july (30/09), not those of 31/12.
    assert during["fse"]["sorties"] == 3


def test_a_correction_of_the_file_after_the_year_moves_no_figure_of_that_year(fiches, year):
    fo1_2023 = fiches[1]
    person = year["july"].participant
    person.employment_status, person.disability = EmploymentStatus.UNEMPLOYED, Answer.NO
    person.save()
    sync_participations(fo1_2023.plie_id, today=D(2023, 12, 1))  # while the fiche runs, the file is copied
    before = compute_bilan(fo1_2023, *YEAR_2023, today=TODAY)

    person.employment_status, person.disability = EmploymentStatus.EMPLOYED, Answer.YES
    person.save()
    sync_participations(fo1_2023.plie_id, today=TODAY)

    assert compute_bilan(fo1_2023, *YEAR_2023, today=TODAY) == before
    assert participation(year["july"], fo1_2023).employment_status == EmploymentStatus.UNEMPLOYED


def test_a_correction_of_the_participation_is_audited_and_kept(fiches, year):
    fo1_2023 = fiches[1]
    team = UserFactory()
    record = participation(year["july"], fo1_2023)
    correct_entry_situation(
        participation=record, values={"disability": Answer.DECLINED}, reason="Erreur de saisie", by=team
    )
    sync_participations(fo1_2023.plie_id, today=D(2023, 12, 1))
    record.refresh_from_db()
    assert record.disability == Answer.DECLINED
    last = record.history.first()
    assert (last.history_user, last.history_change_reason) == (team, "Erreur de saisie")
    fse = compute_bilan(fo1_2023, *YEAR_2023, today=TODAY)["fse"]
    assert fse["ne_souhaite_pas_repondre"]["EECO12"] == 1


def test_exit_situations_are_answers_recorded_by_the_team(fiches, year):
    fo1_2023 = fiches[1]
    team = UserFactory()
    record = participation(year["july"], fo1_2023)
    record_exit_situations(answers={record: {"exit_employment": Answer.YES, "exit_qualification": Answer.YES}}, by=team)
    fse = compute_bilan(fo1_2023, *YEAR_2023, today=TODAY)["fse"]
    assert fse["indicateurs"]["EECR04"]["total"] == fse["indicateurs"]["EECR03"]["total"] == 1
    assert fse["non_renseigne"]["EECR04"] == fse["sorties"] - 1


@pytest.mark.parametrize(
    ("since", "entry", "age", "expected"),
    [
        (D(2022, 1, 31), D(2023, 1, 31), 40, False),  # exactly 12 months: not more
        (D(2022, 1, 31), D(2023, 2, 1), 40, True),
        (D(2022, 8, 31), D(2023, 2, 28), 24, False),  # + 6 months lands on 28/02 under 25
        (D(2022, 8, 31), D(2023, 3, 1), 24, True),
        (None, D(2023, 3, 1), 40, None),
    ],
)
def test_long_term_unemployment_follows_the_entry_date_and_the_age(since, entry, age, expected):
    assert long_term_unemployed(EmploymentStatus.UNEMPLOYED, since, entry, age) is expected


def test_the_rural_count_is_not_available_until_the_density_grid_is_loaded(fiches, year, tmp_path):
    fo1_2023 = fiches[1]
    person = year["july"].participant
    person.commune_id = "24311"  # Nontron
    person.save()
    sync_participations(fo1_2023.plie_id, today=D(2023, 12, 1))
    fse = compute_bilan(fo1_2023, *YEAR_2023, today=TODAY)["fse"]
    assert fse["indicateurs"]["EECO17"]["total"] is None and not fse["rural_disponible"]

    grid = tmp_path / "grille.csv"
    grid.write_text("CODGEO;LIBGEO;DENS\n24311;Nontron;5\n", encoding="utf-8")
    call_command("load_density_grid", str(grid), verbosity=0)
    fse = compute_bilan(fo1_2023, *YEAR_2023, today=TODAY)["fse"]
    assert fse["indicateurs"]["EECO17"]["total"] == 1 and fse["rural_disponible"]


def test_bilan_picks_the_fiche_whose_period_contains_the_start(fiches, year, capsys):
    call_command("bilan", "--plie", "annuel", "--operation", "FO1", "--start", "2022-01-01", "--end", "2022-12-31",
                 "--json")  # fmt: skip
    out = json.loads(capsys.readouterr().out)
    assert out["fiche"] == {"start": "2022-01-01", "end": "2022-12-31"}
    assert out["fse"]["participations"] == out["totals"]["participants_accompagnes"]


@pytest.mark.parametrize("slug", ["sources", "sud-perigord"])
def test_reconduction_makes_next_years_fiche_from_this_one(db, slug):
    fiche = Operation.objects.get(plie__slug=slug, code="FO1")
    start, end = next_period(fiche)
    renewed = renew_operation(operation=fiche, start=start, end=end, by=None)

    assert (renewed.code, renewed.start.year) == ("FO1", fiche.end.year + 1)
    assert renewed.end.year - renewed.start.year == fiche.end.year - fiche.start.year
    assert sorted((t.kind, t.scope, t.value_min) for t in renewed.targets.all()) == sorted(
        (t.kind, t.scope, t.value_min) for t in fiche.targets.all()
    )
    assert set(renewed.zones.all()) == set(fiche.zones.all())
    assert [(p.start.year, p.etp) for p in renewed.planned_etps.all()] == [
        (p.start.year + renewed.start.year - fiche.start.year, p.etp) for p in fiche.planned_etps.all()
    ]
    assert renewed.last_payment_year is None and not renewed.legal_hold
    assert Operation.objects.of_code(fiche.plie, "FO1").count() == 2


def test_an_open_period_carries_over_to_the_renewed_fiche(fiches, year):
    fo1_2023 = fiches[1]
    fo1_2024 = renew_operation(operation=fo1_2023, start=D(2024, 1, 1), end=D(2024, 12, 31), by=None)
    assert not ReferentPeriod.objects.filter(operation=fo1_2024).exists()
    carried = participation(year["carried"], fo1_2024)
    assert (carried.entry_date, carried.last_day) == (D(2024, 1, 1), D(2024, 12, 31))


def test_fse_tables_take_a_constant_number_of_queries(fiches, year, django_assert_num_queries):
    fo1_2023 = fiches[1]
    with django_assert_num_queries(11):
        compute_bilan(fo1_2023, *YEAR_2023, today=TODAY)
    for index in range(5):
        enrol(ReferentPeriod.objects.filter(operation=fiches[0]).first().referent, D(2023, 4, 1 + index))
    fo1_2023 = Operation.objects.select_related("plie").get(pk=fo1_2023.pk)  # its fiche's ids not yet fetched
    with django_assert_num_queries(11):
        compute_bilan(fo1_2023, *YEAR_2023, today=TODAY)


PARTICIPATION_FIELDS = [f.attname for f in Participation._meta.concrete_fields if f.attname != "id"]


def participations_now():
    return sorted(tuple(row.values()) for row in Participation.objects.values(*PARTICIPATION_FIELDS))


def test_a_sync_of_one_person_reads_only_the_fiches_their_parcours_overlap_and_agrees_with_the_whole_plie(fiches, year):
    """The 2022 fiche holds the period that attributes 2023's days: left out of a 2023-only person's sync, it still
    counts through the 2023 fiche. Fiches of other years and codes that no parcours overlaps cost no query."""
    plie = fiches[0].plie
    people = sorted({parcours.participant_id for parcours in year.values()})
    sync_participations(plie.pk)
    whole = participations_now()
    Participation.objects.all().delete()
    for person in people:
        sync_participations(plie.pk, participant_ids=[person])
    assert participations_now() == whole

    def queries_of_one_sync():
        with CaptureQueriesContext(connection) as queries:
            assert sync_participations(plie.pk, participant_ids=[year["july"].participant_id]) == (0, 0, 0)
        return len(queries)

    before = queries_of_one_sync()
    for start in (D(2019, 1, 1), D(2020, 1, 1), D(2021, 1, 1)):
        OperationFactory(plie=plie, code="FO1", start=start, end=start.replace(month=12, day=31))
        OperationFactory(plie=plie, code="FO2", start=start, end=start.replace(month=12, day=31))
    assert queries_of_one_sync() == before
    assert participations_now() == whole


def test_the_bilan_of_every_seed_fiche_carries_its_fse_tables(db, capsys):
    for fiche in Operation.objects.filter(code__in=["FO1", "FO2"]).select_related("plie"):
        call_command("bilan", "--plie", fiche.plie.slug, "--operation", fiche.code, "--start", str(fiche.start),
                     "--end", str(fiche.end), "--json")  # fmt: skip
        out = json.loads(capsys.readouterr().out)
        fse = out["fse"]
        assert {
            "participations",
            "entrees",
            "sorties",
            "indicateurs",
            "ne_souhaite_pas_repondre",
            "non_renseigne",
        } <= set(fse)
        assert set(fse["indicateurs"]) == {f"EECO{n:02}" for n in range(1, 18)} | {f"EECR0{n}" for n in range(1, 5)}
        assert fse["participations"] == out["totals"]["participants_accompagnes"]
        assert fse["indicateurs"]["EECO01"]["total"] == fse["entrees"]


@pytest.fixture
def syncs(monkeypatch):
    """The participant ids (None: the whole PLIE) of every sync that runs."""
    calls = []
    sync = participations.sync_participations

    def spy(plie_id, *, participant_ids=None, **options):
        calls.append(None if participant_ids is None else set(participant_ids))
        return sync(plie_id, participant_ids=participant_ids, **options)

    monkeypatch.setattr(participations, "sync_participations", spy)
    return calls


def test_what_attribution_does_not_read_asks_no_sync(fiches, year, syncs):
    fo1_2023 = fiches[1]
    fo1_2023.title = "Accompagnement renforcé (avenant)"
    fo1_2023.save()
    period = ReferentPeriod.objects.get(operation=fo1_2023)
    period.etp = Decimal("0.8")
    period.save()
    assert syncs == []
    fo1_2023.end = D(2023, 12, 30)
    fo1_2023.save()
    assert syncs == [None]


def test_a_new_fiche_moves_the_plie_only_when_its_code_has_fiches_already(fiches, year, syncs):
    """A code of its own has no ETP period yet: nobody's days can count for it. Next year's FO1 takes the days that
    FO1's periods running past 2023 give it."""
    plie = fiches[0].plie
    OperationFactory(plie=plie, code="FO9", start=D(2024, 1, 1), end=D(2024, 12, 31))
    assert syncs == []
    assert sync_participations(plie.pk, today=TODAY) == (0, 0, 0)
    fo1_2024 = OperationFactory(plie=plie, code="FO1", start=D(2024, 1, 1), end=D(2024, 12, 31))
    assert syncs == [None]
    assert Participation.objects.filter(operation=fo1_2024).exists()
    assert sync_participations(plie.pk, today=TODAY) == (0, 0, 0)


def test_a_period_moves_the_people_of_its_referents_only_and_the_whole_plie_agrees(fiches, year, syncs):
    """Lengthened, moved to another referent, deleted: after each, a sync of the whole PLIE finds nothing to do."""
    plie = fiches[0].plie
    period = ReferentPeriod.objects.get(operation=fiches[1])
    colleague, referent = period.referent, ReferentPeriod.objects.get(operation=fiches[0]).referent
    followed_by = {
        who: {p.participant_id for p in year.values() if p.assignments.filter(referent=who).exists()}
        for who in (colleague, referent)
    }
    period.end = D(2023, 8, 31)
    period.save()
    assert participation(year["colleague"], fiches[1]).last_day == D(2023, 8, 31)
    period.referent = referent
    period.save()
    period.delete()
    assert syncs == [followed_by[colleague], followed_by[colleague] | followed_by[referent], followed_by[referent]]
    assert sync_participations(plie.pk) == (0, 0, 0)


def test_a_person_saved_asks_a_sync_only_when_their_entry_situation_may_change(fiches, year, syncs):
    person = year["july"].participant
    person.phone, person.address = "06 01 02 03 04", "3 rue des Lilas"
    person.save()
    ParticipantFactory(plie=person.plie)  # no parcours yet: no participation to make
    assert syncs == []
    person.employment_status = EmploymentStatus.EMPLOYED
    person.save()
    assert syncs == [{person.pk}]
