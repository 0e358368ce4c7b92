from django.db.models.signals import post_save

from .models import Plie


def seed_new_plies(create_defaults, *, dispatch_uid):
    """Calls `create_defaults(plie)` for each PLIE created in the application.

    A fixture brings its own nomenclature (a raw save), so loading one creates nothing."""

    def seed(sender, instance, created, raw, **kwargs):
        if created and not raw:
            create_defaults(instance)

    post_save.connect(seed, sender=Plie, dispatch_uid=dispatch_uid, weak=False)
