from django.db import migrations

# The seed's labels written with the typographic apostrophe (« Création d’entreprise »), the one every page uses.
RENAMED = {"Création d'entreprise": "Création d’entreprise"}


def rename(apps, schema_editor, renamed):
    ExitReason = apps.get_model("operations", "ExitReason")
    for old, new in renamed.items():
        ExitReason.objects.filter(label=old).update(label=new)


class Migration(migrations.Migration):
    dependencies = [("operations", "0009_eligibility_and_staff_time")]

    operations = [
        migrations.RunPython(
            lambda apps, editor: rename(apps, editor, RENAMED),
            lambda apps, editor: rename(apps, editor, {new: old for old, new in RENAMED.items()}),
            elidable=True,
        )
    ]
