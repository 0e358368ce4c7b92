from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse

from operations.models import Operation
from plie.models import Plie, Role
from plie.storage import private


class PackStatus(models.TextChoices):
    PENDING = "pending", "En attente"
    RUNNING = "running", "En cours de préparation"
    DONE = "done", "Prêt"
    FAILED = "failed", "Échec"
    PURGED = "purged", "Supprimé (durée de conservation écoulée)"


class SampleMode(models.TextChoices):
    RANDOM = "random", "Tirage au sort"
    LIST = "list", "Liste du contrôleur"


def pack_path(pack, filename):
    return f"controles/{pack.plie_id}/{pack.pk}.zip"


class AuditPackQuerySet(models.QuerySet):
    def for_user(self, user):
        """The animation team and the PLIE admin only: a pack holds the proofs of named people."""
        return self.filter(
            plie__memberships__user=user, plie__memberships__role__in=[Role.ADMIN, Role.ANIMATION]
        ).distinct()


class AuditPack(models.Model):
    """What the controller of the « contrôle de service fait » receives for a sample of the fiche's participants: one
    ZIP prepared by a worker. The draw is recorded (seed, population, result) so that it can be shown to be random;
    the file is kept only until `expires_on`, then deleted by the retention job (the record of the draw stays)."""

    plie = models.ForeignKey(Plie, on_delete=models.CASCADE, related_name="audit_packs", verbose_name="PLIE")
    operation = models.ForeignKey(Operation, on_delete=models.CASCADE, related_name="audit_packs", verbose_name="fiche")
    mode = models.CharField("échantillon", max_length=10, choices=SampleMode.choices)
    seed = models.BigIntegerField("graine du tirage", null=True, blank=True)
    population = models.PositiveIntegerField("participants de la fiche au moment du tirage")
    sample = models.JSONField(
        "participations de l’échantillon", default=list, help_text="Identifiants, dans l’ordre du tirage."
    )
    reference = models.CharField("référence du contrôle", max_length=200, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="demandé par"
    )
    requested_at = models.DateTimeField("demandé le", auto_now_add=True)
    status = models.CharField("état", max_length=20, choices=PackStatus.choices, default=PackStatus.PENDING)
    progress = models.PositiveSmallIntegerField("avancement (%)", default=0)
    error = models.TextField("erreur", blank=True)
    file = models.FileField("fichier", storage=private, upload_to=pack_path, blank=True, max_length=200)
    size = models.PositiveBigIntegerField("taille (octets)", null=True, blank=True)
    missing = models.PositiveIntegerField("pièces manquantes", null=True, blank=True)
    finished_at = models.DateTimeField("terminé le", null=True, blank=True)
    expires_on = models.DateField("conservé jusqu’au")
    purged_at = models.DateTimeField("fichier supprimé le", null=True, blank=True)

    objects = AuditPackQuerySet.as_manager()

    class Meta:
        verbose_name = "dossier de contrôle"
        verbose_name_plural = "dossiers de contrôle"
        ordering = ["-requested_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(progress__lte=100), name="pack_progress_at_most_100", violation_error_message="≤ 100 %"
            ),
            models.CheckConstraint(
                condition=Q(mode="list") | Q(seed__isnull=False),
                name="pack_random_draw_has_seed",
                violation_error_message="Un tirage au sort garde sa graine.",
            ),
        ]

    def __str__(self):
        return f"Dossier de contrôle {self.operation.code} du {self.requested_at:%d/%m/%Y}"

    def get_absolute_url(self):
        return reverse("audit_pack_detail", args=[self.pk])
