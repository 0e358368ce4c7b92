from django.db import migrations

# The seed's PLIE written with the typographic apostrophe, the one every page uses.
RENAMED = {"PLIE de l'Agenais (Agglomération d'Agen)": "PLIE de l’Agenais (Agglomération d’Agen)"}


def rename(apps, schema_editor, renamed):
    Plie = apps.get_model("plie", "Plie")
    for old, new in renamed.items():
        Plie.objects.filter(name=old).update(name=new)


class Migration(migrations.Migration):
    dependencies = [("plie", "0003_plie_default_file_active_per_etp")]

    operations = [
        migrations.RunPython(
            lambda apps, editor: rename(apps, editor, RENAMED),
            lambda apps, editor: rename(apps, editor, {new: old for old, new in RENAMED.items()}),
            elidable=True,
        )
    ]
