"""End to end through Redis and a real Celery worker: run by .ci/run, skipped where no broker is configured."""

import os
import quopri
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from plie.celery import app as celery_app
from plie.tasks import send_email

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db]


@pytest.fixture
def real_worker():
    if not settings.CELERY_BROKER_URL:
        pytest.skip("Pas de broker configuré (CELERY_BROKER_URL) : les tâches s’exécutent dans le processus.")
    celery_app.conf.task_always_eager = False
    try:
        assert celery_app.control.broadcast("ping", reply=True, limit=1, timeout=30), (
            "Aucun worker Celery ne répond sur le broker."
        )
        yield Path(os.environ["EMAIL_FILE_PATH"])
    finally:
        celery_app.conf.task_always_eager = True


def mail_sizes(mail_dir):
    return {path: path.stat().st_size for path in mail_dir.glob("*.log")}


def wait_for_mail(mail_dir, seen, timeout=60):
    """What the worker wrote since `seen` (file sizes): the file backend appends to the file of the same second."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        written = "".join(
            path.read_bytes()[seen.get(path, 0) :].decode()
            for path, size in mail_sizes(mail_dir).items()
            if size > seen.get(path, 0)
        )
        if written:
            return written
        time.sleep(0.2)
    raise AssertionError("Le worker n’a écrit aucun e-mail.")


def test_a_task_result_comes_back_from_the_worker(real_worker):
    result = send_email.delay(subject="Essai", body="Bonjour", to=["essai@exemple.fr"])
    assert result.get(timeout=60) == 1


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_password_reset_email_is_sent_by_the_worker(client, animation, real_worker):
    """Committed for real: the e-mail is a job row the worker reads (plie/jobs.py)."""
    seen = mail_sizes(real_worker)
    response = client.post(reverse("password_reset"), {"email": animation.email})
    assert response.status_code == 302
    mail = wait_for_mail(real_worker, seen)
    assert "Choisir un nouveau mot de passe" in mail
    assert f"To: {animation.email}" in mail
    assert "/mot-de-passe/nouveau/" in mail


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_bilan_pdf_is_prepared_by_the_worker(real_worker, operation, animation):
    """The worker reads the test database (.ci/run points it there) and writes the PDF the page then offers."""
    from reporting.models import BilanRequest
    from reporting.services import request_bilan

    bilan = request_bilan(operation=operation, start=operation.start, end=operation.end, with_annex=False, by=animation)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        bilan.refresh_from_db()
        if bilan.status in ("done", "failed"):
            break
        time.sleep(0.5)
    assert (bilan.status, bilan.error) == ("done", "")
    with bilan.file.open("rb") as pdf:
        assert pdf.read(5) == b"%PDF-"
    bilan.file.delete(save=False)
    assert BilanRequest.objects.count() == 1


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_an_import_is_run_by_the_worker_with_its_progress_and_report(real_worker, operation, admin_user):
    from django.db import transaction

    from imports.models import ImportRun
    from imports.services import deposit_files, queue
    from participants.models import Participant
    from tests.imports.files import PARTICIPANTS, REFERENTS, csv_bytes

    files = [("referents.csv", csv_bytes(REFERENTS)), ("participants.csv", csv_bytes(PARTICIPANTS, encoding="cp1252"))]
    run = deposit_files(plie=operation.plie, files=files, create_referents=False, by=admin_user)
    with transaction.atomic():
        queue(run=run)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        run.refresh_from_db()
        if run.is_finished:
            break
        time.sleep(0.5)
    assert (run.status, run.progress, run.error) == ("done", 100, "")
    assert [(f.kind, f.created) for f in run.files.all()] == [("référents", 2), ("participants", 3)]
    assert Participant.objects.filter(plie=operation.plie).count() == 3
    assert ImportRun.objects.count() == 1


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_an_import_preview_is_prepared_by_the_worker_in_a_limited_child(real_worker, operation, admin_user):
    from django.db import transaction

    from imports.models import ImportRun
    from imports.services import deposit_files, request_preview
    from plie.models import Job
    from tests.imports.files import PARTICIPANTS, csv_bytes

    run = deposit_files(
        plie=operation.plie, files=[("participants.csv", csv_bytes(PARTICIPANTS))], create_referents=True, by=admin_user
    )
    with transaction.atomic():
        request_preview(run=run)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and Job.objects.get().state not in ("done", "failed"):
        time.sleep(0.5)
    run.refresh_from_db()
    assert (run.status, run.error, Job.objects.get().state) == ("uploaded", "", "done")
    assert run.files.get().report["created"] == 3
    assert ImportRun.objects.count() == 1


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_an_auditors_pack_is_prepared_by_the_worker(real_worker, operation, animation, referent_a):
    """The pack's job goes through Redis to the worker, which writes the ZIP with its progress; a missing piece is
    named in the index."""
    import datetime
    import io
    import zipfile

    from controls.models import AuditPack
    from controls.services import request_pack
    from participants.participations import sync_participations
    from tests.factories.participants import profile
    from tests.reporting.test_indicators import enrol

    for month in (2, 3, 4):
        enrol(profile(referent_a), datetime.date(2023, month, 1))
    sync_participations(operation.plie_id)
    pack = request_pack(operation=operation, by=animation, size=2, seed=42)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        pack.refresh_from_db()
        if pack.status in ("done", "failed"):
            break
        time.sleep(0.5)
    assert (pack.status, pack.error, pack.progress) == ("done", "", 100)
    with pack.file.open("rb") as handle:
        archive = zipfile.ZipFile(io.BytesIO(handle.read()))
    assert archive.read("index.pdf")[:5] == b"%PDF-"
    assert pack.missing > 0 and len(pack.sample) == 2
    pack.file.delete(save=False)
    assert AuditPack.objects.count() == 1


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_appointment_reminders_are_sent_by_the_worker(real_worker, operation, referent_a, animation):
    """What Celery beat starts every quarter of an hour (agenda.tasks.send_due_reminders), run by the real worker:
    the participant of a rendez-vous in two hours gets one reminder, whoever sweeps again."""
    import datetime

    from django.utils import timezone

    from agenda.models import Appointment
    from agenda.tasks import send_due_reminders
    from tests.factories.participants import ParticipantFactory, make_parcours, profile

    person = ParticipantFactory(plie=operation.plie, first_name="Hélène", email="helene.rappel@exemple.fr")
    parcours = make_parcours(person, "active", by=animation, operation=operation, referent=profile(referent_a))
    appointment = Appointment.objects.create(
        participant=person,
        parcours=parcours,
        referent=profile(referent_a),
        starts_at=timezone.now() + datetime.timedelta(hours=2),
        place="Maison de l’emploi, salle 3",
    )
    seen = mail_sizes(real_worker)
    assert send_due_reminders.delay().get(timeout=60) == 1
    mail = quopri.decodestring(wait_for_mail(real_worker, seen).encode()).decode()
    assert "To: helene.rappel@exemple.fr" in mail
    assert "Maison de l’emploi, salle 3" in mail and "Rachida Benali" in mail
    assert send_due_reminders.delay().get(timeout=60) == 0
    appointment.refresh_from_db()
    assert appointment.reminder_sent_at is not None
