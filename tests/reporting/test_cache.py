"""Reports are computed once per data version of their PLIE (plie/dataversion.py, reporting/report.py): every kind
of write that changes a figure is read back at once, and a report cached for one audience never serves another."""

import datetime
import io

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection, transaction
from django.urls import reverse

from imports.engine import Source, run_batch
from participants.models import Entretien, Participant, Sex
from participants.participations import sync_participations
from plie import dataversion
from plie.models import Role
from reporting import report as reporting
from reporting.disclosure import HIDDEN
from reporting.indicators import compute_bilan
from tests.factories import ReferentFactory, ReferentPeriodFactory
from tests.factories.participants import ParticipantFactory, add_entretien, make_parcours, profile, reason
from tests.imports.files import PARTICIPANTS, REFERENTS, csv_bytes

pytestmark = pytest.mark.django_db

YEAR = "?kind=year&year=2023"
START, END = datetime.date(2023, 1, 1), datetime.date(2023, 12, 31)


def commit():
    """What the commit of the test's transaction would do for the data versions: run their on-commit renewals."""
    for _, func, _ in list(connection.run_on_commit):
        if hasattr(func, "dataversion_of") and not func.done:
            func()


@pytest.fixture
def computed(monkeypatch):
    """The (operation, start, end) of every report actually computed, not read from the cache."""
    calls = []
    build = reporting.build_report

    def spy(operation, start, end, **options):
        calls.append((operation.pk, start, end))
        return build(operation, start, end, **options)

    monkeypatch.setattr(reporting, "build_report", spy)
    return calls


@pytest.fixture
def followed(operation, referent_a, animation):
    """Two people followed on the fiche in 2023 by two referents, one of whom left with a validated CDI;
    committed, as the data of a dashboard is."""
    colleague = ReferentFactory(plie=operation.plie, first_name="Hugo", last_name="Lambert")
    ReferentPeriodFactory(referent=colleague, operation=operation)
    exited = make_parcours(
        ParticipantFactory(plie=operation.plie, last_name="Canari"),
        "exited",
        by=animation,
        operation=operation,
        referent=profile(referent_a),
    )
    make_parcours(
        ParticipantFactory(plie=operation.plie, last_name="Pinson"),
        "active",
        by=animation,
        operation=operation,
        referent=colleague,
    )
    commit()
    return exited


def totals(operation, role=Role.ANIMATION, **options):
    return reporting.report_for(operation, START, END, role=role, **options)["totals"]


def test_a_report_read_again_is_not_computed_again_and_costs_no_query(
    operation, followed, computed, django_assert_num_queries
):
    first = totals(operation)
    with django_assert_num_queries(0):
        assert totals(operation) == first
    assert computed == [(operation.pk, START, END)]


def test_a_saved_parcours_is_counted_at_once(operation, followed, animation, referent_a):
    assert totals(operation)["participants_accompagnes"] == 2
    make_parcours(
        ParticipantFactory(plie=operation.plie), by=animation, operation=operation, referent=profile(referent_a)
    )
    commit()
    assert totals(operation)["participants_accompagnes"] == 3


def held(parcours, day):
    return add_entretien(parcours, day, referent=parcours.assignments.get().referent)


def test_a_row_found_through_its_parcours_changes_the_figures_of_its_plie(operation, followed):
    before = totals(operation)["entretiens"]
    held(followed, datetime.date(2023, 3, 1))
    commit()
    assert totals(operation)["entretiens"] == before + 1


def test_a_deleted_row_is_no_longer_counted(operation, followed):
    entretien = held(followed, datetime.date(2023, 3, 1))
    commit()
    before = totals(operation)["entretiens"]
    entretien.delete()
    commit()
    assert totals(operation)["entretiens"] == before - 1


def test_rows_deleted_by_a_queryset_are_no_longer_counted(operation, followed):
    held(followed, datetime.date(2023, 3, 1))
    held(followed, datetime.date(2023, 4, 1))
    commit()
    assert totals(operation)["entretiens"] >= 2
    Entretien.objects.filter(participant__plie=operation.plie).delete()
    commit()
    assert totals(operation)["entretiens"] == 0


def test_a_many_to_many_change_is_read_at_once(operation, followed):
    assert totals(operation)["sorties_neutralisees"] == 0
    operation.neutralised_exit_reasons.add(reason(operation.plie, "CDI"))
    commit()
    assert totals(operation)["sorties_neutralisees"] == 1


def test_the_bulk_writes_of_the_participation_sync_are_read_at_once(operation, followed):
    women = reporting.report_for(operation, START, END, role=Role.ANIMATION)["fse"]["indicateurs"]["EECO01"]
    Participant.objects.filter(plie=operation.plie).update(sex=Sex.MALE)  # as a questionnaire corrected in bulk
    sync_participations(operation.plie_id, today=operation.start)  # the fiche still runs: situations follow
    commit()
    after = reporting.report_for(operation, START, END, role=Role.ANIMATION)["fse"]["indicateurs"]["EECO01"]
    assert (after["femmes"], after["hommes"]) == (0, 2) != (women["femmes"], women["hommes"])


def test_a_sync_that_changes_no_participation_keeps_the_report(operation, followed, computed):
    totals(operation)
    assert sync_participations(operation.plie_id, today=operation.start) == (0, 0, 0)  # the nightly one, say
    commit()
    totals(operation)
    assert len(computed) == 1


def test_an_import_is_read_at_once(plie, operation, admin_user):
    assert totals(operation)["participants_accompagnes"] == 0
    sources = [Source("referents.csv", csv_bytes(REFERENTS)), Source("participants.csv", csv_bytes(PARTICIPANTS))]
    results = run_batch(plie, sources, by=admin_user)
    assert not any(result.errors for result in results)
    commit()
    assert totals(operation)["participants_accompagnes"] == 3


def test_shared_communes_change_the_figures_of_every_plie(operation, other_operation, followed, computed):
    totals(operation)
    totals(other_operation)
    call_command("load_density_grid", "fixtures/grille-densite-exemple.csv", stdout=io.StringIO())
    commit()
    totals(operation)
    totals(other_operation)
    assert [pk for pk, _, _ in computed] == [operation.pk, other_operation.pk] * 2


def test_a_write_in_another_plie_keeps_the_report(operation, other_operation, followed, computed, outsider):
    totals(operation)
    referent = ReferentFactory(plie=other_operation.plie)
    ReferentPeriodFactory(referent=referent, operation=other_operation)
    participant = ParticipantFactory(plie=other_operation.plie)
    make_parcours(participant, by=outsider, operation=other_operation, referent=referent)
    commit()
    totals(operation)
    assert len(computed) == 1


def test_the_transaction_that_wrote_reads_its_own_rows_and_caches_none(
    operation, followed, animation, referent_a, computed
):
    assert totals(operation)["participants_accompagnes"] == 2
    with transaction.atomic():
        participant = ParticipantFactory(plie=operation.plie)
        make_parcours(participant, by=animation, operation=operation, referent=profile(referent_a))
        assert totals(operation)["participants_accompagnes"] == 3
        assert totals(operation)["participants_accompagnes"] == 3
        transaction.set_rollback(True)
    assert totals(operation)["participants_accompagnes"] == 2  # rolled back: the cached report still holds
    assert len(computed) == 3


def test_a_report_computed_from_the_old_rows_during_a_write_is_never_served_after_it(
    operation, followed, animation, referent_a
):
    stale = reporting.report_for(operation, START, END, role=Role.ANIMATION)
    make_parcours(
        ParticipantFactory(plie=operation.plie), by=animation, operation=operation, referent=profile(referent_a)
    )
    # Another process, which cannot see the uncommitted rows, keeps a report under the token it read.
    cache.set(reporting.report_key(operation, START, END, role=Role.ANIMATION), stale)
    commit()
    assert totals(operation)["participants_accompagnes"] == 3


def test_a_token_lost_by_the_cache_is_never_given_again(plie):
    before = dataversion.token(plie.pk)
    cache.delete(f"dataversion:{plie.pk}")
    assert dataversion.token(plie.pk) not in (before, None)


@pytest.mark.parametrize("first", [Role.COPIL, Role.ANIMATION])
def test_a_report_cached_for_one_audience_never_serves_another(operation, followed, first):
    seen = {role: totals(operation, role) for role in (first, Role.ANIMATION if first == Role.COPIL else Role.COPIL)}
    assert seen[Role.ANIMATION]["participants_accompagnes"] == 2
    assert seen[Role.COPIL]["participants_accompagnes"] is HIDDEN


def test_a_referent_reads_their_own_line_whoever_read_before(operation, followed, referent_a):
    mine = {profile(referent_a).pk}
    colleague = {ReferentFactory._meta.model.objects.get(last_name="Lambert").pk}
    assert totals(operation, Role.REFERENT, referent_ids=colleague)["referent"] == "Hugo Lambert"
    assert totals(operation, Role.REFERENT, referent_ids=mine)["referent"] == "Rachida Benali"


# Pinned query counts: the bilan, the dashboard computed then read from the cache, and its two charts.
BILAN_QUERIES = 11
DASHBOARD_QUERIES = 22
CACHED_DASHBOARD_QUERIES = 9
CHART_QUERIES = 8


def test_the_bilan_takes_a_fixed_number_of_queries(operation, followed, django_assert_num_queries):
    with django_assert_num_queries(BILAN_QUERIES):
        compute_bilan(operation, START, END)


@pytest.mark.parametrize("persona", ["copil", "animation"])
def test_the_charts_are_drawn_from_the_report_of_the_page(
    request, client_of, operation, followed, computed, persona, django_assert_num_queries
):
    client = client_of(request.getfixturevalue(persona))
    with django_assert_num_queries(DASHBOARD_QUERIES):
        assert client.get(reverse("dashboard") + YEAR).status_code == 200
    built = len(computed)
    for name in ("objectifs", "mois"):
        with django_assert_num_queries(CHART_QUERIES):
            assert client.get(reverse("dashboard_chart", args=[name]) + YEAR).content.startswith(b"<svg")
    with django_assert_num_queries(CACHED_DASHBOARD_QUERIES):
        assert client.get(reverse("dashboard") + YEAR).status_code == 200
    assert len(computed) == built  # no second bilan
