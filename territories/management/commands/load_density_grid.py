"""`python manage.py load_density_grid FICHIER`: INSEE's « grille communale de densité » (7 levels) onto the communes.

The official file is published by INSEE (insee.fr, « La grille communale de densité », fichier « grille de densité
à 7 niveaux », as XLSX; save its sheet as CSV or give the XLSX). Columns read: the commune code (`CODGEO`) and the
level (`DENS`, 1 to 7); other columns are ignored. FSE+ counts levels 5 to 7 as rural areas (EECO17)."""

import csv
import io
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from openpyxl import load_workbook

from plie import dataversion
from plie.text import fold
from territories.models import DENSITY_LEVELS, Commune

CODE_HEADERS = {"codgeo", "code commune", "code insee", "code_insee"}
LEVEL_HEADERS = {"dens", "degre de densite", "niveau de densite", "dens7"}


def read_rows(path):
    data = path.read_bytes()
    if data[:2] == b"PK":
        sheet = load_workbook(io.BytesIO(data), read_only=True, data_only=True).active
        return [["" if cell is None else str(cell) for cell in row] for row in sheet.iter_rows(values_only=True)]
    text = data.decode("utf-8-sig") if data[:3] == b"\xef\xbb\xbf" else data.decode("utf-8", errors="replace")
    dialect = csv.Sniffer().sniff(text.splitlines()[0], delimiters=";,\t")
    return list(csv.reader(io.StringIO(text), dialect))


class Command(BaseCommand):
    help = "Charge la grille communale de densité de l’INSEE (7 niveaux) : les communes rurales des indicateurs FSE+."

    def add_arguments(self, parser):
        parser.add_argument("file", help="Fichier CSV ou XLSX de l’INSEE (colonnes CODGEO et DENS).")

    @transaction.atomic
    def handle(self, *args, file, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"Fichier introuvable : « {file} ».")
        rows = read_rows(path)
        header_line = next((i for i, row in enumerate(rows) if CODE_HEADERS & {fold(c.strip()) for c in row}), None)
        if header_line is None:
            raise CommandError("Colonne du code commune (CODGEO) introuvable.")
        header = [fold(cell.strip()) for cell in rows[header_line]]
        code_at = next(i for i, name in enumerate(header) if name in CODE_HEADERS)
        level_at = next((i for i, name in enumerate(header) if name in LEVEL_HEADERS), None)
        if level_at is None:
            raise CommandError("Colonne du niveau de densité (DENS) introuvable.")
        levels = {}
        valid = {str(level) for level, _ in DENSITY_LEVELS}
        for line, row in enumerate(rows[header_line + 1 :], start=header_line + 2):
            if len(row) <= max(code_at, level_at) or not row[code_at].strip():
                continue
            level = row[level_at].strip().split(".")[0]
            if level not in valid:
                raise CommandError(f"Ligne {line} : niveau de densité « {row[level_at]} » inconnu (1 à 7 attendu).")
            levels[row[code_at].strip().zfill(5)] = int(level)
        communes = list(Commune.objects.filter(code_insee__in=levels))
        for commune in communes:
            commune.density_level = levels[commune.code_insee]
        Commune.objects.bulk_update(communes, ["density_level"])
        dataversion.bump(None)  # communes are shared: every PLIE's FSE+ tables may change
        self.stdout.write(f"Grille de densité chargée : {len(communes)} communes mises à jour sur {len(levels)} lues.")
