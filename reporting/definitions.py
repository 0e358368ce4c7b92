"""The indicators as the users read them: label, definition (shared/spec/indicators.md) and format."""

from plie.formats import french_number, french_percent

from .disclosure import Hidden

INDICATORS = [
    (
        "etp_moyen",
        "ETP moyen",
        "Somme des ETP des référents pondérés par le nombre de jours de la période où ils sont rattachés à l’opération, divisée par le nombre de jours de la période.",
        "decimal",
    ),
    (
        "file_active_moyenne",
        "File active moyenne",
        "Moyenne journalière : somme, sur les parcours, du nombre de jours de la période où ils sont actifs, divisée par le nombre de jours de la période. Formule contractuelle par défaut.",
        "decimal",
    ),
    (
        "file_active_mensuelle",
        "File active mensuelle",
        "Moyenne, sur les mois de la période, du nombre de parcours actifs le dernier jour du mois (ou le dernier jour de la période pour un mois incomplet).",
        "decimal",
    ),
    (
        "participants_accompagnes",
        "Participants accompagnés",
        "Personnes distinctes ayant au moins un parcours actif au moins un jour de la période.",
        "count",
    ),
    (
        "nouvelles_integrations",
        "Nouvelles intégrations",
        "Parcours dont la date d’entrée (signature du contrat d’engagement) est dans la période.",
        "count",
    ),
    (
        "etapes_validees",
        "Étapes validées",
        "Étapes commencées dans la période, validées selon la grille de validation et d’un type qui compte dans l’objectif.",
        "count",
    ),
    (
        "etapes_objectif",
        "Objectif d’étapes",
        "Nombre d’étapes par participant fixé par la fiche × la base qu’elle indique (file active moyenne ou participants accompagnés).",
        "decimal",
    ),
    ("sorties", "Sorties", "Parcours dont la date de sortie est dans la période.", "count"),
    (
        "sorties_positives",
        "Sorties positives",
        "Sorties de la période dont le motif est positif (emploi durable, formation qualifiante, création d’entreprise), validées après les 6 mois de suivi.",
        "count",
    ),
    (
        "sorties_neutralisees",
        "Sorties neutralisées",
        "Sorties de la période dont le motif est neutralisé par la fiche (par exemple un déménagement hors du territoire).",
        "count",
    ),
    (
        "taux_sorties_positives",
        "Taux de sorties positives",
        "Sorties positives ÷ (sorties − sorties neutralisées).",
        "rate",
    ),
    ("taux_sorties_positives_brut", "Taux brut de sorties positives", "Sorties positives ÷ sorties.", "rate"),
    ("entretiens", "Entretiens", "Entretiens datés dans la période.", "count"),
    (
        "taux_suivi_mensuel",
        "Taux de suivi mensuel",
        "Part des couples (participant, mois) où la personne avait un parcours actif et a eu au moins un entretien dans le mois.",
        "rate",
    ),
]


def display(value, kind):
    if value is None:
        return "—"
    if isinstance(value, Hidden):
        return str(value)
    if kind == "rate":
        return french_percent(value)
    return french_number(value)


def indicator_rows(figures):
    return [
        {
            "key": key,
            "label": label,
            "definition": definition,
            "value": figures.get(key),
            "display": display(figures.get(key), kind),
        }
        for key, label, definition, kind in INDICATORS
    ]
