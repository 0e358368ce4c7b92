"""The bilan's tables as CSV (`;`, UTF-8 with BOM, for French Excel) and XLSX, formulas neutralised."""

import csv
import io

from openpyxl import Workbook

from plie.formats import french_percent
from plie.spreadsheet import safe, safe_row

from .definitions import INDICATORS
from .disclosure import Hidden

LABELS = {key: label for key, label, _, _ in INDICATORS}
KINDS = {key: kind for key, _, _, kind in INDICATORS}


class Rate(float):
    """A share (0.552) written as a percentage: « 55,2 % » in the CSV, a percent-formatted number in the XLSX."""


def value_of(key, value):
    return Rate(value) if KINDS.get(key) == "rate" and isinstance(value, float | int) else masked(value)


def masked(value):
    """A figure withheld from the viewer (reporting/disclosure.py) is written « < 5 »."""
    return str(value) if isinstance(value, Hidden) else value


def tables(report, *, referents=None):
    """[(title, header, rows)] in the order of the bilan; `referents` is the list of referent rows to include."""
    totals = report["totals"]
    result = [
        (
            "Indicateurs",
            ["Indicateur", "Valeur"],
            [[label, value_of(key, totals.get(key))] for key, label, _, _ in INDICATORS],
        ),
        (
            "Objectifs et résultats",
            ["Indicateur", "Objectif (min)", "Objectif (max)", "Résultat", "Appréciation"],
            [
                [
                    str(line.target.display_label),
                    float(line.goal.low) if line.goal else None,
                    float(line.goal.high) if line.goal and line.goal.high is not None else None,
                    masked(line.result),
                    line.status_label,
                ]
                for line in report["lines"]
            ],
        ),
    ]
    keys = [key for key, _, _, _ in INDICATORS]
    if referents is not None:
        result.append(
            (
                "Par référent",
                ["Référent", "Structure", *[label for _, label, _, _ in INDICATORS]],
                [
                    [row["referent"], row["structure"], *[value_of(key, row.get(key)) for key in keys]]
                    for row in referents
                ],
            )
        )
    result.append(_structures_table(report))
    for short, (_, rows) in zip(("FSE+ entrées", "FSE+ sorties"), report["fse_sections"], strict=False):
        result.append(_fse_table(short, rows))
    return result


STRUCTURE_KEYS = [
    "etp_moyen",
    "file_active_moyenne",
    "participants_accompagnes",
    "nouvelles_integrations",
    "etapes_validees",
    "sorties",
    "sorties_positives",
    "taux_sorties_positives",
]
FSE_HEADER = [
    "Code",
    "Indicateur",
    "Total",
    "Femmes",
    "Hommes",
    "Non binaire / non renseigné",
    "Ne souhaite pas répondre",
    "Non renseigné",
]


def _structures_table(report):
    return (
        "Par structure",
        ["Structure", *[LABELS[key] for key in STRUCTURE_KEYS]],
        [[row["structure"], *[value_of(key, row.get(key)) for key in STRUCTURE_KEYS]] for row in report["structures"]],
    )


def _fse_table(short, rows):
    return (
        short,
        FSE_HEADER,
        [
            [r["code"], r["label"], r["note"]]
            if r["note"]
            else [
                r["code"],
                r["label"],
                *[masked(r[key]) for key in ("total", "femmes", "hommes", "autres", "declined", "missing")],
            ]
            for r in rows
        ],
    )


def to_csv(report, *, referents=None):
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer, delimiter=";")
    for title, header, rows in tables(report, referents=referents):
        writer.writerow(safe_row([title]))
        writer.writerow(safe_row(header))
        for row in rows:
            writer.writerow([_csv_value(value) for value in row])
        writer.writerow([])
    return buffer.getvalue().encode("utf-8")


def _csv_value(value):
    if value is None:
        return ""
    if isinstance(value, Rate):
        return french_percent(value)
    if isinstance(value, float):
        return f"{value:.4f}".rstrip("0").rstrip(".").replace(".", ",")
    if isinstance(value, int):
        return str(value)
    return safe(str(value))


def to_xlsx(report, *, referents=None):
    workbook = Workbook()
    workbook.remove(workbook.active)
    for title, header, rows in tables(report, referents=referents):
        sheet = workbook.create_sheet(title[:31])
        sheet.append(safe_row(header))
        for row in rows:
            sheet.append(safe_row(row))
            for cell, value in zip(sheet[sheet.max_row], row, strict=False):
                if isinstance(value, Rate):
                    cell.number_format = "0.0 %"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
