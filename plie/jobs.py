"""Long jobs as rows: queued, running, done or failed, whatever happens to the broker or the worker.

`enqueue` saves the job with the user's request and hands it to the broker once committed; a broker that is down
leaves it queued (the outbox) and the request goes on. `run` claims the job with a compare-and-set, so a message
delivered twice runs once, and beats while it works. `sweep` (Celery beat every minute, or `manage.py sweep_jobs`)
sends what the broker never got, requeues what a lost worker left running, and fails with a message what was lost
too often. Each app registers its kinds in its `jobs.py`: what to run, how to reset its object for another try, and
what to tell its object when the job fails."""

import logging
import threading
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import send_mail
from django.db import InterfaceError, OperationalError, close_old_connections, connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from .models import Job, JobState

logger = logging.getLogger(__name__)

INTERRUPTED = (
    "Le traitement a été interrompu {attempts} fois (arrêt du serveur de tâches) : il est abandonné. "
    "Relancez-le ; si cela se reproduit, prévenez l’administrateur technique."
)
CRASHED = "Le traitement a échoué sur une erreur imprévue ; l’administrateur technique en a la trace."
DATABASE = (
    "Le traitement a perdu la base de données {attempts} fois : il est abandonné. Relancez-le ; si cela se reproduit, "
    "prévenez l’administrateur technique."
)
TOO_LONG = "Le traitement a dépassé le temps qui lui est accordé : il est abandonné."


@dataclass(frozen=True)
class JobKind:
    run: object  # (job) -> None
    interrupted: object = None  # (job) -> None: put the job's object back where it can run again
    failed: object = None  # (job, message) -> None: tell the job's object why it ended


KINDS = {}


def job_kind(name, *, interrupted=None, failed=None):
    def register(run):
        KINDS[name] = JobKind(run=run, interrupted=interrupted, failed=failed)
        return run

    return register


def enqueue(kind, object_id=None, payload=None):
    """Saves the job in the caller's transaction; it is handed to the broker once that transaction commits."""
    job = Job.objects.create(kind=kind, object_id=object_id, payload=payload or {})
    transaction.on_commit(lambda: send(job.pk))
    return job


def send(job_id):
    """Hands the job to the broker. Never raises when the broker is unreachable: the job stays in the outbox."""
    from .tasks import run_job

    try:
        run_job.apply_async((job_id,), retry=False)
    except Exception:
        if run_job.app.conf.task_always_eager:
            raise
        logger.warning("Tâche %s non transmise (broker injoignable) : le balayage la renverra.", job_id, exc_info=True)
        return False
    Job.objects.filter(pk=job_id, state=JobState.QUEUED).update(sent_at=timezone.now())
    return True


def latest(kind, object_id):
    return Job.objects.filter(kind=kind, object_id=object_id).order_by("-pk").first()


def waiting_label(kind, object_id):
    """What a page says of a job not yet started: the broker may be down, and the user should know it will go."""
    job = latest(kind, object_id)
    if job is not None and job.state == JobState.QUEUED and job.sent_at is None:
        return (
            "En attente : le service de traitement est momentanément injoignable ; la demande partira dès son retour."
        )
    return "En attente"


class Heartbeat:
    """Touches the job every JOB_HEARTBEAT_SECONDS from a thread, so the sweeper can tell a long job from a dead one."""

    def __init__(self, job):
        self.job = job
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.beat, daemon=True, name=f"job-{job.pk}-heartbeat")

    def beat(self):
        try:
            while not self.stop.wait(settings.JOB_HEARTBEAT_SECONDS):
                try:
                    Job.objects.filter(pk=self.job.pk, state=JobState.RUNNING, attempts=self.job.attempts).update(
                        heartbeat_at=timezone.now()
                    )
                except Exception:  # the database restarting: the next beat reconnects
                    logger.warning("Signe de vie de la tâche %s non enregistré", self.job.pk, exc_info=True)
                    close_old_connections()
                    connection.close()
        finally:
            connection.close()

    def __enter__(self):
        self.thread.start()

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()


def run(job_id, *, heartbeat=True):
    """Runs a queued job once: a second delivery, or a job another worker already took, does nothing."""
    now = timezone.now()
    claimed = Job.objects.filter(pk=job_id, state=JobState.QUEUED).update(
        state=JobState.RUNNING, attempts=F("attempts") + 1, started_at=now, heartbeat_at=now
    )
    if not claimed:
        return None
    job = Job.objects.get(pk=job_id)
    kind = KINDS[job.kind]
    try:
        if heartbeat:
            with Heartbeat(job):
                kind.run(job)
        else:
            kind.run(job)
    except (OperationalError, InterfaceError):
        if run_eagerly():
            raise
        # The database went away mid-job: what the job was writing is rolled back; it goes back to the queue once the
        # database answers again (or, if it stays away, the sweeper finds it silent and does it).
        logger.warning("Tâche %s (%s) interrompue : base de données injoignable", job.pk, job.kind, exc_info=True)
        _back_to_queue_when_possible(job)
        return job
    except Exception as error:
        from celery.exceptions import SoftTimeLimitExceeded

        if run_eagerly() and not isinstance(error, SoftTimeLimitExceeded):
            raise
        logger.exception("Tâche %s (%s) en échec", job.pk, job.kind)
        fail(job, TOO_LONG if isinstance(error, SoftTimeLimitExceeded) else CRASHED)
        return job
    _end(job, JobState.DONE)
    return job


def _back_to_queue_when_possible(job, *, tries=30, pause=2):
    for _ in range(tries):
        close_old_connections()
        connection.close()
        try:
            current = Job.objects.filter(pk=job.pk, state=JobState.RUNNING, attempts=job.attempts).first()
            if current is None:
                return
            if current.attempts >= settings.JOB_MAX_ATTEMPTS:  # a database error that is not a passing outage
                fail(current, DATABASE.format(attempts=current.attempts))
            elif _requeue(current):
                send(job.pk)
            return
        except (OperationalError, InterfaceError):
            time.sleep(pause)


def run_eagerly():
    from .tasks import run_job

    return bool(run_job.app.conf.task_always_eager)


def _end(job, state, error=""):
    """Ends this attempt of the job; an attempt the sweeper already gave up on changes nothing."""
    fields = {"state": state, "error": error, "finished_at": timezone.now()}
    if state == JobState.DONE and job.kind == "email":
        fields["payload"] = {}  # a password reset link has no business staying in the database
    return Job.objects.filter(pk=job.pk, state=JobState.RUNNING, attempts=job.attempts).update(**fields)


@transaction.atomic
def fail(job, message):
    if _end(job, JobState.FAILED, message):
        kind = KINDS.get(job.kind)
        if kind and kind.failed:
            kind.failed(job, message)


@transaction.atomic
def _requeue(job):
    if not Job.objects.filter(pk=job.pk, state=JobState.RUNNING, heartbeat_at=job.heartbeat_at).update(
        state=JobState.QUEUED, sent_at=None
    ):
        return False
    kind = KINDS.get(job.kind)
    if kind and kind.interrupted:
        kind.interrupted(job)
    return True


def sweep(*, now=None):
    """Moves on every job that has not moved for too long; returns what it did, for the command and the logs."""
    now = now or timezone.now()
    done = {"sent": 0, "unsent": 0, "requeued": 0, "failed": 0}
    stale = now - timezone.timedelta(seconds=settings.JOB_STALE_SECONDS)
    for job in Job.objects.filter(state=JobState.RUNNING).filter(Q(heartbeat_at__lt=stale) | Q(heartbeat_at=None)):
        if job.attempts >= settings.JOB_MAX_ATTEMPTS:
            fail(job, INTERRUPTED.format(attempts=job.attempts))
            done["failed"] += 1
        elif _requeue(job):
            done["requeued"] += 1
    resend = now - timezone.timedelta(seconds=settings.JOB_RESEND_SECONDS)
    for job_id in (
        Job.objects.filter(state=JobState.QUEUED)
        .filter(Q(sent_at=None) | Q(sent_at__lt=resend))
        .values_list("pk", flat=True)
    ):
        done["sent" if send(job_id) else "unsent"] += 1
    return done


@job_kind("email")
def _send_email(job):
    send_mail(job.payload["subject"], job.payload["body"], None, job.payload["to"])
