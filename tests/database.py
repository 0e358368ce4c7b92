"""A template of the migrated and seeded SQLite test database, so that a run neither replays every migration nor
loads the seed in each worker.

The first run after a change of the migrations, the fixtures they or the seed load or the locked packages writes
var/test-db-<hash>.sqlite3; the next runs copy it into each worker's in-memory database with SQLite's backup API
instead of migrating and loading the seed. PostgreSQL, and a SQLite database on disk, migrate and load as usual."""

import contextlib
import hashlib
import os
import sqlite3
from pathlib import Path

from django.conf import settings
from django.db import connections, transaction

# What every test database holds besides the migrations' own rows, as an installation does after `make run`.
SEED = ("fiches_2023", "eligibility_2023")


def uses_template(connection):
    return connection.vendor == "sqlite" and connection.is_in_memory_db()


def template_path():
    root = Path(settings.BASE_DIR)
    digest = hashlib.sha256()
    # What building it reads: the migrations and the SQL they take from plie/vendor_sql.py, the CSV files some of them
    # load, the seed and the packages' migrations.
    inputs = [
        *sorted(root.glob("*/migrations/*.py")),
        root / "plie" / "vendor_sql.py",
        *sorted(root.glob("fixtures/*.csv")),
        *sorted(root.glob("fixtures/*.json")),
        root / "requirements.lock",
    ]
    for path in inputs:
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(path.read_bytes())
    return root / "var" / f"test-db-{digest.hexdigest()[:16]}.sqlite3"


def copy_template_into(connection, template):
    source = sqlite3.connect(template)
    try:
        source.backup(connection.connection)
    finally:
        source.close()


def restore_template_on_serialized_rollback(connection):
    """A transactional test (`serialized_rollback=True`) gets the database back as the template holds it, copied
    whole, instead of saving again every row serialized at the start of the run (seconds per test)."""
    template = template_path()
    connection._test_serialized_contents = ""
    connection.creation.deserialize_db_from_string = lambda data: copy_template_into(connection, template)


def migrate_from_template(call_command):
    """Wraps django.core.management.call_command: `migrate` of an in-memory SQLite database uses the template, which
    holds the SEED as well."""

    def call(name, *args, **options):
        connection = connections[options.get("database", "default")]
        if name != "migrate" or not uses_template(connection):
            return call_command(name, *args, **options)
        template = template_path()
        connection.ensure_connection()
        if template.exists():
            copy_template_into(connection, template)
            return None
        result = call_command(name, *args, **options)
        call_command("loaddata", *SEED, verbosity=0, database=connection.alias)
        template.parent.mkdir(exist_ok=True)
        partial = template.with_suffix(f".{os.getpid()}.part")
        target = sqlite3.connect(partial)
        try:
            connection.connection.backup(target)
        finally:
            target.close()
        os.replace(partial, template)
        return result

    return call


@contextlib.contextmanager
def built_once(django_db_blocker, build):
    """Data built once for a module (once per xdist worker) in a transaction rolled back when the module ends: every
    test of the module runs in a savepoint of it (its `db` fixture), so no test sees what another one wrote."""
    outer = transaction.atomic()
    with django_db_blocker.unblock():
        outer.__enter__()
    try:
        with django_db_blocker.unblock():
            built = build()
        yield built
    finally:
        with django_db_blocker.unblock():
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
