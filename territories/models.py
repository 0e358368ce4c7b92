import re
import unicodedata

from django.db import models

from plie.models import NaturalKeyManager, NaturalKeyMixin, Plie, PlieScopedQuerySet


class CommuneQuerySet(models.QuerySet):
    def of_plie(self, plie):
        return self.filter(plies=plie)


# INSEE's « grille communale de densité » in 7 levels; levels 5 to 7 are the « peu dense » and « très peu dense »
# communes, the thinly populated areas of the EU degree of urbanisation that FSE+ counts as rural (EECO17).
DENSITY_LEVELS = [
    (1, "Grands centres urbains"),
    (2, "Centres urbains intermédiaires"),
    (3, "Ceintures urbaines"),
    (4, "Petites villes"),
    (5, "Bourgs ruraux"),
    (6, "Rural à habitat dispersé"),
    (7, "Rural à habitat très dispersé"),
]
RURAL_FROM_LEVEL = 5


class Commune(models.Model):
    code_insee = models.CharField("code INSEE", max_length=5, primary_key=True)
    name = models.CharField("nom", max_length=100)
    department = models.CharField("département", max_length=3)
    postal_codes = models.CharField("codes postaux", max_length=100, blank=True)
    population = models.PositiveIntegerField("population", null=True, blank=True)
    epci_siren = models.CharField("SIREN de l’intercommunalité", max_length=9, blank=True)
    epci_name = models.CharField("intercommunalité", max_length=150, blank=True)
    density_level = models.PositiveSmallIntegerField(
        "niveau de la grille communale de densité",
        null=True,
        blank=True,
        choices=DENSITY_LEVELS,
        help_text="Grille à 7 niveaux de l’INSEE, chargée par « manage.py load_density_grid ».",
    )
    plies = models.ManyToManyField(
        Plie,
        through="TerritoryCommune",
        related_name="communes",
        blank=True,
        verbose_name="territoire des PLIE",
    )

    objects = CommuneQuerySet.as_manager()

    class Meta:
        verbose_name = "commune"
        verbose_name_plural = "communes"
        ordering = ["name", "code_insee"]

    def __str__(self):
        return f"{self.name} ({self.code_insee})"

    @property
    def is_rural(self):
        return None if self.density_level is None else self.density_level >= RURAL_FROM_LEVEL


class TerritoryCommune(NaturalKeyMixin, models.Model):
    """A commune of a PLIE's territory."""

    NATURAL_KEY = ("plie__slug", "commune_id")

    plie = models.ForeignKey(Plie, on_delete=models.CASCADE, related_name="territory", verbose_name="PLIE")
    commune = models.ForeignKey(Commune, on_delete=models.PROTECT, related_name="+", verbose_name="commune")

    objects = NaturalKeyManager()

    class Meta:
        verbose_name = "commune du territoire"
        verbose_name_plural = "communes du territoire"
        constraints = [
            models.UniqueConstraint(
                fields=["plie", "commune"],
                name="territory_commune_unique",
                violation_error_message="Cette commune fait déjà partie du territoire.",
            )
        ]

    def __str__(self):
        return f"{self.commune} — {self.plie}"


class ZoneQuerySet(PlieScopedQuerySet):
    def for_address(self, plie, commune, address="", *, qpv=False, iris=""):
        """The zone of a person of `plie` living at `address` in `commune`: a zone drawn inside the commune whose
        streets hold the address, or whose IRIS list holds `iris`, or its one QPV zone for a QPV resident; else the
        one zone that covers the whole commune; None when the address leaves a choice to the team."""
        if commune is None:
            return None
        zones = list(
            self.filter(plie=plie)
            .filter(models.Q(within_commune=commune) | models.Q(communes=commune))
            .distinct()
            .order_by("number", "name")
        )
        return pick_zone(zones, commune.pk, address, qpv=qpv, iris=iris)


def pick_zone(zones, commune_id, address="", *, qpv=False, iris=""):
    """Among `zones`, those of the commune `commune_id` (a zone drawn inside a commune also lists it): the part of
    the commune whose streets hold the address, or whose IRIS list holds `iris`, or its one QPV zone for a QPV
    resident; else the one zone that covers the whole commune; None when the address leaves a choice to the team."""
    parts = [zone for zone in zones if zone.within_commune_id == commune_id]
    folded = f" {fold_street(address)} "
    for zone in parts:
        if any(f" {street} " in folded for street in zone.street_list) or (iris and iris in zone.iris_list):
            return zone
    qpv_zones = [zone for zone in parts if zone.qpv_name]
    if qpv and len(qpv_zones) == 1:
        return qpv_zones[0]
    whole = [zone for zone in zones if zone.within_commune_id != commune_id]
    return whole[0] if len(whole) == 1 else None


class Zone(NaturalKeyMixin, models.Model):
    NATURAL_KEY = ("plie__slug", "name")

    plie = models.ForeignKey(Plie, on_delete=models.CASCADE, related_name="zones", verbose_name="PLIE")
    number = models.PositiveSmallIntegerField("numéro", null=True, blank=True)
    name = models.CharField("nom", max_length=150)
    description = models.TextField("description", blank=True)
    communes = models.ManyToManyField(Commune, related_name="zones", blank=True, verbose_name="communes")
    planned_etp = models.DecimalField(
        "ETP prévus",
        max_digits=5,
        decimal_places=2,
        default=0,
        help_text="Postes de référent prévus sur la zone.",
    )
    planned_etp_max = models.DecimalField(
        "ETP prévus au plus",
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="Pour une fourchette (Cenon : « entre 2 et 3 postes ») ; vide pour un nombre exact.",
    )
    # A zone drawn inside one commune (Agen's « quartier politique de la ville Montanou », « centre-ville »): the
    # participants of that commune whose address is on one of its streets, in one of its IRIS or in its QPV.
    within_commune = models.ForeignKey(
        Commune,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="partie de la commune",
        help_text="Pour une zone qui ne couvre qu’une partie d’une commune.",
    )
    qpv_name = models.CharField("quartier politique de la ville", max_length=150, blank=True)
    streets = models.TextField(
        "rues",
        blank=True,
        help_text="Une rue par ligne, telle qu’on l’écrit dans une adresse (« avenue de Montanou »).",
    )
    iris_codes = models.TextField("codes IRIS", blank=True, help_text="Un code IRIS (9 chiffres) par ligne.")

    objects = NaturalKeyManager.from_queryset(ZoneQuerySet)()

    class Meta:
        verbose_name = "zone d’intervention"
        verbose_name_plural = "zones d’intervention"
        ordering = ["plie", "number", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["plie", "name"],
                name="zone_name_unique_in_plie",
                violation_error_message="Une zone porte déjà ce nom dans ce PLIE.",
            ),
            models.UniqueConstraint(
                fields=["plie", "number"],
                name="zone_number_unique_in_plie",
                violation_error_message="Une zone porte déjà ce numéro dans ce PLIE.",
            ),
            models.CheckConstraint(
                condition=models.Q(planned_etp__gte=0),
                name="zone_planned_etp_not_negative",
                violation_error_message="Les ETP prévus ne peuvent pas être négatifs.",
            ),
            models.CheckConstraint(
                condition=models.Q(planned_etp_max__isnull=True)
                | models.Q(planned_etp_max__gte=models.F("planned_etp")),
                name="zone_planned_etp_range_ordered",
                violation_error_message="Le maximum de la fourchette d’ETP ne peut pas être inférieur au minimum.",
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def etp_ceiling(self):
        return self.planned_etp_max if self.planned_etp_max is not None else self.planned_etp

    @property
    def street_list(self):
        return [line for line in (fold_street(s) for s in self.streets.splitlines()) if line]

    @property
    def iris_list(self):
        return [line.strip() for line in self.iris_codes.splitlines() if line.strip()]


def fold_street(text):
    """An address or a street reduced to lower-case words without accents or punctuation, for matching."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text).split())


class Frequency(models.TextChoices):
    WEEKLY = "weekly", "par semaine"
    MONTHLY = "monthly", "par mois"


class Permanence(NaturalKeyMixin, models.Model):
    """A place where referents receive participants of a zone, and how often (Grand Périgueux: 1 to 2 a month in
    the partners' premises of the southern communes)."""

    NATURAL_KEY = ("zone__plie__slug", "zone__name", "place")

    zone = models.ForeignKey(Zone, on_delete=models.CASCADE, related_name="permanences", verbose_name="zone")
    place = models.CharField("lieu", max_length=200)
    times_min = models.PositiveSmallIntegerField("fois (au moins)", default=1)
    times_max = models.PositiveSmallIntegerField("fois (au plus)", null=True, blank=True)
    frequency = models.CharField("fréquence", max_length=10, choices=Frequency.choices, default=Frequency.MONTHLY)
    notes = models.TextField("précisions", blank=True)

    objects = NaturalKeyManager()

    class Meta:
        verbose_name = "permanence"
        verbose_name_plural = "permanences"
        ordering = ["zone", "place"]
        constraints = [
            models.UniqueConstraint(fields=["zone", "place"], name="permanence_place_unique_in_zone"),
            models.CheckConstraint(
                condition=models.Q(times_min__gte=1)
                & (models.Q(times_max__isnull=True) | models.Q(times_max__gte=models.F("times_min"))),
                name="permanence_times_ordered",
                violation_error_message="Le nombre de fois au plus ne peut pas être inférieur au nombre au moins.",
            ),
        ]

    def __str__(self):
        times = (
            f"{self.times_min} à {self.times_max}"
            if self.times_max and self.times_max != self.times_min
            else str(self.times_min)
        )
        return f"{self.place} — {times} fois {self.get_frequency_display()}"
