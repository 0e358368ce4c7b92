from django.apps import AppConfig


class ControlsConfig(AppConfig):
    name = "controls"
    verbose_name = "Contrôle de service fait"

    def ready(self):
        from participants.signals import person_forgotten

        from .services import delete_packs_naming

        person_forgotten.connect(delete_packs_naming, dispatch_uid="controls.delete_packs_naming")
