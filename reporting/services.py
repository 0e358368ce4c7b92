import logging

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from plie.access import role_in
from plie.models import Role

from .models import BilanRequest, BilanStatus
from .pdf import render_bilan_pdf

logger = logging.getLogger(__name__)


@transaction.atomic
def request_bilan(*, operation, start, end, with_annex, by):
    """Records the request and queues its generation once the request is committed."""
    from .tasks import generate_bilan_task

    bilan = BilanRequest.objects.create(
        plie=operation.plie, operation=operation, start=start, end=end, with_annex=with_annex, requested_by=by
    )
    transaction.on_commit(lambda: generate_bilan_task.delay(bilan.pk))
    return bilan


def _progress(bilan_id, percent, **fields):
    BilanRequest.objects.filter(pk=bilan_id).update(progress=percent, **fields)


def generate_bilan(bilan_id):
    """Renders the PDF of a bilan request; a failure is recorded on the request for the user to see."""
    bilan = BilanRequest.objects.select_related("operation__plie", "requested_by").get(pk=bilan_id)
    _progress(bilan.pk, 10, status=BilanStatus.RUNNING)
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
    except Exception as error:  # noqa: BLE001 — whatever went wrong, the user must be told
        logger.exception("Bilan %s failed", bilan_id)
        _progress(
            bilan.pk,
            100,
            status=BilanStatus.FAILED,
            error=f"La génération a échoué : {error}",
            finished_at=timezone.now(),
        )
        return
    _progress(bilan.pk, 100, status=BilanStatus.DONE, file=bilan.file.name, pages=pages, finished_at=timezone.now())


def delete_bilans_naming(*, participant, **kwargs):
    """Receiver of participants.signals.person_forgotten: the stored bilans whose nominative annex may list the
    person (a fiche of one of their parcours, a period that meets it) are deleted, file and request. Regenerating
    them would show other figures than the ones handed in; the request can be made again."""
    periods = Q(pk__in=[])
    for parcours in participant.parcours.exclude(operation=None).exclude(entry_date=None):
        meets = Q(operation_id=parcours.operation_id, end__gte=parcours.entry_date)
        if parcours.exit_date:
            meets &= Q(start__lte=parcours.exit_date)
        periods |= meets
    bilans = list(BilanRequest.objects.filter(periods, with_annex=True))
    for bilan in bilans:
        if bilan.file:
            bilan.file.delete(save=False)
    BilanRequest.objects.filter(pk__in=[b.pk for b in bilans]).delete()
    if bilans:
        logger.info("%s bilan(s) avec annexe supprimé(s) avec le dossier n° %s", len(bilans), participant.pk)
    return len(bilans)
