"""The bilan's tables as CSV (`;`, UTF-8 with BOM, for French Excel) and XLSX, formulas neutralised."""

import csv
import io

from openpyxl import Workbook

from plie.spreadsheet import safe, safe_row

from .definitions import INDICATORS


def masked(value, hide_small):
    return "< 5" if hide_small and isinstance(value, int) and 0 < value < 5 else value


def tables(report, *, referents=None, hide_small=False):
    """[(title, header, rows)] in the order of the bilan; `referents` is the list of referent rows to include."""
    totals = report["totals"]
    result = [
        (
            "Indicateurs",
            ["Indicateur", "Valeur"],
            [[label, totals.get(key)] for key, label, _, _ in INDICATORS],
        ),
        (
            "Objectifs et résultats",
            ["Indicateur", "Objectif (min)", "Objectif (max)", "Résultat", "Appréciation"],
            [
                [
                    str(line.target.get_kind_display()),
                    float(line.goal.low) if line.goal else None,
                    float(line.goal.high) if line.goal and line.goal.high is not None else None,
                    line.result,
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
                [[row["referent"], row["structure"], *[row.get(key) for key in keys]] for row in referents],
            )
        )
    structure_keys = [
        "etp_moyen",
        "file_active_moyenne",
        "participants_accompagnes",
        "nouvelles_integrations",
        "etapes_validees",
        "sorties",
        "sorties_positives",
        "taux_sorties_positives",
    ]
    result.append(
        (
            "Par structure",
            ["Structure", *structure_keys],
            [
                [row["structure"], *[masked(row.get(key), hide_small) for key in structure_keys]]
                for row in report["structures"]
            ],
        )
    )
    for title, rows in (("FSE+ entrées", report["fse"]["entries"]), ("FSE+ sorties", report["fse"]["exits"])):
        result.append(
            (
                title,
                ["Indicateur", "Total", "Femmes", "Hommes", "Non-binaires"],
                [[r["label"], *[masked(r[sex], hide_small) for sex in ("total", "F", "H", "NB")]] for r in rows],
            )
        )
    return result


def to_csv(report, *, referents=None, hide_small=False):
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer, delimiter=";")
    for title, header, rows in tables(report, referents=referents, hide_small=hide_small):
        writer.writerow(safe_row([title]))
        writer.writerow(safe_row(header))
        for row in rows:
            writer.writerow([_csv_value(value) for value in row])
        writer.writerow([])
    return buffer.getvalue().encode("utf-8")


def _csv_value(value):
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4f}".rstrip("0").rstrip(".").replace(".", ",")
    if isinstance(value, int):
        return str(value)
    return safe(str(value))


def to_xlsx(report, *, referents=None, hide_small=False):
    workbook = Workbook()
    workbook.remove(workbook.active)
    for title, header, rows in tables(report, referents=referents, hide_small=hide_small):
        sheet = workbook.create_sheet(title[:31])
        sheet.append(safe_row(header))
        for row in rows:
            sheet.append(safe_row(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
