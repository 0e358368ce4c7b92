"""`python manage.py sync_participations [--plie SLUG] [--json]`: the FSE+ participations recomputed from attribution.

Writes keep them in step by themselves (participants/participations.py); run this after an upgrade that brings
participations to existing data, and nightly as a safety net (a fiche whose period has ended freezes its entry
situations on the first run after its end)."""

from participants.participations import sync_participations
from plie.commands import PlieCommand, get_plie
from plie.models import Plie


class Command(PlieCommand):
    help = "Recalcule les participations FSE+ (un participant = une opération) à partir des rattachements."

    def add_options(self, parser):
        parser.add_argument("--plie", help="Identifiant d’un seul PLIE (par défaut : tous).")

    def handle(self, *args, **options):
        plies = [get_plie(options["plie"])] if options["plie"] else Plie.objects.order_by("slug")
        summary = {}
        for plie in plies:
            created, updated, deleted = sync_participations(plie.pk)
            summary[plie.slug] = {"created": created, "updated": updated, "deleted": deleted}
        self.report(summary, lambda: self.readable(summary), options=options)

    def readable(self, summary):
        return "\n".join(
            f"{slug} : {counts['created']} créée(s), {counts['updated']} mise(s) à jour, {counts['deleted']} supprimée(s)."
            for slug, counts in summary.items()
        )
