import datetime
import os
from pathlib import Path

import environ
from celery.schedules import crontab
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(os.environ.get("ENV_FILE", BASE_DIR / ".env"))

DEBUG = env.bool("DEBUG", default=False)
# No default on purpose: production must not start with a guessable key (the demo writes one in .env).
SECRET_KEY = env("SECRET_KEY")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "plie.apps.AxesConfig",
    "crispy_forms",
    "crispy_bootstrap5",
    "simple_history",
    "import_export",
    "plie",
    "territories",
    "operations",
    "participants",
    "steps",
    "applications",
    "reporting",
    "controls",
    "privacy",
    "imports",
    "agenda",
    "printouts",
    "home",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "plie.middleware.RequestSizeLimitMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "plie.middleware.IdleTimeoutMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "plie.middleware.KeepExpiredPostMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "plie.middleware.RequireSecondFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "plie.middleware.CurrentPlieMiddleware",
    "plie.middleware.FrenchErrorPagesMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "plie.middleware.NoStoreMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "plie.urls"
WSGI_APPLICATION = "plie.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.csp",
                "plie.context_processors.current_plie",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
# Rate limits count in the cache: share one between the web workers in production (CACHE_URL=redis://…).
CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}
DATABASES["default"]["ATOMIC_REQUESTS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "plie.User"
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "fr-fr"
LANGUAGES = [("fr", "Français")]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True

FIXTURE_DIRS = [BASE_DIR / "fixtures"]
# French where the installed packages leave English or a straight apostrophe (the admin, django-axes).
LOCALE_PATHS = [BASE_DIR / "locale"]

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "var" / "staticfiles")
MEDIA_URL = "media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "var" / "media")
# Justificatifs live outside MEDIA_ROOT and are only ever served through a view that checks access.
PRIVATE_STORAGE_ROOT = env.path("PRIVATE_STORAGE_ROOT", default=BASE_DIR / "var" / "private")
# The journal of erasures (JSON lines), kept apart from database backups so that `replay_erasures` can apply it
# again after a restore; its key makes the hashes of identities it holds useless without it (SECRET_KEY if unset).
ERASURE_JOURNAL_PATH = env.path("ERASURE_JOURNAL_PATH", default=BASE_DIR / "var" / "journal-effacements.jsonl")
ERASURE_JOURNAL_KEY = env("ERASURE_JOURNAL_KEY", default="")
MAX_UPLOAD_SIZE = env.int("MAX_UPLOAD_SIZE", default=10_000_000)
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
# Admin exports: formulas are neutralised by the project's own formats (plie/spreadsheet.py), and an export asks for a
# permission no role is given (superusers have them all): never "anyone who reaches the admin".
IMPORT_EXPORT_EXPORT_PERMISSION_CODE = "export"
# Extracts are refused above this size before being read (a year of a large PLIE's steps is a few megabytes).
IMPORT_MAX_MEGABYTES = env.int("IMPORT_MAX_MEGABYTES", default=50)
# The preview of an import runs in a child process of the worker with these limits (imports/preview.py).
IMPORT_PREVIEW_MEGABYTES = env.int("IMPORT_PREVIEW_MEGABYTES", default=2048)
IMPORT_PREVIEW_SECONDS = env.int("IMPORT_PREVIEW_SECONDS", default=300)
# A request may carry several extracts at once; beyond this, it is refused before its body is read.
MAX_REQUEST_BYTES = 4 * IMPORT_MAX_MEGABYTES * 1024 * 1024
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": env(
            "STATICFILES_BACKEND",
            default="whitenoise.storage.CompressedManifestStaticFilesStorage",
        )
    },
}

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

EMAIL_BACKEND_PATH = env(
    "EMAIL_BACKEND",
    default="django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
MAILER_OPTIONS = {
    "django.core.mail.backends.smtp.EmailBackend": {
        "host": env("EMAIL_HOST", default="localhost"),
        "port": env.int("EMAIL_PORT", default=25),
        "username": env("EMAIL_HOST_USER", default=""),
        "password": env("EMAIL_HOST_PASSWORD", default=""),
        "use_tls": env.bool("EMAIL_USE_TLS", default=False),
    },
    "django.core.mail.backends.filebased.EmailBackend": {
        "file_path": env("EMAIL_FILE_PATH", default=str(BASE_DIR / "var" / "mail")),
    },
}
MAILERS = {"default": {"BACKEND": EMAIL_BACKEND_PATH, "OPTIONS": MAILER_OPTIONS.get(EMAIL_BACKEND_PATH, {})}}
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="PLIE <ne-pas-repondre@plie.localhost>")

CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=env("REDIS_URL", default=None))
# Without a broker (demo, tests) tasks run in-process, so the app needs no service at all.
CELERY_TASK_ALWAYS_EAGER = CELERY_BROKER_URL is None
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND", default=CELERY_BROKER_URL or "cache+memory://")
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_TIME_LIMIT = 30 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 29 * 60
# A broker or result store that does not answer is reported within seconds: a page never waits on it (plie/jobs.py
# keeps the job in its outbox), and a worker reconnects on its own.
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_BROKER_TRANSPORT_OPTIONS = {"socket_connect_timeout": 2, "socket_timeout": 5, "max_retries": 1}
CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = 2
CELERY_REDIS_SOCKET_TIMEOUT = 5
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {"socket_connect_timeout": 2, "socket_timeout": 5}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1  # with acks_late, a worker holds only the job it runs
# Long jobs (plie/jobs.py): a running job touches its row this often; one silent for JOB_STALE_SECONDS is taken
# for lost and run again, up to JOB_MAX_ATTEMPTS times; a queued job the broker has not started is sent again after
# JOB_RESEND_SECONDS. Celery beat sweeps every minute (`celery -A plie beat`, or cron `manage.py sweep_jobs`).
JOB_HEARTBEAT_SECONDS = env.int("JOB_HEARTBEAT_SECONDS", default=15)
JOB_STALE_SECONDS = env.int("JOB_STALE_SECONDS", default=300)
JOB_MAX_ATTEMPTS = env.int("JOB_MAX_ATTEMPTS", default=3)
JOB_RESEND_SECONDS = env.int("JOB_RESEND_SECONDS", default=600)
CELERY_BEAT_SCHEDULE = {
    "balayage des tâches": {"task": "plie.tasks.sweep_jobs", "schedule": env.int("JOB_SWEEP_SECONDS", default=60)},
    "conservation des dossiers": {
        "task": "plie.tasks.enqueue_job",
        "schedule": crontab(hour=2, minute=30),
        "args": ["retention"],
    },
    "rappels de rendez-vous": {
        "task": "agenda.tasks.send_due_reminders",
        "schedule": env.int("REMINDER_SWEEP_SECONDS", default=15 * 60),
    },
}
# An auditor's pack (controls app) is a copy of proofs about named people: its ZIP goes after this many days, or at
# the fiche's archiving deadline if that comes first; the record of the draw stays.
AUDIT_PACK_RETENTION_DAYS = env.int("AUDIT_PACK_RETENTION_DAYS", default=180)
# A participant with an e-mail address is reminded of a rendez-vous this many hours before it (agenda/services.py).
REMINDER_HOURS = env.int("REMINDER_HOURS", default=24)

# Security (OWASP ASVS level 2; see SECURITY.md).
# A second factor (TOTP, with recovery codes) for every account; the demo may go without.
MFA_REQUIRED = env.bool("MFA_REQUIRED", default=not DEBUG)
# Ten wrong passwords lock the account for half an hour; a success resets the count.
AXES_FAILURE_LIMIT = 10
AXES_COOLOFF_TIME = datetime.timedelta(minutes=30)
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked.html"
AXES_VERBOSE = False
# axes.W006: the lock is on the account: locking an address would lock a whole office behind one address.
# models.W040: the covering index of the assignments (participants.models) is a plain index on SQLite, which is what
# the demo and the tests need.
SILENCED_SYSTEM_CHECKS = ["axes.W006", "models.W040"]
AXES_USERNAME_FORM_FIELD = "username"
# One count of failures per account, however its address is spelt (case, spaces, Unicode forms): plie/identity.py.
AXES_USERNAME_CALLABLE = "plie.identity.axes_username"
# Password reset e-mails: at most 3 an hour for an account, 20 an hour from one address (plie/views.py).
PASSWORD_RESET_PER_ACCOUNT = 3
PASSWORD_RESET_PER_IP = 20
# The link enrolling a second factor is e-mailed to the account's owner, valid 48 hours and once (plie/mfa.py).
MFA_INVITATION_SECONDS = 48 * 3600
# Sessions end after 30 minutes without activity, and with the browser.
SESSION_COOKIE_AGE = env.int("SESSION_IDLE_SECONDS", default=30 * 60)
SESSION_SAVE_EVERY_REQUEST = False  # the idle timeout is refreshed by plie.middleware.IdleTimeoutMiddleware
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
CSRF_COOKIE_HTTPONLY = True
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env.bool("BEHIND_PROXY", default=False) else None
SECURE_HSTS_SECONDS = env.int("HSTS_SECONDS", default=0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    # WeasyPrint narrates every layout step, and every SVG style property it skips.
    "loggers": {"weasyprint": {"level": "ERROR"}, "fontTools": {"level": "WARNING"}},
}
