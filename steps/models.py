from django.db import models

from plie.models import NaturalKeyManager, NaturalKeyMixin, Plie


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
