"""The auditor's pack: drawing the sample, preparing the ZIP in a worker, and letting it go when the audit is over."""

import datetime
import logging
import random
import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import InterfaceError, OperationalError, transaction
from django.utils import timezone

from participants.models import Participation, record_access
from plie import jobs

from .models import AuditPack, PackStatus, SampleMode

logger = logging.getLogger(__name__)


def population(operation):
    return list(Participation.objects.filter(operation=operation).order_by("pk").values_list("pk", flat=True))


def draw(ids, size, seed):
    """The sample, reproducible from its seed: anyone can redraw it from the recorded population and seed."""
    return random.Random(seed).sample(ids, min(size, len(ids)))


def expiry(operation, today):
    """As long as the audit needs: the retention period of a pack, never beyond the fiche's archiving deadline."""
    until = today + datetime.timedelta(days=settings.AUDIT_PACK_RETENTION_DAYS)
    return min(until, operation.audit_deadline) if operation.audit_deadline else until


@transaction.atomic
def request_pack(*, operation, by, size=None, participations=None, seed=None, reference=""):
    """A random sample of `size` participations (seeded; the draw is recorded), or the controller's list; the pack is
    prepared by a worker (plie/jobs.py)."""
    ids = population(operation)
    if participations is not None:
        chosen = [p.pk for p in participations]
        if not chosen or not set(chosen) <= set(ids):
            raise ValidationError("Choisissez des participants de cette fiche.", code="not_in_operation")
        mode, seed = SampleMode.LIST, None
    else:
        if not ids:
            raise ValidationError("Cette fiche n’a encore aucun participant à contrôler.", code="empty")
        if not size or size < 1:
            raise ValidationError("Indiquez la taille de l’échantillon.", code="size")
        seed = secrets.randbits(48) if seed is None else seed
        mode, chosen = SampleMode.RANDOM, draw(ids, size, seed)
    pack = AuditPack.objects.create(
        plie=operation.plie,
        operation=operation,
        mode=mode,
        seed=seed,
        population=len(ids),
        sample=chosen,
        reference=reference,
        requested_by=by,
        expires_on=expiry(operation, timezone.localdate()),
    )
    record_access(user=by, what="dossier de contrôle", plie=operation.plie, detail=f"{len(chosen)} participant(s)")
    logger.info("Audit pack %s requested by user %s: %s participations (%s)", pack.pk, by.pk, len(chosen), mode)
    jobs.enqueue("audit_pack", pack.pk)
    return pack


def _progress(pack_id, percent, **fields):
    AuditPack.objects.filter(pk=pack_id).update(progress=percent, **fields)


def generate_pack(pack_id):
    from .pack import build_pack

    if not AuditPack.objects.filter(pk=pack_id, status=PackStatus.PENDING).update(
        status=PackStatus.RUNNING, progress=5
    ):
        return
    pack = AuditPack.objects.select_related("operation__plie", "requested_by").get(pk=pack_id)
    try:
        content, missing = build_pack(pack, progress=lambda percent: _progress(pack.pk, percent))
        pack.file.save(f"{pack.pk}.zip", ContentFile(content), save=False)
    except (OperationalError, InterfaceError):
        raise
    except Exception as error:  # noqa: BLE001 — the team must be told
        logger.exception("Audit pack %s failed", pack_id)
        if pack.file.name:
            pack.file.delete(save=False)
        _progress(pack.pk, 100, status=PackStatus.FAILED, error=f"La préparation a échoué : {error}",
                  finished_at=timezone.now())  # fmt: skip
        return
    _progress(pack.pk, 100, status=PackStatus.DONE, file=pack.file.name, size=len(content), missing=missing,
              finished_at=timezone.now())  # fmt: skip
    logger.info("Audit pack %s ready: %s bytes, %s missing piece(s)", pack.pk, len(content), missing)


def _drop_file(pack, now):
    if pack.file:
        pack.file.delete(save=False)
    AuditPack.objects.filter(pk=pack.pk).update(file="", status=PackStatus.PURGED, purged_at=now)


def purge_expired_packs(*, today=None, apply=True):
    """Deletes the ZIP of every pack past its retention date (the record of the draw stays); returns how many.
    Run by the nightly retention job."""
    today = today or timezone.localdate()
    expired = list(AuditPack.objects.filter(expires_on__lt=today).exclude(status=PackStatus.PURGED))
    if apply:
        now = timezone.now()
        for pack in expired:
            _drop_file(pack, now)
    return len(expired)


def delete_packs_naming(*, participant, **kwargs):
    """Receiver of participants.signals.person_forgotten: the packs holding this person's proofs lose their file."""
    ids = set(participant.participations.values_list("pk", flat=True))
    packs = [
        pack
        for pack in AuditPack.objects.filter(operation__participations__participant=participant).distinct()
        if ids & set(pack.sample) and pack.status != PackStatus.PURGED
    ]
    now = timezone.now()
    for pack in packs:
        _drop_file(pack, now)
    return len(packs)
