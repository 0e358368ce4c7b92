"""Personas: the team of one PLIE (admin, animation, two referents, copil) and an outsider from another PLIE."""

import pytest
from django.core import management
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.test import Client

from plie.models import Role
from tests.database import migrate_from_template
from tests.factories import (
    CofinancingCapFactory,
    MembershipFactory,
    OperationFactory,
    PlieFactory,
    ReferentFactory,
    ReferentPeriodFactory,
    TargetFactory,
    with_territory,
)

PESSAC, CESTAS, CANEJAN, AGEN, MARMANDE = "33318", "33122", "33090", "47001", "47157"


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings):
    """An in-memory SQLite test database is copied from a template instead of migrated (tests/database.py)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(management, "call_command", migrate_from_template(management.call_command))
        yield


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Every test database holds the 11 fiches of 2023, as an installation does after `make run`.

    They are serialized with the communes so that transactional tests (`serialized_rollback=True`) get them back."""
    with django_db_blocker.unblock():
        call_command("loaddata", "fiches_2023", verbosity=0)
        connection._test_serialized_contents = connection.creation.serialize_db_to_string()


@pytest.fixture
def plie(db):
    return with_territory(PlieFactory(slug="pessac", name="PLIE de Pessac"), PESSAC, CESTAS, CANEJAN)


@pytest.fixture
def other_plie(db):
    return with_territory(PlieFactory(slug="marmandais", name="PLIE du Marmandais"), MARMANDE)


@pytest.fixture
def operation(plie):
    operation = OperationFactory(plie=plie, code="FO1", title="Accompagnement renforcé PLIE de Pessac")
    TargetFactory(operation=operation, kind="file_active", value_min=70, qualifier="approx")
    TargetFactory(operation=operation, kind="etapes", value_min="1.5", basis="file_active_moyenne")
    TargetFactory(operation=operation, kind="taux_sorties_positives", value_min=50)
    CofinancingCapFactory(operation=operation, rate=85)
    return operation


@pytest.fixture
def other_operation(other_plie):
    return OperationFactory(plie=other_plie, code="FO1", title="Accompagnement des participants du PLIE du Marmandais")


def member(plie, role, **user_fields):
    return MembershipFactory(plie=plie, role=role, **{f"user__{k}": v for k, v in user_fields.items()}).user


@pytest.fixture
def admin_user(plie):
    return member(plie, Role.ADMIN, email="admin@pessac.fr")


@pytest.fixture
def animation(plie):
    return member(plie, Role.ANIMATION, email="animation@pessac.fr")


@pytest.fixture
def referent_a(plie, operation):
    user = member(plie, Role.REFERENT, email="referent.a@pessac.fr", first_name="Rachida", last_name="Benali")
    referent = ReferentFactory(plie=plie, first_name="Rachida", last_name="Benali", user=user)
    ReferentPeriodFactory(referent=referent, operation=operation)
    return user


@pytest.fixture
def referent_b(plie):
    return member(plie, Role.REFERENT, email="referent.b@pessac.fr")


@pytest.fixture
def copil(plie):
    return member(plie, Role.COPIL, email="copil@pessac.fr")


@pytest.fixture
def outsider(other_plie):
    return member(other_plie, Role.ANIMATION, email="animation@marmandais.fr")


def logged_in(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def client_of():
    return logged_in


@pytest.fixture(autouse=True)
def erasure_journal(settings, tmp_path):
    """The journal of erasures of each test is its own file, never var/journal-effacements.jsonl."""
    settings.ERASURE_JOURNAL_PATH = tmp_path / "journal-effacements.jsonl"
    return settings.ERASURE_JOURNAL_PATH


@pytest.fixture(autouse=True)
def forget_rate_limits():
    """Rate limits count in the cache (plie/identity.py): each test starts with none."""
    cache.clear()
