"""The demo's database, made fast: an empty database gets its tables straight from the models, as Django's test
runner does without migrations, then the migrations' own SQL and Python steps (triggers, communes) run in order
and every migration is recorded as applied. Rendering each migration's state takes minutes; this takes seconds.
A database that has tables is migrated as usual."""

from django.apps import apps
from django.core.management import call_command
from django.db import connection, migrations
from django.db.migrations.loader import MigrationLoader
from django.test.utils import override_settings


def prepare():
    """Creates or migrates the schema; returns "created" or "migrated"."""
    if connection.introspection.table_names():
        call_command("migrate", interactive=False, verbosity=0)
        return "migrated"
    with override_settings(MIGRATION_MODULES={config.label: None for config in apps.get_app_configs()}):
        call_command("migrate", run_syncdb=True, interactive=False, verbosity=0)
    loader = MigrationLoader(connection)
    nodes = []
    for leaf in loader.graph.leaf_nodes():
        nodes += [node for node in loader.graph.forwards_plan(leaf) if node not in nodes]
    with connection.schema_editor() as editor:
        for node in nodes:
            for operation in loader.graph.nodes[node].operations:
                if isinstance(operation, migrations.RunPython):
                    operation.code(apps, editor)
                elif isinstance(operation, migrations.RunSQL):
                    operation.database_forwards(node[0], editor, None, None)
    call_command("migrate", fake=True, interactive=False, verbosity=0)
    return "created"
