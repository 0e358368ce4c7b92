"""`make run` loads the demo with `manage.py demo`: it must work on a new database, twice. The demo is built once for
the module (about a minute of CPU): the tests of this module share it."""

import io

import pytest
from django.core.management import call_command

from operations.models import Operation
from participants.models import Participant
from plie.models import Membership, Plie, Role
from steps.models import Step
from tests.database import built_once
from tests.factories.participants import isolate_private_storage
from tests.reporting.test_disclosure import (
    check_pairs,
    check_partitions,
    check_primary,
    check_rates_and_averages,
    reports,
)

pytestmark = [pytest.mark.django_db, pytest.mark.xdist_group("demo")]


@pytest.fixture(scope="module")
def demo_output(django_db_setup, django_db_blocker, tmp_path_factory):
    """What `manage.py demo` printed on a new test database; the demo stays for the module's tests."""

    def build():
        out = io.StringIO()
        call_command("demo", stdout=out)
        return out.getvalue()

    with pytest.MonkeyPatch.context() as patch:
        isolate_private_storage(patch, tmp_path_factory.mktemp("private"))
        with built_once(django_db_blocker, build) as output:
            yield output


def test_the_demo_loads_people_steps_and_one_account_per_role_and_can_run_again(demo_output, monkeypatch, tmp_path):
    isolate_private_storage(monkeypatch, tmp_path)
    assert "Comptes de démonstration (mot de passe pour tous : plie-demo-2026)" in demo_output
    assert Participant.objects.filter(plie__slug="agen").count() == 250
    assert Participant.objects.filter(plie__slug="sources").count() == 80
    assert Step.objects.filter(parcours__participant__plie__slug="agen").exists()
    assert set(Membership.objects.filter(plie__slug="agen").values_list("role", flat=True)) == {
        "admin",
        "animation",
        "referent",
        "copil",
    }
    call_command("demo", stdout=io.StringIO())
    assert Participant.objects.count() == 330


def test_the_adversary_gets_nothing_from_the_demo_either(demo_output):
    """The disclosure policy (tests/reporting/test_disclosure.py) on the demo's figures."""
    operation = Operation.objects.of_code(Plie.objects.get(slug="agen"), "FO1").order_by("-start").first()
    seen, true = reports(operation, Role.COPIL)
    check_primary(seen, true)
    check_pairs(seen)
    check_partitions(seen)
    check_rates_and_averages(seen, true)
