"""The writes of an import as the web and the command line drive it: deposit, analyse, run, record."""

import hashlib
import logging

from django.core.files.base import ContentFile
from django.db import InterfaceError, OperationalError, transaction
from django.utils import timezone

from plie import jobs

from .columns import normalize
from .engine import Source, run_batch
from .models import ColumnMapping, ImportFile, ImportRun, RunStatus

logger = logging.getLogger(__name__)


@transaction.atomic
def deposit_files(*, plie, files, create_referents, by):
    """A new import with its files (name, bytes) kept on private storage until it has run."""
    run = ImportRun.objects.create(plie=plie, created_by=by, create_referents=create_referents)
    stored = []
    try:
        for name, data in files:
            import_file = ImportFile(
                run=run, name=name[:255], checksum=hashlib.sha256(data).hexdigest(), size=len(data)
            )
            import_file.content.save(import_file.checksum, ContentFile(data), save=False)
            stored.append(import_file)
            import_file.save()
    except OSError:
        # A full disk: the run is rolled back with this transaction, and the files already written must go with it.
        for import_file in stored:
            import_file.content.delete(save=False)
        raise
    return run


def _sources(run):
    sources = []
    for import_file in run.files.all():
        with import_file.content.open("rb") as handle:
            sources.append((import_file, Source(import_file.name, handle.read())))
    return sources


def _store(run, pairs, results):
    by_name = {}
    for import_file, _ in pairs:
        by_name.setdefault(import_file.name, []).append(import_file)
    for result in results:
        import_file = by_name[result.name].pop(0)
        import_file.kind = result.kind or ""
        import_file.report = result.as_report()
        import_file.save()


def analyse(run):
    """The preview: the whole import done and rolled back, its report kept on each file."""
    pairs = _sources(run)
    results = run_batch(
        run.plie, [s for _, s in pairs], by=run.created_by, dry_run=True, create_referents=run.create_referents
    )
    _store(run, pairs, results)
    return results


def request_preview(*, run):
    """The preview is a job of the worker, never of the web request: a crafted file may cost memory and time."""
    ImportRun.objects.filter(pk=run.pk).update(
        status=RunStatus.ANALYSING, progress=0, progress_label="Aperçu en préparation"
    )
    jobs.enqueue("import_preview", run.pk)


def finish_preview(run_id):
    ImportRun.objects.filter(pk=run_id, status=RunStatus.ANALYSING).update(
        status=RunStatus.UPLOADED, progress=100, progress_label="Aperçu prêt"
    )


@transaction.atomic
def fail(run_id, message):
    """An import or a preview that will not end: the run says why, and its files go (they hold personal data)."""
    if ImportRun.objects.filter(
        pk=run_id, status__in=[RunStatus.ANALYSING, RunStatus.QUEUED, RunStatus.RUNNING]
    ).update(status=RunStatus.FAILED, error=message[:2000], finished_at=timezone.now()):
        for import_file in ImportFile.objects.filter(run_id=run_id).exclude(content=""):
            import_file.content.delete(save=True)


@transaction.atomic
def save_mapping(*, run, kind, header, column, by):
    """Remember that this PLIE's `header` means `column` in files of `kind`."""
    ColumnMapping.objects.update_or_create(
        plie=run.plie, kind=kind, header=normalize(header), defaults={"column": column, "created_by": by}
    )


def queue(*, run):
    ImportRun.objects.filter(pk=run.pk).update(status=RunStatus.QUEUED, progress=0, progress_label="En attente")
    jobs.enqueue("import", run.pk)


def execute(run_id):
    """The import itself, as the worker runs it: progress on the row, report on each file, contents deleted."""
    # Compare and set: a task delivered twice, or a double click, runs the import once.
    if not ImportRun.objects.filter(pk=run_id, status__in=[RunStatus.QUEUED, RunStatus.UPLOADED]).update(
        status=RunStatus.RUNNING
    ):
        return
    run = ImportRun.objects.select_related("plie", "created_by").get(pk=run_id)

    def progress(fraction, label):
        ImportRun.objects.filter(pk=run.pk).update(progress=min(100, int(fraction * 100)), progress_label=label[:200])

    pairs = _sources(run)
    try:
        results = run_batch(
            run.plie,
            [s for _, s in pairs],
            by=run.created_by,
            create_referents=run.create_referents,
            progress=progress,
        )
    except (OperationalError, InterfaceError):
        # The database went away: the file being written was rolled back; the job runs the import again once it is
        # back, with the files still there (plie/jobs.py).
        pairs = []
        raise
    except Exception as error:
        # Logged for the operators; the page says it failed. What a file did write before stays (all or nothing
        # holds per file), and the contents go, as after a success: they are whole files of personal data.
        logger.exception("Import %s en échec", run.pk)
        ImportRun.objects.filter(pk=run.pk).update(
            status=RunStatus.FAILED, error=f"{type(error).__name__} : {error}"[:2000], finished_at=timezone.now()
        )
        return
    finally:
        for import_file, _ in pairs:
            import_file.content.delete(save=True)
    _store(run, pairs, results)
    status = RunStatus.REJECTED if any(r.rejected for r in results) else RunStatus.DONE
    ImportRun.objects.filter(pk=run.pk).update(
        status=status, progress=100, progress_label="Terminé", finished_at=timezone.now()
    )


def abandon_stale(*, older_than):
    """Deposits never confirmed: their files are deleted, the run stays in the history as abandoned."""
    stale = ImportRun.objects.filter(status=RunStatus.UPLOADED, created_at__lt=older_than)
    count = 0
    for import_file in ImportFile.objects.filter(run__in=stale).exclude(content=""):
        import_file.content.delete(save=True)
        count += 1
    runs = stale.update(status=RunStatus.ABANDONED, finished_at=timezone.now(), progress_label="Abandonné")
    return runs, count


def forget_details(*, older_than):
    """Reports of imports finished before `older_than` keep their counts and messages, not the rows nor the values
    of the cells in error (which may hold names)."""
    count = 0
    for import_file in ImportFile.objects.filter(run__finished_at__lt=older_than).exclude(report__rows=[]):
        report = import_file.report
        report["rows"] = []
        report["errors"] = [{**error, "value": ""} for error in report.get("errors", [])]
        import_file.save(update_fields=["report"])
        count += 1
    return count


def record_command_import(*, plie, sources, results):
    """An import made with `manage.py import_extract`, kept in the PLIE's import history like the others."""
    run = ImportRun.objects.create(
        plie=plie,
        status=RunStatus.REJECTED if any(r.rejected for r in results) else RunStatus.DONE,
        progress=100,
        progress_label="Terminé (ligne de commande)",
        finished_at=timezone.now(),
    )
    checksums = {source.name: source.checksum for source in sources}
    sizes = {source.name: len(source.data) for source in sources}
    for result in results:
        ImportFile.objects.create(
            run=run,
            name=result.name[:255],
            checksum=checksums[result.name],
            size=sizes[result.name],
            kind=result.kind or "",
            report=result.as_report(),
        )
    return run
