"""A referent's iCalendar feed. It travels outside the application (phones, shared calendars, their providers): it
names no participant and holds nothing typed about them, only the hour, the modality, the office and a link that
opens the appointment once signed in."""

import datetime

from django.conf import settings
from django.urls import reverse
from icalendar import Calendar, Event

from participants.models import Modality

from .models import Appointment, AppointmentStatus

PAST_DAYS, FUTURE_DAYS = 30, 180
# Only a place where the team receives people is shown: for a call or a video, the "place" is the person's number or
# their link.
PLACES_SHOWN = {Modality.IN_PERSON, Modality.GROUP}


def feed_for(referent, today, *, base_url, host):
    calendar = Calendar()
    calendar.add("prodid", "-//PLIE//Agenda des référents//FR")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", f"Rendez-vous PLIE — {referent.full_name}")
    calendar.add("x-wr-timezone", settings.TIME_ZONE)
    appointments = (
        Appointment.objects.filter(referent=referent)
        .filter(participant__archived_at__isnull=True, participant__restricted_at__isnull=True)
        .between(today - datetime.timedelta(days=PAST_DAYS), today + datetime.timedelta(days=FUTURE_DAYS))
        .only("pk", "starts_at", "duration", "modality", "place", "status", "created_at")
    )
    for appointment in appointments:
        event = Event()
        event.add("uid", f"rendez-vous-{appointment.pk}@{host}")
        event.add("dtstamp", appointment.created_at)
        event.add("dtstart", appointment.starts_at)
        event.add("dtend", appointment.ends_at)
        label = appointment.get_modality_display().lower()
        if appointment.status == AppointmentStatus.NO_SHOW:
            label += ", absence"
        event.add("summary", f"Rendez-vous PLIE ({label})")
        if appointment.modality in PLACES_SHOWN and appointment.place:
            event.add("location", appointment.place)
        link = base_url + reverse("appointment_detail", args=[appointment.pk])
        event.add("description", f"Détail (connexion requise) : {link}")
        event.add("url", link)
        event.add("status", "CANCELLED" if appointment.status == AppointmentStatus.CANCELLED else "CONFIRMED")
        event.add("class", "PRIVATE")
        calendar.add_component(event)
    return calendar.to_ical()
