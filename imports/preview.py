"""The preview of an import, run by the worker in a child process that has its own memory and time limits: a crafted
file ends that child, never the worker, and the page says why."""

import resource
import signal
import subprocess
import sys

from django.conf import settings

from . import services
from .models import ImportRun, RunStatus

OUT_OF_MEMORY = 3
TOO_BIG = (
    "L’aperçu demandait plus de mémoire que permis ({megabytes} Mo) : ces fichiers sont refusés. "
    "Enregistrez l’extraction en CSV, ou découpez-la par année."
)
TOO_LONG = (
    "L’aperçu a dépassé le temps permis ({seconds} s) : ces fichiers sont refusés. Découpez l’extraction par année."
)
CRASHED = "L’aperçu a échoué sur une erreur imprévue ; l’administrateur technique en a la trace."


def run(run_id):
    """The preview itself, in whatever process calls it."""
    run = ImportRun.objects.select_related("plie", "created_by").filter(pk=run_id, status=RunStatus.ANALYSING).first()
    if run is None:  # already previewed, or failed: a second delivery changes nothing
        return
    services.analyse(run)
    services.finish_preview(run_id)


def limit_this_process():
    """Called by the child itself, first thing (a preexec_fn is unsafe in a worker that runs a heartbeat thread)."""
    memory = settings.IMPORT_PREVIEW_MEGABYTES * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    seconds = settings.IMPORT_PREVIEW_SECONDS
    resource.setrlimit(resource.RLIMIT_CPU, (seconds, seconds + 5))


def run_isolated(run_id):
    command = [sys.executable, str(settings.BASE_DIR / "manage.py"), "import_preview", str(run_id)]
    try:
        child = subprocess.run(
            command,
            timeout=2 * settings.IMPORT_PREVIEW_SECONDS,
            capture_output=True,
            text=True,
            check=False,
        )
    except subprocess.TimeoutExpired:
        services.fail(run_id, TOO_LONG.format(seconds=settings.IMPORT_PREVIEW_SECONDS))
        return
    if child.returncode == 0:
        return
    if child.returncode == -signal.SIGXCPU or child.returncode == -signal.SIGKILL:
        message = TOO_LONG.format(seconds=settings.IMPORT_PREVIEW_SECONDS)
    elif child.returncode == OUT_OF_MEMORY or child.returncode in (-signal.SIGSEGV, -signal.SIGABRT):
        message = TOO_BIG.format(megabytes=settings.IMPORT_PREVIEW_MEGABYTES)
    else:
        message = CRASHED
    print(child.stderr[-4000:], file=sys.stderr)
    services.fail(run_id, message)
