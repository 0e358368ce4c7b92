"""The base of the project's management commands: what every one of them reads and writes the same way.

A readable French summary by default and `--json` for a machine (one object on the standard output); dates as
AAAA-MM-JJ; a PLIE by its slug; exit codes: 0 done, 1 refused (CommandError: a French sentence on the error output)
or done with problems reported in the summary."""

import datetime
import json
import re

from django.core.management.base import BaseCommand, CommandError

from plie.models import Plie

ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
EXIT_PROBLEMS = 1


def parse_date(value, option):
    try:
        if not ISO_DATE.match(value):
            raise ValueError
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise CommandError(
            f"Date invalide pour {option} : « {value} ». Indiquez une date au format AAAA-MM-JJ, par exemple 2023-01-31."
        ) from None


def get_plie(slug, *, returncode=1):
    plie = Plie.objects.filter(slug=slug).first()
    if plie is None:
        raise CommandError(f"PLIE inconnu : « {slug} ».", returncode=returncode)
    return plie


class PlieCommand(BaseCommand):
    """Subclasses add their options in `add_options` and end `handle` with `self.report(summary, readable)`."""

    json_help = "Écrit le résumé en JSON sur la sortie standard."

    def add_arguments(self, parser):
        self.add_options(parser)
        if self.json_help:
            parser.add_argument("--json", action="store_true", help=self.json_help)

    def add_options(self, parser):
        pass

    def report(self, summary, readable, *, options, problems=False, **dumps):
        """`summary` as JSON with --json, else the text `readable()` returns; exit code 1 when `problems`."""
        if options.get("json"):
            self.stdout.write(json.dumps(summary, ensure_ascii=False, **dumps))
        else:
            self.stdout.write(readable())
        if problems:
            raise SystemExit(EXIT_PROBLEMS)
