from django.apps import AppConfig


class ReportingConfig(AppConfig):
    name = "reporting"
    verbose_name = "Bilans"

    def ready(self):
        from participants.signals import person_forgotten

        from .services import delete_bilans_naming

        person_forgotten.connect(delete_bilans_naming, dispatch_uid="reporting.delete_bilans_naming")
