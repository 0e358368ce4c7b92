import importlib

import django.db.models.deletion
from django.db import migrations, models

from plie.vendor_sql import RunVendorSQL, same_plie

# SQLite rebuilds the parcours table to make its new column required, which drops its triggers: they are put back.
_NO_OVERLAP = importlib.import_module("participants.migrations.0002_parcours_no_overlap")
SQLITE_AGAIN = [
    f"DROP TRIGGER IF EXISTS parcours_no_overlap_{event}" for event in ("insert", "update")
] + _NO_OVERLAP.SQLITE

# A parcours carries its participant's PLIE, so that reports read one PLIE's parcours by an index that leads with it
# (participants/attribution.py). The column cannot disagree with the parent's: a composite foreign
# key on PostgreSQL, triggers on SQLite. steps 0007 does the same for the steps.
FILL = [
    """UPDATE participants_parcours SET plie_id = (SELECT plie_id FROM participants_participant p
       WHERE p.id = participants_parcours.participant_id)""",
    """UPDATE participants_historicalparcours SET plie_id = (SELECT plie_id FROM participants_participant p
       WHERE p.id = participants_historicalparcours.participant_id)""",
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


def historical_plie_field():
    return models.ForeignKey(
        blank=True,
        db_constraint=False,
        db_index=False,
        editable=False,
        null=True,
        on_delete=django.db.models.deletion.DO_NOTHING,
        related_name="+",
        to="plie.plie",
    )


class Migration(migrations.Migration):
    dependencies = [
        ("participants", "0013_fileaccess_french_labels"),
        ("plie", "0005_third_party_models_french_names"),
    ]

    operations = [
        migrations.AddField(model_name="historicalparcours", name="plie", field=historical_plie_field()),
        migrations.AddField(model_name="parcours", name="plie", field=plie_field(null=True)),
        migrations.RunSQL(FILL, migrations.RunSQL.noop),
        migrations.AlterField(model_name="parcours", name="plie", field=plie_field()),
        migrations.AddIndex(
            model_name="parcours",
            index=models.Index(fields=["plie", "entry_date"], name="participant_plie_id_9d95f2_idx"),
        ),
        migrations.AddIndex(
            model_name="parcours",
            index=models.Index(fields=["plie", "exit_date"], name="participant_plie_id_637118_idx"),
        ),
        migrations.AddConstraint(
            model_name="participant",
            constraint=models.UniqueConstraint(fields=("id", "plie"), name="participant_id_plie"),
        ),
        migrations.AddConstraint(
            model_name="parcours",
            constraint=models.UniqueConstraint(fields=("id", "plie"), name="parcours_id_plie"),
        ),
        RunVendorSQL({"sqlite": SQLITE_AGAIN}, {}),
        same_plie("participants_parcours", "participant_id", "participants_participant", "parcours_same_plie"),
        # The fiche's referents' assignments read from the index alone (participants/attribution.py).
        migrations.AlterField(
            model_name="referentassignment",
            name="referent",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="assignments",
                to="operations.referent",
                verbose_name="référent",
            ),
        ),
        migrations.AddIndex(
            model_name="referentassignment",
            index=models.Index(
                fields=["referent"], include=("parcours", "start", "end"), name="assignment_referent_covering"
            ),
        ),
    ]
