"""The 11 fiches of the seed, loaded with `loaddata fiches_2023`, show the seed's own figures."""

from decimal import Decimal

import pytest
from django.core.management import call_command
from django.urls import reverse

from operations.models import CofinancingCap, Operation, Target
from plie.models import Plie, Role
from territories.models import Zone
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db

CEILINGS = {
    "agen": ("FO1", "295200.00", "295\xa0200,00\xa0€"),
    "bordeaux": ("FO1", "381000.00", "381\xa0000,00\xa0€"),
    "technowest": ("FO1", "250000.00", "250\xa0000,00\xa0€"),
    "grand-perigueux": ("FO1", "127400.00", "127\xa0400,00\xa0€"),
    "graves": ("FO2", "256000.00", "256\xa0000,00\xa0€"),
    "haut-perigord": ("FO1", "90000.00", "90\xa0000,00\xa0€"),
    "hauts-de-garonne": ("FO1", "342845.00", "342\xa0845,00\xa0€"),
    "libournais": ("FO1", "342000.00", "342\xa0000,00\xa0€"),
    "portes-du-sud": ("FO1", "180000.00", "180\xa0000,00\xa0€"),
    "sources": ("FO1", "175200.00", "175\xa0200,00\xa0€"),
    "sud-perigord": ("FO1", "133791.95", "133\xa0791,95\xa0€"),
}


def test_the_eleven_plies_are_loaded_under_their_slugs_and_codes():
    assert {(op.plie.slug, op.code) for op in Operation.objects.select_related("plie")} == {
        (slug, code) for slug, (code, _, _) in CEILINGS.items()
    }


def test_loading_twice_changes_nothing():
    models = [Plie, Operation, Target, CofinancingCap, Zone]
    before = [m.objects.count() for m in models]
    call_command("loaddata", "fiches_2023", verbosity=0)
    assert [m.objects.count() for m in models] == before


@pytest.mark.parametrize("slug", CEILINGS)
def test_each_fiche_page_shows_its_ceiling_to_the_cent(client_of, slug):
    code, ceiling, shown = CEILINGS[slug]
    operation = Operation.objects.get(plie__slug=slug, code=code)
    assert operation.fse_ceiling == Decimal(ceiling)
    user = MembershipFactory(plie=operation.plie, role=Role.COPIL).user
    page = client_of(user).get(reverse("operation_detail", args=[operation.pk])).content.decode()
    assert shown in page


def test_cofinancing_caps_follow_the_fiches():
    caps = {
        (c.operation.plie.slug, c.beneficiary_kind): c.rate
        for c in CofinancingCap.objects.select_related("operation__plie")
    }
    assert caps == {
        ("technowest", "all"): 70,
        ("graves", "public"): Decimal("88.5"),
        ("graves", "association"): 100,
        ("graves", "private"): 100,
        ("haut-perigord", "all"): 90,
        ("hauts-de-garonne", "all"): 75,
        ("portes-du-sud", "all"): 78,
        ("sources", "all"): 85,
    }


def test_agen_territory_is_44_communes_in_seven_zones_with_their_etp():
    agen = Plie.objects.get(slug="agen")
    assert agen.communes.count() == 44
    zones = Zone.objects.filter(plie=agen).order_by("number")
    assert [(z.number, z.planned_etp) for z in zones] == [
        (1, 1),
        (2, 1),
        (3, 1),
        (4, 1),
        (5, 1),
        (6, Decimal("0.8")),
        (7, 1),
    ]
    assert "Agen" in zones.get(number=5).communes.values_list("name", flat=True)
    assert zones.get(number=1).communes.filter(name="Foulayronnes").exists()


def test_graves_splits_three_etp_in_begles_and_two_in_montesquieu():
    graves = Plie.objects.get(slug="graves")
    assert graves.communes.count() == 14
    assert sorted((z.name, z.planned_etp) for z in graves.zones.all()) == [("Bègles", 3), ("Montesquieu", 2)]


def test_sud_perigord_plans_one_and_a_quarter_etp_in_2022_and_one_and_three_quarters_in_2023():
    operation = Operation.objects.get(plie__slug="sud-perigord")
    assert [(p.start.year, p.etp) for p in operation.planned_etps.order_by("start")] == [
        (2022, Decimal("1.25")),
        (2023, Decimal("1.75")),
    ]
    assert (operation.start.isoformat(), operation.end.isoformat()) == ("2022-01-01", "2023-12-31")


def test_sud_perigord_fiche_page_shows_88_123_and_211_participants(client_of):
    operation = Operation.objects.get(plie__slug="sud-perigord")
    user = MembershipFactory(plie=operation.plie, role=Role.ANIMATION).user
    response = client_of(user).get(operation.get_absolute_url())
    row = next(r for r in response.context["table"]["rows"] if r["target"].kind == "participants_accompagnes")
    assert [line.amount.low for line in row["years"]] == [88, 123]
    assert row["whole"].amount.low == 211


def test_sources_neutralises_moves_out_of_the_territory():
    sources = Operation.objects.get(plie__slug="sources")
    assert list(sources.neutralised_exit_reasons.values_list("label", flat=True)) == ["Déménagement"]
    assert not Operation.objects.exclude(pk=sources.pk).filter(neutralised_exit_reasons__isnull=False).exists()


def test_grand_perigueux_excludes_the_accompaniment_step_from_its_target():
    from steps.models import StepType

    excluded = StepType.objects.filter(counts_toward_target=False).values_list("category__plie__slug", "label")
    assert list(excluded) == [("grand-perigueux", "Accompagnement")]


def test_ranges_stay_ranges():
    bordeaux = Target.objects.get(operation__plie__slug="bordeaux", kind="file_active")
    assert (bordeaux.value_min, bordeaux.value_max) == (70, 90)
