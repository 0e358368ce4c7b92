"""The demo's database, made fast: an empty database gets its tables straight from the models, as Django's test
runner does without migrations, then every migration is recorded as applied; rendering each migration's state
takes minutes, creating the tables seconds. A database that has tables is migrated as usual."""

import importlib

from django.apps import apps
from django.core.management import call_command
from django.db import connection
from django.test.utils import override_settings


def prepare():
    """Creates or migrates the schema; returns "created" or "migrated"."""
    if connection.introspection.table_names():
        call_command("migrate", interactive=False, verbosity=0)
        return "migrated"
    with override_settings(MIGRATION_MODULES={config.label: None for config in apps.get_app_configs()}):
        call_command("migrate", run_syncdb=True, interactive=False, verbosity=0)
    # The one data migration an empty database needs: the communes of the three departments.
    communes = importlib.import_module("territories.migrations.0002_load_communes")
    communes.load_communes(apps, None)
    call_command("migrate", fake=True, interactive=False, verbosity=0)
    return "created"
