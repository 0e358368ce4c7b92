"""A template of the migrated SQLite test database, so that a run does not replay every migration.

The first run after a change of the migrations, the fixtures they load or the locked packages writes
var/test-db-<hash>.sqlite3; the next runs copy it into each worker's in-memory database with SQLite's backup API
instead of migrating. PostgreSQL, and a SQLite database on disk, migrate as usual."""

import hashlib
import os
import sqlite3
from pathlib import Path

from django.conf import settings
from django.db import connections


def template_path():
    root = Path(settings.BASE_DIR)
    digest = hashlib.sha256()
    # What migrating reads: the migrations, the CSV files some of them load and the packages' own migrations.
    inputs = [*sorted(root.glob("*/migrations/*.py")), *sorted(root.glob("fixtures/*.csv")), root / "requirements.lock"]
    for path in inputs:
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(path.read_bytes())
    return root / "var" / f"test-db-{digest.hexdigest()[:16]}.sqlite3"


def migrate_from_template(call_command):
    """Wraps django.core.management.call_command: `migrate` of an in-memory SQLite database uses the template."""

    def call(name, *args, **options):
        connection = connections[options.get("database", "default")]
        if name != "migrate" or connection.vendor != "sqlite" or not connection.is_in_memory_db():
            return call_command(name, *args, **options)
        template = template_path()
        connection.ensure_connection()
        if template.exists():
            source = sqlite3.connect(template)
            try:
                source.backup(connection.connection)
            finally:
                source.close()
            return None
        result = call_command(name, *args, **options)
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
