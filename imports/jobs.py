from plie.jobs import job_kind, run_eagerly

from . import preview, services
from .models import ImportRun, RunStatus


def _interrupted(job):
    ImportRun.objects.filter(pk=job.object_id, status=RunStatus.RUNNING).update(
        status=RunStatus.QUEUED, progress=0, progress_label="Reprise après une interruption"
    )


def _failed(job, message):
    services.fail(job.object_id, message)


@job_kind("import", interrupted=_interrupted, failed=_failed)
def _import(job):
    services.execute(job.object_id)


@job_kind("import_preview", failed=_failed)
def _preview(job):
    # In the demo and the tests there is no worker to protect; everywhere else, a child process with its limits.
    if run_eagerly():
        preview.run(job.object_id)
    else:
        preview.run_isolated(job.object_id)
