import contextlib
import datetime
import functools
import uuid
from typing import NamedTuple

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from simple_history.models import HistoricalRecords

from operations.models import (  # noqa: F401 (ContractType, Modality: the names this app has always exported)
    CRITERIA,
    ContractType,
    ExitReason,
    ExitValidation,
    Modality,
    Operation,
    ProofType,
    Referent,
    WorkingTime,
)
from plie.models import Membership, Plie, Role
from plie.storage import private
from plie.text import fold
from territories.models import Commune, Zone


class Sex(models.TextChoices):
    FEMALE = "F", "Femme"
    MALE = "H", "Homme"
    NON_BINARY = "NB", "Non-binaire"


class Answer(models.TextChoices):
    YES = "yes", "Oui"
    NO = "no", "Non"
    DECLINED = "declined", "Ne souhaite pas répondre"


class Nationality(models.TextChoices):
    FRANCE = "fr", "France"
    EU = "eu", "Union européenne (hors France)"
    OUTSIDE_EU = "non_eu", "Hors Union européenne"
    FRANCE_OR_EU = "fr_or_eu", "France ou Union européenne (sans précision)"
    DECLINED = "declined", "Ne souhaite pas répondre"


class EmploymentStatus(models.TextChoices):
    UNEMPLOYED = "unemployed", "Demandeur d’emploi / sans emploi"
    INACTIVE = "inactive", "Inactif (ni en emploi ni en recherche)"
    EMPLOYED = "employed", "En emploi (y compris indépendant)"
    DECLINED = "declined", "Ne souhaite pas répondre"


QUALIFICATION_LEVELS = [
    (1, "Niveau 1 – sans qualification, savoirs de base"),
    (2, "Niveau 2 – compétences de base"),
    (3, "Niveau 3 – CAP, BEP"),
    (4, "Niveau 4 – baccalauréat"),
    (5, "Niveau 5 – bac + 2 (BTS, DUT)"),
    (6, "Niveau 6 – licence, bachelor"),
    (7, "Niveau 7 – master"),
    (8, "Niveau 8 – doctorat"),
]

# FSE+ common indicators count education by ISCED band; the French level maps onto it (CAP/BEP is ISCED 3).
ISCED_BANDS = {1: "0-2", 2: "0-2", 3: "3-4", 4: "3-4", 5: "5-8", 6: "5-8", 7: "5-8", 8: "5-8"}


LIGATURES = str.maketrans({"œ": "oe", "æ": "ae"})


@functools.lru_cache(maxsize=65536)  # an import folds a hundred thousand names, first names and surnames repeat
def name_key(text):
    """« Lefèvre », « LEFEVRE » and « le-fevre » alike: accents, case, spaces, hyphens and apostrophes dropped."""
    return "".join(c for c in fold(text or "").translate(LIGATURES) if c.isalnum())


def folded_name(last_name, first_name):
    """What `Participant.folded_name` holds, the same on every database: « lefevre helene »."""
    return f"{name_key(last_name)} {name_key(first_name)}"


class ParticipantQuerySet(models.QuerySet):
    def bulk_create(self, objs, *args, **kwargs):
        objs = list(objs)
        for participant in objs:
            participant.folded_name = folded_name(participant.last_name, participant.first_name)
        return super().bulk_create(objs, *args, **kwargs)

    def bulk_update(self, objs, fields, *args, **kwargs):
        objs = list(objs)
        if {"last_name", "first_name"} & set(fields):
            for participant in objs:
                participant.folded_name = folded_name(participant.last_name, participant.first_name)
            fields = [*fields, "folded_name"]
        return super().bulk_update(objs, fields, *args, **kwargs)

    def refold(self):
        """Recomputes the folded names of these rows after a write that bypassed the model (SQL, COPY)."""
        stale = [
            Participant(pk=pk, folded_name=folded_name(last, first))
            for pk, last, first, current in self.values_list("pk", "last_name", "first_name", "folded_name")
            if current != folded_name(last, first)
        ]
        Participant.objects.bulk_update(stale, ["folded_name"], batch_size=1000)
        return len(stale)

    def search(self, query):
        """Every word found in the folded name (« helene » finds Hélène, « lefevre » Lefèvre), or the Viesion
        identifier, or the birth date (31/12/1980)."""
        by_name = Q()
        for word in query.split():
            if key := name_key(word):
                by_name &= Q(folded_name__contains=key)
        condition = Q(external_id__iexact=query.strip())
        if by_name:
            condition |= by_name
        with contextlib.suppress(ValueError):
            condition |= Q(birth_date=datetime.datetime.strptime(query.strip(), "%d/%m/%Y").date())
        return self.filter(condition)

    def same_person(self, *, plie, last_name, first_name, birth_date):
        return self.filter(plie=plie, folded_name=folded_name(last_name, first_name), birth_date=birth_date)

    def in_use(self):
        """People whose file is worked on: not archived after two years without contact, processing not restricted."""
        return self.filter(archived_at__isnull=True, restricted_at__isnull=True)

    def for_user(self, user):
        """Animation and admin: the whole PLIE. Referents: the people whose current parcours is assigned to them.
        Copil: nobody (they read aggregates only). Archived or restricted people are in nobody's working set: the
        admin reads them, read-only, through `archive_for_user`."""
        team = Q(plie__memberships__user=user, plie__memberships__role__in=[Role.ADMIN, Role.ANIMATION])
        followed = Q(
            pk__in=Parcours.objects.assigned_to_user(user).values("participant_id"),
            plie__in=Membership.objects.filter(user=user, role=Role.REFERENT).values("plie_id"),
        )
        return self.in_use().filter(team | followed).distinct()

    def archive_for_user(self, user):
        """The archive (archived or restricted people) of the PLIEs where the user is admin; nothing for others."""
        withdrawn = Q(archived_at__isnull=False) | Q(restricted_at__isnull=False)
        admin_of = Membership.objects.filter(user=user, role=Role.ADMIN).values("plie_id")
        return self.filter(withdrawn, plie__in=admin_of).distinct()


class Participant(models.Model):
    # No index of its own: the indexes below and the external id's uniqueness all lead with the PLIE.
    plie = models.ForeignKey(
        Plie, on_delete=models.PROTECT, related_name="participants", verbose_name="PLIE", db_index=False
    )
    external_id = models.CharField("identifiant Viesion", max_length=50, blank=True)
    last_name = models.CharField("nom", max_length=100)
    first_name = models.CharField("prénom", max_length=100)
    # Derived from the names on every write (save, bulk_create, bulk_update, refold): search and the duplicate check
    # compare it, indexed, with the same result on SQLite and PostgreSQL.
    folded_name = models.CharField("nom normalisé", max_length=201, editable=False, default="")
    sex = models.CharField("sexe", max_length=2, choices=Sex.choices)
    birth_date = models.DateField("date de naissance")
    email = models.EmailField("e-mail", blank=True)
    phone = models.CharField("téléphone", max_length=30, blank=True)
    address = models.CharField("adresse", max_length=250, blank=True)
    postal_code = models.CharField("code postal", max_length=5, blank=True)
    commune = models.ForeignKey(
        Commune,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="commune",
        db_index=False,  # a plain index below: no « LIKE » index on a code matched only whole
    )
    qualification_level = models.PositiveSmallIntegerField(
        "niveau de qualification", choices=QUALIFICATION_LEVELS, null=True, blank=True
    )
    qualification_declined = models.BooleanField("ne souhaite pas indiquer son niveau de qualification", default=False)
    questionnaire_date = models.DateField(
        "questionnaire d’entrée FSE+ rempli le",
        null=True,
        blank=True,
        help_text="Sa copie signée se dépose dans les justificatifs (« Questionnaire d’entrée FSE+ »).",
    )
    employment_status = models.CharField(
        "situation à l’entrée", max_length=20, choices=EmploymentStatus.choices, blank=True
    )
    unemployed_since = models.DateField("sans emploi depuis", null=True, blank=True)
    rsa = models.BooleanField(CRITERIA[0][1], default=False)
    deld = models.BooleanField(CRITERIA[1][1], default=False)
    detld = models.BooleanField(CRITERIA[2][1], default=False)
    rqth = models.BooleanField(CRITERIA[3][1], default=False)
    qpv = models.BooleanField(CRITERIA[4][1], default=False)
    senior = models.BooleanField(CRITERIA[5][1], default=False)
    young = models.BooleanField(CRITERIA[6][1], default=False)
    low_qualification = models.BooleanField(CRITERIA[7][1], default=False)
    bpi = models.BooleanField(CRITERIA[8][1], default=False)
    single_parent = models.BooleanField(CRITERIA[9][1], default=False)
    badly_housed = models.BooleanField(CRITERIA[10][1], default=False)
    other_criterion = models.BooleanField(CRITERIA[11][1], default=False)
    other_criterion_detail = models.CharField("précision sur l’autre critère", max_length=200, blank=True)
    disability = models.CharField("situation de handicap", max_length=10, choices=Answer.choices, blank=True)
    nationality = models.CharField("nationalité", max_length=10, choices=Nationality.choices, blank=True)
    foreign_background = models.CharField(
        "origine étrangère",
        max_length=10,
        choices=Answer.choices,
        blank=True,
        help_text="Au moins un parent né à l’étranger.",
    )
    homeless = models.CharField(
        "sans domicile ou exclusion du logement", max_length=10, choices=Answer.choices, blank=True
    )
    dependent_children = models.PositiveSmallIntegerField("enfants à charge", null=True, blank=True)
    created_at = models.DateTimeField("créé le", auto_now_add=True)
    archived_at = models.DateTimeField("archivé le", null=True, blank=True)
    archived_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="archivé par",
        help_text="Vide quand l’archivage vient de la tâche de conservation.",
    )
    anonymised_at = models.DateTimeField("anonymisé le", null=True, blank=True)
    restricted_at = models.DateTimeField("traitement limité le", null=True, blank=True)
    restricted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="limitation décidée par",
    )
    legal_hold = models.BooleanField(
        "gel des données (contentieux en cours)",
        default=False,
        help_text="Tant qu’il est coché, le dossier n’est ni archivé, ni anonymisé, ni effacé.",
    )

    objects = ParticipantQuerySet.as_manager()
    # History tables keep no index on the foreign keys they copy: they are written by every import and read by object
    # (id), or by participant or parcours for the participant's history page (those indexes stay).
    history = HistoricalRecords(no_db_index=["plie", "commune", "archived_by", "restricted_by"])

    class Meta:
        verbose_name = "participant"
        verbose_name_plural = "participants"
        ordering = ["last_name", "first_name"]
        indexes = [
            models.Index(fields=["plie", "last_name", "first_name"]),
            models.Index(fields=["plie", "folded_name", "birth_date"], name="participant_folded_name"),
            models.Index(fields=["plie", "birth_date"]),
            models.Index(fields=["commune"], name="participant_commune"),
        ]
        constraints = [
            # The target of the parcours' (participant, plie) foreign key (migration 0014): a parcours belongs to
            # its participant's PLIE.
            models.UniqueConstraint(fields=["id", "plie"], name="participant_id_plie"),
            models.UniqueConstraint(
                fields=["plie", "external_id"],
                condition=~Q(external_id=""),
                name="participant_external_id_unique_in_plie",
                violation_error_message="Un participant porte déjà cet identifiant Viesion dans ce PLIE.",
            ),
            models.CheckConstraint(
                condition=Q(anonymised_at__isnull=True)
                | Q(archived_at__isnull=False, anonymised_at__gte=F("archived_at")),
                name="participant_anonymised_after_archived",
                violation_error_message="Un dossier est archivé avant d’être anonymisé.",
            ),
        ]

    def __str__(self):
        return f"{self.last_name.upper()} {self.first_name}"

    def save(self, *args, update_fields=None, **kwargs):
        self.folded_name = folded_name(self.last_name, self.first_name)
        if update_fields is not None and {"last_name", "first_name"} & set(update_fields):
            update_fields = {*update_fields, "folded_name"}
        super().save(*args, update_fields=update_fields, **kwargs)

    def get_absolute_url(self):
        return reverse("participant_detail", args=[self.pk])

    @property
    def is_withdrawn(self):
        """Archived or restricted: out of everyday work, read by the PLIE admin only."""
        return self.archived_at is not None or self.restricted_at is not None

    @property
    def isced_band(self):
        return ISCED_BANDS.get(self.qualification_level)

    @property
    def zone(self):
        """The zone the fiche's map gives this address (territories.Zone.objects.for_address)."""
        return Zone.objects.for_address(self.plie, self.commune, self.address, qpv=self.qpv)

    def age_on(self, day):
        return day.year - self.birth_date.year - ((day.month, day.day) < (self.birth_date.month, self.birth_date.day))

    @property
    def age(self):
        return self.age_on(timezone.localdate())

    @property
    def criteria(self):
        return [label for field, label in CRITERIA if getattr(self, field)]


class Prescriber(models.TextChoices):
    FRANCE_TRAVAIL = "france_travail", "France Travail"
    DEPARTEMENT = "departement", "Département"
    CCAS = "ccas", "CCAS"
    MISSION_LOCALE = "mission_locale", "Mission Locale"
    SIAE = "siae", "Structure d’insertion par l’activité économique (SIAE)"
    CHRS = "chrs", "CHRS"
    CAP_EMPLOI = "cap_emploi", "Cap emploi"
    ASSOCIATION = "association", "Association"
    SPONTANEOUS = "spontaneous", "Candidature spontanée"
    OTHER = "other", "Autre"


class ReceptionKind(models.TextChoices):
    INFO_SESSION = "info_collective", "Information collective"
    INTERVIEW = "entretien_accueil", "Entretien d’accueil"


class Status(models.TextChoices):
    PRESCRIBED = "prescribed", "Prescrit"
    RECEIVED = "received", "Accueilli"
    POSTPONED = "postponed", "Ajourné en commission"
    REFUSED = "refused", "Refusé en commission"
    ACCEPTED = "accepted", "Admis en commission"
    ACTIVE = "active", "En parcours"
    FOLLOW_UP = "follow_up", "Suivi dans l’emploi"
    EXIT_PENDING = "exit_pending", "Sortie à valider"
    EXITED = "exited", "Sorti"


OPEN_STATUSES = [Status.ACTIVE, Status.FOLLOW_UP, Status.EXIT_PENDING]


class StepStatus(models.TextChoices):
    """Where a step of a parcours stands (steps.models.Step.status). Defined here, below steps, because the alerts of
    a parcours read it (participants/alerts.py); steps.models imports it from here."""

    PROPOSED = "proposed", "Proposée"
    IN_PROGRESS = "in_progress", "En cours"
    DONE = "done", "Réalisée"
    ABANDONED = "abandoned", "Abandonnée"


RUNNING_STEP_STATUSES = [StepStatus.PROPOSED, StepStatus.IN_PROGRESS]


class Action(NamedTuple):
    label: str
    url_name: str
    statuses: frozenset
    team_only: bool = True  # the animation team (and the admin); the others only for the parcours assigned to them
    style: str = "btn-outline-primary"
    post: bool = False


# What may be done to a parcours in each state, in one place: the write functions refuse anything else
# (participants.services, steps.services) and the pages offer exactly these, in this order.
PARCOURS_ACTIONS = {
    "reception": Action(
        "Enregistrer l’accueil", "parcours_reception", frozenset({Status.PRESCRIBED}), style="btn-primary"
    ),
    "commission": Action(
        "Décision de commission",
        "parcours_commission",
        frozenset({Status.RECEIVED, Status.POSTPONED}),
        style="btn-primary",
    ),
    "integration": Action(
        "Intégrer (contrat d’engagement)", "parcours_integration", frozenset({Status.ACCEPTED}), style="btn-primary"
    ),
    "assignment": Action("Changer de référent", "parcours_assignment", frozenset(OPEN_STATUSES)),
    "validate_exit": Action(
        "Vérifier et valider la sortie",
        "parcours_validate_exit",
        frozenset({Status.EXIT_PENDING}),
        style="btn-outline-success",
    ),
    "step": Action(
        "Positionner sur une étape",
        "step_create",
        frozenset({Status.ACTIVE, Status.FOLLOW_UP}),
        team_only=False,
        style="btn-primary",
    ),
    "employment": Action(
        "Emploi trouvé", "parcours_employment", frozenset({Status.ACTIVE, Status.FOLLOW_UP}), team_only=False
    ),
    "exit": Action(
        "Sortie",
        "parcours_exit",
        frozenset({Status.ACTIVE, Status.FOLLOW_UP}),
        team_only=False,
        style="btn-outline-danger",
    ),
}


class OfParticipantQuerySet(models.QuerySet):
    """Rows about a participant: visible exactly when the participant is."""

    def for_user(self, user):
        return self.filter(participant__in=Participant.objects.for_user(user))


class ParcoursQuerySet(OfParticipantQuerySet):
    def followed_by(self, user):
        """The whole PLIE for its animation team and admin; for a referent, only the parcours assigned to them now."""
        team = Q(
            participant__plie__memberships__user=user,
            participant__plie__memberships__role__in=[Role.ADMIN, Role.ANIMATION],
        )
        followed = Q(
            pk__in=self.model.objects.assigned_to_user(user).values("pk"),
            participant__plie__in=Membership.objects.filter(user=user, role=Role.REFERENT).values("plie_id"),
        )
        in_use = Q(participant__archived_at__isnull=True, participant__restricted_at__isnull=True)
        return self.filter(in_use, team | followed).distinct()

    def in_use(self):
        """Parcours of people in everyday work: lists and queues leave out the archive and restricted files."""
        return self.filter(participant__archived_at__isnull=True, participant__restricted_at__isnull=True)

    def assigned_to_user(self, user):
        """Parcours whose current assignment is to a referent profile of this user."""
        return self.filter(assignments__referent__user=user, assignments__end__isnull=True)

    def active_on(self, day):
        return self.active_between(day, day)

    def active_between(self, start, end):
        """Parcours active on at least one day of [start, end]."""
        return self.filter(entry_date__lte=end).filter(Q(exit_date__isnull=True) | Q(exit_date__gte=start))


class Parcours(models.Model):
    """One enrolment of a participant, from prescription to exit. Dates record each stage; status says where it is."""

    participant = models.ForeignKey(
        Participant, on_delete=models.PROTECT, related_name="parcours", verbose_name="participant"
    )
    # The participant's PLIE, so that reports read one PLIE's rows first (participants/attribution.py). The
    # database keeps it equal to the participant's (migration 0014); steps carry it too.
    plie = models.ForeignKey(Plie, on_delete=models.PROTECT, related_name="+", editable=False, db_index=False)
    operation = models.ForeignKey(
        Operation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="parcours",
        verbose_name="fiche opération",
    )
    external_id = models.CharField("identifiant Viesion du parcours", max_length=50, blank=True)
    status = models.CharField("étape du parcours", max_length=20, choices=Status.choices, default=Status.PRESCRIBED)
    prescriber = models.CharField("prescripteur", max_length=30, choices=Prescriber.choices)
    prescriber_detail = models.CharField("précision sur le prescripteur", max_length=200, blank=True)
    prescription_date = models.DateField("date de prescription")
    reception_date = models.DateField("date d’accueil", null=True, blank=True)
    reception_kind = models.CharField("modalité d’accueil", max_length=30, choices=ReceptionKind.choices, blank=True)
    entry_date = models.DateField("date d’entrée (contrat d’engagement signé)", null=True, blank=True)
    job_start = models.DateField("début de l’emploi", null=True, blank=True)
    contract_type = models.CharField("type de contrat", max_length=20, choices=ContractType.choices, blank=True)
    exit_date = models.DateField("date de sortie", null=True, blank=True)
    exit_reason = models.ForeignKey(
        ExitReason,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="parcours",
        verbose_name="motif de sortie",
    )
    # What the fiche's exit definitions judge (operations.ExitReason's conditions).
    contract_months = models.DecimalField(
        "durée du contrat (mois)",
        max_digits=4,
        decimal_places=1,
        null=True,
        blank=True,
        help_text="Vide pour un CDI ou une création d’entreprise.",
    )
    working_time = models.CharField("temps de travail", max_length=20, choices=WorkingTime.choices, blank=True)
    months_in_year = models.PositiveSmallIntegerField(
        "mois travaillés sur l’année", null=True, blank=True, help_text="Pour le travail saisonnier."
    )
    training_validated_on = models.DateField("formation validée le", null=True, blank=True)
    eligibility_basis = models.CharField(
        "éligibilité vérifiée sur",
        max_length=30,
        blank=True,
        help_text="Le critère prouvé à l’intégration, « general », ou « derogation » ; vide pour un parcours importé.",
    )
    fse_notice_on = models.DateField(
        "notice d’information FSE+ remise le",
        null=True,
        blank=True,
        help_text="Le participant est informé du concours du FSE+ à son parcours.",
    )
    contract_signed_by_participant_on = models.DateField(
        "contrat d’engagement signé par le participant le", null=True, blank=True
    )
    contract_signed_by_referent_on = models.DateField(
        "contrat d’engagement signé par le référent le", null=True, blank=True
    )
    contract_signed_by_direction_on = models.DateField(
        "contrat d’engagement signé par la direction du PLIE le", null=True, blank=True
    )
    exit_validated_at = models.DateTimeField("sortie validée le", null=True, blank=True)
    exit_validated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="sortie validée par",
    )
    created_at = models.DateTimeField("créé le", auto_now_add=True)

    objects = ParcoursQuerySet.as_manager()
    history = HistoricalRecords(no_db_index=["plie", "operation", "exit_reason", "exit_validated_by"])

    class Meta:
        verbose_name = "parcours"
        verbose_name_plural = "parcours"
        ordering = ["-prescription_date", "-pk"]
        indexes = [models.Index(fields=["plie", "entry_date"]), models.Index(fields=["plie", "exit_date"])]
        constraints = [
            models.UniqueConstraint(fields=["id", "plie"], name="parcours_id_plie"),
            models.CheckConstraint(
                condition=Q(exit_date__isnull=True) | Q(entry_date__isnull=False, exit_date__gte=F("entry_date")),
                name="parcours_exit_after_entry",
                violation_error_message="La sortie ne peut pas précéder l’entrée dans le parcours.",
            ),
            models.CheckConstraint(
                condition=Q(entry_date__isnull=True) | Q(entry_date__gte=F("prescription_date")),
                name="parcours_entry_after_prescription",
                violation_error_message="L’entrée ne peut pas précéder la prescription.",
            ),
            models.CheckConstraint(
                condition=Q(exit_date__isnull=True) | Q(exit_reason__isnull=False),
                name="parcours_exit_has_reason",
                violation_error_message="Une sortie doit avoir un motif.",
            ),
            models.CheckConstraint(
                condition=Q(months_in_year__isnull=True) | Q(months_in_year__range=(1, 12)),
                name="parcours_months_in_year_1_12",
                violation_error_message="Le nombre de mois travaillés sur l’année est compris entre 1 et 12.",
            ),
            models.CheckConstraint(
                condition=Q(status__in=Status.values),
                name="parcours_status_valid",
                violation_error_message="Étape de parcours inconnue.",
            ),
        ]

    def __str__(self):
        start = self.entry_date or self.prescription_date
        return f"Parcours de {self.participant} ({start:%d/%m/%Y})"

    def save(self, *args, **kwargs):
        if self.plie_id is None:
            self.plie_id = self.participant.plie_id
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return self.participant.get_absolute_url()

    def referent_on(self, day):
        assignment = (
            self.assignments.filter(start__lte=day)
            .filter(Q(end__isnull=True) | Q(end__gte=day))
            .select_related("referent")
            .first()
        )
        return assignment.referent if assignment else None

    @property
    def follow_up_due_on(self):
        """When the follow-up that validates the exit ends: six months after the job (or the business creation)
        started, or the training's validation when the exit reason is validated by it (Technowest, Sources)."""
        validation = self.exit_reason.validation if self.exit_reason_id else ExitValidation.EMPLOYMENT
        if validation == ExitValidation.TRAINING:
            return self.training_validated_on
        if validation == ExitValidation.AT_ONCE or self.job_start is None:
            return None
        return self.job_start + relativedelta(months=6)

    @property
    def review_due_on(self):
        """The point de situation some fiches ask for (24 months after entry at the Graves and Hauts de Garonne)."""
        months = self.operation.review_after_months if self.operation else None
        return self.entry_date + relativedelta(months=months) if months and self.entry_date else None

    CONTRACT_SIGNATURES = [
        ("contract_signed_by_participant_on", "le participant"),
        ("contract_signed_by_referent_on", "le référent"),
        ("contract_signed_by_direction_on", "la direction du PLIE"),
    ]

    @property
    def waiver(self):
        """The direction's signed exception to the eligibility proofs, if any (EligibilityWaiver)."""
        return getattr(self, "eligibility_waiver", None)

    @property
    def missing_contract_signatures(self):
        return [who for field, who in self.CONTRACT_SIGNATURES if getattr(self, field) is None]

    def is_active_on(self, day):
        return (
            self.entry_date is not None and self.entry_date <= day and (self.exit_date is None or day <= self.exit_date)
        )

    def allows(self, action):
        return self.status in PARCOURS_ACTIONS[action].statuses

    def offered_actions(self, is_team):
        """The actions of PARCOURS_ACTIONS this parcours is in a state for, as (name, action) pairs for a page."""
        return [
            (name, action)
            for name, action in PARCOURS_ACTIONS.items()
            if self.status in action.statuses and (is_team or not action.team_only)
        ]


class CommissionOutcome(models.TextChoices):
    ACCEPTED = "accepted", "Admis"
    REFUSED = "refused", "Refusé"
    POSTPONED = "postponed", "Ajourné"


class CommissionDecision(models.Model):
    parcours = models.ForeignKey(Parcours, on_delete=models.CASCADE, related_name="decisions", verbose_name="parcours")
    date = models.DateField("date de la commission")
    outcome = models.CharField("décision", max_length=20, choices=CommissionOutcome.choices)
    reason = models.TextField("motif", blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="enregistrée par"
    )
    recorded_at = models.DateTimeField("enregistrée le", auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "décision de commission"
        verbose_name_plural = "décisions de commission"
        ordering = ["parcours", "date", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(outcome="accepted") | ~Q(reason=""),
                name="commission_refusal_has_reason",
                violation_error_message="Un refus ou un ajournement doit être motivé.",
            ),
        ]

    def __str__(self):
        return f"{self.get_outcome_display()} le {self.date:%d/%m/%Y}"


class AssignmentReason(models.TextChoices):
    INTEGRATION = "integration", "Intégration"
    ABSENCE = "absence", "Absence du référent"
    REBALANCING = "rebalancing", "Rééquilibrage des portefeuilles"
    ZONE = "zone", "Changement de zone"
    DEPARTURE = "departure", "Départ du référent"
    OTHER = "other", "Autre"


class ReferentAssignment(models.Model):
    parcours = models.ForeignKey(
        Parcours, on_delete=models.CASCADE, related_name="assignments", verbose_name="parcours"
    )
    referent = models.ForeignKey(
        Referent, on_delete=models.PROTECT, related_name="assignments", verbose_name="référent", db_index=False
    )
    start = models.DateField("début")
    end = models.DateField("fin", null=True, blank=True)
    reason = models.CharField("motif", max_length=20, choices=AssignmentReason.choices)
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+", verbose_name="affecté par"
    )

    history = HistoricalRecords(no_db_index=["referent", "assigned_by"])

    class Meta:
        verbose_name = "affectation à un référent"
        verbose_name_plural = "affectations à un référent"
        ordering = ["parcours", "start", "pk"]
        # Covering: attribution reads a fiche's referents' assignments from the index alone
        # (participants/attribution.py).
        indexes = [
            models.Index(fields=["referent"], include=["parcours", "start", "end"], name="assignment_referent_covering")
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(end__isnull=True) | Q(end__gte=F("start")),
                name="assignment_end_after_start",
                violation_error_message="La fin de l’affectation ne peut pas précéder son début.",
            ),
            models.UniqueConstraint(
                fields=["parcours"],
                condition=Q(end__isnull=True),
                name="assignment_one_current_per_parcours",
                violation_error_message="Ce parcours a déjà un référent en cours.",
            ),
        ]

    def __str__(self):
        return f"{self.referent} depuis le {self.start:%d/%m/%Y}"


class Education(models.TextChoices):
    ISCED_0_2 = "0-2", "CITE 0 à 2"
    ISCED_3_4 = "3-4", "CITE 3 ou 4"
    ISCED_5_8 = "5-8", "CITE 5 à 8"
    DECLINED = "declined", "Ne souhaite pas répondre"


class ParticipationQuerySet(OfParticipantQuerySet):
    def entered_between(self, start, end):
        return self.filter(entry_date__range=(start, end))

    def left_between(self, start, end, today):
        """Left the fiche in [start, end]: the last attributed day is in it and in the past (fse.md)."""
        return self.filter(last_day__range=(start, end), last_day__lt=today)

    def left_before(self, today):
        return self.filter(last_day__lt=today)


class Participation(models.Model):
    """One participant in one fiche opération, as the FSE+ counts them (shared/spec/fse.md). The dates follow the
    days attributed to the fiche and are kept up to date by `participations.sync_participations`; the entry situation
    is copied from the participant's FSE+ questionnaire while the fiche runs, then frozen, so that a correction of the
    file never moves a closed year; a correction of the participation itself is audited (history)."""

    # No index of their own: the unique (participant, operation) index and the two (operation, date) indexes below
    # lead with them. Each index is written again for every participation an import or a sync creates.
    participant = models.ForeignKey(
        Participant,
        on_delete=models.CASCADE,
        related_name="participations",
        verbose_name="participant",
        db_index=False,
    )
    operation = models.ForeignKey(
        Operation,
        on_delete=models.CASCADE,
        related_name="participations",
        verbose_name="fiche opération",
        db_index=False,
    )
    entry_date = models.DateField("entrée dans l’opération")
    last_day = models.DateField(
        "dernier jour dans l’opération", help_text="Date de sortie de l’opération une fois ce jour passé."
    )
    referent = models.ForeignKey(
        Referent, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name="référent (dernier jour)"
    )
    sex = models.CharField("sexe", max_length=2, choices=Sex.choices)
    age_at_entry = models.PositiveSmallIntegerField("âge à l’entrée")
    employment_status = models.CharField(
        "situation à l’entrée", max_length=20, choices=EmploymentStatus.choices, blank=True
    )
    unemployed_since = models.DateField("sans emploi depuis", null=True, blank=True)
    long_term_unemployed = models.BooleanField("chômeur de longue durée à l’entrée", null=True)
    education = models.CharField("niveau d’éducation (CITE)", max_length=10, choices=Education.choices, blank=True)
    disability = models.CharField("situation de handicap", max_length=10, choices=Answer.choices, blank=True)
    nationality = models.CharField("nationalité", max_length=10, choices=Nationality.choices, blank=True)
    foreign_background = models.CharField("origine étrangère", max_length=10, choices=Answer.choices, blank=True)
    homeless = models.CharField(
        "sans domicile ou exclusion du logement", max_length=10, choices=Answer.choices, blank=True
    )
    commune = models.ForeignKey(
        Commune,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="commune",
        db_index=False,  # a plain index below: no « LIKE » index on a code matched only whole
    )
    situation_corrected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="situation d’entrée corrigée par",
    )
    exit_job_searching = models.CharField(
        "en recherche d’emploi à la sortie", max_length=10, choices=Answer.choices, blank=True
    )
    exit_training = models.CharField(
        "en études ou en formation à la sortie", max_length=10, choices=Answer.choices, blank=True
    )
    exit_qualification = models.CharField(
        "a obtenu une qualification à la sortie", max_length=10, choices=Answer.choices, blank=True
    )
    exit_employment = models.CharField(
        "en emploi (y compris indépendant) à la sortie", max_length=10, choices=Answer.choices, blank=True
    )
    exit_recorded_at = models.DateTimeField("situation de sortie saisie le", null=True, blank=True)
    exit_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="situation de sortie saisie par",
    )

    objects = ParticipationQuerySet.as_manager()
    history = HistoricalRecords(
        no_db_index=["participant", "operation", "referent", "commune", "situation_corrected_by", "exit_recorded_by"]
    )

    EXIT_FIELDS = ["exit_job_searching", "exit_training", "exit_qualification", "exit_employment"]

    class Meta:
        verbose_name = "participation à une opération"
        verbose_name_plural = "participations aux opérations"
        ordering = ["operation", "entry_date", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["participant", "operation"],
                name="participation_one_per_operation",
                violation_error_message="Un participant n’a qu’une participation par opération.",
            ),
            models.CheckConstraint(
                condition=Q(last_day__gte=F("entry_date")),
                name="participation_last_day_after_entry",
                violation_error_message="La sortie de l’opération ne peut pas précéder l’entrée.",
            ),
        ]
        indexes = [
            models.Index(fields=["operation", "entry_date"]),
            models.Index(fields=["operation", "last_day"]),
            models.Index(fields=["commune"], name="participation_commune"),
        ]

    def __str__(self):
        return f"{self.participant} — {self.operation.code} {self.operation.years}"

    def exit_date(self, today):
        return self.last_day if self.last_day < today else None

    @property
    def exit_recorded(self):
        return self.exit_recorded_at is not None


class Entretien(models.Model):
    participant = models.ForeignKey(
        Participant,
        on_delete=models.CASCADE,
        related_name="entretiens",
        verbose_name="participant",
        db_index=False,  # the (participant, date) index below leads with it
    )
    parcours = models.ForeignKey(Parcours, on_delete=models.CASCADE, related_name="entretiens", verbose_name="parcours")
    referent = models.ForeignKey(
        Referent, on_delete=models.PROTECT, null=True, blank=True, related_name="entretiens", verbose_name="référent"
    )
    external_id = models.CharField("identifiant Viesion", max_length=50, blank=True)
    date = models.DateField("date")
    modality = models.CharField("modalité", max_length=20, choices=Modality.choices, default=Modality.IN_PERSON)
    duration = models.PositiveSmallIntegerField("durée (minutes)", null=True, blank=True)
    summary = models.TextField(
        "compte rendu",
        blank=True,
        help_text="Restez factuel : la personne peut demander à lire ce qui est écrit sur elle (CNIL).",
    )
    signed = models.BooleanField("feuille d’émargement signée", default=False)
    next_appointment = models.DateField("prochain rendez-vous", null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+", verbose_name="saisi par"
    )
    created_at = models.DateTimeField("saisi le", auto_now_add=True)

    objects = OfParticipantQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = "entretien"
        verbose_name_plural = "entretiens"
        ordering = ["-date", "-pk"]
        indexes = [models.Index(fields=["participant", "date"])]

    def __str__(self):
        return f"Entretien {self.get_modality_display().lower()} du {self.date:%d/%m/%Y}"


class DocumentKind(models.TextChoices):
    CONTRACT = "contrat_engagement", "Contrat d’engagement"
    QUESTIONNAIRE = "questionnaire_fse", "Questionnaire d’entrée FSE+ signé"
    IDENTITY = "piece_identite", "Pièce d’identité"
    ELIGIBILITY = "preuve_eligibilite", "Preuve d’éligibilité"
    PRESCRIPTION = "fiche_prescription", "Fiche de prescription"
    ATTENDANCE = "emargement", "Feuille d’émargement"
    EMPLOYMENT_CONTRACT = "contrat_travail", "Contrat de travail"
    CERTIFICATE = "attestation", "Attestation (emploi, formation, stage…)"
    CONVENTION = "convention", "Convention (PMSMP, stage, formation)"
    ASSESSMENT = "bilan", "Bilan (de stage, de PMSMP, d’action)"
    DIPLOMA = "diplome", "Certificat ou diplôme"
    CORRESPONDENCE = "courrier", "Courrier ou e-mail"
    FSE_NOTICE = "notice_fse", "Notice d’information FSE+ signée"
    WAIVER = "derogation", "Dérogation d’éligibilité signée par la direction du PLIE"
    OTHER = "autre", "Autre justificatif"


def document_path(document, filename):
    # The name on disk says nothing about the person; the original name is kept in the database.
    return f"{document.participant.plie_id}/{document.participant_id}/{uuid.uuid4().hex}"


class Document(models.Model):
    participant = models.ForeignKey(
        Participant, on_delete=models.CASCADE, related_name="documents", verbose_name="participant"
    )
    parcours = models.ForeignKey(
        Parcours, on_delete=models.CASCADE, null=True, blank=True, related_name="documents", verbose_name="parcours"
    )
    entretien = models.ForeignKey(
        Entretien, on_delete=models.CASCADE, null=True, blank=True, related_name="documents", verbose_name="entretien"
    )
    kind = models.CharField("type de justificatif", max_length=30, choices=DocumentKind.choices)
    proof_type = models.ForeignKey(
        ProofType,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="documents",
        verbose_name="justificatif d’éligibilité",
        help_text="Pour une preuve d’éligibilité : la pièce de la liste du PLIE qu’est ce document.",
    )
    attests_on = models.DateField(
        "date du document",
        null=True,
        blank=True,
        help_text="La date qu’il atteste (date de l’attestation, de la signature…) ; c’est elle qui compte au contrôle.",
    )
    file = models.FileField("fichier", storage=private, upload_to=document_path, max_length=200)
    original_name = models.CharField("nom du fichier", max_length=200)
    content_type = models.CharField("format", max_length=50)
    size = models.PositiveIntegerField("taille (octets)")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="déposé par"
    )
    uploaded_at = models.DateTimeField("déposé le", auto_now_add=True)

    objects = OfParticipantQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = "justificatif"
        verbose_name_plural = "justificatifs"
        ordering = ["-uploaded_at"]

    def __str__(self):
        return f"{self.get_kind_display()} — {self.original_name}"

    def get_absolute_url(self):
        return reverse("document_download", args=[self.pk])


class EligibilityWaiver(models.Model):
    """A documented exception: the PLIE direction signs that a person enters although a proof is missing; the signed
    letter is kept as the proof (a Document of kind « dérogation »)."""

    parcours = models.OneToOneField(
        Parcours, on_delete=models.CASCADE, related_name="eligibility_waiver", verbose_name="parcours"
    )
    reason = models.TextField("motif de la dérogation")
    signatory = models.CharField("signée par (direction du PLIE)", max_length=150)
    signed_on = models.DateField("signée le")
    document = models.ForeignKey(Document, on_delete=models.PROTECT, related_name="+", verbose_name="dérogation signée")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="enregistrée par"
    )
    recorded_at = models.DateTimeField("enregistrée le", auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "dérogation d’éligibilité"
        verbose_name_plural = "dérogations d’éligibilité"
        constraints = [
            models.CheckConstraint(
                condition=~Q(reason=""), name="waiver_has_reason", violation_error_message="Indiquez le motif."
            ),
        ]

    def __str__(self):
        return f"Dérogation signée par {self.signatory} le {self.signed_on:%d/%m/%Y}"


class FileAccess(models.Model):
    """Every opening of a participant file, and every page or export that lists people (searches, lists, the Django
    admin), for the audit trail. A list names no participant here: only its PLIE, its page and how many it showed,
    never what was searched."""

    participant = models.ForeignKey(
        Participant,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="accesses",
        verbose_name="participant",
    )
    plie = models.ForeignKey(
        Plie, on_delete=models.CASCADE, null=True, blank=True, related_name="+", verbose_name="PLIE"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="utilisateur"
    )
    at = models.DateTimeField("le", auto_now_add=True)
    what = models.CharField("consultation", max_length=50, default="fiche")
    detail = models.CharField("précision", max_length=200, blank=True)

    class Meta:
        verbose_name = "consultation d’un dossier"
        verbose_name_plural = "consultations de dossiers"
        ordering = ["-at"]

    def __str__(self):
        about = self.participant or self.detail or self.plie or "—"
        return f"{self.user} — {about} ({self.what}) le {self.at:%d/%m/%Y %H:%M}"


def record_access(*, user, what, participant=None, plie=None, detail=""):
    """One line of the consultation journal (see FileAccess)."""
    return FileAccess.objects.create(
        participant=participant,
        plie_id=plie.pk if plie is not None else participant and participant.plie_id,
        user=user,
        what=what,
        detail=detail[:200],
    )


class ErasureKind(models.TextChoices):
    ERASURE = "erasure", "Effacement (art. 17 RGPD)"
    RESTRICTION = "restriction", "Limitation du traitement (art. 18 RGPD)"
    LIFT = "lift", "Levée de la limitation (art. 18.3 RGPD)"


class ErasureRecord(models.Model):
    """The journal of erasures and restrictions. It holds no personal data, only keyed hashes of who was concerned,
    so that `replay_erasures` finds them again if a backup brings them back. Copied to ERASURE_JOURNAL_PATH."""

    uuid = models.UUIDField("identifiant", default=uuid.uuid4, unique=True, editable=False)
    plie = models.ForeignKey(Plie, on_delete=models.PROTECT, related_name="erasure_records", verbose_name="PLIE")
    kind = models.CharField("nature", max_length=20, choices=ErasureKind.choices)
    identity_hash = models.CharField("empreinte de l’identité", max_length=64)
    external_id_hash = models.CharField("empreinte de l’identifiant Viesion", max_length=64, blank=True)
    recorded_at = models.DateTimeField("enregistré le", default=timezone.now)
    reason = models.CharField("motif", max_length=200)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+", verbose_name="décidé par"
    )
    documents_deleted = models.PositiveIntegerField(
        "documents supprimés",
        default=0,
        help_text="Bilans conservés avec leur annexe nominative qui nommaient la personne, supprimés avec elle.",
    )

    class Meta:
        verbose_name = "effacement ou limitation"
        verbose_name_plural = "journal des effacements et limitations"
        ordering = ["recorded_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=ErasureKind.values),
                name="erasure_kind_valid",
                violation_error_message="Nature inconnue.",
            ),
            models.CheckConstraint(
                condition=~Q(reason=""), name="erasure_has_reason", violation_error_message="Indiquez un motif."
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} du {self.recorded_at:%d/%m/%Y}"
