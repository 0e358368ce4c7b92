"""`python manage.py apply_retention [--plie SLUG] [--today AAAA-MM-JJ] [--apply] [--json]`, to run every night (cron).

Archives the people without contact for more than two years and anonymises archived people once the FSE+ audit
deadline of their operations has passed (privacy/retention.py). Simulation unless --apply is given."""

from django.db import transaction
from django.utils import timezone

from plie.commands import PlieCommand, get_plie, parse_date
from privacy import retention


def _person(participant):
    return {"id": participant.pk, "plie": participant.plie.slug}


class Command(PlieCommand):
    help = (
        "Archive les dossiers sans contact depuis plus de deux ans et anonymise les dossiers archivés dont "
        "l’échéance de contrôle FSE+ est passée (simulation sans --apply)."
    )

    def add_options(self, parser):
        parser.add_argument("--plie", help="Identifiant d’un seul PLIE (par défaut : tous).")
        parser.add_argument("--today", help="Date du jour à retenir, AAAA-MM-JJ (par défaut : aujourd’hui).")
        parser.add_argument("--apply", "--appliquer", action="store_true", help="Applique (sinon : simulation).")

    def handle(self, *args, **options):
        today = parse_date(options["today"], "--today") if options["today"] else timezone.localdate()
        plie = get_plie(options["plie"]) if options["plie"] else None
        plan = retention.plan(today, plie)
        documents = 0
        if options["apply"]:
            with transaction.atomic():
                for participant in plan.to_archive:
                    retention.archive_participant(participant=participant, by=None)
                for participant in plan.to_anonymise:
                    documents += retention.anonymise_participant(participant=participant, by=None).documents_forgotten
                retention.forget_prospects(plan.prospects)
        summary = {
            "today": today.isoformat(),
            "applied": options["apply"],
            "archived": [_person(p) for p in plan.to_archive],
            "anonymised": [_person(p) for p in plan.to_anonymise],
            "open_without_contact": [_person(p) for p in plan.open_without_contact],
            "held": [{**_person(p), "reason": reason} for p, reason in plan.held],
            "prospects_forgotten": len(plan.prospects),
            "bilans_deleted": documents,
        }
        self.report(summary, lambda: self.readable(plan, options["apply"], documents), options=options)

    def readable(self, plan, applied, documents):
        verb = (lambda done, todo: done) if applied else (lambda done, todo: todo)
        lines = [
            f"Conservation des dossiers au {plan.today:%d/%m/%Y} (contact le plus récent avant le "
            f"{retention.archive_cutoff(plan.today):%d/%m/%Y} : archivage)."
            + ("" if applied else " Simulation : rien n’est modifié (ajoutez --apply)."),
            f"{len(plan.to_archive)} dossier(s) {verb('archivé(s)', 'à archiver')}.",
            f"{len(plan.to_anonymise)} dossier(s) {verb('anonymisé(s)', 'à anonymiser')}"
            + (f", {documents} bilan(s) avec annexe nominative supprimé(s) avec eux." if applied else "."),
            f"{len(plan.prospects)} personne(s) hors parcours {verb('oubliée(s)', 'à oublier')} (nom et contact).",
        ]
        if plan.open_without_contact:
            lines.append(
                f"{len(plan.open_without_contact)} dossier(s) sans contact depuis plus de deux ans mais avec un parcours "
                "ouvert : enregistrez la sortie pour qu’ils soient archivés ("
                + ", ".join(f"n° {p.pk}" for p in plan.open_without_contact)
                + ")."
            )
        for participant, reason in plan.held:
            lines.append(f"Dossier n° {participant.pk} ({participant.plie.slug}) conservé : {reason}.")
        return "\n".join(lines)
