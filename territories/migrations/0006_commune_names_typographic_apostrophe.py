from django.db import migrations
from django.db.models import Value
from django.db.models.functions import Replace

# INSEE writes « Badefols-d'Ans » with a straight apostrophe; the pages use the typographic one everywhere.
FIELDS = ["name", "epci_name"]


def replace(apps, schema_editor, old, new):
    Commune = apps.get_model("territories", "Commune")
    for field in FIELDS:
        Commune.objects.filter(**{f"{field}__contains": old}).update(**{field: Replace(field, Value(old), Value(new))})


class Migration(migrations.Migration):
    dependencies = [("territories", "0005_zones_inside_communes_and_permanences")]

    operations = [
        migrations.RunPython(
            lambda apps, editor: replace(apps, editor, "'", "’"),
            lambda apps, editor: replace(apps, editor, "’", "'"),
        )
    ]
