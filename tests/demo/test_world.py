"""The demo participants: consistent parcours through the workflow, on the PLIE of Agen loaded with the fiches 2023."""

import datetime

import pytest
from django.db import transaction
from django.db.models import Count, F, Q
from django.utils import timezone

from demo.participants import create_demo_participants
from operations.models import ExitCategory, Operation
from participants.models import (
    OPEN_STATUSES,
    CommissionDecision,
    Document,
    Entretien,
    Parcours,
    Participant,
    ReferentAssignment,
    Status,
)
from plie.models import Plie
from territories.models import Zone
from tests.database import built_once
from tests.factories import ReferentFactory, ReferentPeriodFactory, UserFactory
from tests.factories.participants import isolate_private_storage

pytestmark = pytest.mark.django_db

END_2023 = datetime.date(2023, 12, 31)


@pytest.fixture(scope="module")
def built(django_db_setup, django_db_blocker, tmp_path_factory):
    """60 demo participants on the PLIE of Agen, built once for the module (tests/database.py's `built_once`); their
    PDFs go to a temporary folder, not to the private storage of the working tree."""
    private_files = tmp_path_factory.mktemp("private")

    def build():
        plie = Plie.objects.get(slug="agen")
        operation = Operation.objects.get(plie=plie, code="FO1")
        for zone in list(Zone.objects.filter(plie=plie).order_by("name"))[:4]:
            ReferentPeriodFactory(referent=ReferentFactory(plie=plie), operation=operation, zone=zone)
        by = UserFactory()
        return plie, by, create_demo_participants(plie=plie, count=60, by=by), private_files

    with pytest.MonkeyPatch.context() as patch:
        isolate_private_storage(patch, private_files)
        with built_once(django_db_blocker, build) as world:
            yield world


@pytest.fixture
def agen(built):
    return built[0]


@pytest.fixture
def by(built):
    return built[1]


@pytest.fixture
def demo(built):
    return built[2]


@pytest.fixture
def private_files(built):
    return built[3]


def test_creates_the_requested_count_only_once(agen, by, demo):
    assert demo == 60
    assert Participant.objects.filter(plie=agen).count() == 60
    assert create_demo_participants(plie=agen, count=60, by=by) == 0
    assert Participant.objects.filter(plie=agen).count() == 60


def test_people_are_plausible(agen, demo):
    people = list(Participant.objects.filter(plie=agen).select_related("commune"))
    territory = set(agen.communes.values_list("pk", flat=True))
    assert len({p.external_id for p in people}) == 60
    for person in people:
        assert len(person.external_id) == 7 and person.external_id.startswith("P") and person.external_id[1:].isdigit()
        assert person.commune_id in territory
        assert person.postal_code == person.commune.postal_codes.split()[0][:5]
        assert 18 <= person.age_on(person.parcours.get().prescription_date) <= 62
        assert 1 <= person.qualification_level <= 8
        assert person.low_qualification == (person.qualification_level <= 3)
        assert person.criteria, "each participant meets at least one eligibility criterion"


def test_parcours_follow_the_workflow(agen, demo):
    parcours = Parcours.objects.filter(participant__plie=agen).select_related("exit_reason", "operation")
    assert parcours.filter(prescription_date__lt=datetime.date(2022, 1, 1)).count() == 0
    for p in parcours:
        if p.reception_date:
            assert p.prescription_date <= p.reception_date
        decisions = list(p.decisions.all())
        if p.status in (Status.PRESCRIBED, Status.RECEIVED):
            assert not decisions
        for decision in decisions:
            assert decision.date >= p.reception_date
            assert decision.outcome == "accepted" or decision.reason
        if p.entry_date is None:
            assert p.status in (Status.PRESCRIBED, Status.RECEIVED, Status.POSTPONED, Status.ACCEPTED, Status.REFUSED)
            assert not p.assignments.exists() and not p.entretiens.exists()
            continue
        assert p.operation.start <= p.entry_date <= min(p.operation.end, END_2023)
        assert p.entry_date >= max(d.date for d in decisions if d.outcome == "accepted")
        open_assignments = p.assignments.filter(end__isnull=True).count()
        assert open_assignments == (0 if p.status == Status.EXITED else 1)
        if p.exit_date:
            assert p.entry_date <= p.exit_date <= END_2023
            assert p.status in (Status.EXIT_PENDING, Status.EXITED)
            if p.exit_reason.category != ExitCategory.POSITIVE:
                assert p.status == Status.EXITED and p.exit_validated_at is not None
            if p.status == Status.EXIT_PENDING:
                assert p.exit_reason.category == ExitCategory.POSITIVE and p.exit_validated_at is None
        if p.job_start:
            assert p.entry_date <= p.job_start <= (p.exit_date or END_2023)
        if p.status == Status.EXITED:
            assert p.exit_date <= timezone.localtime(p.exit_validated_at).date() <= END_2023
            if p.exit_reason.category == ExitCategory.POSITIVE:
                assert p.job_start + datetime.timedelta(days=180) <= END_2023


def test_assignments_chain_without_gaps(agen, demo):
    for p in Parcours.objects.filter(participant__plie=agen, entry_date__isnull=False):
        assignments = list(p.assignments.order_by("start"))
        assert assignments[0].start == p.entry_date
        for before, after in zip(assignments, assignments[1:], strict=False):
            assert before.end == after.start - datetime.timedelta(days=1)
            assert before.referent_id != after.referent_id


def test_entretiens_lie_inside_their_parcours(agen, demo):
    entretiens = Entretien.objects.filter(participant__plie=agen).select_related("parcours")
    assert entretiens.count() > 60 * 3
    outside = entretiens.filter(
        Q(date__lt=F("parcours__entry_date")) | Q(parcours__exit_date__isnull=False, date__gt=F("parcours__exit_date"))
    )
    assert not outside.exists()
    for entretien in entretiens.select_related("parcours"):
        assert entretien.participant_id == entretien.parcours.participant_id
        assert entretien.referent == entretien.parcours.referent_on(entretien.date)
        assert entretien.modality in ("physique", "telephone", "visio")
        assert 30 <= entretien.duration <= 60
        assert entretien.summary
    # an extract of the end of 2023, and a few portfolios still followed nowadays
    late = entretiens.filter(date__gt=END_2023)
    assert late.exists()
    assert not late.filter(~Q(parcours__status=Status.ACTIVE)).exists()
    assert (
        late.values("parcours").distinct().count()
        < entretiens.filter(parcours__status=Status.ACTIVE).values("parcours").distinct().count() / 2
    )


def test_every_stage_is_represented(agen, demo):
    parcours = Parcours.objects.filter(participant__plie=agen)
    exited = parcours.filter(status=Status.EXITED)
    assert exited.filter(exit_reason__category=ExitCategory.POSITIVE).exists()
    assert exited.exclude(exit_reason__category=ExitCategory.POSITIVE).exists()
    assert parcours.filter(status__in=[Status.ACTIVE, Status.FOLLOW_UP]).count() >= 60 * 0.3
    assert parcours.filter(status__in=[Status.PRESCRIBED, Status.RECEIVED, Status.POSTPONED, Status.ACCEPTED]).exists()
    assert CommissionDecision.objects.filter(parcours__participant__plie=agen, outcome="postponed").exists()


def test_the_demo_is_spread_over_the_referents_and_documents(agen, demo, private_files):
    loads = (
        ReferentAssignment.objects.filter(parcours__participant__plie=agen, parcours__status__in=OPEN_STATUSES)
        .filter(end__isnull=True)
        .values("referent")
        .annotate(n=Count("pk"))
    )
    assert len(loads) == 4
    contracts = Document.objects.filter(participant__plie=agen, kind="contrat_engagement")
    integrated = Parcours.objects.filter(participant__plie=agen, entry_date__isnull=False).count()
    assert 0.4 * integrated <= contracts.count() <= integrated
    document = contracts.first()
    assert document.size == document.file.size
    with document.file.open("rb") as file:
        content = file.read()
    assert content.startswith(b"%PDF-1.4") and content.rstrip().endswith(b"%%EOF")
    assert (private_files / document.file.name).exists()


class RollbackError(Exception):
    pass


def test_same_seed_same_people(by, tmp_path, monkeypatch):
    isolate_private_storage(monkeypatch, tmp_path)
    sources = Plie.objects.get(slug="sources")
    operation = Operation.objects.get(plie=sources, code="FO1")
    for _ in range(2):
        ReferentPeriodFactory(referent=ReferentFactory(plie=sources), operation=operation)

    def run(seed):
        try:
            with transaction.atomic():
                assert create_demo_participants(plie=sources, count=8, by=by, seed=seed) == 8
                people = Participant.objects.filter(plie=sources).order_by("external_id")
                result = list(
                    people.values_list("external_id", "last_name", "first_name", "birth_date", "parcours__status")
                )
                raise RollbackError
        except RollbackError:
            return result

    assert run(2023) == run(2023)
    assert run(2023) != run(7)
    assert not Participant.objects.filter(plie=sources).exists()


def test_refuses_a_plie_without_referents(by):
    plie = Plie.objects.get(slug="bordeaux")
    with pytest.raises(ValueError, match="référent"):
        create_demo_participants(plie=plie, count=3, by=by)
    assert not Participant.objects.filter(plie=plie).exists()
