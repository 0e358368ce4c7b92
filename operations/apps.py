from django.apps import AppConfig


class OperationsConfig(AppConfig):
    name = "operations"
    verbose_name = "Fiches opération"

    def ready(self):
        from django.db.models.signals import post_save

        from plie.models import Plie

        from .defaults import create_default_exit_reasons

        def seed_new_plie(sender, instance, created, raw, **kwargs):
            # A fixture brings its own nomenclature (raw); a PLIE created in the application starts from the defaults.
            if created and not raw:
                create_default_exit_reasons(instance)

        post_save.connect(seed_new_plie, sender=Plie, dispatch_uid="operations_seed_new_plie", weak=False)
