"""The writes of the agenda and of commission sessions, each a named function that owns its transaction."""

import logging

from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from participants import services as parcours_services
from participants.models import OPEN_STATUSES, Status
from plie.audit import save_as

from .models import Appointment, AppointmentStatus, CalendarFeed, CommissionSession

logger = logging.getLogger(__name__)

# A parcours that is not closed: appointments can still be planned with the person.
PLANNABLE = [Status.PRESCRIBED, Status.RECEIVED, Status.POSTPONED, Status.ACCEPTED, *OPEN_STATUSES]


@transaction.atomic
def plan_appointment(*, parcours, referent, starts_at, duration, modality, place, purpose, by):
    """A new rendez-vous. One due within REMINDER_HOURS gets its reminder now rather than at the next sweep."""
    if parcours.status not in PLANNABLE:
        raise ValidationError("Ce parcours est terminé : aucun rendez-vous ne peut y être planifié.", code="closed")
    if referent.plie_id != parcours.participant.plie_id:
        raise ValidationError("Le référent doit être celui du PLIE.", code="other_plie")
    appointment = Appointment(
        participant=parcours.participant,
        parcours=parcours,
        referent=referent,
        starts_at=starts_at,
        duration=duration,
        modality=modality,
        place=place.strip(),
        purpose=purpose.strip(),
        created_by=by,
    )
    appointment.full_clean()
    save_as(appointment, by)
    if Appointment.objects.due_for_reminder(timezone.now()).filter(pk=appointment.pk).exists():
        from .tasks import send_reminder

        transaction.on_commit(lambda: send_reminder.delay(appointment.pk))
    return appointment


@transaction.atomic
def reschedule_appointment(*, appointment, starts_at, duration, modality, place, purpose, by):
    """A new time or place: the reminder goes again for the new time."""
    if appointment.status != AppointmentStatus.PLANNED:
        raise ValidationError("Seul un rendez-vous prévu peut être modifié.", code="not_planned")
    moved = appointment.starts_at != starts_at
    appointment.starts_at, appointment.duration, appointment.modality = starts_at, duration, modality
    appointment.place, appointment.purpose = place.strip(), purpose.strip()
    if moved:
        appointment.reminder_sent_at = None
    appointment.full_clean()
    return save_as(appointment, by)


@transaction.atomic
def record_outcome(*, appointment, status, by):
    """Held, no-show or cancelled; a no-show or a held rendez-vous is recorded once it has begun."""
    if status not in (AppointmentStatus.HELD, AppointmentStatus.NO_SHOW, AppointmentStatus.CANCELLED):
        raise ValidationError("Suite de rendez-vous inconnue.", code="status")
    if status != AppointmentStatus.CANCELLED and appointment.starts_at > timezone.now():
        raise ValidationError("Ce rendez-vous n’a pas encore eu lieu.", code="future")
    appointment.status = status
    return save_as(appointment, by)


def reminder_text(appointment):
    return render_to_string("agenda/reminder_email.txt", {"appointment": appointment, "referent": appointment.referent})


def send_reminder(appointment_id, now=None):
    """Sends the reminder of one appointment if it is still due; claims it first, so that two sweeps send it once."""
    now = now or timezone.now()
    due = Appointment.objects.due_for_reminder(now).filter(pk=appointment_id)
    if not due.update(reminder_sent_at=now):
        return False
    appointment = Appointment.objects.select_related("participant", "referent__plie").get(pk=appointment_id)
    try:
        send_mail(
            f"Rappel : rendez-vous le {timezone.localtime(appointment.starts_at):%d/%m/%Y à %H:%M}",
            reminder_text(appointment),
            None,
            [appointment.participant.email],
        )
    except Exception:
        Appointment.objects.filter(pk=appointment_id).update(reminder_sent_at=None)  # the next sweep tries again
        raise
    return True


def send_due_reminders(now=None):
    """What Celery beat runs every REMINDER_SWEEP_SECONDS: the reminders of the appointments due soon."""
    now = now or timezone.now()
    sent = 0
    for appointment_id in Appointment.objects.due_for_reminder(now).values_list("pk", flat=True):
        try:
            sent += send_reminder(appointment_id, now)
        except Exception:
            logger.exception("Rappel du rendez-vous %s non envoyé", appointment_id)
    return sent


@transaction.atomic
def renew_feed(*, referent, by):
    """A new secret address for the referent's calendar; the previous one stops working. Returns the token."""
    token = CalendarFeed.new_token()
    CalendarFeed.objects.update_or_create(
        referent=referent, defaults={"token_hash": CalendarFeed.hash(token), "created_by": by}
    )
    return token


@transaction.atomic
def revoke_feed(*, referent, by):
    return CalendarFeed.objects.filter(referent=referent).delete()[0] > 0


@transaction.atomic
def prepare_session(*, plie, date, place, members, parcours, notes="", by, session=None):
    """A commission session and the files it will examine (files of the PLIE waiting for a decision)."""
    session = session or CommissionSession(plie=plie, created_by=by)
    if session.held_at:
        raise ValidationError("Les décisions de cette séance sont enregistrées : elle ne se modifie plus.", code="held")
    session.date, session.place, session.members, session.notes = date, place.strip(), members.strip(), notes.strip()
    session.full_clean()
    save_as(session, by)
    session.parcours.set(parcours)
    return session


@transaction.atomic
def record_session_decisions(*, session, decisions, by):
    """The decisions of a session for several files at once: all recorded, or none (a refusal without reason, a
    file no longer waiting, and nothing is saved)."""
    if session.date > timezone.localdate():
        raise ValidationError("La séance n’a pas encore eu lieu.", code="future")
    recorded = []
    for parcours, outcome, reason in decisions:
        try:
            recorded.append(
                parcours_services.decide_admission(
                    parcours=parcours, date=session.date, outcome=outcome, reason=reason, by=by
                )
            )
        except ValidationError as error:
            raise ValidationError(f"{parcours.participant} : {' '.join(error.messages)}", code="decision") from error
    session.held_at = timezone.now()
    save_as(session, by)
    return recorded
