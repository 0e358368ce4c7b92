from django.apps import AppConfig


class StepsConfig(AppConfig):
    name = "steps"
    verbose_name = "Étapes de parcours"
