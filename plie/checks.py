from django.conf import settings
from django.core.checks import Warning, register

PER_PROCESS_CACHES = {"django.core.cache.backends.locmem.LocMemCache", "django.core.cache.backends.dummy.DummyCache"}


@register("caches", deploy=True)
def shared_cache(app_configs, **kwargs):
    """The data versions (plie/dataversion.py) and the login limits live in the cache: with one cache per process, a
    write served by one web worker would leave the others serving the figures computed before it."""
    if settings.CACHES["default"]["BACKEND"] not in PER_PROCESS_CACHES:
        return []
    return [
        Warning(
            "Le cache est propre à chaque processus : les chiffres gardés par un processus ne seraient pas renouvelés "
            "par une écriture servie par un autre.",
            hint="Donnez CACHE_URL=redis://… (un cache partagé par tous les processus web et les workers).",
            id="plie.W001",
        )
    ]
