"""`make run` loads the demo with `manage.py demo`: it must work on a new database, twice. The demo costs half a minute
of CPU: one test reads it, since `make test` hands tests out one by one to its workers (each would build it again)."""

import io

import pytest
from django.core.management import call_command

from operations.models import Operation
from participants.models import Participant
from plie.models import Membership, Plie, Role
from steps.models import Step
from tests.factories.participants import isolate_private_storage
from tests.reporting.test_disclosure import (
    check_pairs,
    check_partitions,
    check_primary,
    check_rates_and_averages,
    reports,
)

pytestmark = pytest.mark.django_db


def test_the_demo_loads_people_steps_one_account_per_role_and_no_small_count_and_can_run_again(monkeypatch, tmp_path):
    isolate_private_storage(monkeypatch, tmp_path)
    output = io.StringIO()
    call_command("demo", stdout=output)
    assert "Comptes de démonstration (mot de passe pour tous : plie-demo-2026)" in output.getvalue()
    assert Participant.objects.filter(plie__slug="agen").count() == 250
    assert Participant.objects.filter(plie__slug="sources").count() == 80
    assert Step.objects.filter(parcours__participant__plie__slug="agen").exists()
    assert set(Membership.objects.filter(plie__slug="agen").values_list("role", flat=True)) == {
        "admin",
        "animation",
        "referent",
        "copil",
    }
    check_the_adversary_gets_nothing()
    call_command("demo", stdout=io.StringIO())
    assert Participant.objects.count() == 330


def check_the_adversary_gets_nothing():
    """The disclosure policy (tests/reporting/test_disclosure.py) on the demo's figures."""
    operation = Operation.objects.of_code(Plie.objects.get(slug="agen"), "FO1").order_by("-start").first()
    seen, true = reports(operation, Role.COPIL)
    check_primary(seen, true)
    check_pairs(seen)
    check_partitions(seen)
    check_rates_and_averages(seen, true)
