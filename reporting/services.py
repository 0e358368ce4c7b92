import logging

from django.core.files.base import ContentFile
from django.db import InterfaceError, OperationalError, transaction
from django.db.models import Q
from django.utils import timezone

from plie import jobs
from plie.access import role_in
from plie.models import Role

from . import disclosure, mdfse
from .models import BilanRequest, BilanStatus, MdfseColumn, MdfseExport
from .pdf import render_bilan_pdf

logger = logging.getLogger(__name__)


@transaction.atomic
def request_bilan(*, operation, start, end, with_annex, by):
    """Records the request and its job; the job goes to the worker once the request is committed, or later if the
    broker is down (plie/jobs.py): the request itself never fails for it. The document is written for the
    requester's audience (reporting/disclosure.py) and opens to that audience and the team only."""
    audience = disclosure.audience(role_in(by, operation.plie))
    bilan = BilanRequest.objects.create(
        plie=operation.plie,
        operation=operation,
        start=start,
        end=end,
        with_annex=with_annex and audience == disclosure.TEAM,
        audience=audience,
        requested_by=by,
    )
    jobs.enqueue("bilan", bilan.pk)
    return bilan


ROLE_OF_AUDIENCE = {disclosure.TEAM: Role.ANIMATION, disclosure.COPIL: Role.COPIL, disclosure.REFERENT: Role.REFERENT}


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
            role=ROLE_OF_AUDIENCE[bilan.audience],
            referent_ids=set(bilan.requested_by.referent_profiles.values_list("pk", flat=True)),
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


def mdfse_columns(plie):
    """[(header, source)] of the PLIE's export for Ma Démarche FSE+, the default ones while it has none."""
    columns = [(c.header, c.source) for c in MdfseColumn.objects.filter(plie=plie) if c.source in mdfse.SOURCES]
    return columns or list(mdfse.DEFAULT_COLUMNS)


@transaction.atomic
def save_mdfse_columns(*, plie, columns, by):
    """Replaces the PLIE's columns by `columns` [(header, source)] and journals who did it."""
    MdfseColumn.objects.filter(plie=plie).delete()
    MdfseColumn.objects.bulk_create(
        MdfseColumn(plie=plie, position=position, header=header, source=source)
        for position, (header, source) in enumerate(columns, start=1)
    )
    logger.info("MDFSE+ columns of PLIE %s set by user %s", plie.pk, by.pk)


@transaction.atomic
def export_mdfse(*, operation, file_format, by, today=None):
    """The export's bytes, one row per participation of the fiche; each export is journaled."""
    headers, rows = mdfse.table(operation, mdfse_columns(operation.plie), today or timezone.localdate())
    MdfseExport.objects.create(plie=operation.plie, operation=operation, by=by, rows=len(rows), file_format=file_format)
    return mdfse.to_csv(headers, rows) if file_format == "csv" else mdfse.to_xlsx(headers, rows)


def delete_bilans_naming(*, participant, **kwargs):
    """Receiver of participants.signals.person_forgotten: the stored bilans whose nominative annex may list the
    person (a fiche they took part in, a period that meets their days in it) are deleted, file and request.
    Regenerating them would show other figures than the ones handed in; the request can be made again."""
    periods = Q(pk__in=[])
    for participation in participant.participations.all():
        periods |= Q(
            operation_id=participation.operation_id,
            start__lte=participation.last_day,
            end__gte=participation.entry_date,
        )
    bilans = list(BilanRequest.objects.filter(periods, with_annex=True))
    for bilan in bilans:
        if bilan.file:
            bilan.file.delete(save=False)
    BilanRequest.objects.filter(pk__in=[b.pk for b in bilans]).delete()
    if bilans:
        logger.info("%s bilan(s) avec annexe supprimé(s) avec le dossier n° %s", len(bilans), participant.pk)
    return len(bilans)
