"""One apostrophe for users: every label seeded, chosen or shown by a template uses the typographic ’."""

import re
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings

from demo.participants import POSITIVE_EXITS
from imports.columns import COLUMNS
from operations.defaults import EXIT_REASONS
from operations.models import ExitReason, Operation
from plie.models import Plie
from reporting.mdfse import DEFAULT_COLUMNS
from steps.defaults import STEP_NOMENCLATURE
from steps.models import StepCategory, StepType
from territories.models import Commune
from tests.plie.test_code_shape import APPS, ROOT

STRAIGHT = re.compile(r"\w'\w")
# What a template draws as text: tags, template tags, variables and comments taken away.
NOT_TEXT = re.compile(r"{#.*?#}|{%.*?%}|{{.*?}}|<script.*?</script>|<style.*?</style>|<[^>]*>", re.S)


def straight(texts):
    return sorted({str(text) for text in texts if STRAIGHT.search(str(text))})


def model_labels():
    for model in apps.get_models():
        if model._meta.app_label not in APPS:
            continue
        yield model._meta.verbose_name
        yield model._meta.verbose_name_plural
        for field in model._meta.get_fields():
            yield getattr(field, "verbose_name", "")
            yield getattr(field, "help_text", "")
            yield from (label for _, label in getattr(field, "flatchoices", None) or [])


def test_models_fields_and_choices_use_the_typographic_apostrophe():
    assert straight(model_labels()) == []


def test_the_seeds_use_the_typographic_apostrophe():
    seeds = [label for labels in STEP_NOMENCLATURE.values() for label in labels]
    seeds += [*STEP_NOMENCLATURE, *(label for label, _, _ in EXIT_REASONS), *POSITIVE_EXITS.values()]
    seeds += [header for header, _ in DEFAULT_COLUMNS]
    seeds += [column.name for columns in COLUMNS.values() for column in columns]
    assert straight(seeds) == []


@pytest.mark.django_db
def test_the_fiches_of_the_seed_and_the_communes_use_the_typographic_apostrophe():
    """The fixture every installation loads, and the communes after the migration that rewrote INSEE's names."""
    rows = [
        *Plie.objects.values_list("name", flat=True),
        *Operation.objects.values_list("title", flat=True),
        *StepCategory.objects.values_list("name", flat=True),
        *StepType.objects.values_list("label", flat=True),
        *ExitReason.objects.values_list("label", flat=True),
        *Commune.objects.values_list("name", flat=True),
        *Commune.objects.values_list("epci_name", flat=True),
    ]
    assert "Garde d’enfants" in rows
    assert "Badefols-d’Ans" in rows
    assert straight(rows) == []


def test_templates_write_the_typographic_apostrophe():
    folders = [Path(folder) for folder in settings.TEMPLATES[0]["DIRS"]]
    folders += [ROOT / app / "templates" for app in APPS]
    found = [
        f"{path.relative_to(ROOT)}: {text}"
        for folder in folders
        for path in sorted(folder.rglob("*.html")) + sorted(folder.rglob("*.txt"))
        for text in straight(NOT_TEXT.sub(" ", path.read_text()).splitlines())
    ]
    assert found == []
