from celery import shared_task
from django.core.mail import send_mail

from . import jobs


@shared_task
def send_email(*, subject, body, to):
    return send_mail(subject, body, None, to)


# Acknowledged once done, and given back to the queue if the worker dies: the job's row tells a second delivery
# from a first one, so nothing runs twice and nothing is lost with a worker.
@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def run_job(self, job_id):
    jobs.run(job_id, heartbeat=not self.request.is_eager)


@shared_task(ignore_result=True)
def sweep_jobs():
    return jobs.sweep()


@shared_task(ignore_result=True)
def enqueue_job(kind):
    """What Celery beat starts every night (retention): a job row like the others, swept like the others."""
    jobs.enqueue(kind)
