"""`python manage.py replay_erasures [--apply] [--json]`, to run after every restore of a backup.

Makes the journal of erasures whole again (ERASURE_JOURNAL_PATH ↔ database) and applies each erasure or restriction
again to the people the backup brought back. Simulation unless --apply is given."""

from plie.commands import PlieCommand
from privacy.erasure import replay_erasures

OUTCOMES = {"deleted": "supprimé", "anonymised": "anonymisé", "restricted": "traitement limité"}


class Command(PlieCommand):
    help = (
        "Après une restauration : applique de nouveau le journal des effacements et limitations aux personnes "
        "revenues avec la sauvegarde (simulation sans --apply)."
    )

    def add_options(self, parser):
        parser.add_argument("--apply", "--appliquer", action="store_true", help="Applique (sinon : simulation).")

    def handle(self, *args, **options):
        summary = replay_erasures(apply=options["apply"])
        self.report({"applied": options["apply"], **summary}, lambda: self.readable(summary, options), options=options)

    def readable(self, summary, options):
        prefix = "" if options["apply"] else "Simulation : rien n’est modifié (ajoutez --apply). "
        lines = [
            f"{prefix}{summary['journal_entries_restored']} entrée(s) du journal "
            f"{'remise(s)' if options['apply'] else 'à remettre'} en base ; "
            f"{len(summary['applied'])} dossier(s) {'traité(s)' if options['apply'] else 'à traiter'}."
        ]
        lines += [f"Dossier n° {row['participant']} : {OUTCOMES[row['outcome']]}." for row in summary["applied"]]
        return "\n".join(lines)
