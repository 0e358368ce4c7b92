"""The four kinds of extract (shared/spec/import-format.md), their columns, and how a file's headers are matched."""

import functools
from dataclasses import dataclass

from django.db import models

from plie.text import fold


class Kind(models.TextChoices):
    REFERENTS = "référents", "Référents"
    PARTICIPANTS = "participants", "Participants et parcours"
    STEPS = "étapes", "Étapes"
    ENTRETIENS = "entretiens", "Entretiens"


# Files are imported in this order whatever the order given: each kind refers to the ones before it.
# Situation upon leaving, per column: the Participation field it answers (participants.models.Participation).
EXIT_SITUATION_COLUMNS = {
    "Sortie : en recherche d'emploi": "exit_job_searching",
    "Sortie : en formation": "exit_training",
    "Sortie : qualification obtenue": "exit_qualification",
    "Sortie : en emploi": "exit_employment",
}

KIND_ORDER = [Kind.REFERENTS, Kind.PARTICIPANTS, Kind.STEPS, Kind.ENTRETIENS]


@dataclass(frozen=True)
class Column:
    name: str
    required: bool = False


COLUMNS = {
    Kind.PARTICIPANTS: [
        Column("ID participant", True),
        Column("ID parcours"),
        Column("Nom", True),
        Column("Prénom", True),
        Column("Sexe", True),
        Column("Date de naissance", True),
        Column("Code INSEE"),
        Column("Commune"),
        Column("Code postal"),
        Column("QPV"),
        Column("Niveau de formation"),
        Column("RSA"),
        Column("RQTH"),
        Column("DELD"),
        Column("BPI"),
        Column("Prescripteur"),
        Column("Date d'entrée", True),
        Column("Date de sortie"),
        Column("Motif de sortie"),
        Column("Référent", True),
        Column("Structure"),
        # The FSE+ entry questionnaire and the situation upon leaving (shared/spec/fse.md), all optional.
        Column("Situation emploi à l'entrée"),
        Column("Sans emploi depuis"),
        Column("Handicap"),
        Column("Ressortissant pays tiers"),
        Column("Origine étrangère"),
        Column("Sans domicile"),
        *[Column(name) for name in EXIT_SITUATION_COLUMNS],
    ],
    Kind.STEPS: [
        Column("ID étape", True),
        Column("ID participant", True),
        Column("ID parcours"),
        Column("Type d'étape", True),
        Column("Date de début", True),
        Column("Date de fin"),
        Column("Statut"),
        Column("Validée"),
        Column("Organisme"),
    ],
    Kind.ENTRETIENS: [
        Column("ID entretien", True),
        Column("ID participant", True),
        Column("Date", True),
        Column("Modalité"),
        Column("Référent"),
        Column("Émargement"),
    ],
    Kind.REFERENTS: [
        Column("Référent", True),
        Column("Structure", True),
        Column("Opération", True),
        Column("ETP", True),
        Column("Date de début", True),
        Column("Date de fin"),
        Column("Zone"),
        Column("Email"),
    ],
}


@functools.lru_cache(maxsize=100_000)
def normalize(text):
    """Case, accents, surrounding and repeated spaces and the kind of apostrophe do not matter."""
    text = str(text).replace("’", "'").replace("‘", "'").replace("`", "'")
    return " ".join(fold(text).split())


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
