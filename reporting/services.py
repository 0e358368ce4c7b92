import logging

from django.core.files.base import ContentFile
from django.db import InterfaceError, OperationalError, transaction
from django.utils import timezone

from plie import jobs
from plie.access import role_in
from plie.models import Role

from .models import BilanRequest, BilanStatus
from .pdf import render_bilan_pdf

logger = logging.getLogger(__name__)


@transaction.atomic
def request_bilan(*, operation, start, end, with_annex, by):
    """Records the request and its job; the job goes to the worker once the request is committed, or later if the
    broker is down (plie/jobs.py): the request itself never fails for it."""
    bilan = BilanRequest.objects.create(
        plie=operation.plie, operation=operation, start=start, end=end, with_annex=with_annex, requested_by=by
    )
    jobs.enqueue("bilan", bilan.pk)
    return bilan


def _progress(bilan_id, percent, **fields):
    BilanRequest.objects.filter(pk=bilan_id).update(progress=percent, **fields)


def generate_bilan(bilan_id):
    """Renders the PDF of a bilan request; a failure is recorded on the request for the user to see."""
    # Compare and set: a bilan already being prepared, or ready, is not prepared again.
    if not BilanRequest.objects.filter(pk=bilan_id, status=BilanStatus.PENDING).update(
        status=BilanStatus.RUNNING, progress=10
    ):
        return
    bilan = BilanRequest.objects.select_related("operation__plie", "requested_by").get(pk=bilan_id)
    try:
        pdf, pages = render_bilan_pdf(
            bilan.operation,
            bilan.start,
            bilan.end,
            bilan.requested_by,
            with_annex=bilan.with_annex,
            # the steering committee's copy hides the small counts, as its dashboard does
            hide_small=role_in(bilan.requested_by, bilan.plie) == Role.COPIL,
            progress=lambda percent: _progress(bilan.pk, percent),
        )
        bilan.file.save(f"{bilan.pk}.pdf", ContentFile(pdf), save=False)
    except (OperationalError, InterfaceError):
        raise  # the database went away: the job prepares the bilan again once it is back (plie/jobs.py)
    except Exception as error:  # noqa: BLE001 — whatever went wrong, the user must be told
        logger.exception("Bilan %s failed", bilan_id)
        if bilan.file.name:  # a disk that filled up mid-write leaves no half-written PDF behind
            bilan.file.delete(save=False)
        _progress(
            bilan.pk,
            100,
            status=BilanStatus.FAILED,
            error=f"La génération a échoué : {error}",
            finished_at=timezone.now(),
        )
        return
    _progress(bilan.pk, 100, status=BilanStatus.DONE, file=bilan.file.name, pages=pages, finished_at=timezone.now())
