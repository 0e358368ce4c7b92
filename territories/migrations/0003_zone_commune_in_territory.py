from django.db import migrations

from plie.vendor_sql import RunVendorSQL

POSTGRESQL = [
    """CREATE FUNCTION zone_commune_in_territory() RETURNS trigger AS $$
    BEGIN
        IF NOT EXISTS (SELECT 1 FROM territories_territorycommune t JOIN territories_zone z ON z.plie_id = t.plie_id
                       WHERE z.id = NEW.zone_id AND t.commune_id = NEW.commune_id) THEN
            RAISE EXCEPTION 'zone_commune_in_territory' USING ERRCODE = 'check_violation';
        END IF;
        RETURN NEW;
    END $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER zone_commune_in_territory BEFORE INSERT OR UPDATE ON territories_zone_communes
       FOR EACH ROW EXECUTE FUNCTION zone_commune_in_territory()""",
]
POSTGRESQL_REVERSE = [
    "DROP TRIGGER zone_commune_in_territory ON territories_zone_communes",
    "DROP FUNCTION zone_commune_in_territory()",
]
SQLITE_OUTSIDE = """NOT EXISTS (SELECT 1 FROM territories_territorycommune t JOIN territories_zone z ON z.plie_id = t.plie_id
    WHERE z.id = NEW.zone_id AND t.commune_id = NEW.commune_id)"""
SQLITE = [
    f"""CREATE TRIGGER zone_commune_in_territory_{event.lower()} BEFORE {event} ON territories_zone_communes
        WHEN {SQLITE_OUTSIDE} BEGIN SELECT RAISE(ABORT, 'zone_commune_in_territory'); END"""
    for event in ("INSERT", "UPDATE")
]
SQLITE_REVERSE = [f"DROP TRIGGER zone_commune_in_territory_{event}" for event in ("insert", "update")]


class Migration(migrations.Migration):
    """A zone's communes belong to its PLIE's territory."""

    dependencies = [("territories", "0002_load_communes")]

    operations = [
        RunVendorSQL(
            {"postgresql": POSTGRESQL, "sqlite": SQLITE},
            {"postgresql": POSTGRESQL_REVERSE, "sqlite": SQLITE_REVERSE},
        )
    ]
