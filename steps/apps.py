from django.apps import AppConfig


class StepsConfig(AppConfig):
    name = "steps"
    verbose_name = "Étapes de parcours"

    def ready(self):
        from django.db.models.signals import post_save

        from plie.models import Plie

        from .defaults import create_default_step_nomenclature

        def seed_new_plie(sender, instance, created, raw, **kwargs):
            # A fixture brings its own nomenclature (raw); a PLIE created in the application starts from the defaults.
            if created and not raw:
                create_default_step_nomenclature(instance)

        post_save.connect(seed_new_plie, sender=Plie, dispatch_uid="steps_seed_new_plie", weak=False)
