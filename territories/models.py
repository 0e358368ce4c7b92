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

    objects = NaturalKeyManager.from_queryset(PlieScopedQuerySet)()

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
        ]

    def __str__(self):
        return self.name
