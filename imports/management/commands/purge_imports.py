import datetime

from dateutil.relativedelta import relativedelta
from django.core.management import BaseCommand
from django.utils import timezone

from imports.models import ImportRun, RunStatus
from imports.services import abandon_stale, forget_details


class Command(BaseCommand):
    help = (
        "Supprime les fichiers des imports déposés mais jamais confirmés, et le détail ligne par ligne des rapports "
        "de plus de 12 mois (simulation sans --appliquer)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--appliquer", action="store_true", help="supprimer vraiment (sinon : simulation)")
        parser.add_argument("--jours", type=int, default=2, help="délai laissé pour confirmer, en jours")

    def handle(self, *args, appliquer, jours, **options):
        limit = timezone.now() - datetime.timedelta(days=jours)
        details = timezone.now() - relativedelta(months=12)
        if appliquer:
            runs, files = abandon_stale(older_than=limit)
            reports = forget_details(older_than=details)
            self.stdout.write(
                f"{runs} import(s) abandonné(s), {files} fichier(s) supprimé(s), "
                f"{reports} rapport(s) de plus de 12 mois réduit(s) aux comptes et aux messages."
            )
        else:
            runs = ImportRun.objects.filter(status=RunStatus.UPLOADED, created_at__lt=limit).count()
            self.stdout.write(
                f"Simulation : {runs} import(s) déposé(s) avant le {timezone.localtime(limit):%d/%m/%Y %H:%M} "
                "et jamais confirmé(s) seraient abandonnés et leurs fichiers supprimés (ajoutez --appliquer)."
            )
