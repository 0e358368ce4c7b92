from django.db import migrations

from plie.vendor_sql import RunVendorSQL

POSTGRESQL = [
    "CREATE EXTENSION IF NOT EXISTS btree_gist",
    """ALTER TABLE participants_parcours ADD CONSTRAINT parcours_no_overlap
       EXCLUDE USING gist (participant_id WITH =, daterange(entry_date, exit_date, '[]') WITH &&)
       WHERE (entry_date IS NOT NULL)""",
]
POSTGRESQL_REVERSE = ["ALTER TABLE participants_parcours DROP CONSTRAINT parcours_no_overlap"]

SQLITE_OVERLAP = """NEW.entry_date IS NOT NULL AND EXISTS (SELECT 1 FROM participants_parcours p
    WHERE p.participant_id = NEW.participant_id AND p.id IS NOT NEW.id AND p.entry_date IS NOT NULL
    AND (p.exit_date IS NULL OR p.exit_date >= NEW.entry_date)
    AND (NEW.exit_date IS NULL OR p.entry_date <= NEW.exit_date))"""
SQLITE = [
    f"""CREATE TRIGGER parcours_no_overlap_{event.lower()} BEFORE {event} ON participants_parcours
        WHEN {SQLITE_OVERLAP} BEGIN SELECT RAISE(ABORT, 'parcours_no_overlap'); END"""
    for event in ("INSERT", "UPDATE")
]
SQLITE_REVERSE = [f"DROP TRIGGER parcours_no_overlap_{event}" for event in ("insert", "update")]


class Migration(migrations.Migration):
    """The parcours of one person never overlap (indicators.md counts on it)."""

    dependencies = [("participants", "0001_initial")]

    operations = [
        RunVendorSQL(
            {"postgresql": POSTGRESQL, "sqlite": SQLITE},
            {"postgresql": POSTGRESQL_REVERSE, "sqlite": SQLITE_REVERSE},
        )
    ]
