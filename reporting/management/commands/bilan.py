"""`python manage.py bilan --plie SLUG --operation CODE --start AAAA-MM-JJ --end AAAA-MM-JJ [--json | --pdf FILE]`.

The contract is shared/spec/interfaces.md; the figures come from reporting.indicators.compute_bilan.
"""

import datetime
from pathlib import Path

from django.core.management.base import CommandError

from operations.models import Operation
from plie.commands import PlieCommand, get_plie, parse_date
from reporting.definitions import INDICATORS, display
from reporting.indicators import compute_bilan


class Command(PlieCommand):
    help = "Calcule le bilan d’une fiche opération sur une période : indicateurs de l’opération et de chaque référent."

    json_help = None  # --json and --pdf exclude each other

    def add_arguments(self, parser):
        parser.add_argument("--plie", required=True, help="Identifiant du PLIE (par exemple sources).")
        parser.add_argument("--operation", required=True, help="Code de la fiche opération (par exemple FO1).")
        parser.add_argument("--start", required=True, help="Début de la période, AAAA-MM-JJ (inclus).")
        parser.add_argument("--end", required=True, help="Fin de la période, AAAA-MM-JJ (incluse).")
        output = parser.add_mutually_exclusive_group()
        output.add_argument("--json", action="store_true", help="Écrit le bilan en JSON sur la sortie standard.")
        output.add_argument("--pdf", metavar="FICHIER", help="Écrit le bilan au format PDF dans ce fichier.")

    def handle(self, *args, **options):
        start = parse_date(options["start"], "--start")
        end = parse_date(options["end"], "--end")
        if end < start:
            raise CommandError(
                f"La fin de la période ({end:%d/%m/%Y}) ne peut pas précéder son début ({start:%d/%m/%Y})."
            )
        plie = get_plie(options["plie"])
        fiches = Operation.objects.select_related("plie").of_code(plie, options["operation"])
        operation = fiches.in_force_on(start).first()
        if operation is None and not fiches.exists():
            raise CommandError(f"Fiche opération inconnue dans le {plie.name} : « {options['operation']} ».")
        if operation is None:
            years = ", ".join(fiche.years for fiche in fiches.order_by("start"))
            raise CommandError(
                f"Aucune fiche opération « {options['operation']} » du {plie.name} ne couvre le {start:%d/%m/%Y} "
                f"(fiches de ce code : {years})."
            )

        if options["pdf"]:
            self.write_pdf(operation, start, end, Path(options["pdf"]))
            return
        try:
            bilan = compute_bilan(operation, start, end)
        except ValueError as error:
            raise CommandError(str(error)) from error
        self.report(bilan, lambda: self.summary(operation, bilan), options=options)

    def write_pdf(self, operation, start, end, path):
        from reporting.pdf import render_bilan_pdf

        document, pages = render_bilan_pdf(operation, start, end, user=None)
        try:
            path.write_bytes(document)
        except OSError as error:
            raise CommandError(f"Impossible d’écrire le fichier « {path} » : {error.strerror}.") from error
        self.stdout.write(f"Bilan PDF écrit dans {path} ({pages} page{'s' if pages > 1 else ''}).")

    def summary(self, operation, bilan):
        period = bilan["period"]
        start = datetime.date.fromisoformat(period["start"])
        end = datetime.date.fromisoformat(period["end"])
        lines = [
            f"Bilan {operation.plie.name} — {operation.code} {operation.years} {operation.title}",
            f"Période du {start:%d/%m/%Y} au {end:%d/%m/%Y} ({period['days']} jours)",
            "",
        ]
        width = max(len(label) for _, label, _, _ in INDICATORS)
        for key, label, _, kind in INDICATORS:
            lines.append(f"  {label:<{width}}  {display(bilan['totals'][key], kind):>12}")
        fse = bilan["fse"]
        lines.append(
            f"\nFSE+ : {fse['participations']} participations à l’opération sur la période, dont {fse['entrees']} "
            f"entrées et {fse['sorties']} sorties de l’opération."
        )
        lines.append("")
        if not bilan["referents"]:
            lines.append("Aucun référent rattaché à l’opération sur la période.")
            return "\n".join(lines)
        lines.append("Par référent :")
        for line in bilan["referents"]:
            lines.append(
                f"  {line['referent']} ({line['structure']}) : "
                f"ETP {display(line['etp_moyen'], 'decimal')} · "
                f"file active {display(line['file_active_moyenne'], 'decimal')} · "
                f"participants {display(line['participants_accompagnes'], 'count')} · "
                f"intégrations {display(line['nouvelles_integrations'], 'count')} · "
                f"étapes {display(line['etapes_validees'], 'count')}/{display(line['etapes_objectif'], 'decimal')} · "
                f"sorties {display(line['sorties'], 'count')} dont positives {display(line['sorties_positives'], 'count')}"
                f" ({display(line['taux_sorties_positives'], 'rate')}) · "
                f"entretiens {display(line['entretiens'], 'count')} · "
                f"suivi mensuel {display(line['taux_suivi_mensuel'], 'rate')}"
            )
        return "\n".join(lines)
