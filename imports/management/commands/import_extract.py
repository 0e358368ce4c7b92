"""`python manage.py import_extract --plie SLUG [--dry-run] [--create-referents] [--json] FILE [FILE ...]`.

The contract is shared/spec/interfaces.md; the formats are shared/spec/import-format.md.
"""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from imports.columns import Kind
from imports.engine import Source, run_batch
from imports.reading import RejectedFileError, check_size
from imports.services import record_command_import
from plie.models import Plie

SHOWN = 20  # errors listed per file in the readable summary


class Command(BaseCommand):
    help = "Importe des extractions (participants, étapes, entretiens, référents) dans un PLIE."

    def add_arguments(self, parser):
        parser.add_argument("--plie", required=True, help="identifiant (slug) du PLIE")
        parser.add_argument("--dry-run", action="store_true", help="tout contrôler sans rien écrire")
        parser.add_argument("--create-referents", action="store_true", help="créer les référents inconnus")
        parser.add_argument("--json", action="store_true", help="rapport JSON sur la sortie standard")
        parser.add_argument("files", nargs="+", metavar="FILE")

    def handle(self, *args, **options):
        try:
            plie = Plie.objects.get(slug=options["plie"])
        except Plie.DoesNotExist:
            raise CommandError(f"PLIE inconnu : « {options['plie']} ».", returncode=2) from None
        sources, too_big = [], []
        for name in options["files"]:
            path = Path(name)
            try:
                check_size(path.stat().st_size)
                sources.append(Source(path.name, path.read_bytes()))
            except RejectedFileError as rejection:
                too_big.append((path.name, str(rejection)))
            except OSError as error:
                raise CommandError(f"Fichier illisible : {name} ({error.strerror}).", returncode=2) from None
        results = run_batch(
            plie, sources, by=None, dry_run=options["dry_run"], create_referents=options["create_referents"]
        )
        files = [r.as_json() for r in results]
        files += [
            {
                "file": name,
                "kind": None,
                "created": 0,
                "updated": 0,
                "unchanged": 0,
                "errors": [{"line": None, "column": "", "value": "", "message": message}],
            }
            for name, message in too_big
        ]
        if not options["dry_run"]:
            record_command_import(plie=plie, sources=sources, results=results)
        if options["json"]:
            self.stdout.write(json.dumps({"files": files}, ensure_ascii=False, default=str))
        else:
            self.summary(files, options["dry_run"])
        if any(f["errors"] for f in files):
            raise SystemExit(1)

    def summary(self, files, dry_run):
        verb = "serait importé" if dry_run else "importé"
        for f in files:
            kind = Kind(f["kind"]).label.lower() if f["kind"] else "type non reconnu"
            if f["errors"]:
                self.stdout.write(f"{f['file']} ({kind}) : refusé, rien n’a été écrit. {len(f['errors'])} erreur(s) :")
                for e in f["errors"][:SHOWN]:
                    where = f"ligne {e['line']}" if e["line"] else "fichier"
                    column = f", colonne « {e['column']} »" if e["column"] else ""
                    value = f", valeur « {e['value']} »" if e["value"] else ""
                    self.stdout.write(f"  – {where}{column}{value} : {e['message']}")
                if len(f["errors"]) > SHOWN:
                    self.stdout.write(f"  … et {len(f['errors']) - SHOWN} autres (--json pour la liste complète).")
            else:
                self.stdout.write(
                    f"{f['file']} ({kind}) : {verb} — {f['created']} à créer, {f['updated']} à mettre à jour, "
                    f"{f['unchanged']} inchangé(s)."
                    if dry_run
                    else f"{f['file']} ({kind}) : {verb} — {f['created']} créé(s), {f['updated']} mis à jour, "
                    f"{f['unchanged']} inchangé(s)."
                )
