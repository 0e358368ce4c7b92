"""Long jobs as rows: the broker may be down, the worker may die, a message may come twice; nothing is lost."""

import datetime
import io
import time
import zipfile

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from kombu.exceptions import OperationalError

from imports.models import ImportFile, ImportRun, RunStatus
from imports.reading import RejectedFileError, read_table
from plie import jobs
from plie.celery import app as celery_app
from plie.models import Job, JobState
from plie.tasks import run_job
from reporting.models import BilanRequest, BilanStatus
from tests.factories.participants import isolate_private_storage
from tests.imports.files import xlsx_bytes


@pytest.fixture
def private(monkeypatch, tmp_path):
    storage = isolate_private_storage(monkeypatch, tmp_path)
    monkeypatch.setattr(BilanRequest._meta.get_field("file"), "storage", storage)
    monkeypatch.setattr(ImportFile._meta.get_field("content"), "storage", storage)
    return storage


@pytest.fixture
def broker_down(monkeypatch):
    """A real deployment (tasks not eager) whose broker refuses every message."""
    celery_app.conf.task_always_eager = False

    def refuse(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(run_job, "apply_async", refuse)
    yield
    celery_app.conf.task_always_eager = True


@pytest.fixture
def broker_back(monkeypatch):
    """The broker answers again, and its worker runs what it is given (here, in-process)."""
    monkeypatch.setattr(run_job, "apply_async", lambda args, **kwargs: jobs.run(args[0], heartbeat=False))


def ask_bilan(client, operation, django_capture_on_commit_callbacks):
    data = {"operation": operation.pk, "start": "01/01/2023", "end": "31/12/2023"}
    with django_capture_on_commit_callbacks(execute=True):
        return client.post(reverse("bilan_list"), data)


class TestBrokerDown:
    def test_asking_for_a_bilan_saves_it_as_waiting_and_the_page_says_so(
        self, client_of, animation, operation, private, broker_down, django_capture_on_commit_callbacks
    ):
        started = time.monotonic()
        response = ask_bilan(client_of(animation), operation, django_capture_on_commit_callbacks)
        assert time.monotonic() - started < 5
        bilan = BilanRequest.objects.get()
        assert response.status_code == 302 and response.url == bilan.get_absolute_url()
        job = Job.objects.get(kind="bilan", object_id=bilan.pk)
        assert (job.state, job.sent_at, bilan.status) == (JobState.QUEUED, None, BilanStatus.PENDING)
        page = client_of(animation).get(response.url).content.decode()
        assert "momentanément injoignable" in page and "partira dès son retour" in page
        status = client_of(animation).get(reverse("bilan_status", args=[bilan.pk])).json()
        assert status["status"] == "pending" and "injoignable" in status["label"]

    def test_the_sweeper_sends_the_waiting_bilan_once_the_broker_is_back(
        self, client_of, animation, operation, private, broker_down, django_capture_on_commit_callbacks, monkeypatch
    ):
        ask_bilan(client_of(animation), operation, django_capture_on_commit_callbacks)
        assert jobs.sweep() == {"sent": 0, "unsent": 1, "requeued": 0, "failed": 0}
        monkeypatch.setattr(run_job, "apply_async", lambda args, **kwargs: jobs.run(args[0], heartbeat=False))
        assert jobs.sweep()["sent"] == 1
        bilan = BilanRequest.objects.get()
        assert (bilan.status, bilan.error) == (BilanStatus.DONE, "")
        assert Job.objects.get().state == JobState.DONE
        assert jobs.sweep() == {"sent": 0, "unsent": 0, "requeued": 0, "failed": 0}

    def test_confirming_an_import_never_fails_the_request(
        self, client_of, admin_user, plie, private, broker_down, django_capture_on_commit_callbacks
    ):
        from imports.services import deposit_files

        run = deposit_files(plie=plie, files=[("a.csv", b"x;y\n1;2\n")], create_referents=False, by=admin_user)
        ImportRun.objects.filter(pk=run.pk).update(status=RunStatus.UPLOADED)
        with django_capture_on_commit_callbacks(execute=True):
            response = client_of(admin_user).post(reverse("import_start", args=[run.pk]))
        assert response.status_code == 302
        run.refresh_from_db()
        assert run.status == RunStatus.QUEUED
        assert "injoignable" in client_of(admin_user).get(reverse("import_status", args=[run.pk])).json()["label"]

    def test_a_password_reset_is_accepted_and_its_email_waits(
        self, client, animation, broker_down, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(reverse("password_reset"), {"email": animation.email})
        assert response.status_code == 302
        assert Job.objects.get().kind == "email"


def test_an_unreachable_broker_is_given_up_on_within_seconds(db):
    """No mock: a port nothing listens on, with the settings' short connection timeouts."""
    job = Job.objects.create(kind="email", payload={"subject": "s", "body": "b", "to": ["a@exemple.fr"]})
    celery_app.conf.task_always_eager = False
    conf = celery_app.conf
    saved = conf.broker_url, conf.broker_write_url, celery_app._pool, celery_app.amqp._producer_pool
    conf.broker_url = conf.broker_write_url = "redis://127.0.0.1:9/0"
    celery_app._pool = celery_app.amqp._producer_pool = None
    try:
        started = time.monotonic()
        assert jobs.send(job.pk) is False
        assert time.monotonic() - started < 10
    finally:
        conf.broker_url, conf.broker_write_url, celery_app._pool, celery_app.amqp._producer_pool = saved
        celery_app.conf.task_always_eager = True
    assert Job.objects.get().sent_at is None


class TestStateMachine:
    def test_a_job_delivered_twice_runs_once(self, db, monkeypatch):
        calls = []
        monkeypatch.setitem(jobs.KINDS, "essai", jobs.JobKind(run=lambda job: calls.append(job.pk)))
        job = Job.objects.create(kind="essai")
        jobs.run(job.pk, heartbeat=False)
        jobs.run(job.pk, heartbeat=False)
        assert calls == [job.pk]
        job.refresh_from_db()
        assert (job.state, job.attempts) == (JobState.DONE, 1) and job.finished_at

    def test_a_bilan_delivered_twice_is_prepared_once(
        self, client_of, animation, operation, private, django_capture_on_commit_callbacks
    ):
        ask_bilan(client_of(animation), operation, django_capture_on_commit_callbacks)
        bilan = BilanRequest.objects.get()
        finished = bilan.finished_at
        Job.objects.update(state=JobState.QUEUED, finished_at=None)  # the same message, delivered again
        jobs.run(Job.objects.get().pk, heartbeat=False)
        bilan.refresh_from_db()
        assert (bilan.status, bilan.finished_at) == (BilanStatus.DONE, finished)

    def test_a_job_whose_worker_died_is_run_again_then_failed_with_a_message(
        self, animation, operation, private, monkeypatch
    ):
        monkeypatch.setattr(run_job, "apply_async", lambda *args, **kwargs: None)  # sent, never started
        bilan = BilanRequest.objects.create(
            plie=operation.plie, operation=operation, start=operation.start, end=operation.end, requested_by=animation
        )
        job = Job.objects.create(kind="bilan", object_id=bilan.pk)
        long_ago = timezone.now() - datetime.timedelta(hours=1)
        for attempt in (1, 2, 3):
            # a worker takes it, starts the PDF, and is killed (no heartbeat since)
            Job.objects.filter(pk=job.pk).update(state=JobState.RUNNING, attempts=attempt, heartbeat_at=long_ago)
            BilanRequest.objects.filter(pk=bilan.pk).update(status=BilanStatus.RUNNING, progress=40)
            done = jobs.sweep()
            job.refresh_from_db()
            bilan.refresh_from_db()
            if attempt < 3:
                assert done == {"sent": 1, "unsent": 0, "requeued": 1, "failed": 0}
                assert (job.state, bilan.status, bilan.progress) == (JobState.QUEUED, BilanStatus.PENDING, 0)
        assert done["failed"] == 1
        assert job.state == JobState.FAILED and "interrompu 3 fois" in job.error
        assert (bilan.status, bilan.error) == (BilanStatus.FAILED, job.error)

    def test_a_job_that_still_beats_is_left_alone(self, db, monkeypatch):
        monkeypatch.setitem(jobs.KINDS, "essai", jobs.JobKind(run=lambda job: None))
        Job.objects.create(
            kind="essai", state=JobState.RUNNING, attempts=1, heartbeat_at=timezone.now(), sent_at=timezone.now()
        )
        assert jobs.sweep() == {"sent": 0, "unsent": 0, "requeued": 0, "failed": 0}

    def test_the_sweep_command_says_what_it_did(self, db, monkeypatch):
        monkeypatch.setattr(run_job, "apply_async", lambda *args, **kwargs: None)
        Job.objects.create(kind="email", payload={})
        out = io.StringIO()
        call_command("sweep_jobs", stdout=out)
        assert out.getvalue().strip() == (
            "1 tâche(s) transmise(s), 0 encore en attente (broker injoignable), 0 relancée(s), 0 marquée(s) en échec."
        )

    def test_the_nightly_retention_is_a_job_like_the_others(self, db):
        from plie.tasks import enqueue_job

        enqueue_job.apply(args=["retention"])
        job = Job.objects.get()
        assert job.kind == "retention"
        jobs.run(job.pk, heartbeat=False)
        assert Job.objects.get().state == JobState.DONE


def xlsx_with(sheet_xml):
    """A real workbook whose first sheet is replaced by `sheet_xml`."""
    source = zipfile.ZipFile(io.BytesIO(xlsx_bytes([["ID participant", "Nom"], ["1", "A"]])))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for member in source.infolist():
            data = sheet_xml if member.filename == "xl/worksheets/sheet1.xml" else source.read(member)
            target.writestr(member, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
    return out.getvalue()


SHEET = (
    '<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">{}</worksheet>'
)


class TestCraftedWorkbooks:
    def test_an_archive_that_unpacks_a_hundredfold_is_refused_before_it_is_opened(self, settings):
        settings.IMPORT_MAX_MEGABYTES = 1
        padding = "<row/>" * 3_000_000
        bomb = xlsx_with(SHEET.format(f"<sheetData>{padding}</sheetData>").encode())
        assert len(bomb) < 100_000
        with pytest.raises(RejectedFileError, match="se décompresse en|anormalement compressé"):
            read_table(bomb)

    def test_a_sheet_that_declares_the_whole_grid_is_read_within_bounds(self):
        rows = (
            '<dimension ref="A1:XFD1048576"/><sheetData>'
            '<row r="1"><c r="A1" t="inlineStr"><is><t>ID participant</t></is></c></row>'
            '<row r="2"><c r="A2" t="inlineStr"><is><t>1</t></is></c><c r="XFD2" t="inlineStr"><is><t>x</t></is></c></row>'
            "</sheetData>"
        )
        table = read_table(xlsx_with(SHEET.format(rows).encode()))
        assert table.headers == ["ID participant"] and table.rows == [["1"]]

    def test_a_preview_is_a_job_and_the_page_follows_it(self, client_of, admin_user, plie, private):
        from django.core.files.uploadedfile import SimpleUploadedFile

        client = client_of(admin_user)
        response = client.post(reverse("import_create"), {"files": [SimpleUploadedFile("a.csv", b"x;y\n1;2\n")]})
        run = ImportRun.objects.get()
        assert run.status == RunStatus.ANALYSING and not run.files.get().report
        assert Job.objects.get().kind == "import_preview"
        page = client.get(response.url).content.decode()
        assert "data-status-url" in page and "Aperçu en préparation" in page


def test_a_database_gone_mid_page_answers_503_in_french(client_of, animation, operation, monkeypatch):
    from django.db import OperationalError

    import reporting.views

    def gone(*args, **kwargs):
        raise OperationalError("terminating connection due to administrator command")

    monkeypatch.setattr(reporting.views, "report_for", gone)
    client = client_of(animation)
    client.raise_request_exception = False
    response = client.get(reverse("dashboard"))
    assert response.status_code == 503 and response["Retry-After"] == "30"
    assert "La base de données ne répond pas pour l’instant" in response.content.decode()
    assert "Traceback" not in response.content.decode()


def test_a_job_that_keeps_losing_the_database_is_failed_after_the_last_attempt(db, monkeypatch, settings):
    from django.db import OperationalError

    def lost(job):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setitem(jobs.KINDS, "essai", jobs.JobKind(run=lost))
    monkeypatch.setattr(jobs, "run_eagerly", lambda: False)
    monkeypatch.setattr(run_job, "apply_async", lambda args, **kwargs: jobs.run(args[0], heartbeat=False))
    # the test's own connection holds its transaction: the worker would reconnect, the test keeps it
    monkeypatch.setattr(jobs, "connection", type("Kept", (), {"close": lambda self: None})())
    monkeypatch.setattr(jobs, "close_old_connections", lambda: None)
    job = Job.objects.create(kind="essai")
    jobs.run(job.pk, heartbeat=False)
    job.refresh_from_db()
    assert (job.state, job.attempts) == (JobState.FAILED, settings.JOB_MAX_ATTEMPTS)
    assert "perdu la base de données 3 fois" in job.error
