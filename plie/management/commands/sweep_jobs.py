"""`python manage.py sweep_jobs [--json]`: what Celery beat does every minute (plie/jobs.py), for a cron without beat
or by hand after an incident."""

from plie import jobs
from plie.commands import PlieCommand


class Command(PlieCommand):
    help = (
        "Transmet au broker les tâches restées en attente, relance celles qu’un worker perdu a laissées en cours et "
        "marque en échec, avec un message, celles interrompues trop souvent."
    )

    def handle(self, *args, **options):
        done = jobs.sweep()
        self.report(
            done,
            lambda: (
                f"{done['sent']} tâche(s) transmise(s), {done['unsent']} encore en attente (broker injoignable), "
                f"{done['requeued']} relancée(s), {done['failed']} marquée(s) en échec."
            ),
            options=options,
        )
