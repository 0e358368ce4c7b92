"""Personas: the team of one PLIE (admin, animation, two referents, copil) and an outsider from another PLIE."""

import pytest
from django.core.management import call_command
from django.test import Client

from plie.models import Role
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

PESSAC, CESTAS, CANEJAN, SAINT_JEAN_D_ILLAC, AGEN = "33318", "33122", "33090", "33422", "47001"


@pytest.fixture
def fiches_2023(db):
    call_command("loaddata", "fiches_2023", verbosity=0)


@pytest.fixture
def plie(db):
    return with_territory(PlieFactory(slug="sources", name="PLIE des Sources"), PESSAC, CESTAS, CANEJAN)


@pytest.fixture
def other_plie(db):
    return with_territory(PlieFactory(slug="agen", name="PLIE de l’Agenais"), AGEN)


@pytest.fixture
def operation(plie):
    operation = OperationFactory(plie=plie, code="FO1", title="Accompagnement renforcé PLIE des Sources")
    TargetFactory(operation=operation, kind="file_active", value_min=70, qualifier="approx")
    TargetFactory(operation=operation, kind="etapes", value_min="1.5", basis="file_active_moyenne")
    TargetFactory(operation=operation, kind="taux_sorties_positives", value_min=50)
    CofinancingCapFactory(operation=operation, rate=85)
    return operation


@pytest.fixture
def other_operation(other_plie):
    return OperationFactory(plie=other_plie, code="FO1", title="Accompagnement des participants du PLIE de l’Agenais")


def member(plie, role, **user_fields):
    return MembershipFactory(plie=plie, role=role, **{f"user__{k}": v for k, v in user_fields.items()}).user


@pytest.fixture
def admin_user(plie):
    return member(plie, Role.ADMIN, email="admin@sources.fr")


@pytest.fixture
def animation(plie):
    return member(plie, Role.ANIMATION, email="animation@sources.fr")


@pytest.fixture
def referent_a(plie, operation):
    user = member(plie, Role.REFERENT, email="referent.a@sources.fr", first_name="Rachida", last_name="Benali")
    referent = ReferentFactory(plie=plie, first_name="Rachida", last_name="Benali", user=user)
    ReferentPeriodFactory(referent=referent, operation=operation)
    return user


@pytest.fixture
def referent_b(plie):
    return member(plie, Role.REFERENT, email="referent.b@sources.fr")


@pytest.fixture
def copil(plie):
    return member(plie, Role.COPIL, email="copil@sources.fr")


@pytest.fixture
def outsider(other_plie):
    return member(other_plie, Role.ANIMATION, email="animation@agen.fr")


def logged_in(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def client_of():
    return logged_in
