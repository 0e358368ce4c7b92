import importlib

from django.db import migrations, models

from plie.vendor_sql import same_plie

# The same columns as the parcours' (participants 0014, which says why).
_PARCOURS = importlib.import_module("participants.migrations.0014_plie_first")
plie_field, historical_plie_field = _PARCOURS.plie_field, _PARCOURS.historical_plie_field

# A step carries its parcours' PLIE.
FILL = [
    """UPDATE steps_step SET plie_id = (SELECT plie_id FROM participants_parcours p
       WHERE p.id = steps_step.parcours_id)""",
    """UPDATE steps_historicalstep SET plie_id = (SELECT plie_id FROM participants_parcours p
       WHERE p.id = steps_historicalstep.parcours_id)""",
]


class Migration(migrations.Migration):
    dependencies = [
        ("participants", "0014_plie_first"),
        ("steps", "0006_step_type_labels_typographic_apostrophe"),
    ]

    operations = [
        migrations.AddField(model_name="historicalstep", name="plie", field=historical_plie_field()),
        migrations.AddField(model_name="step", name="plie", field=plie_field(null=True)),
        migrations.RunSQL(FILL, migrations.RunSQL.noop),
        migrations.AlterField(model_name="step", name="plie", field=plie_field()),
        migrations.AddIndex(
            model_name="step", index=models.Index(fields=["plie", "start"], name="steps_step_plie_id_446a6b_idx")
        ),
        same_plie("steps_step", "parcours_id", "participants_parcours", "step_same_plie"),
    ]
