"""`python manage.py replay_erasures [--apply] [--json]`, to run after every restore of a backup.

Makes the journal of erasures whole again (ERASURE_JOURNAL_PATH ↔ database) and applies each erasure or restriction
again to the people the backup brought back. Simulation unless --apply is given."""

import json

from django.core.management.base import BaseCommand

from privacy.erasure import replay_erasures

OUTCOMES = {"deleted": "supprimé", "anonymised": "anonymisé", "restricted": "traitement limité"}


class Command(BaseCommand):
    help = (
        "Après une restauration : applique de nouveau le journal des effacements et limitations aux personnes "
        "revenues avec la sauvegarde (simulation sans --apply)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--apply", "--appliquer", action="store_true", help="Applique (sinon : simulation).")
        parser.add_argument("--json", action="store_true", help="Écrit le résumé en JSON sur la sortie standard.")

    def handle(self, *args, **options):
        summary = replay_erasures(apply=options["apply"])
        if options["json"]:
            self.stdout.write(json.dumps({"applied": options["apply"], **summary}, ensure_ascii=False))
            return
        prefix = "" if options["apply"] else "Simulation : rien n’est modifié (ajoutez --apply). "
        lines = [
            f"{prefix}{summary['journal_entries_restored']} entrée(s) du journal "
            f"{'remise(s)' if options['apply'] else 'à remettre'} en base ; "
            f"{len(summary['applied'])} dossier(s) {'traité(s)' if options['apply'] else 'à traiter'}."
        ]
        lines += [f"Dossier n° {row['participant']} : {OUTCOMES[row['outcome']]}." for row in summary["applied"]]
        self.stdout.write("\n".join(lines))
