"""The export for Ma Démarche FSE+ (MDFSE+): one row per participation of a fiche (shared/spec/fse.md), in columns
held as data (`MdfseColumn`): a header and a source picked from SOURCES. Only what MDFSE+ asks, never free text.

The default columns follow the items of the FSE+ participant questionnaire (Regulation (EU) 2021/1057, Annex I, and
the entry and exit items of shared/spec/fse.md) with identification first, as participant bulk-import files of
MDFSE+ were laid out in 2014-2020. The 2021-2027 template's own column list is not public here: a PLIE that has it
renames, reorders or drops columns on the « Export Ma Démarche FSE+ » page, no code change needed."""

import csv
import datetime
import io

from openpyxl import Workbook

from participants.models import Answer, Education, EmploymentStatus, Nationality, Participation, Sex
from plie.spreadsheet import safe
from territories.models import RURAL_FROM_LEVEL

ANSWERS = dict(Answer.choices)
SEXES = {Sex.FEMALE: "Femme", Sex.MALE: "Homme", Sex.NON_BINARY: "Non binaire"}
EMPLOYMENT = {
    EmploymentStatus.UNEMPLOYED: "Chômeur",
    EmploymentStatus.INACTIVE: "Inactif",
    EmploymentStatus.EMPLOYED: "En emploi",
    EmploymentStatus.DECLINED: ANSWERS[Answer.DECLINED],
}
EDUCATION = {
    Education.ISCED_0_2: "CITE 0-2",
    Education.ISCED_3_4: "CITE 3-4",
    Education.ISCED_5_8: "CITE 5-8",
    Education.DECLINED: ANSWERS[Answer.DECLINED],
}
THIRD_COUNTRY = {
    Nationality.OUTSIDE_EU: "Oui",
    Nationality.FRANCE: "Non",
    Nationality.EU: "Non",
    Nationality.FRANCE_OR_EU: "Non",
    Nationality.DECLINED: ANSWERS[Answer.DECLINED],
}


def _yes_no(value):
    return "" if value is None else "Oui" if value else "Non"


def _rural(p, today):
    level = p.commune.density_level if p.commune else None
    return "" if level is None else _yes_no(level >= RURAL_FROM_LEVEL)


# key → (French label shown to the PLIE admin, value of a participation on the day of the export)
SOURCES = {
    "identifiant": ("Identifiant du participant", lambda p, t: p.participant.external_id or f"PLIE-{p.participant_id}"),
    "nom": ("Nom", lambda p, t: p.participant.last_name.upper()),
    "prenom": ("Prénom", lambda p, t: p.participant.first_name),
    "sexe": ("Sexe", lambda p, t: SEXES.get(p.sex, "")),
    "date_naissance": ("Date de naissance", lambda p, t: p.participant.birth_date),
    "code_postal": ("Code postal", lambda p, t: p.participant.postal_code),
    "commune_insee": ("Commune de résidence (code INSEE)", lambda p, t: p.commune_id or ""),
    "operation": ("Fiche opération", lambda p, t: p.operation.code),
    "date_entree": ("Date d’entrée dans l’opération", lambda p, t: p.entry_date),
    "date_sortie": ("Date de sortie de l’opération", lambda p, t: p.exit_date(t)),
    "age_entree": ("Âge à l’entrée", lambda p, t: p.age_at_entry),
    "situation_emploi": ("Situation sur le marché du travail à l’entrée", lambda p, t: EMPLOYMENT.get(p.employment_status, "")),
    "chomeur_longue_duree": ("Chômeur de longue durée", lambda p, t: _yes_no(p.long_term_unemployed)),
    "niveau_cite": ("Niveau d’éducation (CITE)", lambda p, t: EDUCATION.get(p.education, "")),
    "handicap": ("Personne handicapée", lambda p, t: ANSWERS.get(p.disability, "")),
    "pays_tiers": ("Ressortissant de pays tiers", lambda p, t: THIRD_COUNTRY.get(p.nationality, "")),
    "origine_etrangere": ("Origine étrangère", lambda p, t: ANSWERS.get(p.foreign_background, "")),
    "sans_domicile": ("Sans domicile ou exclusion du logement", lambda p, t: ANSWERS.get(p.homeless, "")),
    "zone_rurale": ("Zone rurale", _rural),
    "sortie_recherche_emploi": ("À la sortie : en recherche d’emploi", lambda p, t: ANSWERS.get(p.exit_job_searching, "")),
    "sortie_formation": ("À la sortie : en études ou en formation", lambda p, t: ANSWERS.get(p.exit_training, "")),
    "sortie_qualification": ("À la sortie : qualification obtenue", lambda p, t: ANSWERS.get(p.exit_qualification, "")),
    "sortie_emploi": ("À la sortie : en emploi, y compris indépendant", lambda p, t: ANSWERS.get(p.exit_employment, "")),
}  # fmt: skip

DEFAULT_COLUMNS = [
    ("Identifiant", "identifiant"),
    ("Nom", "nom"),
    ("Prénom", "prenom"),
    ("Sexe", "sexe"),
    ("Date de naissance", "date_naissance"),
    ("Code postal", "code_postal"),
    ("Code commune", "commune_insee"),
    ("Date d’entrée", "date_entree"),
    ("Date de sortie", "date_sortie"),
    ("Situation à l’entrée", "situation_emploi"),
    ("Chômeur de longue durée", "chomeur_longue_duree"),
    ("Niveau CITE", "niveau_cite"),
    ("Handicap", "handicap"),
    ("Ressortissant pays tiers", "pays_tiers"),
    ("Origine étrangère", "origine_etrangere"),
    ("Sans domicile", "sans_domicile"),
    ("Zone rurale", "zone_rurale"),
    ("Sortie : en recherche d’emploi", "sortie_recherche_emploi"),
    ("Sortie : en formation", "sortie_formation"),
    ("Sortie : qualification obtenue", "sortie_qualification"),
    ("Sortie : en emploi", "sortie_emploi"),
]


def participations_of(operation):
    return (
        Participation.objects.filter(operation=operation)
        .select_related("participant", "operation", "commune")
        .order_by("participant__last_name", "participant__first_name", "pk")
    )


def table(operation, columns, today):
    """(headers, rows) of the export: `columns` are (header, source key) pairs in order."""
    rows = [[SOURCES[key][1](p, today) for _, key in columns] for p in participations_of(operation)]
    return [header for header, _ in columns], rows


def to_csv(headers, rows):
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow([safe(h) for h in headers])
    for row in rows:
        writer.writerow(
            [v.strftime("%d/%m/%Y") if isinstance(v, datetime.date) else "" if v is None else safe(str(v)) for v in row]
        )
    return buffer.getvalue().encode("utf-8")


def to_xlsx(headers, rows):
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Participants"
    sheet.append([safe(h) for h in headers])
    for row in rows:
        sheet.append([safe(v) for v in row])
    for column in sheet.iter_cols(min_row=2):
        for cell in column:
            if isinstance(cell.value, datetime.date):
                cell.number_format = "DD/MM/YYYY"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
