from django.db import migrations

# The seed's labels written with the typographic apostrophe (« Garde d’enfants »), the one every page uses.
RENAMED = {"Garde d'enfants": "Garde d’enfants"}


def rename(apps, schema_editor, renamed):
    StepType = apps.get_model("steps", "StepType")
    for old, new in renamed.items():
        # A category that already has the new label (typed by hand) keeps both rather than failing the constraint.
        taken = StepType.objects.filter(label=new).values("category_id")
        StepType.objects.filter(label=old).exclude(category_id__in=taken).update(label=new)


class Migration(migrations.Migration):
    dependencies = [("steps", "0005_stepcategory_remote_follow_up")]

    operations = [
        migrations.RunPython(
            lambda apps, editor: rename(apps, editor, RENAMED),
            lambda apps, editor: rename(apps, editor, {new: old for old, new in RENAMED.items()}),
            elidable=True,
        )
    ]
