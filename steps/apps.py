from django.apps import AppConfig


class StepsConfig(AppConfig):
    name = "steps"
    verbose_name = "Étapes de parcours"

    def ready(self):
        from plie.signals import seed_new_plies

        from .defaults import create_default_step_nomenclature

        seed_new_plies(create_default_step_nomenclature, dispatch_uid="steps_seed_new_plie")
