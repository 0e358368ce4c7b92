from django.apps import AppConfig


class OperationsConfig(AppConfig):
    name = "operations"
    verbose_name = "Fiches opération"

    def ready(self):
        from plie.signals import seed_new_plies

        from .defaults import create_default_exit_reasons

        seed_new_plies(create_default_exit_reasons, dispatch_uid="operations_seed_new_plie")
