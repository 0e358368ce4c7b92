import django.db.models.deletion
from django.db import migrations, models

from plie.vendor_sql import same_plie

# A step carries its parcours' PLIE (participants 0014 says why).
FILL = [
    """UPDATE steps_step SET plie_id = (SELECT plie_id FROM participants_parcours p
       WHERE p.id = steps_step.parcours_id)""",
    """UPDATE steps_historicalstep SET plie_id = (SELECT plie_id FROM participants_parcours p
       WHERE p.id = steps_historicalstep.parcours_id)""",
]


def plie_field(null=False):
    return models.ForeignKey(
        db_index=False,
        editable=False,
        null=null,
        on_delete=django.db.models.deletion.PROTECT,
        related_name="+",
        to="plie.plie",
    )


class Migration(migrations.Migration):
    dependencies = [
        ("participants", "0014_plie_first"),
        ("steps", "0006_step_type_labels_typographic_apostrophe"),
    ]

    operations = [
        migrations.AddField(
            model_name="historicalstep",
            name="plie",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                db_index=False,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="plie.plie",
            ),
        ),
        migrations.AddField(model_name="step", name="plie", field=plie_field(null=True)),
        migrations.RunSQL(FILL, migrations.RunSQL.noop),
        migrations.AlterField(model_name="step", name="plie", field=plie_field()),
        migrations.AddIndex(
            model_name="step", index=models.Index(fields=["plie", "start"], name="steps_step_plie_id_446a6b_idx")
        ),
        same_plie("steps_step", "parcours_id", "participants_parcours", "step_same_plie"),
    ]
