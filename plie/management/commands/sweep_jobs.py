"""`python manage.py sweep_jobs [--json]`: what Celery beat does every minute (plie/jobs.py), for a cron without beat
or by hand after an incident."""

import json

from django.core.management.base import BaseCommand

from plie import jobs


class Command(BaseCommand):
    help = (
        "Transmet au broker les tâches restées en attente, relance celles qu’un worker perdu a laissées en cours et "
        "marque en échec, avec un message, celles interrompues trop souvent."
    )

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="Écrit le résumé en JSON sur la sortie standard.")

    def handle(self, *args, **options):
        done = jobs.sweep()
        if options["json"]:
            self.stdout.write(json.dumps(done))
        else:
            self.stdout.write(
                f"{done['sent']} tâche(s) transmise(s), {done['unsent']} encore en attente (broker injoignable), "
                f"{done['requeued']} relancée(s), {done['failed']} marquée(s) en échec."
            )
