"""Settings are safe by default: no secret key, no start; DEBUG off unless asked; no broker, tasks in-process."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def settings_of(**env):
    base = {
        k: v
        for k, v in os.environ.items()
        if k not in {"SECRET_KEY", "DEBUG", "DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL"}
    }
    code = (
        "from django.conf import settings as s; "
        "print(s.DEBUG, s.CELERY_TASK_ALWAYS_EAGER, s.DATABASES['default']['ENGINE'], s.TIME_ZONE, s.LANGUAGE_CODE)"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        env={**base, "DJANGO_SETTINGS_MODULE": "plie.settings", "ENV_FILE": "/nonexistent", **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
    )


def test_production_refuses_to_start_without_a_secret_key():
    result = settings_of()
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_defaults_are_debug_off_sqlite_eager_tasks_and_french():
    result = settings_of(SECRET_KEY="x")
    assert result.stdout.split() == ["False", "True", "django.db.backends.sqlite3", "Europe/Paris", "fr-fr"]


def test_a_broker_turns_eager_tasks_off():
    result = settings_of(SECRET_KEY="x", REDIS_URL="redis://127.0.0.1:6379/0")
    assert result.stdout.split()[1] == "False"
