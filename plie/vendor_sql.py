from django.db import migrations


def RunVendorSQL(forward, reverse):  # noqa: N802 (reads like the migration operation it is)
    """A migration step for constraints Django cannot express portably: SQL per database vendor."""

    def runner(statements_by_vendor):
        def apply(apps, schema_editor):
            for sql in statements_by_vendor.get(schema_editor.connection.vendor, []):
                schema_editor.execute(sql)

        return apply

    return migrations.RunPython(runner(forward), runner(reverse))
