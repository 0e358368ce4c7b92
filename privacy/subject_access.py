"""Everything held about one participant, as a zip, for a right-of-access request (GDPR art. 15)."""

import io
import json
import zipfile

from django.core import serializers

from agenda.models import Appointment
from participants.models import CommissionDecision, ReferentAssignment


def _rows(queryset):
    return json.loads(serializers.serialize("json", queryset))


def participant_archive(participant):
    parcours = participant.parcours.all()
    data = {
        "participant": _rows(type(participant).objects.filter(pk=participant.pk)),
        "parcours": _rows(parcours),
        "decisions_de_commission": _rows(CommissionDecision.objects.filter(parcours__in=parcours)),
        "affectations": _rows(ReferentAssignment.objects.filter(parcours__in=parcours)),
        "entretiens": _rows(participant.entretiens.all()),
        "rendez_vous": _rows(Appointment.objects.filter(participant=participant)),
        "etapes": [row for item in parcours for row in _rows(item.steps.all())],
        "justificatifs": _rows(participant.documents.all()),
        "historique": [
            {
                "date": record.history_date.isoformat(),
                "type": record.history_type,
                "auteur": str(record.history_user or ""),
            }
            for record in participant.history.all()
        ],
        "consultations": [
            {"date": access.at.isoformat(), "par": str(access.user), "objet": access.what}
            for access in participant.accesses.select_related("user")
        ],
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("donnees.json", json.dumps(data, ensure_ascii=False, indent=2, default=str))
        for document in participant.documents.all():
            try:
                with document.file.open("rb") as content:
                    archive.writestr(f"justificatifs/{document.pk}-{document.original_name}", content.read())
            except FileNotFoundError:
                archive.writestr(f"justificatifs/{document.pk}-MANQUANT.txt", "Fichier introuvable sur le serveur.")
    return buffer.getvalue()
