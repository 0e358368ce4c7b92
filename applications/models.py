import uuid
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from simple_history.models import HistoricalRecords

from operations.models import Operation, Structure
from plie.storage import private
from territories.models import Zone

CENT = Decimal("0.01")


class Outcome(models.TextChoices):
    SUBMITTED = "submitted", "Déposée"
    ACCEPTED = "accepted", "Retenue"
    ACCEPTED_WITH_CHANGES = "accepted_with_changes", "Retenue avec modifications"
    REFUSED = "refused", "Non retenue"


ACCEPTED = [Outcome.ACCEPTED, Outcome.ACCEPTED_WITH_CHANGES]


class ApplicationQuerySet(models.QuerySet):
    def for_user(self, user):
        return self.filter(operation__plie__memberships__user=user)

    def accepted(self):
        return self.filter(outcome__in=ACCEPTED)


def money(label, **kwargs):
    return models.DecimalField(label, max_digits=12, decimal_places=2, default=Decimal("0"), **kwargs)


class Application(models.Model):
    """A structure's answer to a fiche opération: ETP, zones, dates and budget; then the copil's decision."""

    operation = models.ForeignKey(
        Operation, on_delete=models.CASCADE, related_name="applications", verbose_name="fiche"
    )
    structure = models.ForeignKey(
        Structure, on_delete=models.PROTECT, related_name="applications", verbose_name="structure"
    )
    contact_name = models.CharField("contact", max_length=150)
    contact_email = models.EmailField("e-mail du contact", blank=True)
    etp_proposed = models.DecimalField("ETP proposés", max_digits=5, decimal_places=2)
    zones_requested = models.ManyToManyField(Zone, related_name="+", blank=True, verbose_name="zones demandées")
    start = models.DateField("début")
    end = models.DateField("fin")
    salaries = money("frais de personnel")
    indirect_rate = models.DecimalField(
        "taux forfaitaire des coûts indirects (%)",
        max_digits=5,
        decimal_places=2,
        default=Decimal("15"),
        help_text="Coûts indirects calculés forfaitairement sur les frais de personnel.",
    )
    other_costs = money("autres coûts directs")
    fse_requested = money("FSE+ demandé")
    other_cofinancing = money("autres cofinancements")
    counterpart = money("contrepartie (autofinancement)")
    criteria_answers = models.TextField("réponse aux critères de sélection", blank=True)
    outcome = models.CharField("décision", max_length=30, choices=Outcome.choices, default=Outcome.SUBMITTED)
    decided_on = models.DateField("date du comité de pilotage", null=True, blank=True)
    etp_granted = models.DecimalField("ETP accordés", max_digits=5, decimal_places=2, null=True, blank=True)
    zones_granted = models.ManyToManyField(Zone, related_name="+", blank=True, verbose_name="zones attribuées")
    fse_granted = models.DecimalField("FSE+ accordé", max_digits=12, decimal_places=2, null=True, blank=True)
    decision_notes = models.TextField("motifs et modifications", blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="décision saisie par",
    )
    created_at = models.DateTimeField("déposée le", auto_now_add=True)

    objects = ApplicationQuerySet.as_manager()
    history = HistoricalRecords(m2m_fields=[zones_granted])

    class Meta:
        verbose_name = "candidature"
        verbose_name_plural = "candidatures"
        ordering = ["operation", "structure__name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end__gte=F("start")),
                name="application_end_after_start",
                violation_error_message="La fin ne peut pas précéder le début.",
            ),
            models.CheckConstraint(
                condition=Q(etp_proposed__gt=0),
                name="application_etp_positive",
                violation_error_message="Le nombre d’ETP proposés doit être positif.",
            ),
            models.CheckConstraint(
                condition=Q(
                    salaries__gte=0,
                    other_costs__gte=0,
                    fse_requested__gte=0,
                    other_cofinancing__gte=0,
                    counterpart__gte=0,
                ),
                name="application_amounts_not_negative",
                violation_error_message="Les montants ne peuvent pas être négatifs.",
            ),
            models.CheckConstraint(
                condition=Q(indirect_rate__gte=0, indirect_rate__lte=100),
                name="application_indirect_rate_0_100",
                violation_error_message="Le taux forfaitaire est compris entre 0 et 100 %%.",
            ),
            models.CheckConstraint(
                condition=Q(etp_granted__isnull=True) | Q(etp_granted__lte=F("etp_proposed")),
                name="application_etp_granted_within_proposal",
                violation_error_message="Les ETP accordés ne peuvent pas dépasser les ETP proposés.",
            ),
            models.CheckConstraint(
                condition=Q(fse_granted__isnull=True) | Q(fse_granted__gte=0),
                name="application_fse_granted_not_negative",
                violation_error_message="Le FSE+ accordé ne peut pas être négatif.",
            ),
        ]

    def __str__(self):
        return f"{self.structure} — {self.operation.code}"

    def get_absolute_url(self):
        return reverse("application_detail", args=[self.pk])

    @property
    def indirect_costs(self):
        return (self.salaries * self.indirect_rate / 100).quantize(CENT)

    @property
    def eligible_cost(self):
        return self.salaries + self.indirect_costs + self.other_costs

    @property
    def resources(self):
        return self.fse_requested + self.other_cofinancing + self.counterpart

    @property
    def is_accepted(self):
        return self.outcome in ACCEPTED


class ProposedReferent(models.Model):
    """A referent the structure puts on the operation; the decision turns them into ETP periods."""

    application = models.ForeignKey(
        Application, on_delete=models.CASCADE, related_name="referents", verbose_name="candidature"
    )
    first_name = models.CharField("prénom", max_length=100)
    last_name = models.CharField("nom", max_length=100)
    etp = models.DecimalField("ETP", max_digits=3, decimal_places=2)
    zone = models.ForeignKey(
        Zone, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name="zone"
    )

    class Meta:
        verbose_name = "référent proposé"
        verbose_name_plural = "référents proposés"
        constraints = [
            models.CheckConstraint(
                condition=Q(etp__gt=0, etp__lte=1),
                name="proposed_referent_etp_in_0_1",
                violation_error_message="L’ETP doit être supérieur à 0 et au plus égal à 1.",
            ),
        ]

    def __str__(self):
        return f"{self.first_name} {self.last_name} ({self.etp} ETP)"


class RegulationMeeting(models.Model):
    """A régulation meeting between the PLIE and a structure (Portes du Sud asks for three a year)."""

    operation = models.ForeignKey(
        Operation, on_delete=models.CASCADE, related_name="regulation_meetings", verbose_name="fiche"
    )
    structure = models.ForeignKey(Structure, on_delete=models.PROTECT, related_name="+", verbose_name="structure")
    date = models.DateField("date")
    attendees = models.TextField("participants à la réunion")
    minutes = models.TextField("compte rendu", blank=True)
    sheet = models.FileField("feuille de présence", storage=private, upload_to="regulation/", blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+", verbose_name="saisie par"
    )

    objects = ApplicationQuerySet.as_manager()

    class Meta:
        verbose_name = "réunion de régulation"
        verbose_name_plural = "réunions de régulation"
        ordering = ["-date"]

    def __str__(self):
        return f"Régulation avec {self.structure} le {self.date:%d/%m/%Y}"


class ExpenseCategory(models.TextChoices):
    SALARIES = "salaries", "Frais de personnel"
    OTHER = "other", "Autres coûts directs"


def expense_path(expense, filename):
    return f"expenses/{expense.application.operation.plie_id}/{uuid.uuid4().hex}"


class ExpenseQuerySet(models.QuerySet):
    def for_user(self, user):
        return self.filter(application__operation__plie__memberships__user=user)


class Expense(models.Model):
    """An expense actually paid by the structure for the operation, with its proof (facture, bulletin, état de
    paie…). Indirect costs are not entered: they follow at the application's flat rate on the realised salaries."""

    application = models.ForeignKey(
        Application, on_delete=models.CASCADE, related_name="expenses", verbose_name="candidature retenue"
    )
    category = models.CharField("catégorie", max_length=20, choices=ExpenseCategory.choices)
    label = models.CharField("libellé", max_length=200)
    amount = models.DecimalField("montant payé", max_digits=12, decimal_places=2)
    paid_on = models.DateField("payé le")
    proof = models.FileField("pièce", storage=private, upload_to=expense_path, blank=True, max_length=200)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="saisie par"
    )
    recorded_at = models.DateTimeField("saisie le", auto_now_add=True)

    objects = ExpenseQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = "dépense réalisée"
        verbose_name_plural = "dépenses réalisées"
        ordering = ["application", "paid_on", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0),
                name="expense_amount_positive",
                violation_error_message="Le montant d’une dépense est positif.",
            ),
            models.CheckConstraint(
                condition=Q(category__in=ExpenseCategory.values),
                name="expense_category_valid",
                violation_error_message="Catégorie inconnue.",
            ),
        ]

    def __str__(self):
        return f"{self.label} ({self.paid_on:%d/%m/%Y})"
