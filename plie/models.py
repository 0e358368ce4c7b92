from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib.auth.models import (
    AbstractBaseUser,
    BaseUserManager,
    PermissionsMixin,
)
from django.db import models
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from .identity import normalize_email


class NaturalKeyManager(models.Manager):
    """Lets fixtures name rows by their business key (`["agen", "FO1"]`) so reloading updates, never duplicates."""

    def get_by_natural_key(self, *key):
        return self.get(**dict(zip(self.model.NATURAL_KEY, key, strict=True)))


class PlieScopedQuerySet(models.QuerySet):
    """Rows that belong to a PLIE through a `plie` foreign key."""

    def for_user(self, user):
        return self.filter(plie__memberships__user=user)


class NaturalKeyMixin:
    NATURAL_KEY = ()

    def natural_key(self):
        values = []
        for path in self.NATURAL_KEY:
            value = self
            for attr in path.split("__"):
                value = getattr(value, attr)
            values.append(value)
        return tuple(values)


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email, password, **extra_fields):
        if not email:
            raise ValueError("L’adresse e-mail est obligatoire.")
        user = self.model(email=normalize_email(email), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra_fields)

    def get_by_natural_key(self, email):
        return self.get(email__iexact=normalize_email(email))


class User(AbstractBaseUser, PermissionsMixin):
    email = models.EmailField("adresse e-mail", unique=True)
    first_name = models.CharField("prénom", max_length=150, blank=True)
    last_name = models.CharField("nom", max_length=150, blank=True)
    is_staff = models.BooleanField(
        "accès à l’administration",
        default=False,
        help_text="Peut se connecter à l’interface d’administration technique.",
    )
    is_active = models.BooleanField("actif", default=True)
    date_joined = models.DateTimeField("date d’inscription", default=timezone.now)

    objects = UserManager()

    EMAIL_FIELD = "email"
    USERNAME_FIELD = "email"
    REQUIRED_FIELDS = []

    class Meta:
        verbose_name = "utilisateur"
        verbose_name_plural = "utilisateurs"
        ordering = ["last_name", "first_name", "email"]

    def __str__(self):
        return self.get_full_name() or self.email

    def clean(self):
        super().clean()
        self.email = normalize_email(self.email)

    def get_full_name(self):
        return f"{self.first_name} {self.last_name}".strip()

    def get_short_name(self):
        return self.first_name or self.email


class Plie(NaturalKeyMixin, models.Model):
    NATURAL_KEY = ("slug",)

    slug = models.SlugField("identifiant", unique=True)
    name = models.CharField("nom", max_length=200, unique=True)
    description = models.TextField("présentation", blank=True)
    default_file_active_per_etp = models.PositiveSmallIntegerField(
        "file active par ETP à défaut d’objectif de la fiche",
        default=70,
        help_text="Charge d’un référent à temps plein quand sa fiche opération ne fixe pas d’objectif de file active.",
    )

    objects = NaturalKeyManager()

    class Meta:
        verbose_name = "PLIE"
        verbose_name_plural = "PLIE"
        ordering = ["name"]

    def __str__(self):
        return self.name


class Role(models.TextChoices):
    ADMIN = "admin", "Administrateur du PLIE"
    ANIMATION = "animation", "Équipe d’animation"
    REFERENT = "referent", "Référent de parcours"
    COPIL = "copil", "Membre du comité de pilotage"


# Roles that may change the fiches opération, zones, structures and referents.
EDITOR_ROLES = {Role.ADMIN, Role.ANIMATION}


class Membership(models.Model):
    user = models.ForeignKey(
        User,
        on_delete=models.CASCADE,
        related_name="memberships",
        verbose_name="utilisateur",
    )
    plie = models.ForeignKey(Plie, on_delete=models.CASCADE, related_name="memberships", verbose_name="PLIE")
    role = models.CharField("rôle", max_length=20, choices=Role.choices)
    created_at = models.DateTimeField("créée le", auto_now_add=True)

    class Meta:
        verbose_name = "appartenance"
        verbose_name_plural = "appartenances"
        ordering = ["plie__name", "user__last_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "plie"],
                name="membership_one_role_per_plie",
                violation_error_message="Cet utilisateur a déjà un rôle dans ce PLIE.",
            ),
            models.CheckConstraint(
                condition=models.Q(role__in=Role.values),
                name="membership_role_valid",
                violation_error_message="Rôle inconnu.",
            ),
        ]

    def __str__(self):
        return f"{self.user} — {self.plie} ({self.get_role_display()})"


class JobState(models.TextChoices):
    QUEUED = "queued", "En attente"
    RUNNING = "running", "En cours"
    DONE = "done", "Terminé"
    FAILED = "failed", "Échec"


class Job(models.Model):
    """A long job (bilan PDF, import, preview, nightly retention) as a row: the worker may die and the broker may be
    down, the row says where it stands and the sweeper (plie/jobs.py) moves it on."""

    kind = models.CharField("type", max_length=50)
    object_id = models.PositiveBigIntegerField("objet", null=True, blank=True)
    payload = models.JSONField("paramètres", default=dict, blank=True)
    state = models.CharField("état", max_length=20, choices=JobState.choices, default=JobState.QUEUED)
    attempts = models.PositiveSmallIntegerField("tentatives", default=0)
    created_at = models.DateTimeField("créé le", auto_now_add=True)
    # The outbox: empty until the broker has accepted the message; the sweeper sends what is still empty.
    sent_at = models.DateTimeField("transmis le", null=True, blank=True)
    started_at = models.DateTimeField("commencé le", null=True, blank=True)
    heartbeat_at = models.DateTimeField("dernier signe de vie", null=True, blank=True)
    finished_at = models.DateTimeField("terminé le", null=True, blank=True)
    error = models.TextField("erreur", blank=True)

    class Meta:
        verbose_name = "tâche de fond"
        verbose_name_plural = "tâches de fond"
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["kind", "object_id"]), models.Index(fields=["state", "heartbeat_at"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(state__in=JobState.values),
                name="job_state_valid",
                violation_error_message="État inconnu.",
            ),
            models.CheckConstraint(
                condition=models.Q(state__in=["done", "failed"], finished_at__isnull=False)
                | models.Q(state__in=["queued", "running"], finished_at__isnull=True),
                name="job_finished_when_ended",
                violation_error_message="Une tâche terminée a une date de fin, une tâche en cours n’en a pas.",
            ),
        ]

    def __str__(self):
        return f"{self.kind} {self.object_id or ''} ({self.get_state_display()})".replace("  ", " ")


# django-otp's devices and django-axes' journals under French names, for the admin: the packages' own names and
# __str__ are English and not translatable.
class AuthenticatorApp(TOTPDevice):
    class Meta:
        proxy = True
        verbose_name = "application d’authentification"
        verbose_name_plural = "applications d’authentification"


class RecoveryCodes(StaticDevice):
    class Meta:
        proxy = True
        verbose_name = "jeu de codes de secours"
        verbose_name_plural = "jeux de codes de secours"


def _when(moment):
    return f"{timezone.localtime(moment):%d/%m/%Y à %H:%M}" if moment else "—"


class LoginAttempt(AccessAttempt):
    class Meta:
        proxy = True
        verbose_name = "tentative de connexion refusée"
        verbose_name_plural = "tentatives de connexion refusées"

    def __str__(self):
        return f"{self.username or 'identifiant vide'}, {self.failures_since_start} échec(s) jusqu’au {_when(self.attempt_time)}"


class LoginRecord(AccessLog):
    class Meta:
        proxy = True
        verbose_name = "connexion"
        verbose_name_plural = "connexions"

    def __str__(self):
        return f"Connexion de {self.username or 'identifiant vide'} le {_when(self.attempt_time)}"


class LoginFailure(AccessFailureLog):
    class Meta:
        proxy = True
        verbose_name = "échec de connexion"
        verbose_name_plural = "échecs de connexion"

    def __str__(self):
        locked = " (compte verrouillé)" if self.locked_out else ""
        return f"Échec de {self.username or 'identifiant vide'} le {_when(self.attempt_time)}{locked}"
