from dateutil.relativedelta import relativedelta
from django.core.management import BaseCommand
from django.utils import timezone

from participants.models import FileAccess


class Command(BaseCommand):
    help = "Supprime les traces de consultation des dossiers de plus de 12 mois (simulation sans --appliquer)."

    def add_arguments(self, parser):
        parser.add_argument("--appliquer", action="store_true", help="supprimer vraiment (sinon : simulation)")
        parser.add_argument("--mois", type=int, default=12, help="durée de conservation, en mois")

    def handle(self, *args, appliquer, mois, **options):
        limit = timezone.now() - relativedelta(months=mois)
        old = FileAccess.objects.filter(at__lt=limit)
        count = old.count()
        if appliquer:
            old.delete()
            self.stdout.write(f"{count} trace(s) de consultation antérieure(s) au {limit:%d/%m/%Y} supprimée(s).")
        else:
            self.stdout.write(
                f"Simulation : {count} trace(s) antérieure(s) au {limit:%d/%m/%Y} seraient supprimées (ajoutez --appliquer)."
            )
