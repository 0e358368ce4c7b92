from django.apps import AppConfig


class AgendaConfig(AppConfig):
    name = "agenda"
    verbose_name = "Agenda et accueil"

    def ready(self):
        from participants import dossier

        from .dossier import participant_appointments

        dossier.register("appointments", "agenda/_participant_appointments.html", participant_appointments)
