"""The participant's page's « Rendez-vous » section (registered in participants.dossier by AgendaConfig.ready)."""

from django.utils import timezone

from .models import Appointment

SHOWN = 50


def participant_appointments(request, participant):
    """The person's appointments the user may see, in one query: the upcoming ones soonest first, then the past ones
    latest first; each says whether the user may record its outcome (its referent or the team)."""
    rows = list(
        Appointment.objects.for_user(request.user)
        .filter(participant=participant)
        .select_related("referent", "participant")
        .order_by("-starts_at", "-pk")[:SHOWN]
    )
    for row in rows:
        row.may_change = row.can_be_changed_by(request.user)
    now = timezone.now()
    return {
        "upcoming": [row for row in reversed(rows) if row.starts_at >= now],
        "past": [row for row in rows if row.starts_at < now],
        "now": now,
    }
