import pytest

from operations.models import ExitReason
from plie.models import Plie
from steps.models import StepType

pytestmark = pytest.mark.django_db


def test_a_new_plie_starts_with_the_default_nomenclatures():
    plie = Plie.objects.create(slug="marmandais", name="PLIE du Marmandais")
    reasons = ExitReason.objects.filter(plie=plie)
    assert reasons.count() == 15
    assert set(reasons.filter(category="positive").values_list("label", flat=True)) == {
        "CDI",
        "CDD de 6 mois et plus",
        "Contrat en alternance",
        "Intérim de 6 mois et plus",
        "Création d’entreprise",
        "Formation qualifiante",
    }
    types = StepType.objects.filter(category__plie=plie)
    assert types.count() == 24
    assert types.filter(counts_toward_target=True).count() == 24


def test_the_fiches_keep_their_own_nomenclature():
    assert ExitReason.objects.filter(plie__slug="agen").count() == 15
    assert ExitReason.objects.filter(plie__slug="libournais").count() == 17
    assert not StepType.objects.get(category__plie__slug="grand-perigueux", label="Accompagnement").counts_toward_target
