from django.db import transaction
from django.utils import timezone

from plie.jobs import job_kind
from privacy import retention


@job_kind("retention")
def apply_retention(job):
    """The nightly archiving and anonymisation, as `manage.py apply_retention --apply` does them: run twice, the
    second run finds nothing left to do."""
    plan = retention.plan(timezone.localdate())
    with transaction.atomic():
        for participant in plan.to_archive:
            retention.archive_participant(participant=participant, by=None)
        for participant in plan.to_anonymise:
            retention.anonymise_participant(participant=participant, by=None)
