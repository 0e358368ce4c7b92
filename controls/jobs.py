from django.utils import timezone

from plie.jobs import job_kind

from .models import AuditPack, PackStatus
from .services import generate_pack


def _interrupted(job):
    AuditPack.objects.filter(pk=job.object_id, status=PackStatus.RUNNING).update(status=PackStatus.PENDING, progress=0)


def _failed(job, message):
    AuditPack.objects.filter(pk=job.object_id, status__in=[PackStatus.PENDING, PackStatus.RUNNING]).update(
        status=PackStatus.FAILED, progress=100, error=message, finished_at=timezone.now()
    )


@job_kind("audit_pack", interrupted=_interrupted, failed=_failed)
def _generate(job):
    generate_pack(job.object_id)
