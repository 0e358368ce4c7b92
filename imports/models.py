from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from plie.models import Plie, Role
from plie.storage import private

from .columns import Kind


class AdminQuerySet(models.QuerySet):
    def for_user(self, user):
        """Imports are the PLIE administrator's business only: they carry whole files of personal data."""
        return self.filter(plie__memberships__user=user, plie__memberships__role=Role.ADMIN)


class ColumnMapping(models.Model):
    """A PLIE's own header for one canonical column, saved once and used for every later file of that kind."""

    plie = models.ForeignKey(Plie, on_delete=models.CASCADE, related_name="column_mappings", verbose_name="PLIE")
    kind = models.CharField("type de fichier", max_length=20, choices=Kind.choices)
    header = models.CharField("en-tête du fichier (normalisé)", max_length=200)
    column = models.CharField("colonne attendue", max_length=50)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name="saisie par"
    )

    objects = AdminQuerySet.as_manager()

    class Meta:
        verbose_name = "correspondance de colonne"
        verbose_name_plural = "correspondances de colonnes"
        ordering = ["plie", "kind", "column"]
        constraints = [
            models.UniqueConstraint(
                fields=["plie", "kind", "header"],
                name="column_mapping_one_per_header",
                violation_error_message="Cet en-tête a déjà une correspondance pour ce type de fichier.",
            ),
        ]

    def __str__(self):
        return f"{self.header} → {self.column}"


class RunStatus(models.TextChoices):
    ANALYSING = "analysing", "Aperçu en préparation"
    UPLOADED = "uploaded", "Fichiers déposés"
    QUEUED = "queued", "En attente"
    RUNNING = "running", "En cours"
    DONE = "done", "Terminé"
    REJECTED = "rejected", "Terminé avec des fichiers refusés"
    FAILED = "failed", "Échec"
    ABANDONED = "abandoned", "Abandonné (jamais confirmé)"


class ImportRun(models.Model):
    """One import: its files, who launched it, its progress and its report."""

    plie = models.ForeignKey(Plie, on_delete=models.CASCADE, related_name="imports", verbose_name="PLIE")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="lancé par",
        help_text="Vide pour un import en ligne de commande.",
    )
    created_at = models.DateTimeField("déposé le", auto_now_add=True)
    create_referents = models.BooleanField("créer les référents inconnus", default=False)
    status = models.CharField("état", max_length=20, choices=RunStatus.choices, default=RunStatus.UPLOADED)
    progress = models.PositiveSmallIntegerField("avancement (%)", default=0)
    progress_label = models.CharField("étape en cours", max_length=200, blank=True)
    error = models.TextField("erreur", blank=True)
    finished_at = models.DateTimeField("terminé le", null=True, blank=True)

    objects = AdminQuerySet.as_manager()

    class Meta:
        verbose_name = "import"
        verbose_name_plural = "imports"
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(progress__lte=100),
                name="import_progress_at_most_100",
                violation_error_message="L’avancement ne dépasse pas 100 %.",
            ),
        ]

    def __str__(self):
        return f"Import du {timezone.localtime(self.created_at):%d/%m/%Y à %H:%M}"

    def get_absolute_url(self):
        return reverse("import_detail", args=[self.pk])

    @property
    def is_finished(self):
        return self.status in (RunStatus.DONE, RunStatus.REJECTED, RunStatus.FAILED, RunStatus.ABANDONED)


class ImportFileQuerySet(models.QuerySet):
    def for_user(self, user):
        return self.filter(run__in=ImportRun.objects.for_user(user))


def upload_path(import_file, filename):
    return f"imports/{import_file.run.plie_id}/{import_file.run_id}/{import_file.checksum}"


class ImportFile(models.Model):
    """A file of an import. Its content is kept only until the import ends; its checksum and report stay."""

    run = models.ForeignKey(ImportRun, on_delete=models.CASCADE, related_name="files", verbose_name="import")
    name = models.CharField("nom du fichier", max_length=255)
    checksum = models.CharField("empreinte SHA-256", max_length=64)
    size = models.PositiveBigIntegerField("taille (octets)")
    content = models.FileField("contenu", storage=private, upload_to=upload_path, blank=True)
    kind = models.CharField("type de fichier", max_length=20, choices=Kind.choices, blank=True)
    report = models.JSONField("rapport", default=dict, blank=True)

    objects = ImportFileQuerySet.as_manager()

    class Meta:
        verbose_name = "fichier importé"
        verbose_name_plural = "fichiers importés"
        ordering = ["run", "pk"]

    def __str__(self):
        return self.name

    # What the report says, under the names the pages use (the report is empty until the file is analysed).
    description = property(lambda self: self.report.get("description", ""))
    created = property(lambda self: self.report.get("created", 0))
    updated = property(lambda self: self.report.get("updated", 0))
    unchanged = property(lambda self: self.report.get("unchanged", 0))
    errors = property(lambda self: self.report.get("errors", []))
    rejected = property(lambda self: bool(self.errors))
