"""The fault drill (scripts/fault-drill): kill -9 the worker, stop Redis, restart PostgreSQL, fill the disk, while
bilans and imports are under way; after each fault, every job ends done or failed with a message, an import is whole
or absent, no file is half-written and no page showed a stack trace. Prints what it checked, fault by fault."""

import contextlib
import glob
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG_PORT, REDIS_PORT, WEB_PORT = 5440, 6390, 8790
WORK = Path(tempfile.mkdtemp(prefix="fault-drill-"))
PRIVATE = WORK / "private"
ENV = {
    **os.environ,
    "DATABASE_URL": f"postgres://postgres@127.0.0.1:{PG_PORT}/plie_drill",
    "CELERY_BROKER_URL": f"redis://127.0.0.1:{REDIS_PORT}/0",
    "SECRET_KEY": "drill-only-not-a-secret",
    "DEBUG": "off",
    "ALLOWED_HOSTS": "127.0.0.1",
    "SECURE_COOKIES": "off",
    "SECURE_SSL_REDIRECT": "off",
    "MFA_REQUIRED": "off",
    "STATICFILES_BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage",
    "STATIC_ROOT": str(WORK / "static"),
    "MEDIA_ROOT": str(WORK / "media"),
    "PRIVATE_STORAGE_ROOT": str(PRIVATE),
    "ERASURE_JOURNAL_PATH": str(WORK / "journal.jsonl"),
    "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
    "EMAIL_FILE_PATH": str(WORK / "mail"),
    "JOB_HEARTBEAT_SECONDS": "1",
    "JOB_STALE_SECONDS": "6",
    "JOB_RESEND_SECONDS": "30",
    "LOG_LEVEL": "WARNING",
}
os.environ.update(ENV)
os.environ["DJANGO_SETTINGS_MODULE"] = "plie.settings"
sys.path.insert(0, str(ROOT))

PG_BIN = sorted(glob.glob("/usr/lib/postgresql/*/bin"))[-1]
processes = {}
responses = []  # (what, status, body) of every request the drill made
results = []  # (fault, check, ok)


def say(text):
    print(text, flush=True)


def as_postgres(*command):
    return subprocess.run(["runuser", "-u", "postgres", "--", *command], check=True, capture_output=True, text=True)


def pg(action):
    options = f"-p {PG_PORT} -k {WORK / 'pgrun'} -c listen_addresses=127.0.0.1 -c fsync=off"
    log = str(WORK / "pgrun" / "pg.log")
    as_postgres(f"{PG_BIN}/pg_ctl", "-D", str(WORK / "pg"), "-o", options, "-l", log, "-w", "-m", "fast", action)


def start_redis():
    processes["redis"] = subprocess.Popen(
        ["redis-server", "--port", str(REDIS_PORT), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    for _ in range(50):
        if subprocess.run(["redis-cli", "-p", str(REDIS_PORT), "ping"], capture_output=True).returncode == 0:
            return
        time.sleep(0.1)


def stop(name, sig=signal.SIGTERM, group=False):
    process = processes.pop(name, None)
    if process is None:
        return
    try:
        if group:
            os.killpg(process.pid, sig)
        else:
            process.send_signal(sig)
    except ProcessLookupError:
        pass
    process.wait(timeout=30)


def start_worker():
    log = open(WORK / "worker.log", "a")  # noqa: SIM115 — kept open for the worker's life
    processes["worker"] = subprocess.Popen(
        [str(ROOT / ".venv/bin/celery"), "-A", "plie", "worker", "--concurrency=1", "--loglevel=warning"]
        + ["--without-gossip", "--without-mingle"],
        cwd=ROOT,
        env=ENV,
        stdout=log,
        stderr=log,
        start_new_session=True,  # kill -9 reaches the main process and its pool child at once
    )


def start_web():
    log = open(WORK / "web.log", "a")  # noqa: SIM115
    processes["web"] = subprocess.Popen(
        [str(ROOT / ".venv/bin/gunicorn"), "plie.wsgi", "--bind", f"127.0.0.1:{WEB_PORT}", "--workers", "2"]
        + ["--timeout", "60", "--log-level", "warning"],
        cwd=ROOT,
        env=ENV,
        stdout=log,
        stderr=log,
    )


def setup():
    WORK.chmod(0o755)
    for folder in ("pg", "pgrun"):
        (WORK / folder).mkdir()
        shutil.chown(WORK / folder, "postgres")
    as_postgres(f"{PG_BIN}/initdb", "-D", str(WORK / "pg"), "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8")
    pg("start")
    subprocess.run(["psql", f"postgres://postgres@127.0.0.1:{PG_PORT}/postgres", "-qc", "CREATE DATABASE plie_drill"])
    start_redis()
    PRIVATE.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=40m", "tmpfs", str(PRIVATE)], check=True)
    manage = [str(ROOT / ".venv/bin/python"), "manage.py"]
    subprocess.run([*manage, "migrate", "--no-input", "-v0"], cwd=ROOT, env=ENV, check=True)
    subprocess.run([*manage, "demo"], cwd=ROOT, env=ENV, check=True, stdout=subprocess.DEVNULL)
    start_worker()
    start_web()


def teardown(keep):
    for name in ("web", "worker"):
        stop(name, signal.SIGKILL, group=name == "worker")
    stop("redis")
    with contextlib.suppress(subprocess.CalledProcessError):
        pg("stop")
    subprocess.run(["umount", str(PRIVATE)], check=False)
    if not keep:
        shutil.rmtree(WORK, ignore_errors=True)


# --- HTTP, as a browser of the admin of the demo PLIE --------------------------------------------------------------


class Browser:
    def __init__(self, user):
        from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
        from django.contrib.sessions.backends.db import SessionStore

        session = SessionStore()
        session.update(
            {
                SESSION_KEY: str(user.pk),
                BACKEND_SESSION_KEY: "django.contrib.auth.backends.ModelBackend",
                HASH_SESSION_KEY: user.get_session_auth_hash(),
            }
        )
        session.create()
        self.cookies = {"sessionid": session.session_key}

    def request(self, what, path, data=None, files=None, timeout=60):
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        body = None
        if files is not None:
            boundary = uuid.uuid4().hex
            parts = []
            for name, value in (data or {}).items():
                parts.append(
                    f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
                )
            for name, (filename, content) in files.items():
                head = f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                parts.append(head.encode() + b"Content-Type: text/csv\r\n\r\n" + content + b"\r\n")
            body = b"".join(parts) + f"--{boundary}--\r\n".encode()
            headers["Content-Type"] = f"multipart/form-data; boundary={boundary}"
        elif data is not None:
            body = urllib.parse.urlencode(data).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        request = urllib.request.Request(f"http://127.0.0.1:{WEB_PORT}{path}", data=body, headers=headers)
        opener = urllib.request.build_opener(NoRedirect)
        began = time.monotonic()
        try:
            with opener.open(request, timeout=timeout) as response:
                status, text, set_cookie = (
                    response.status,
                    response.read().decode(),
                    response.headers.get_all("Set-Cookie"),
                )
                location = response.headers.get("Location")
        except urllib.error.HTTPError as error:
            status, text, set_cookie = error.code, error.read().decode(), error.headers.get_all("Set-Cookie")
            location = error.headers.get("Location")
        for cookie in set_cookie or []:
            name, value = cookie.split(";")[0].split("=", 1)
            self.cookies[name] = value
        responses.append((what, status, text))
        return status, text, location, time.monotonic() - began

    def post_form(self, what, path, data, files=None, form_page=None):
        status, page, location, _ = self.request(f"{what} (formulaire)", form_page or path)
        found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        if found is None:
            raise RuntimeError(f"HTTP {status} sans formulaire sur {path} ({location or page[:200]})")
        token = found.group(1)
        return self.request(what, path, {**data, "csrfmiddlewaretoken": token}, files=files)


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def wait_web():
    for _ in range(150):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{WEB_PORT}/connexion/", timeout=2)
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("gunicorn ne répond pas")


# --- checks -------------------------------------------------------------------------------------------------------


def check(fault, what, ok, detail=""):
    results.append((fault, what, ok))
    say(f"  [{'OK' if ok else 'ÉCHEC'}] {what}{' — ' + detail if detail else ''}")


def reconnect():
    """The drill's own connection died with the server: the next query opens a new one."""
    from django.db import connections

    for connection in connections.all():
        try:
            connection.close()
        except Exception:  # noqa: BLE001 — already broken
            connection.connection = None


def wait_until(predicate, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        from django.db import close_old_connections

        close_old_connections()
        try:
            if predicate():
                return True
        except Exception:  # noqa: BLE001 — the database may be restarting
            pass
        time.sleep(0.5)
    return False


def sweep_until_ended(job_filter, seconds=90):
    """Runs the sweeper, as beat does every minute, until the jobs have ended."""
    from plie import jobs
    from plie.models import Job

    def ended():
        jobs.sweep()
        return not Job.objects.filter(**job_filter).exclude(state__in=["done", "failed"]).exists()

    return wait_until(ended, seconds)


def jobs_ended_with_messages(fault, job_filter):
    from plie.models import Job

    found = list(Job.objects.filter(**job_filter))
    ended = all(job.state == "done" or (job.state == "failed" and job.error) for job in found)
    detail = ", ".join(
        f"{j.kind} n°{j.pk} {j.state} en {j.attempts} tentative(s){' : ' + j.error if j.error else ''}" for j in found
    )
    check(fault, "chaque tâche a fini (terminée, ou en échec avec un message)", bool(found) and ended, detail)


def no_partial_files(fault):
    partial = [p for p in PRIVATE.rglob("*") if p.name.startswith(".partiel-")]
    check(
        fault,
        "aucun fichier à moitié écrit dans le stockage privé",
        not partial,
        f"{len(partial)} fichier(s) partiel(s)",
    )


def whole_pdf(fault, bilan):
    with bilan.file.open("rb") as pdf:
        data = pdf.read()
    check(
        fault,
        "le PDF du bilan est entier",
        data.startswith(b"%PDF-") and b"%%EOF" in data[-1024:],
        f"{len(data)} octets",
    )


def participants_csv(prefix, count):
    rows = [
        "ID participant;ID parcours;Nom;Prénom;Sexe;Date de naissance;Code INSEE;Prescripteur;Date d'entrée;Référent"
    ]
    for index in range(count):
        rows.append(
            f"{prefix}{index};{prefix}PA{index};Exercice{index};Camille;F;0{1 + index % 9}/0{1 + index % 9}/1980;"
            f"47001;France Travail;15/01/2023;Marie Exercice"
        )
    return ("\r\n".join(rows) + "\r\n").encode("utf-8-sig")


def import_whole_or_absent(fault, prefix, count):
    from participants.models import Participant

    people = Participant.objects.filter(external_id__startswith=prefix)
    history = Participant.history.filter(external_id__startswith=prefix)
    rows = sorted(people.values_list("external_id", "last_name", "birth_date"))
    expected = sorted((f"{prefix}{i}", f"Exercice{i}") for i in range(count))
    whole = [(e, n) for e, n, _ in rows] == expected and history.filter(history_type="+").count() == count
    absent = not rows and not history.exists()
    digest = hashlib.sha256(repr(sorted(history.values_list("external_id", "history_type"))).encode()).hexdigest()[:12]
    check(
        fault,
        "l’import est entier ou absent (lignes et historique)",
        whole or absent,
        f"{len(rows)}/{count} participants, {history.count()} lignes d’historique (somme {digest})"
        + (", entier" if whole else ", absent" if absent else ""),
    )


def no_stack_trace(fault, since):
    seen = responses[since:]
    traces = [(what, status) for what, status, body in seen if "Traceback" in body or 'File "/' in body]
    statuses = ", ".join(sorted({f"{what} : {status}" for what, status, _ in seen}))
    check(fault, "aucune page n’a montré de trace technique", not traces, statuses)


# --- the faults ---------------------------------------------------------------------------------------------------


def deposit_and_preview(browser, name, prefix, count):
    from imports.models import ImportRun

    status, _, location, _ = browser.post_form(
        f"dépôt {name}",
        "/imports/nouveau/",
        {"create_referents": "on"},
        files={"files": (name, participants_csv(prefix, count))},
    )
    assert status == 302, status
    run = ImportRun.objects.get(pk=int(location.rstrip("/").split("/")[-1]))
    assert wait_until(lambda: ImportRun.objects.get(pk=run.pk).status != "analysing", 120), "aperçu trop long"
    return ImportRun.objects.get(pk=run.pk)


def kill_worker_during_import(browser):
    fault = "kill -9 du worker pendant un import"
    say(f"\n== {fault}")
    from imports.models import ImportRun

    since, prefix, count = len(responses), "KILL-IMP-", 12000
    run = deposit_and_preview(browser, "kill.csv", prefix, count)
    browser.post_form("confirmation de l’import", f"/imports/{run.pk}/lancer/", {}, form_page=f"/imports/{run.pk}/")
    running = wait_until(lambda: ImportRun.objects.get(pk=run.pk).status == "running", 60)
    time.sleep(0.3)
    stop("worker", signal.SIGKILL, group=True)
    check(
        fault, "le worker a été tué pendant l’import", running and ImportRun.objects.get(pk=run.pk).status == "running"
    )
    start_worker()
    sweep_until_ended({"kind": "import", "object_id": run.pk})
    run.refresh_from_db()
    jobs_ended_with_messages(fault, {"kind": "import", "object_id": run.pk})
    check(fault, "l’import est terminé après sa reprise", run.status == "done", f"{run.status} {run.error}")
    import_whole_or_absent(fault, prefix, count)
    check(fault, "les fichiers déposés sont supprimés", not run.files.exclude(content="").exists())
    no_partial_files(fault)
    no_stack_trace(fault, since)


def ask_bilan(browser, what):
    from operations.models import Operation
    from reporting.models import BilanRequest

    operation = Operation.objects.filter(plie__slug="agen").order_by("-start").first()
    status, _, location, seconds = browser.post_form(
        what, "/bilans/", {"operation": operation.pk, "start": f"{operation.start}", "end": f"{operation.end}"}
    )
    bilan = BilanRequest.objects.get(pk=int(location.rstrip("/").split("/")[-1])) if status == 302 else None
    return status, bilan, seconds


def kill_worker_during_bilan(browser):
    fault = "kill -9 du worker pendant un bilan"
    say(f"\n== {fault}")
    from reporting.models import BilanRequest

    since = len(responses)
    _, bilan, _ = ask_bilan(browser, "demande de bilan")
    running = wait_until(lambda: BilanRequest.objects.get(pk=bilan.pk).status == "running", 60)
    time.sleep(0.5)
    stop("worker", signal.SIGKILL, group=True)
    check(fault, "le worker a été tué pendant la préparation du PDF", running)
    start_worker()
    sweep_until_ended({"kind": "bilan", "object_id": bilan.pk})
    bilan.refresh_from_db()
    jobs_ended_with_messages(fault, {"kind": "bilan", "object_id": bilan.pk})
    check(fault, "le bilan est prêt après sa reprise", bilan.status == "done", f"{bilan.status} {bilan.error}")
    if bilan.status == "done":
        whole_pdf(fault, bilan)
    no_partial_files(fault)
    no_stack_trace(fault, since)


def redis_down_during_bilan(browser):
    fault = "Redis arrêté pendant une demande de bilan"
    say(f"\n== {fault}")
    from plie.models import Job

    since = len(responses)
    stop("redis")
    status, bilan, seconds = ask_bilan(browser, "demande de bilan, Redis arrêté")
    check(
        fault,
        "la demande est acceptée sans attendre",
        status == 302 and seconds < 5,
        f"HTTP {status} en {seconds:.1f} s",
    )
    job = Job.objects.get(kind="bilan", object_id=bilan.pk)
    check(fault, "la tâche est enregistrée en attente, non transmise", job.state == "queued" and job.sent_at is None)
    _, page, _, _ = browser.request("page du bilan, Redis arrêté", f"/bilans/{bilan.pk}/")
    check(fault, "la page dit « en attente » et pourquoi", "momentanément injoignable" in page)
    start_redis()
    sweep_until_ended({"kind": "bilan", "object_id": bilan.pk}, 120)
    bilan.refresh_from_db()
    jobs_ended_with_messages(fault, {"kind": "bilan", "object_id": bilan.pk})
    check(fault, "le bilan est prêt une fois Redis revenu", bilan.status == "done", f"{bilan.status} {bilan.error}")
    no_partial_files(fault)
    no_stack_trace(fault, since)


def redis_down_during_import(browser):
    fault = "Redis arrêté pendant la confirmation d’un import"
    say(f"\n== {fault}")

    since, prefix, count = len(responses), "REDIS-IMP-", 300
    run = deposit_and_preview(browser, "redis.csv", prefix, count)
    stop("redis")
    status, _, _, seconds = browser.post_form(
        "confirmation, Redis arrêté", f"/imports/{run.pk}/lancer/", {}, form_page=f"/imports/{run.pk}/"
    )
    check(
        fault,
        "la confirmation est acceptée sans attendre",
        status == 302 and seconds < 5,
        f"HTTP {status} en {seconds:.1f} s",
    )
    _, state, _, _ = browser.request("avancement, Redis arrêté", f"/imports/{run.pk}/progression/")
    check(fault, "l’avancement dit « en attente » et pourquoi", "injoignable" in json.loads(state)["label"])
    start_redis()
    sweep_until_ended({"kind": "import", "object_id": run.pk}, 120)
    run.refresh_from_db()
    jobs_ended_with_messages(fault, {"kind": "import", "object_id": run.pk})
    check(fault, "l’import est terminé une fois Redis revenu", run.status == "done", f"{run.status} {run.error}")
    import_whole_or_absent(fault, prefix, count)
    no_stack_trace(fault, since)


def postgres_restart_during_page(browser):
    fault = "PostgreSQL redémarré pendant un chargement de page"
    say(f"\n== {fault}")
    since = len(responses)
    outcome = {}

    def load():
        outcome["first"] = browser.request("tableau de bord pendant le redémarrage", "/tableau-de-bord/")[0]

    thread = threading.Thread(target=load)
    thread.start()
    time.sleep(0.2)
    pg("restart")
    thread.join()
    reconnect()
    status, _, _, _ = browser.request("tableau de bord après le redémarrage", "/tableau-de-bord/")
    check(
        fault,
        "la page pendant le redémarrage répond : servie, ou « service momentanément indisponible » (503)",
        outcome.get("first") in (200, 503),
        f"HTTP {outcome.get('first')}",
    )
    check(fault, "la page suivante est servie normalement", status == 200, f"HTTP {status}")
    no_stack_trace(fault, since)


def postgres_restart_during_import(browser):
    fault = "PostgreSQL redémarré pendant un import"
    say(f"\n== {fault}")
    from imports.models import ImportRun

    since, prefix, count = len(responses), "PG-IMP-", 12000
    run = deposit_and_preview(browser, "pg.csv", prefix, count)
    browser.post_form("confirmation de l’import", f"/imports/{run.pk}/lancer/", {}, form_page=f"/imports/{run.pk}/")
    running = wait_until(lambda: ImportRun.objects.get(pk=run.pk).status == "running", 60)
    time.sleep(0.3)
    pg("restart")
    reconnect()
    check(fault, "PostgreSQL a redémarré pendant l’import", running)
    sweep_until_ended({"kind": "import", "object_id": run.pk}, 120)
    run.refresh_from_db()
    jobs_ended_with_messages(fault, {"kind": "import", "object_id": run.pk})
    check(fault, "l’import a fini", run.status in ("done", "failed"), f"{run.status} {run.error}")
    import_whole_or_absent(fault, prefix, count)
    no_stack_trace(fault, since)


def disk_full_during_upload(browser):
    fault = "stockage plein pendant un dépôt"
    say(f"\n== {fault}")
    from imports.models import ImportRun

    since, before = len(responses), ImportRun.objects.count()
    filler = PRIVATE / "remplissage"
    with open(filler, "wb") as out:
        try:
            while True:
                out.write(b"\0" * 1024 * 1024)
        except OSError:
            pass
    free = shutil.disk_usage(PRIVATE).free
    status, page, _, _ = browser.post_form(
        "dépôt, disque plein", "/imports/nouveau/", {}, files={"files": ("plein.csv", participants_csv("FULL-", 3000))}
    )
    check(
        fault,
        "le dépôt est refusé avec un message en français",
        status == 200 and "espace de stockage" in page,
        f"HTTP {status}, {free} octets libres",
    )
    check(fault, "aucun import n’est enregistré", ImportRun.objects.count() == before)
    no_partial_files(fault)
    filler.unlink()
    no_stack_trace(fault, since)


def main():
    began = time.monotonic()
    say(f"Exercice de pannes dans {WORK}")
    try:
        setup()
        import django

        django.setup()
        from plie.models import User

        wait_web()
        browser = Browser(User.objects.get(email="admin@demo.plie.fr"))
        for fault in (
            kill_worker_during_import,
            kill_worker_during_bilan,
            redis_down_during_bilan,
            redis_down_during_import,
            postgres_restart_during_page,
            postgres_restart_during_import,
            disk_full_during_upload,
        ):
            try:
                fault(browser)
            except Exception as error:  # noqa: BLE001 — one fault failing must not hide the others
                check(
                    fault.__name__, f"l’exercice s’est déroulé jusqu’au bout ({type(error).__name__} : {error})", False
                )
            finally:  # whatever happened, the next fault starts with every service up
                if "redis" not in processes:
                    start_redis()
                if "worker" not in processes:
                    start_worker()
                reconnect()
    finally:
        failed = [r for r in results if not r[2]]
        teardown(keep="--keep" in sys.argv or bool(failed))
    say(f"\n{len(results) - len(failed)}/{len(results)} vérifications réussies en {time.monotonic() - began:.0f} s.")
    if failed:
        say(f"Journaux du worker, du serveur et de PostgreSQL gardés dans {WORK}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
