import datetime
import uuid
from collections import defaultdict
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils.functional import cached_property
from simple_history.models import HistoricalRecords

from plie.formats import french_number
from plie.models import NaturalKeyManager, NaturalKeyMixin, Plie, PlieScopedQuerySet
from plie.storage import private
from territories.models import Zone

# The eligibility criteria a commission checks, as booleans so that bilans count them with plain aggregates.
CRITERIA = [
    ("rsa", "Bénéficiaire du RSA"),
    ("deld", "Demandeur d’emploi de longue durée (12 à 24 mois)"),
    ("detld", "Demandeur d’emploi de très longue durée (24 mois et plus)"),
    ("rqth", "Reconnaissance de la qualité de travailleur handicapé (RQTH)"),
    ("qpv", "Résident d’un quartier prioritaire (QPV)"),
    ("senior", "Senior de 50 ans et plus"),
    ("young", "Jeune de moins de 26 ans"),
    ("low_qualification", "Niveau de qualification 3 (CAP/BEP) ou infra"),
    ("bpi", "Bénéficiaire d’une protection internationale"),
    ("single_parent", "Parent isolé"),
    ("badly_housed", "Sans domicile ou mal logé"),
    ("other_criterion", "Autre critère"),
]


class StructureKind(models.TextChoices):
    PUBLIC = "public", "Organisme public"
    ASSOCIATION = "association", "Association"
    PRIVATE = "private", "Organisme privé"


class Structure(NaturalKeyMixin, models.Model):
    NATURAL_KEY = ("plie__slug", "name")

    plie = models.ForeignKey(Plie, on_delete=models.CASCADE, related_name="structures", verbose_name="PLIE")
    name = models.CharField("nom", max_length=200)
    kind = models.CharField("nature juridique", max_length=20, choices=StructureKind.choices)
    city = models.CharField("ville", max_length=100, blank=True)

    objects = NaturalKeyManager.from_queryset(PlieScopedQuerySet)()
    history = HistoricalRecords()

    class Meta:
        verbose_name = "structure porteuse"
        verbose_name_plural = "structures porteuses"
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["plie", "name"],
                name="structure_name_unique_in_plie",
                violation_error_message="Une structure porte déjà ce nom dans ce PLIE.",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=StructureKind.values),
                name="structure_kind_valid",
                violation_error_message="Nature juridique inconnue.",
            ),
        ]

    def __str__(self):
        return self.name


def audit_deadline_after(last_payment_year):
    """FSE+ proofs are kept five years from 31 December of the year of the operation's last payment
    (Regulation (EU) 2021/1060, art. 82)."""
    return datetime.date(last_payment_year + 5, 12, 31)


class OperationQuerySet(PlieScopedQuerySet):
    def of_code(self, plie, code):
        return self.filter(plie=plie, code=code)

    def in_force_on(self, day):
        return self.filter(start__lte=day, end__gte=day)

    def same_fiche_as(self, operation):
        """The fiches of the operation's code in its PLIE, one per programming year."""
        return self.of_code(operation.plie_id, operation.code)


class Operation(NaturalKeyMixin, models.Model):
    """A fiche opération: one programming period (a calendar year, or Sud Périgord's 2022–2023) of a code of the
    PLIE. Next year's fiche of the same code is another row, made by `renew_operation`."""

    NATURAL_KEY = ("plie__slug", "code", "start")

    plie = models.ForeignKey(Plie, on_delete=models.CASCADE, related_name="operations", verbose_name="PLIE")
    code = models.CharField("code", max_length=20, help_text="Par exemple FO1.")
    title = models.CharField("intitulé", max_length=300)
    priority = models.TextField("priorité", blank=True)
    specific_objective = models.TextField("objectif spécifique", blank=True)
    start = models.DateField("début de la période d’exécution")
    end = models.DateField("fin de la période d’exécution")
    fse_ceiling = models.DecimalField(
        "montant FSE+ maximum",
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="Plafond FSE+ alloué aux projets de la fiche, en euros.",
    )
    referents_expected = models.TextField("référents attendus", blank=True)
    context = models.TextField("description et contexte", blank=True)
    territory_notes = models.TextField("territoire d’intervention", blank=True)
    content = models.TextField("finalité, contenu et modalités de mise en œuvre", blank=True)
    selection_criteria = models.TextField("critères de sélection spécifiques", blank=True)
    expected_proofs = models.TextField("pièces justificatives attendues", blank=True)
    zones = models.ManyToManyField(Zone, related_name="operations", blank=True, verbose_name="zones")
    neutralised_exit_reasons = models.ManyToManyField(
        "ExitReason",
        related_name="neutralised_by",
        blank=True,
        verbose_name="motifs de sortie neutralisés",
        help_text="Sorties exclues du dénominateur du taux de sorties positives.",
    )
    review_after_months = models.PositiveSmallIntegerField(
        "point de situation après (mois)",
        null=True,
        blank=True,
        help_text="Si la fiche demande un point de situation sur les parcours longs (par exemple 24 mois).",
    )
    last_payment_year = models.PositiveSmallIntegerField(
        "année du dernier paiement FSE+",
        null=True,
        blank=True,
        help_text="Fixe la date limite d’archivage : le 31 décembre de la cinquième année suivante.",
    )
    audit_deadline = models.DateField(
        "date limite d’archivage",
        null=True,
        blank=True,
        help_text="Les pièces peuvent être détruites et les participants anonymisés le lendemain.",
    )
    vacancy_alert = models.BooleanField(
        "alerte de place libérée",
        default=False,
        help_text="« Proposer l’intégration d’une nouvelle personne dès la sortie » : le référent est alerté à "
        "chaque sortie tant qu’aucune intégration ne l’a suivie.",
    )
    absence_alert_weeks = models.PositiveSmallIntegerField(
        "alerte de continuité après (semaines sans entretien)",
        null=True,
        blank=True,
        help_text="Par exemple 4 : « absence supérieure à 4 semaines consécutives ».",
    )
    min_etp_per_application = models.DecimalField(
        "ETP minimum par candidature",
        max_digits=4,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="« La réponse devra correspondre à minima à 1 ETP ».",
    )
    legal_hold = models.BooleanField(
        "gel des données (contrôle ou contentieux en cours)",
        default=False,
        help_text="Tant qu’il est coché, aucun participant de la fiche n’est anonymisé ni effacé.",
    )

    objects = NaturalKeyManager.from_queryset(OperationQuerySet)()
    history = HistoricalRecords(m2m_fields=[zones, neutralised_exit_reasons])

    class Meta:
        verbose_name = "fiche opération"
        verbose_name_plural = "fiches opération"
        ordering = ["plie__name", "code", "start"]
        constraints = [
            models.UniqueConstraint(
                fields=["plie", "code", "start"],
                name="operation_code_and_start_unique_in_plie",
                violation_error_message="Une fiche opération de ce code commence déjà à cette date dans ce PLIE.",
            ),
            models.CheckConstraint(
                condition=Q(end__gte=F("start")),
                name="operation_end_after_start",
                violation_error_message="La fin de la période d’exécution ne peut pas précéder son début.",
            ),
            models.CheckConstraint(
                condition=Q(fse_ceiling__isnull=True) | Q(fse_ceiling__gte=0),
                name="operation_ceiling_not_negative",
                violation_error_message="Le montant FSE+ maximum ne peut pas être négatif.",
            ),
            models.CheckConstraint(
                condition=Q(last_payment_year__isnull=True) | Q(last_payment_year__range=(2000, 2100)),
                name="operation_last_payment_year_plausible",
                violation_error_message="L’année du dernier paiement doit être comprise entre 2000 et 2100.",
            ),
            models.CheckConstraint(
                condition=Q(audit_deadline__isnull=True) | Q(audit_deadline__gte=F("end")),
                name="operation_audit_deadline_after_end",
                violation_error_message="La date limite d’archivage ne peut pas précéder la fin de la fiche.",
            ),
        ]

    def __str__(self):
        return f"{self.code} {self.years} — {self.title}"

    def save(self, *args, **kwargs):
        # Once the last payment is known, the deadline follows from it: one rule, never two dates that disagree.
        if self.last_payment_year:
            self.audit_deadline = audit_deadline_after(self.last_payment_year)
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("operation_detail", args=[self.pk])

    @cached_property
    def same_fiche_ids(self):
        """The ids of the fiches of this code in the PLIE, this one included: fetched once per object.

        A list rather than a subquery for attribution (participants/attribution.py): the planner then reads from its
        statistics how many ETP periods these fiches have, where a subquery gets the average over every PLIE's fiches
        (8 for 25 in the national bench), and reads a large PLIE's parcours one by one, by key."""
        return list(Operation.objects.same_fiche_as(self).values_list("pk", flat=True))

    @staticmethod
    def share_same_fiche_ids(fiches):
        """Fills `same_fiche_ids` of every fiche of a PLIE read together, with no query each: the fiches of one code
        in the PLIE (`same_fiche_as`). Returns `fiches`."""
        of_code = defaultdict(list)
        for fiche in fiches:
            of_code[fiche.code].append(fiche.pk)
        for fiche in fiches:
            fiche.same_fiche_ids = of_code[fiche.code]
        return fiches

    @property
    def years(self):
        """« 2023 », or « 2022-2023 » for a fiche over two years."""
        return str(self.start.year) if self.start.year == self.end.year else f"{self.start.year}-{self.end.year}"

    def proofs_may_be_destroyed_on(self, day):
        """FSE+ proofs are kept until the audit deadline included, and never while a legal hold is on."""
        return self.audit_deadline is not None and day > self.audit_deadline and not self.legal_hold

    @property
    def sections(self):
        return [
            (self._meta.get_field(name).verbose_name.capitalize(), getattr(self, name))
            for name in (
                "priority",
                "specific_objective",
                "context",
                "content",
                "selection_criteria",
                "expected_proofs",
            )
        ]


class BeneficiaryKind(models.TextChoices):
    ALL = "all", "Tous les bénéficiaires"
    PUBLIC = "public", "Organismes publics"
    ASSOCIATION = "association", "Associations"
    PRIVATE = "private", "Organismes privés"


class CofinancingCap(NaturalKeyMixin, models.Model):
    NATURAL_KEY = ("operation__plie__slug", "operation__code", "operation__start", "beneficiary_kind")

    operation = models.ForeignKey(
        Operation,
        on_delete=models.CASCADE,
        related_name="cofinancing_caps",
        verbose_name="fiche opération",
    )
    beneficiary_kind = models.CharField("bénéficiaires", max_length=20, choices=BeneficiaryKind.choices)
    rate = models.DecimalField(
        "taux maximum de cofinancement FSE+ (%)",
        max_digits=5,
        decimal_places=2,
        help_text="Part maximale du coût éligible financée par le FSE+, en pourcentage.",
    )

    objects = NaturalKeyManager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = "plafond de cofinancement"
        verbose_name_plural = "plafonds de cofinancement"
        ordering = ["operation", "beneficiary_kind"]
        constraints = [
            models.UniqueConstraint(
                fields=["operation", "beneficiary_kind"],
                name="cap_one_per_beneficiary_kind",
                violation_error_message="Un plafond existe déjà pour ce type de bénéficiaire.",
            ),
            models.CheckConstraint(
                condition=Q(rate__gt=0, rate__lte=100),
                name="cap_rate_between_0_and_100",
                violation_error_message="Le taux de cofinancement doit être compris entre 0 (exclu) et 100 %%.",
            ),
            models.CheckConstraint(
                condition=Q(beneficiary_kind__in=BeneficiaryKind.values),
                name="cap_beneficiary_kind_valid",
            ),
        ]

    def __str__(self):
        return f"{self.get_beneficiary_kind_display()} : {french_number(self.rate)} %"

    @property
    def minimum_counterpart(self):
        return Decimal(100) - self.rate


class Nature(models.TextChoices):
    STOCK = "stock", "stock"
    FLOW = "flow", "flux"
    RATE = "rate", "taux"


class TargetKind(models.TextChoices):
    FILE_ACTIVE = "file_active", "File active"
    PARTICIPANTS = "participants_accompagnes", "Participants accompagnés"
    INTEGRATIONS = "nouvelles_integrations", "Nouvelles intégrations"
    STEPS = "etapes", "Étapes de parcours par participant"
    EXITS = "sorties", "Sorties"
    POSITIVE_EXITS = "sorties_positives", "Sorties positives"
    POSITIVE_EXIT_RATE = "taux_sorties_positives", "Taux de sorties positives"
    EXIT_RATE = "taux_sorties", "Taux de sorties (sorties / parcours)"
    MONTHLY_INTERVIEWS = "entretiens_mensuels", "Entretiens par participant et par mois"
    REGULATION_MEETINGS = "reunions_regulation", "Réunions de régulation"


TARGET_NATURE = {
    TargetKind.FILE_ACTIVE: Nature.STOCK,
    TargetKind.PARTICIPANTS: Nature.FLOW,
    TargetKind.INTEGRATIONS: Nature.FLOW,
    TargetKind.STEPS: Nature.RATE,
    TargetKind.EXITS: Nature.FLOW,
    TargetKind.POSITIVE_EXITS: Nature.FLOW,
    TargetKind.POSITIVE_EXIT_RATE: Nature.RATE,
    TargetKind.EXIT_RATE: Nature.RATE,
    TargetKind.MONTHLY_INTERVIEWS: Nature.RATE,
    TargetKind.REGULATION_MEETINGS: Nature.FLOW,
}

PERCENT_KINDS = {TargetKind.POSITIVE_EXIT_RATE, TargetKind.EXIT_RATE}


class TargetScope(models.TextChoices):
    PER_ETP = "per_etp", "par ETP et par an"
    OPERATION = "operation", "pour l’opération, par an"
    PLIE = "plie", "pour tout le PLIE, par an"
    PROTOCOL = "protocol", "pour tout le PLIE, sur la durée du protocole"


# The fiche's figure for these scopes is the fiche's contribution to a volume set for the whole PLIE.
CONTRIBUTION_SCOPES = {TargetScope.PLIE, TargetScope.PROTOCOL}


class StepsCounted(models.TextChoices):
    VALIDATED = "validated", "étapes validées"
    DONE = "done", "étapes réalisées"


class StepBasis(models.TextChoices):
    FILE_ACTIVE = "file_active_moyenne", "au prorata de la file active moyenne"
    PARTICIPANTS = (
        "participants_accompagnes",
        "au prorata du nombre de participants accompagnés",
    )


class Qualifier(models.TextChoices):
    EXACT = "exact", "objectif"
    MINIMUM = "minimum", "au moins"
    APPROX = "approx", "environ"
    TOWARD = "toward", "tendre vers"
    PERMANENT = "permanent", "au minimum et en permanence (à chaque fin de mois)"


class Target(NaturalKeyMixin, models.Model):
    NATURAL_KEY = ("operation__plie__slug", "operation__code", "operation__start", "kind", "scope")

    operation = models.ForeignKey(
        Operation,
        on_delete=models.CASCADE,
        related_name="targets",
        verbose_name="fiche opération",
    )
    kind = models.CharField("indicateur", max_length=40, choices=TargetKind.choices)
    scope = models.CharField(
        "portée",
        max_length=20,
        choices=TargetScope.choices,
        default=TargetScope.PER_ETP,
    )
    qualifier = models.CharField(
        "nature de l’objectif",
        max_length=20,
        choices=Qualifier.choices,
        default=Qualifier.EXACT,
    )
    value_min = models.DecimalField("valeur (ou minimum de la fourchette)", max_digits=10, decimal_places=2)
    value_max = models.DecimalField(
        "maximum de la fourchette",
        max_digits=10,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="Laisser vide pour une valeur unique.",
    )
    basis = models.CharField(
        "base de calcul des étapes",
        max_length=40,
        choices=StepBasis.choices,
        blank=True,
        help_text="Pour l’objectif d’étapes uniquement.",
    )
    notes = models.TextField("précisions", blank=True)
    label = models.CharField(
        "libellé de la fiche",
        max_length=200,
        blank=True,
        help_text="Les mots de la fiche, par exemple « 4 étapes par participant (280 pour 70 participants par ETP) ».",
    )
    modalities = models.CharField(
        "modalités d’entretien comptées",
        max_length=100,
        blank=True,
        help_text="Pour l’objectif d’entretiens : modalités séparées par des virgules (physique, telephone, visio, "
        "collectif) ; vide pour toutes.",
    )
    remote_during_steps = models.BooleanField(
        "à distance admis pendant une étape d’emploi ou de formation",
        default=False,
        help_text="Un entretien d’une autre modalité compte le mois où la personne est dans une étape d’une "
        "catégorie qui l’admet (nomenclature des étapes).",
    )
    steps_counted = models.CharField(
        "étapes comptées", max_length=20, choices=StepsCounted.choices, default=StepsCounted.VALIDATED
    )
    protocol_start = models.PositiveSmallIntegerField("protocole : première année", null=True, blank=True)
    protocol_end = models.PositiveSmallIntegerField("protocole : dernière année", null=True, blank=True)

    objects = NaturalKeyManager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = "objectif"
        verbose_name_plural = "objectifs"
        ordering = ["operation", "kind", "scope"]
        constraints = [
            models.UniqueConstraint(
                fields=["operation", "kind", "scope"],
                name="target_one_per_kind_and_scope",
                violation_error_message="Cet objectif existe déjà pour cette portée.",
            ),
            models.CheckConstraint(
                condition=Q(value_min__gte=0),
                name="target_value_not_negative",
                violation_error_message="Un objectif ne peut pas être négatif.",
            ),
            models.CheckConstraint(
                condition=Q(value_max__isnull=True) | Q(value_max__gte=F("value_min")),
                name="target_range_ordered",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=TargetKind.values),
                name="target_kind_valid",
                violation_error_message="Indicateur inconnu.",
            ),
            models.CheckConstraint(
                condition=(Q(kind=TargetKind.STEPS) & ~Q(basis="")) | (~Q(kind=TargetKind.STEPS) & Q(basis="")),
                name="target_basis_only_for_steps",
                violation_error_message="La base de calcul est obligatoire pour l’objectif d’étapes, et réservée à lui.",
            ),
            models.CheckConstraint(
                condition=~Q(scope=TargetScope.PROTOCOL)
                | Q(protocol_start__isnull=False, protocol_end__gte=F("protocol_start")),
                name="target_protocol_has_its_years",
                violation_error_message="Un objectif du protocole indique sa première et sa dernière année.",
            ),
            models.CheckConstraint(
                condition=~Q(kind__in=sorted(PERCENT_KINDS))
                | Q(value_min__lte=100, value_max__isnull=True)
                | Q(value_min__lte=100, value_max__lte=100),
                name="target_percentage_at_most_100",
                violation_error_message="Un taux ne peut pas dépasser 100 %%.",
            ),
        ]

    def __str__(self):
        return f"{self.display_label} ({self.get_scope_display()})"

    @property
    def display_label(self):
        """The fiche's own words when the team wrote them, else the indicator's name."""
        return self.label or self.get_kind_display()

    @property
    def scope_label(self):
        if self.scope == TargetScope.PROTOCOL and self.protocol_start:
            return f"pour tout le PLIE, protocole {self.protocol_start}-{self.protocol_end}"
        return self.get_scope_display()

    @property
    def modality_list(self):
        return [value.strip() for value in self.modalities.split(",") if value.strip()]

    def clean(self):
        unknown = [value for value in self.modality_list if value not in Modality.values]
        if unknown:
            raise ValidationError(
                {"modalities": f"Modalité inconnue : {', '.join(unknown)} (physique, telephone, visio, collectif)."}
            )

    def display_order(self):
        """The fiche's order: file active, participants, integrations, steps, exits… then the PLIE-wide figures."""
        return TargetKind.values.index(self.kind), self.scope != TargetScope.PER_ETP

    @property
    def nature(self):
        return TARGET_NATURE[TargetKind(self.kind)]

    @property
    def is_range(self):
        return self.value_max is not None and self.value_max != self.value_min

    @property
    def is_percentage(self):
        return self.kind in PERCENT_KINDS


class PlannedEtp(NaturalKeyMixin, models.Model):
    NATURAL_KEY = ("operation__plie__slug", "operation__code", "operation__start", "start")

    """The ETP a fiche plans for part of its period (Sud Périgord: 1.25 in 2022, 1.75 in 2023)."""

    operation = models.ForeignKey(
        Operation,
        on_delete=models.CASCADE,
        related_name="planned_etps",
        verbose_name="fiche opération",
    )
    start = models.DateField("début")
    end = models.DateField("fin")
    etp = models.DecimalField("ETP", max_digits=5, decimal_places=2)
    etp_max = models.DecimalField(
        "ETP au plus",
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="Pour une fourchette (« entre 7 et 8 ETP ») ; vide pour un nombre exact.",
    )

    objects = NaturalKeyManager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = "ETP prévus sur une période"
        verbose_name_plural = "ETP prévus par période"
        ordering = ["operation", "start"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end__gte=F("start")),
                name="planned_etp_end_after_start",
                violation_error_message="La fin ne peut pas précéder le début.",
            ),
            models.CheckConstraint(
                condition=Q(etp__gt=0),
                name="planned_etp_positive",
                violation_error_message="Le nombre d’ETP doit être positif.",
            ),
            models.CheckConstraint(
                condition=Q(etp_max__isnull=True) | Q(etp_max__gte=F("etp")),
                name="planned_etp_range_ordered",
                violation_error_message="Le maximum de la fourchette d’ETP ne peut pas être inférieur au minimum.",
            ),
        ]

    def __str__(self):
        return f"{french_number(self.etp)} ETP du {self.start:%d/%m/%Y} au {self.end:%d/%m/%Y}"


class ContractType(models.TextChoices):
    CDI = "cdi", "CDI"
    CDD = "cdd", "CDD"
    INTERIM = "interim", "Intérim"
    ALTERNANCE = "alternance", "Contrat en alternance"
    IAE = "iae", "Contrat aidé / IAE"
    BUSINESS = "creation", "Création d’entreprise"
    TRAINING = "formation", "Formation qualifiante"
    SEASONAL = "saisonnier", "Travail saisonnier"


class Modality(models.TextChoices):
    IN_PERSON = "physique", "Physique"
    PHONE = "telephone", "Téléphone"
    VIDEO = "visio", "Visio"
    GROUP = "collectif", "Collectif"


class WorkingTime(models.TextChoices):
    FULL = "full", "Temps complet"
    CHOSEN_PART = "chosen_part", "Temps partiel choisi"
    IMPOSED_PART = "imposed_part", "Temps partiel subi"


class WorkingTimeRule(models.TextChoices):
    ANY = "", "Quel que soit le temps de travail"
    FULL = "full", "Temps complet seulement"
    FULL_OR_CHOSEN = "full_or_chosen", "Temps complet ou temps partiel choisi"


class DurationRule(models.TextChoices):
    AT_LEAST = "at_least", "au moins (« 6 mois et plus »)"
    MORE_THAN = "more_than", "strictement plus de (« plus de 6 mois »)"


class ExitValidation(models.TextChoices):
    EMPLOYMENT = "employment_6_months", "Après 6 mois de suivi dans l’emploi"
    TRAINING = "training_validated", "À la validation de la formation"
    CREATION = "creation_6_months", "6 mois après la création"
    AT_ONCE = "at_once", "Dès la sortie"


class ExitCategory(models.TextChoices):
    POSITIVE = "positive", "Sortie positive"
    TRANSITION = "transition", "Sortie de transition"
    OTHER = "other", "Autre sortie"


class FseResult(models.TextChoices):
    EMPLOYMENT = "employment", "En emploi"
    TRAINING = "training", "En études ou en formation"
    QUALIFICATION = "qualification", "Obtient une qualification"
    JOB_SEARCHING = "job_searching", "En recherche d’emploi"
    NONE = "", "Aucun de ces résultats"


class ExitReason(NaturalKeyMixin, models.Model):
    NATURAL_KEY = ("plie__slug", "label")

    plie = models.ForeignKey(Plie, on_delete=models.CASCADE, related_name="exit_reasons", verbose_name="PLIE")
    label = models.CharField("libellé", max_length=150)
    category = models.CharField("catégorie", max_length=20, choices=ExitCategory.choices)
    fse_result = models.CharField(
        "résultat FSE+ à la sortie",
        max_length=20,
        choices=FseResult.choices,
        blank=True,
        help_text="Pour les indicateurs communs de résultat du FSE+ (règlement (UE) 2021/1057, annexe I).",
    )
    position = models.PositiveSmallIntegerField("ordre", default=0)
    is_active = models.BooleanField("en usage", default=True)
    # The fiche's definition of the exit: an exit of this reason counts in its category only when the facts the
    # exit records meet every condition set here (none set: the reason alone decides, as before).
    contract_type = models.CharField("type de contrat exigé", max_length=20, choices=ContractType.choices, blank=True)
    min_months = models.DecimalField(
        "durée du contrat (mois)",
        max_digits=4,
        decimal_places=1,
        null=True,
        blank=True,
        help_text="Par exemple 6 pour « CDD de plus de 6 mois » ; vide si la durée n’importe pas.",
    )
    duration_rule = models.CharField(
        "comparaison de la durée",
        max_length=20,
        choices=DurationRule.choices,
        default=DurationRule.AT_LEAST,
    )
    working_time = models.CharField(
        "temps de travail admis", max_length=20, choices=WorkingTimeRule.choices, blank=True
    )
    min_months_in_year = models.PositiveSmallIntegerField(
        "mois travaillés dans l’année (au moins)",
        null=True,
        blank=True,
        help_text="Par exemple 8 pour « travail saisonnier d’au moins 8 mois sur l’année ».",
    )
    validation = models.CharField(
        "validation de la sortie",
        max_length=30,
        choices=ExitValidation.choices,
        default=ExitValidation.EMPLOYMENT,
        help_text="Le suivi qui valide une sortie positive.",
    )

    objects = NaturalKeyManager.from_queryset(PlieScopedQuerySet)()

    class Meta:
        verbose_name = "motif de sortie"
        verbose_name_plural = "motifs de sortie"
        ordering = ["plie", "position", "label"]
        constraints = [
            models.UniqueConstraint(
                fields=["plie", "label"],
                name="exit_reason_label_unique_in_plie",
                violation_error_message="Ce motif de sortie existe déjà dans ce PLIE.",
            ),
            models.CheckConstraint(
                condition=Q(category__in=ExitCategory.values),
                name="exit_reason_category_valid",
                violation_error_message="Catégorie de sortie inconnue.",
            ),
            models.CheckConstraint(
                condition=Q(min_months__isnull=True) | Q(min_months__gte=0),
                name="exit_reason_min_months_not_negative",
                violation_error_message="La durée ne peut pas être négative.",
            ),
            models.CheckConstraint(
                condition=Q(min_months_in_year__isnull=True) | Q(min_months_in_year__lte=12),
                name="exit_reason_months_in_year_at_most_12",
                violation_error_message="Une année compte 12 mois.",
            ),
        ]

    def __str__(self):
        return self.label

    @property
    def conditions(self):
        """The fiche's conditions in words, for the pages that list them."""
        parts = []
        if self.contract_type:
            parts.append(self.get_contract_type_display())
        if self.min_months is not None:
            word = "plus de" if self.duration_rule == DurationRule.MORE_THAN else "au moins"
            parts.append(f"{word} {french_number(self.min_months)} mois")
        if self.working_time:
            parts.append(self.get_working_time_display().lower())
        if self.min_months_in_year:
            parts.append(f"au moins {self.min_months_in_year} mois sur l’année")
        return ", ".join(parts)


class Referent(NaturalKeyMixin, models.Model):
    NATURAL_KEY = ("plie__slug", "first_name", "last_name")

    plie = models.ForeignKey(Plie, on_delete=models.CASCADE, related_name="referents", verbose_name="PLIE")
    first_name = models.CharField("prénom", max_length=100)
    last_name = models.CharField("nom", max_length=100)
    structure = models.ForeignKey(
        Structure,
        on_delete=models.PROTECT,
        related_name="referents",
        verbose_name="structure employeuse",
    )
    email = models.EmailField("adresse e-mail", blank=True)
    user = models.ForeignKey(
        "plie.User",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="referent_profiles",
        verbose_name="compte utilisateur",
    )

    objects = NaturalKeyManager.from_queryset(PlieScopedQuerySet)()
    history = HistoricalRecords()

    class Meta:
        verbose_name = "référent de parcours"
        verbose_name_plural = "référents de parcours"
        ordering = ["last_name", "first_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["plie", "first_name", "last_name"],
                name="referent_name_unique_in_plie",
                violation_error_message="Un référent porte déjà ce prénom et ce nom dans ce PLIE.",
            ),
            models.UniqueConstraint(
                fields=["plie", "user"],
                name="referent_one_profile_per_user_and_plie",
                violation_error_message="Ce compte est déjà rattaché à un autre référent de ce PLIE.",
            ),
        ]

    def __str__(self):
        return self.full_name

    def get_absolute_url(self):
        return reverse("referent_detail", args=[self.pk])

    @property
    def full_name(self):
        return f"{self.first_name} {self.last_name}"


class ReferentPeriodQuerySet(models.QuerySet):
    def for_user(self, user):
        return self.filter(referent__plie__memberships__user=user)

    def overlapping(self, start, end):
        """Periods sharing at least one day with [start, end]; an open end means still running."""
        qs = self.filter(Q(end__isnull=True) | Q(end__gte=start))
        return qs if end is None else qs.filter(start__lte=end)

    def counting_for(self, operation):
        """The periods whose days count for the fiche: those on a fiche of its code that run during its period."""
        return self.filter(operation__in=Operation.objects.same_fiche_as(operation).values("pk")).overlapping(
            operation.start, operation.end
        )


class ReferentPeriod(NaturalKeyMixin, models.Model):
    NATURAL_KEY = (
        "referent__plie__slug",
        "referent__first_name",
        "referent__last_name",
        "operation__code",
        "operation__start",
        "start",
    )

    referent = models.ForeignKey(
        Referent,
        on_delete=models.CASCADE,
        related_name="periods",
        verbose_name="référent",
    )
    operation = models.ForeignKey(
        Operation,
        on_delete=models.CASCADE,
        related_name="referent_periods",
        verbose_name="fiche opération",
    )
    etp = models.DecimalField(
        "ETP",
        max_digits=3,
        decimal_places=2,
        help_text="Part d’un temps plein, entre 0 et 1.",
    )
    start = models.DateField("début")
    end = models.DateField("fin", null=True, blank=True)
    zone = models.ForeignKey(
        Zone,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="referent_periods",
        verbose_name="zone",
    )

    objects = NaturalKeyManager.from_queryset(ReferentPeriodQuerySet)()
    history = HistoricalRecords()

    class Meta:
        verbose_name = "période d’ETP"
        verbose_name_plural = "périodes d’ETP"
        ordering = ["referent", "operation", "start"]
        constraints = [
            models.CheckConstraint(
                condition=Q(etp__gt=0, etp__lte=1),
                name="referent_period_etp_in_0_1",
                violation_error_message="L’ETP doit être supérieur à 0 et au plus égal à 1.",
            ),
            models.CheckConstraint(
                condition=Q(end__isnull=True) | Q(end__gte=F("start")),
                name="referent_period_end_after_start",
                violation_error_message="La fin de la période ne peut pas précéder son début.",
            ),
            models.UniqueConstraint(
                fields=["referent", "operation", "start"],
                name="referent_period_unique_start",
                violation_error_message="Une période de ce référent commence déjà à cette date sur cette opération.",
            ),
        ]

    def __str__(self):
        end = f"au {self.end:%d/%m/%Y}" if self.end else "sans date de fin"
        return f"{self.referent} — {french_number(self.etp)} ETP du {self.start:%d/%m/%Y} {end}"

    def get_absolute_url(self):
        return self.referent.get_absolute_url()

    def days_within(self, operation):
        """(first, last) days of this period that count for the fiche `operation` (see `counting_for`)."""
        return max(self.start, operation.start), min(self.end or operation.end, operation.end)


# The proof type that is the identity document: filed as « Pièce d'identité », it serves the audit's identity item too.
IDENTITY_PROOF = "piece-identite"


class ProofType(NaturalKeyMixin, models.Model):
    """A kind of proof the PLIE accepts (attestation de droits au RSA, notification RQTH…) and how long it stays
    valid: a certificate dated more than `validity_months` before the entry does not prove eligibility at entry."""

    NATURAL_KEY = ("plie__slug", "code")

    plie = models.ForeignKey(Plie, on_delete=models.CASCADE, related_name="proof_types", verbose_name="PLIE")
    code = models.SlugField("code", max_length=40)
    label = models.CharField("libellé", max_length=200)
    validity_months = models.PositiveSmallIntegerField(
        "validité (mois)",
        null=True,
        blank=True,
        help_text="La pièce doit être datée de moins de tant de mois à l’entrée ; vide : sans limite.",
    )

    objects = NaturalKeyManager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = "type de justificatif d’éligibilité"
        verbose_name_plural = "types de justificatifs d’éligibilité"
        ordering = ["plie", "label"]
        constraints = [
            models.UniqueConstraint(
                fields=["plie", "code"],
                name="proof_type_code_unique_in_plie",
                violation_error_message="Ce code de justificatif existe déjà dans ce PLIE.",
            ),
        ]

    def __str__(self):
        return self.label

    def valid_for(self, attests_on, entry_date):
        """A proof dated on or before the entry and, if it has a validity, within it."""
        if attests_on is None or attests_on > entry_date:
            return False
        return self.validity_months is None or attests_on >= entry_date - relativedelta(months=self.validity_months)


class EligibilityRule(NaturalKeyMixin, models.Model):
    """One proof a fiche requires: for everyone entering (no criterion), or to hold one of the eligibility criteria
    it accepts. A person is eligible when every general proof is there and one of their criteria the fiche accepts
    is fully proven (participants/eligibility.py)."""

    NATURAL_KEY = ("operation__plie__slug", "operation__code", "operation__start", "criterion", "proof_type__code")

    operation = models.ForeignKey(
        Operation, on_delete=models.CASCADE, related_name="eligibility_rules", verbose_name="fiche opération"
    )
    criterion = models.CharField(
        "critère d’éligibilité",
        max_length=30,
        choices=CRITERIA,
        blank=True,
        help_text="Vide : pièce exigée de toute personne qui entre sur la fiche.",
    )
    proof_type = models.ForeignKey(
        ProofType, on_delete=models.PROTECT, related_name="rules", verbose_name="justificatif exigé"
    )

    objects = NaturalKeyManager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = "règle d’éligibilité"
        verbose_name_plural = "règles d’éligibilité"
        ordering = ["operation", "criterion", "proof_type__label"]
        constraints = [
            models.UniqueConstraint(
                fields=["operation", "criterion", "proof_type"],
                name="eligibility_rule_unique",
                violation_error_message="Cette pièce est déjà exigée pour ce critère sur cette fiche.",
            ),
            models.CheckConstraint(
                condition=Q(criterion="") | Q(criterion__in=[code for code, _ in CRITERIA]),
                name="eligibility_rule_criterion_valid",
                violation_error_message="Critère d’éligibilité inconnu.",
            ),
        ]

    def __str__(self):
        who = self.get_criterion_display() if self.criterion else "Toute entrée"
        return f"{who} : {self.proof_type}"


class StaffProofKind(models.TextChoices):
    TIME_SHEET = "time_sheet", "Fiche de temps"
    PAY_SLIP = "pay_slip", "Bulletin de paie"


def staff_proof_path(proof, filename):
    return f"staff/{proof.period.referent.plie_id}/{uuid.uuid4().hex}"


class StaffTimeProofQuerySet(models.QuerySet):
    def for_user(self, user):
        return self.filter(period__referent__plie__memberships__user=user).distinct()


class StaffTimeProof(models.Model):
    """A month of a referent's ETP period, attested by a time sheet or a pay slip (what the controller asks to
    justify the staff costs charged to the operation)."""

    period = models.ForeignKey(
        ReferentPeriod, on_delete=models.CASCADE, related_name="time_proofs", verbose_name="période d’ETP"
    )
    month = models.DateField("mois", help_text="Le premier jour du mois attesté.")
    kind = models.CharField("nature", max_length=20, choices=StaffProofKind.choices)
    hours = models.DecimalField(
        "heures consacrées à l’opération", max_digits=6, decimal_places=2, null=True, blank=True
    )
    file = models.FileField("fichier", storage=private, upload_to=staff_proof_path, max_length=200)
    original_name = models.CharField("nom du fichier", max_length=200)
    content_type = models.CharField("format", max_length=50)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="déposé par"
    )
    uploaded_at = models.DateTimeField("déposé le", auto_now_add=True)

    objects = StaffTimeProofQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = "justificatif de temps"
        verbose_name_plural = "justificatifs de temps"
        ordering = ["period", "month", "kind"]
        constraints = [
            models.CheckConstraint(
                condition=Q(month__day=1), name="staff_proof_month_first_day", violation_error_message="Un mois."
            ),
            models.UniqueConstraint(
                fields=["period", "month", "kind"],
                name="staff_proof_one_per_month_and_kind",
                violation_error_message="Ce mois a déjà ce justificatif.",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} de {self.month:%m/%Y} — {self.period.referent}"
