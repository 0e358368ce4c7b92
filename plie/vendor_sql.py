from django.db import migrations


def RunVendorSQL(forward, reverse):  # noqa: N802 (reads like the migration operation it is)
    """A migration step for constraints Django cannot express portably: SQL per database vendor."""

    def runner(statements_by_vendor):
        def apply(apps, schema_editor):
            for sql in statements_by_vendor.get(schema_editor.connection.vendor, []):
                schema_editor.execute(sql)

        return apply

    return migrations.RunPython(runner(forward), runner(reverse))


def same_plie(table, parent_column, parent_table, name):
    """The row's `plie_id` is its parent's: a composite foreign key on PostgreSQL (the parent has a unique
    (id, plie_id)), triggers on SQLite."""
    forward = {
        "postgresql": [
            f"""ALTER TABLE {table} ADD CONSTRAINT {name} FOREIGN KEY ({parent_column}, plie_id)
                REFERENCES {parent_table} (id, plie_id) DEFERRABLE INITIALLY DEFERRED"""
        ],
        "sqlite": [
            f"""CREATE TRIGGER {name}_{event.lower()} BEFORE {event} ON {table}
                WHEN NEW.plie_id IS NOT (SELECT plie_id FROM {parent_table} WHERE id = NEW.{parent_column})
                BEGIN SELECT RAISE(ABORT, '{name}'); END"""
            for event in ("INSERT", "UPDATE")
        ],
    }
    reverse = {
        "postgresql": [f"ALTER TABLE {table} DROP CONSTRAINT {name}"],
        "sqlite": [f"DROP TRIGGER {name}_{event}" for event in ("insert", "update")],
    }
    return RunVendorSQL(forward, reverse)
