"""`python manage.py sync_participations [--plie SLUG] [--json]`: the FSE+ participations recomputed from attribution.

Writes keep them in step by themselves (participants/participations.py); run this after an upgrade that brings
participations to existing data, and nightly as a safety net (a fiche whose period has ended freezes its entry
situations on the first run after its end)."""

import json

from django.core.management.base import BaseCommand, CommandError

from participants.participations import sync_participations
from plie.models import Plie


class Command(BaseCommand):
    help = "Recalcule les participations FSE+ (un participant = une opération) à partir des rattachements."

    def add_arguments(self, parser):
        parser.add_argument("--plie", help="Identifiant d’un seul PLIE (par défaut : tous).")
        parser.add_argument("--json", action="store_true", help="Écrit le résumé en JSON sur la sortie standard.")

    def handle(self, *args, **options):
        plies = Plie.objects.order_by("slug")
        if options["plie"]:
            plies = plies.filter(slug=options["plie"])
            if not plies:
                raise CommandError(f"PLIE inconnu : « {options['plie']} ».")
        summary = {}
        for plie in plies:
            created, updated, deleted = sync_participations(plie.pk)
            summary[plie.slug] = {"created": created, "updated": updated, "deleted": deleted}
        if options["json"]:
            self.stdout.write(json.dumps(summary))
            return
        for slug, counts in summary.items():
            self.stdout.write(
                f"{slug} : {counts['created']} créée(s), {counts['updated']} mise(s) à jour, "
                f"{counts['deleted']} supprimée(s)."
            )
