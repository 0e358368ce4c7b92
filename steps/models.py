from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from simple_history.models import HistoricalRecords

from participants.models import Document, DocumentKind, Parcours, Participant, StepStatus
from plie.access import can_edit
from plie.models import NaturalKeyManager, NaturalKeyMixin, Plie, PlieScopedQuerySet


class StepCategory(NaturalKeyMixin, models.Model):
    NATURAL_KEY = ("plie__slug", "name")

    plie = models.ForeignKey(
        Plie,
        on_delete=models.CASCADE,
        related_name="step_categories",
        verbose_name="PLIE",
    )
    name = models.CharField("nom", max_length=150)
    position = models.PositiveSmallIntegerField("ordre", default=0)
    remote_follow_up = models.BooleanField(
        "entretiens à distance admis pendant ces étapes",
        default=False,
        help_text="Étapes d’emploi ou de formation : la fiche admet alors un suivi « à distance » (Grand Périgueux).",
    )

    objects = NaturalKeyManager()

    class Meta:
        verbose_name = "catégorie d’étapes"
        verbose_name_plural = "catégories d’étapes"
        ordering = ["plie", "position", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["plie", "name"],
                name="step_category_name_unique_in_plie",
                violation_error_message="Cette catégorie existe déjà dans ce PLIE.",
            ),
        ]

    def __str__(self):
        return self.name


class StepType(NaturalKeyMixin, models.Model):
    NATURAL_KEY = ("category__plie__slug", "category__name", "label")

    category = models.ForeignKey(
        StepCategory,
        on_delete=models.PROTECT,
        related_name="step_types",
        verbose_name="catégorie",
    )
    label = models.CharField("libellé", max_length=150)
    counts_toward_target = models.BooleanField(
        "compte dans l’objectif d’étapes",
        default=True,
        help_text="Décocher pour les étapes que la fiche exclut (par exemple l’étape d’accompagnement).",
    )
    is_active = models.BooleanField("en usage", default=True)

    objects = NaturalKeyManager()

    class Meta:
        verbose_name = "type d’étape"
        verbose_name_plural = "types d’étapes"
        ordering = ["category__position", "label"]
        constraints = [
            models.UniqueConstraint(
                fields=["category", "label"],
                name="step_type_label_unique_in_category",
                violation_error_message="Ce type d’étape existe déjà dans cette catégorie.",
            ),
        ]

    def __str__(self):
        return self.label


class GridVersionQuerySet(PlieScopedQuerySet):
    def in_force_on(self, day):
        """The version approved by the copil most recently on or before `day`."""
        return self.filter(approved_on__lte=day).order_by("-approved_on", "-pk").first()


class GridVersion(models.Model):
    """A version of the PLIE's validation grid, as approved by the steering committee."""

    plie = models.ForeignKey(Plie, on_delete=models.CASCADE, related_name="grid_versions", verbose_name="PLIE")
    approved_on = models.DateField("approuvée par le comité de pilotage le")
    notes = models.TextField("présentation des changements", blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+", verbose_name="saisie par"
    )
    created_at = models.DateTimeField("saisie le", auto_now_add=True)

    objects = GridVersionQuerySet.as_manager()

    class Meta:
        verbose_name = "version de la grille de validation"
        verbose_name_plural = "versions de la grille de validation"
        ordering = ["plie", "-approved_on"]
        constraints = [
            models.UniqueConstraint(
                fields=["plie", "approved_on"],
                name="grid_version_one_per_day",
                violation_error_message="Une version de la grille est déjà approuvée à cette date.",
            ),
        ]

    def __str__(self):
        return f"Grille approuvée le {self.approved_on:%d/%m/%Y}"

    def get_absolute_url(self):
        return reverse("grid_version_detail", args=[self.pk])


class GridRule(models.Model):
    """For one step type, in one grid version: the qualitative criteria and the proofs required."""

    version = models.ForeignKey(GridVersion, on_delete=models.CASCADE, related_name="rules", verbose_name="version")
    step_type = models.ForeignKey(
        StepType, on_delete=models.CASCADE, related_name="grid_rules", verbose_name="type d’étape"
    )
    criteria = models.TextField("critères qualitatifs", blank=True)
    required_proofs = models.JSONField("justificatifs exigés", default=list, blank=True)

    class Meta:
        verbose_name = "règle de validation"
        verbose_name_plural = "règles de validation"
        ordering = ["version", "step_type__category__position", "step_type__label"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "step_type"],
                name="grid_rule_one_per_type",
                violation_error_message="Ce type d’étape a déjà une règle dans cette version.",
            ),
        ]

    def __str__(self):
        return f"{self.step_type} ({self.version})"

    @property
    def required_labels(self):
        return [DocumentKind(kind).label for kind in self.required_proofs]


class Validation(models.TextChoices):
    DRAFT = "draft", "À soumettre"
    SUBMITTED = "submitted", "Soumise à validation"
    VALIDATED = "validated", "Validée"
    REFUSED = "refused", "Refusée"


SUBMITTABLE = (Validation.DRAFT, Validation.REFUSED)
VALIDATION_BADGES = {Validation.VALIDATED: "success", Validation.REFUSED: "warning", Validation.SUBMITTED: "info"}


class StepQuerySet(models.QuerySet):
    def for_user(self, user):
        return self.filter(parcours__in=Parcours.objects.followed_by(user))

    def counting(self):
        """What counts toward the step target: validated steps of counting types."""
        return self.filter(validation=Validation.VALIDATED, step_type__counts_toward_target=True)


class Step(models.Model):
    parcours = models.ForeignKey(Parcours, on_delete=models.CASCADE, related_name="steps", verbose_name="parcours")
    step_type = models.ForeignKey(StepType, on_delete=models.PROTECT, related_name="steps", verbose_name="type d’étape")
    plie = models.ForeignKey(Plie, on_delete=models.PROTECT, related_name="+", editable=False, db_index=False)
    external_id = models.CharField("identifiant Viesion", max_length=50, blank=True)
    partner = models.CharField("organisme", max_length=200, blank=True)
    start = models.DateField("date de début", help_text="Prévue tant que l’étape est proposée.")
    end = models.DateField("date de fin", null=True, blank=True)
    status = models.CharField("statut", max_length=20, choices=StepStatus.choices, default=StepStatus.PROPOSED)
    notes = models.TextField("observations", blank=True)
    proofs = models.ManyToManyField(Document, related_name="steps", blank=True, verbose_name="justificatifs")
    validation = models.CharField("validation", max_length=20, choices=Validation.choices, default=Validation.DRAFT)
    submitted_at = models.DateTimeField("soumise le", null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="soumise par",
    )
    decided_at = models.DateTimeField("décision le", null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="décision par",
    )
    refusal_reason = models.TextField("motif du refus", blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+", verbose_name="saisie par"
    )
    created_at = models.DateTimeField("saisie le", auto_now_add=True)

    objects = StepQuerySet.as_manager()
    history = HistoricalRecords(
        no_db_index=["parcours", "step_type", "plie", "created_by", "decided_by", "submitted_by"]
    )

    class Meta:
        verbose_name = "étape de parcours"
        verbose_name_plural = "étapes de parcours"
        ordering = ["-start", "-pk"]
        indexes = [models.Index(fields=["plie", "start"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(end__isnull=True) | Q(end__gte=F("start")),
                name="step_end_after_start",
                violation_error_message="La fin de l’étape ne peut pas précéder son début.",
            ),
            models.CheckConstraint(
                condition=Q(validation__in=Validation.values),
                name="step_validation_valid",
                violation_error_message="État de validation inconnu.",
            ),
            models.CheckConstraint(
                condition=~Q(validation=Validation.REFUSED) | ~Q(refusal_reason=""),
                name="step_refusal_has_reason",
                violation_error_message="Un refus doit être motivé.",
            ),
        ]

    def __str__(self):
        return f"{self.step_type} du {self.start:%d/%m/%Y}"

    def save(self, *args, **kwargs):
        if self.plie_id is None:
            self.plie_id = self.parcours.plie_id
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("step_detail", args=[self.pk])

    def grid_rule(self):
        """The rule of the grid version in force on the step's start date, or None."""
        version = GridVersion.objects.filter(plie_id=self.step_type.category.plie_id).in_force_on(self.start)
        return version.rules.filter(step_type=self.step_type).first() if version else None

    def missing_proofs(self, rule=None):
        """The proof kinds the grid requires that no attached document provides."""
        rule = rule if rule is not None else self.grid_rule()
        present = {document.kind for document in self.proofs.all()}
        return [kind for kind in (rule.required_proofs if rule else []) if kind not in present]

    @property
    def is_validated(self):
        return self.validation == Validation.VALIDATED

    @property
    def is_refused(self):
        return self.validation == Validation.REFUSED

    @property
    def is_submittable(self):
        return self.validation in SUBMITTABLE

    @property
    def validation_badge(self):
        return VALIDATION_BADGES.get(self.validation, "light border")

    def can_be_validated_by(self, user):
        """The animation team validates; nobody validates a step they submitted or follow as a referent."""
        plie = self.step_type.category.plie
        follows = self.parcours.assignments.filter(end__isnull=True, referent__user=user).exists()
        return can_edit(user, plie) and self.submitted_by_id != user.pk and not follows


class SessionKind(models.TextChoices):
    INFO = "info_collective", "Information collective"
    TRE = "atelier_tre", "Atelier techniques de recherche d’emploi"
    PROJECT = "atelier_projet", "Atelier projet professionnel"
    OTHER = "autre", "Autre atelier"


class CollectiveSession(models.Model):
    plie = models.ForeignKey(Plie, on_delete=models.CASCADE, related_name="sessions", verbose_name="PLIE")
    kind = models.CharField("type", max_length=30, choices=SessionKind.choices)
    theme = models.CharField("thème", max_length=200)
    date = models.DateField("date")
    facilitator = models.CharField("animé par", max_length=200)
    place = models.CharField("lieu", max_length=200, blank=True)
    step_type = models.ForeignKey(
        StepType,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="sessions",
        verbose_name="compte comme étape",
        help_text="Si le PLIE compte la participation comme une étape de parcours.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+", verbose_name="saisie par"
    )

    objects = PlieScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "action collective"
        verbose_name_plural = "actions collectives"
        ordering = ["-date", "theme"]

    def __str__(self):
        return f"{self.theme} ({self.date:%d/%m/%Y})"

    def get_absolute_url(self):
        return reverse("session_detail", args=[self.pk])


class Attendance(models.Model):
    """Someone invited to a session: a participant, or a prospect not yet in a parcours (information sessions)."""

    session = models.ForeignKey(
        CollectiveSession, on_delete=models.CASCADE, related_name="attendances", verbose_name="action"
    )
    participant = models.ForeignKey(
        Participant,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="attendances",
        verbose_name="participant",
    )
    prospect_name = models.CharField("personne hors parcours", max_length=200, blank=True)
    prospect_contact = models.CharField("contact", max_length=200, blank=True)
    present = models.BooleanField("présent", default=False)
    step = models.OneToOneField(
        Step, on_delete=models.SET_NULL, null=True, blank=True, related_name="attendance", verbose_name="étape créée"
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = "émargement"
        verbose_name_plural = "émargements"
        ordering = ["session", "participant__last_name", "prospect_name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(participant__isnull=False, prospect_name="")
                | Q(participant__isnull=True) & ~Q(prospect_name=""),
                name="attendance_participant_or_prospect",
                violation_error_message="Indiquez un participant ou, à défaut, le nom d’une personne hors parcours.",
            ),
            models.UniqueConstraint(
                fields=["session", "participant"],
                name="attendance_once_per_session",
                violation_error_message="Ce participant est déjà inscrit à cette action.",
            ),
        ]

    def __str__(self):
        return str(self.participant or self.prospect_name)
