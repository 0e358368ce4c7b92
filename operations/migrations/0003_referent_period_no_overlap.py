from django.db import migrations

from plie.vendor_sql import RunVendorSQL

POSTGRESQL = [
    "CREATE EXTENSION IF NOT EXISTS btree_gist",
    """ALTER TABLE operations_referentperiod ADD CONSTRAINT referent_period_no_overlap
       EXCLUDE USING gist (referent_id WITH =, operation_id WITH =, daterange(start, "end", '[]') WITH &&)""",
]
POSTGRESQL_REVERSE = ["ALTER TABLE operations_referentperiod DROP CONSTRAINT referent_period_no_overlap"]

SQLITE_OVERLAP = """EXISTS (SELECT 1 FROM operations_referentperiod p
    WHERE p.referent_id = NEW.referent_id AND p.operation_id = NEW.operation_id AND p.id IS NOT NEW.id
    AND (p."end" IS NULL OR p."end" >= NEW.start) AND (NEW."end" IS NULL OR p.start <= NEW."end"))"""
SQLITE = [
    f"""CREATE TRIGGER referent_period_no_overlap_{event.lower()} BEFORE {event} ON operations_referentperiod
        WHEN {SQLITE_OVERLAP} BEGIN SELECT RAISE(ABORT, 'referent_period_no_overlap'); END"""
    for event in ("INSERT", "UPDATE")
]
SQLITE_REVERSE = [f"DROP TRIGGER referent_period_no_overlap_{event}" for event in ("insert", "update")]


class Migration(migrations.Migration):
    """Two ETP periods of one referent on one operation never overlap (ranges of days, both ends included)."""

    dependencies = [("operations", "0002_initial")]

    operations = [
        RunVendorSQL(
            {"postgresql": POSTGRESQL, "sqlite": SQLITE},
            {"postgresql": POSTGRESQL_REVERSE, "sqlite": SQLITE_REVERSE},
        )
    ]
