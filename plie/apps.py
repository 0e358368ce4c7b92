from axes.apps import AppConfig as BaseAxesConfig
from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules


class PlieConfig(AppConfig):
    default = True  # the module also holds AxesConfig
    name = "plie"
    verbose_name = "PLIE et comptes"

    def ready(self):
        # First: every process (web, worker, commands, tests) reuses its frame-stack chunks (python/cpython#142183).
        try:
            from . import _datastack
        except ImportError:  # built only where a C compiler was at hand (pyproject.toml)
            pass
        else:
            _datastack.install()
        # Each app's `jobs.py` registers its kinds of long jobs, so that any process can sweep any of them.
        autodiscover_modules("jobs")
        from . import checks, dataversion  # noqa: F401 (checks registers itself)
        from .audit import build_history_managers_once

        dataversion.connect()
        build_history_managers_once()

        from django.contrib.auth.signals import user_logged_in

        from .middleware import stamp_idle_refresh

        # Signing in saves the session anyway: it starts the idle timeout's minute, so the next pages write nothing.
        user_logged_in.connect(lambda request, **kwargs: stamp_idle_refresh(request.session), weak=False)


class AxesConfig(BaseAxesConfig):
    """django-axes under a French name in the admin (its label stays `axes`)."""

    verbose_name = "Connexions et verrouillages"
