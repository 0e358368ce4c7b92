from plie.jobs import job_kind

from .models import BilanRequest, BilanStatus
from .services import generate_bilan


def _interrupted(job):
    BilanRequest.objects.filter(pk=job.object_id, status=BilanStatus.RUNNING).update(
        status=BilanStatus.PENDING, progress=0
    )


def _failed(job, message):
    from django.utils import timezone

    BilanRequest.objects.filter(pk=job.object_id, status__in=[BilanStatus.PENDING, BilanStatus.RUNNING]).update(
        status=BilanStatus.FAILED, progress=100, error=message, finished_at=timezone.now()
    )


@job_kind("bilan", interrupted=_interrupted, failed=_failed)
def _generate(job):
    generate_bilan(job.object_id)
