import datetime
from decimal import Decimal

import factory
from factory.django import DjangoModelFactory

from operations.models import (
    CofinancingCap,
    Operation,
    PlannedEtp,
    Referent,
    ReferentPeriod,
    Structure,
    StructureKind,
    Target,
    TargetKind,
)
from plie.models import Membership, Plie, Role, User
from territories.models import Commune, TerritoryCommune, Zone


class PlieFactory(DjangoModelFactory):
    class Meta:
        model = Plie

    slug = factory.Sequence(lambda n: f"plie-{n}")
    name = factory.Sequence(lambda n: f"PLIE n°{n}")


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"personne{n}@exemple.fr")
    # Plain, predictable names: a random one could be the very name a test checks is absent from a page.
    first_name = factory.Sequence(lambda n: f"Agent{n}")
    last_name = factory.Sequence(lambda n: f"Équipe{n}")
    password = factory.django.Password("mot-de-passe-de-test")


class MembershipFactory(DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    plie = factory.SubFactory(PlieFactory)
    role = Role.ANIMATION


def with_territory(plie, *codes_insee):
    TerritoryCommune.objects.bulk_create(
        [TerritoryCommune(plie=plie, commune=Commune.objects.get(pk=code)) for code in codes_insee]
    )
    return plie


class ZoneFactory(DjangoModelFactory):
    class Meta:
        model = Zone

    plie = factory.SubFactory(PlieFactory)
    name = factory.Sequence(lambda n: f"Zone {n}")
    planned_etp = Decimal("1")


class StructureFactory(DjangoModelFactory):
    class Meta:
        model = Structure

    plie = factory.SubFactory(PlieFactory)
    name = factory.Sequence(lambda n: f"Association n°{n}")
    kind = StructureKind.ASSOCIATION


class OperationFactory(DjangoModelFactory):
    class Meta:
        model = Operation

    plie = factory.SubFactory(PlieFactory)
    code = factory.Sequence(lambda n: f"FO{n}")
    title = "Accompagnement renforcé des participants du PLIE"
    start = datetime.date(2023, 1, 1)
    end = datetime.date(2023, 12, 31)
    fse_ceiling = Decimal("175200.00")


class TargetFactory(DjangoModelFactory):
    class Meta:
        model = Target

    operation = factory.SubFactory(OperationFactory)
    kind = TargetKind.FILE_ACTIVE
    value_min = Decimal("70")


class CofinancingCapFactory(DjangoModelFactory):
    class Meta:
        model = CofinancingCap

    operation = factory.SubFactory(OperationFactory)
    beneficiary_kind = "all"
    rate = Decimal("85")


class PlannedEtpFactory(DjangoModelFactory):
    class Meta:
        model = PlannedEtp

    operation = factory.SubFactory(OperationFactory)
    start = factory.SelfAttribute("operation.start")
    end = factory.SelfAttribute("operation.end")
    etp = Decimal("1")


class ReferentFactory(DjangoModelFactory):
    class Meta:
        model = Referent

    plie = factory.SubFactory(PlieFactory)
    first_name = factory.Sequence(lambda n: f"Conseiller{n}")
    last_name = factory.Sequence(lambda n: f"Référent{n}")
    structure = factory.SubFactory(StructureFactory, plie=factory.SelfAttribute("..plie"))


class ReferentPeriodFactory(DjangoModelFactory):
    class Meta:
        model = ReferentPeriod

    referent = factory.SubFactory(ReferentFactory)
    operation = factory.SubFactory(OperationFactory, plie=factory.SelfAttribute("..referent.plie"))
    etp = Decimal("1")
    start = datetime.date(2023, 1, 1)
    end = datetime.date(2023, 12, 31)
