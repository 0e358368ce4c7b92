import csv
from pathlib import Path

from django.db import migrations

CSV = Path(__file__).resolve().parents[2] / "fixtures" / "communes-24-33-47.csv"


def load_communes(apps, schema_editor):
    Commune = apps.get_model("territories", "Commune")
    with CSV.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    Commune.objects.bulk_create(
        [
            Commune(
                code_insee=row["code_insee"],
                name=row["nom"],
                department=row["departement"],
                postal_codes=row["codes_postaux"],
                population=int(row["population"]) if row["population"] else None,
                epci_siren=row["epci_siren"],
                epci_name=row["epci_nom"],
            )
            for row in rows
        ],
        ignore_conflicts=True,
    )


class Migration(migrations.Migration):
    dependencies = [("territories", "0001_initial")]

    operations = [migrations.RunPython(load_communes, migrations.RunPython.noop)]
