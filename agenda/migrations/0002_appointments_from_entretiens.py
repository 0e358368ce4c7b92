"""The « prochain rendez-vous » noted on entretiens becomes an appointment, for those still to come (past ones are
history: the entretien that followed, or its absence, says what happened). Its hour was never noted: 9:00."""

import datetime

from django.db import migrations
from django.utils import timezone


def forwards(apps, schema_editor):
    Entretien = apps.get_model("participants", "Entretien")
    Appointment = apps.get_model("agenda", "Appointment")
    ReferentAssignment = apps.get_model("participants", "ReferentAssignment")
    today = timezone.localdate()
    zone = timezone.get_current_timezone()
    seen = set()
    entretiens = Entretien.objects.filter(next_appointment__gte=today).order_by("participant_id", "-date", "-pk")
    for entretien in entretiens.iterator():
        key = (entretien.participant_id, entretien.next_appointment)
        if key in seen:
            continue
        seen.add(key)
        referent_id = entretien.referent_id or (
            ReferentAssignment.objects.filter(parcours_id=entretien.parcours_id, end__isnull=True)
            .values_list("referent_id", flat=True)
            .first()
        )
        if referent_id is None:
            continue
        Appointment.objects.create(
            participant_id=entretien.participant_id,
            parcours_id=entretien.parcours_id,
            referent_id=referent_id,
            starts_at=datetime.datetime.combine(entretien.next_appointment, datetime.time(9, 0), tzinfo=zone),
            modality=entretien.modality,
            created_by_id=entretien.created_by_id,
        )


class Migration(migrations.Migration):
    dependencies = [("agenda", "0001_initial"), ("participants", "0008_erasure_record_documents_deleted")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop, elidable=True)]
