"""Extract files as PLIEs hand them over: French CSV (`;`, Windows-1252 or UTF-8 with BOM) or .xlsx."""

import io

from openpyxl import Workbook

REFERENTS = [
    ["Référent", "Structure", "Opération", "ETP", "Date de début", "Date de fin"],
    ["Marie Dupont", "Association Relais", "FO1", "1", "01/01/2023", "31/12/2023"],
    ["Paul Martin", "CCAS de Pessac", "FO1", "0,5", "01/01/2023", ""],
]

PARTICIPANTS = [
    [
        "ID participant",
        "ID parcours",
        "Nom",
        "Prénom",
        "Sexe",
        "Date de naissance",
        "Code INSEE",
        "QPV",
        "RSA",
        "Niveau de formation",
        "Prescripteur",
        "Date d'entrée",
        "Date de sortie",
        "Motif de sortie",
        "Référent",
    ],
    [
        "P1",
        "PA1",
        "Martin",
        "Léa",
        "F",
        "12/03/1985",
        "33318",
        "Oui",
        "Oui",
        "Niveau 3",
        "France Travail",
        "15/01/2023",
        "30/09/2023",
        "CDI",
        "Marie Dupont",
    ],
    [
        "P2",
        "PA2",
        "Durand",
        "Éric",
        "H",
        "01/07/1970",
        "33318",
        "Non",
        "Non",
        "Sans diplôme",
        "CCAS",
        "01/02/2023",
        "31/05/2023",
        "Déménagement",
        "Paul Martin",
    ],
    [
        "P3",
        "PA3",
        "Diallo",
        "Awa",
        "F",
        "1995-06-20",
        "33122",
        "",
        "Oui",
        "4",
        "Mission Locale",
        "01/11/2022",
        "",
        "",
        "Marie Dupont",
    ],
]

STEPS = [
    ["ID étape", "ID participant", "Type d'étape", "Date de début", "Date de fin", "Statut", "Validée", "Organisme"],
    ["S1", "P1", "PMSMP", "01/03/2023", "15/03/2023", "Réalisée", "Oui", "Boulangerie Lafon"],
    ["S2", "P3", "Formation qualifiante", "01/04/2023", "", "En cours", "Oui", "AFPA"],
    ["S3", "P2", "Atelier TRE", "10/02/2023", "", "Prévue", "Non", ""],
]

ENTRETIENS = [
    ["ID entretien", "ID participant", "Date", "Modalité", "Émargement"],
    ["E1", "P1", "20/01/2023", "Téléphone", "Oui"],
    ["E2", "P2", "05/02/2023", "Physique", "Non"],
    ["E3", "P3", "10/11/2022", "Visio", "Oui"],
    ["E4", "P3", "12/12/2023", "", "O"],
]


def csv_bytes(rows, *, separator=";", encoding="utf-8-sig", newline="\r\n"):
    def cell(value):
        value = str(value)
        return f'"{value}"' if separator in value or '"' in value else value

    return (newline.join(separator.join(cell(v) for v in row) for row in rows) + newline).encode(encoding)


def xlsx_bytes(rows):
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def changed(rows, line, column, value):
    """A copy of `rows` with one cell changed; `line` as a spreadsheet numbers it (header = 1)."""
    rows = [list(row) for row in rows]
    rows[line - 1][rows[0].index(column)] = value
    return rows
