"""The four kinds of extract (shared/spec/import-format.md), their columns, and how a file's headers are matched."""

from collections.abc import Callable
from dataclasses import dataclass

from django.db import models

from . import values
from .values import normalize


class Kind(models.TextChoices):
    REFERENTS = "référents", "Référents"
    PARTICIPANTS = "participants", "Participants et parcours"
    STEPS = "étapes", "Étapes"
    ENTRETIENS = "entretiens", "Entretiens"


# Situation upon leaving, per column: the Participation field it answers (participants.models.Participation).
EXIT_SITUATION_COLUMNS = {
    "Sortie : en recherche d’emploi": "exit_job_searching",
    "Sortie : en formation": "exit_training",
    "Sortie : qualification obtenue": "exit_qualification",
    "Sortie : en emploi": "exit_employment",
}

# Files are imported in this order whatever the order given: each kind refers to the ones before it.
KIND_ORDER = [Kind.REFERENTS, Kind.PARTICIPANTS, Kind.STEPS, Kind.ENTRETIENS]


@dataclass(frozen=True)
class Column:
    """One column of the format: its header, whether a row needs it, how a cell is read, and for the columns that
    copy one-to-one into a model, the field they fill."""

    name: str
    required: bool = False
    parse: Callable = values.text
    field: str = ""


COLUMNS = {
    Kind.PARTICIPANTS: [
        Column("ID participant", True),
        Column("ID parcours"),
        Column("Nom", True, field="last_name"),
        Column("Prénom", True, field="first_name"),
        Column("Sexe", True, values.sex, "sex"),
        Column("Date de naissance", True, values.date, "birth_date"),
        Column("Code INSEE", parse=values.insee),
        Column("Commune"),
        Column("Code postal", parse=values.postal_code, field="postal_code"),
        Column("QPV", parse=values.boolean, field="qpv"),
        Column("Niveau de formation", parse=values.qualification_level, field="qualification_level"),
        Column("RSA", parse=values.boolean, field="rsa"),
        Column("RQTH", parse=values.boolean, field="rqth"),
        Column("DELD", parse=values.boolean, field="deld"),
        Column("BPI", parse=values.boolean, field="bpi"),
        Column("Prescripteur", parse=values.prescriber),
        Column("Date d’entrée", True, values.date),
        Column("Date de sortie", parse=values.date),
        Column("Motif de sortie"),
        Column("Référent", True),
        Column("Structure"),
        # The FSE+ entry questionnaire and the situation upon leaving (shared/spec/fse.md), all optional.
        Column("Situation emploi à l’entrée", parse=values.employment_status, field="employment_status"),
        Column("Sans emploi depuis", parse=values.date, field="unemployed_since"),
        Column("Handicap", parse=values.answer, field="disability"),
        Column("Ressortissant pays tiers", parse=values.third_country, field="nationality"),
        Column("Origine étrangère", parse=values.answer, field="foreign_background"),
        Column("Sans domicile", parse=values.answer, field="homeless"),
        *[Column(name, parse=values.answer) for name in EXIT_SITUATION_COLUMNS],
    ],
    Kind.STEPS: [
        Column("ID étape", True),
        Column("ID participant", True),
        Column("ID parcours"),
        Column("Type d’étape", True),
        Column("Date de début", True, values.date),
        Column("Date de fin", parse=values.date),
        Column("Statut", parse=values.step_status),
        Column("Validée", parse=values.boolean),
        Column("Organisme"),
    ],
    Kind.ENTRETIENS: [
        Column("ID entretien", True),
        Column("ID participant", True),
        Column("Date", True, values.date),
        Column("Modalité", parse=values.modality),
        Column("Référent"),
        Column("Émargement", parse=values.boolean),
    ],
    Kind.REFERENTS: [
        Column("Référent", True),
        Column("Structure", True),
        Column("Opération", True),
        Column("ETP", True, values.etp),
        Column("Date de début", True, values.date),
        Column("Date de fin", parse=values.date),
        Column("Zone"),
        Column("Email", parse=values.email),
    ],
}


@dataclass
class Recognition:
    kind: str | None
    positions: dict  # canonical column name -> index in the row
    matched: list  # (header as written, canonical name, "exact" | "mapping")
    ignored: list  # headers as written that match nothing
    missing: list  # required canonical names absent

    @property
    def ok(self):
        return self.kind is not None and not self.missing


def match_headers(kind, headers, mappings=None):
    """Match a file's headers to the columns of `kind`; `mappings` is {normalized header: canonical name}."""
    canonical = {normalize(column.name): column.name for column in COLUMNS[kind]}
    mappings = mappings or {}
    positions, matched, ignored = {}, [], []
    for index, header in enumerate(headers):
        key = normalize(header)
        name, how = canonical.get(key), "exact"
        if name is None and key in mappings:
            name, how = mappings[key], "mapping"
        if name is None or name in positions or not key:
            if key:
                ignored.append(header)
            continue
        positions[name] = index
        matched.append((header, name, how))
    missing = [column.name for column in COLUMNS[kind] if column.required and column.name not in positions]
    return Recognition(kind, positions, matched, ignored, missing)


def recognise(headers, mappings_by_kind=None, kind=None):
    """The kind whose columns the headers match best (required ones first), or the given kind."""
    mappings_by_kind = mappings_by_kind or {}
    if kind:
        return match_headers(kind, headers, mappings_by_kind.get(kind))
    candidates = [match_headers(k, headers, mappings_by_kind.get(k)) for k in KIND_ORDER]
    best = max(candidates, key=lambda r: (not r.missing, len(r.positions) - 3 * len(r.missing)))
    if not best.positions:
        return Recognition(None, {}, [], list(headers), [])
    return best
