import datetime
import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from simple_history.models import HistoricalRecords

from operations.models import Referent
from participants.models import Modality, OfParticipantQuerySet, Parcours, Participant
from plie.access import can_edit
from plie.models import Plie


class AppointmentStatus(models.TextChoices):
    PLANNED = "planned", "Prévu"
    HELD = "held", "Honoré"
    NO_SHOW = "no_show", "Absence"
    CANCELLED = "cancelled", "Annulé"


class AppointmentQuerySet(OfParticipantQuerySet):
    def between(self, start, end):
        """Appointments starting on a day of [start, end] (dates, local time)."""
        zone = timezone.get_current_timezone()
        since = datetime.datetime.combine(start, datetime.time.min, tzinfo=zone)
        until = datetime.datetime.combine(end + datetime.timedelta(days=1), datetime.time.min, tzinfo=zone)
        return self.filter(starts_at__gte=since, starts_at__lt=until)

    def on(self, day):
        return self.between(day, day)

    def planned(self):
        return self.filter(status=AppointmentStatus.PLANNED)

    def due_for_reminder(self, now):
        """Planned, starting within REMINDER_HOURS, reminder not yet sent, and someone to send it to."""
        return (
            self.planned()
            .filter(starts_at__gt=now, starts_at__lte=now + datetime.timedelta(hours=settings.REMINDER_HOURS))
            .filter(reminder_sent_at__isnull=True, participant__archived_at__isnull=True)
            .filter(participant__restricted_at__isnull=True)
            .exclude(participant__email="")
        )


class Appointment(models.Model):
    """A rendez-vous planned with a participant: where, how, when, and what became of it."""

    participant = models.ForeignKey(
        Participant, on_delete=models.CASCADE, related_name="appointments", verbose_name="participant"
    )
    parcours = models.ForeignKey(
        Parcours, on_delete=models.CASCADE, related_name="appointments", verbose_name="parcours"
    )
    referent = models.ForeignKey(
        Referent, on_delete=models.PROTECT, related_name="appointments", verbose_name="référent"
    )
    starts_at = models.DateTimeField("date et heure")
    duration = models.PositiveSmallIntegerField("durée (minutes)", default=45)
    modality = models.CharField("modalité", max_length=20, choices=Modality.choices, default=Modality.IN_PERSON)
    place = models.CharField(
        "lieu", max_length=200, blank=True, help_text="Adresse ou salle ; numéro de téléphone ou lien de visio."
    )
    purpose = models.CharField("objet", max_length=200, blank=True)
    status = models.CharField("suite", max_length=20, choices=AppointmentStatus.choices, default="planned")
    reminder_sent_at = models.DateTimeField("rappel envoyé le", null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="planifié par",
    )
    created_at = models.DateTimeField("planifié le", auto_now_add=True)

    objects = AppointmentQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = "rendez-vous"
        verbose_name_plural = "rendez-vous"
        ordering = ["starts_at", "pk"]
        indexes = [
            models.Index(fields=["referent", "starts_at"]),
            models.Index(fields=["status", "starts_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(duration__gt=0) & Q(duration__lte=600),
                name="appointment_duration_range",
                violation_error_message="La durée d’un rendez-vous va de 1 à 600 minutes.",
            ),
            models.CheckConstraint(
                condition=Q(status__in=AppointmentStatus.values),
                name="appointment_status_valid",
                violation_error_message="Suite de rendez-vous inconnue.",
            ),
        ]

    def __str__(self):
        return f"Rendez-vous du {timezone.localtime(self.starts_at):%d/%m/%Y à %H:%M}"

    def get_absolute_url(self):
        return reverse("appointment_detail", args=[self.pk])

    def can_be_changed_by(self, user):
        """Its outcome and details are for the team and for its referent."""
        return can_edit(user, self.participant.plie_id) or self.referent.user_id == user.pk

    @property
    def ends_at(self):
        return self.starts_at + datetime.timedelta(minutes=self.duration)

    @property
    def is_past(self):
        return self.starts_at < timezone.now()


class CalendarFeed(models.Model):
    """The secret address of a referent's calendar. Only a hash of its token is kept: the address is shown once, and
    a new one replaces it (the old one stops working at once)."""

    referent = models.OneToOneField(
        Referent, on_delete=models.CASCADE, related_name="calendar_feed", verbose_name="référent"
    )
    token_hash = models.CharField("empreinte du jeton", max_length=64, unique=True)
    created_at = models.DateTimeField("créé le", auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="créé par"
    )

    class Meta:
        verbose_name = "abonnement d’agenda"
        verbose_name_plural = "abonnements d’agenda"

    def __str__(self):
        return f"Agenda de {self.referent}"

    @staticmethod
    def hash(token):
        return hashlib.sha256(token.encode()).hexdigest()

    @staticmethod
    def new_token():
        return secrets.token_urlsafe(32)


class CommissionSessionQuerySet(models.QuerySet):
    def for_user(self, user):
        from plie.access import memberships_of
        from plie.models import EDITOR_ROLES

        return self.filter(plie__in=[m.plie_id for m in memberships_of(user).values() if m.role in EDITOR_ROLES])


class CommissionSession(models.Model):
    """A meeting of the commission d’intégration: its date and members, the files presented, and its minutes."""

    plie = models.ForeignKey(Plie, on_delete=models.CASCADE, related_name="commission_sessions", verbose_name="PLIE")
    date = models.DateField("date")
    place = models.CharField("lieu", max_length=200, blank=True)
    members = models.TextField(
        "membres présents", help_text="Un membre par ligne : nom et institution (France Travail, Département…)."
    )
    parcours = models.ManyToManyField(
        Parcours, related_name="commission_sessions", verbose_name="dossiers présentés", blank=True
    )
    notes = models.TextField("observations générales", blank=True)
    held_at = models.DateTimeField("décisions enregistrées le", null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="préparée par"
    )
    created_at = models.DateTimeField("préparée le", auto_now_add=True)

    objects = CommissionSessionQuerySet.as_manager()
    history = HistoricalRecords(m2m_fields=[parcours])

    class Meta:
        verbose_name = "séance de commission"
        verbose_name_plural = "séances de commission"
        ordering = ["-date", "-pk"]

    def __str__(self):
        return f"Commission du {self.date:%d/%m/%Y}"

    def get_absolute_url(self):
        return reverse("commission_session_detail", args=[self.pk])

    @property
    def member_list(self):
        return [line.strip() for line in self.members.splitlines() if line.strip()]
