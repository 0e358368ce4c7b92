"""The participant's page's « Rendez-vous » section (registered in participants.dossier by AgendaConfig.ready)."""

from django.utils import timezone

from plie.access import can_edit

from .models import Appointment

SHOWN = 50


def participant_appointments(request, participant):
    """The person's appointments the user may see, in one query: the upcoming ones soonest first, then the past ones
    latest first; each says whether the user may record its outcome (its referent or the team)."""
    rows = list(
        Appointment.objects.for_user(request.user)
        .filter(participant=participant)
        .select_related("referent")
        .order_by("-starts_at", "-pk")[:SHOWN]
    )
    team = can_edit(request.user, participant.plie_id)
    for row in rows:
        row.may_change = team or row.referent.user_id == request.user.pk
    now = timezone.now()
    return {
        "upcoming": [row for row in reversed(rows) if row.starts_at >= now],
        "past": [row for row in rows if row.starts_at < now],
        "now": now,
    }
