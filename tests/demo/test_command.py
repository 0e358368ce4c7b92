"""`make run` loads the demo with `manage.py demo`: it must work on a new database, twice."""

import io

import pytest
from django.core.management import call_command

from participants.models import Participant
from plie.models import Membership
from steps.models import Step
from tests.factories.participants import isolate_private_storage

pytestmark = pytest.mark.django_db


def test_the_demo_loads_people_steps_and_one_account_per_role_and_can_run_again(monkeypatch, tmp_path):
    isolate_private_storage(monkeypatch, tmp_path)
    out = io.StringIO()
    call_command("demo", stdout=out)
    assert "Comptes de démonstration (mot de passe pour tous : plie-demo-2026)" in out.getvalue()
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
