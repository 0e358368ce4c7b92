from axes.apps import AppConfig as BaseAxesConfig
from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules


class PlieConfig(AppConfig):
    default = True  # the module also holds AxesConfig
    name = "plie"
    verbose_name = "PLIE et comptes"

    def ready(self):
        # Each app's `jobs.py` registers its kinds of long jobs, so that any process can sweep any of them.
        autodiscover_modules("jobs")
        from . import dataversion

        dataversion.connect()


class AxesConfig(BaseAxesConfig):
    """django-axes under a French name in the admin (its label stays `axes`)."""

    verbose_name = "Connexions et verrouillages"
