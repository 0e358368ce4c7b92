"""The exit nomenclature a new PLIE starts with (shared/spec/import-format.md); each PLIE then edits its own."""

from .models import ExitCategory, ExitReason, FseResult

EMPLOYMENT, TRAINING, SEARCHING, NONE = (
    FseResult.EMPLOYMENT,
    FseResult.TRAINING,
    FseResult.JOB_SEARCHING,
    FseResult.NONE,
)
EXIT_REASONS = [
    ("CDI", ExitCategory.POSITIVE, EMPLOYMENT),
    ("CDD de 6 mois et plus", ExitCategory.POSITIVE, EMPLOYMENT),
    ("Contrat en alternance", ExitCategory.POSITIVE, EMPLOYMENT),
    ("Intérim de 6 mois et plus", ExitCategory.POSITIVE, EMPLOYMENT),
    ("Création d’entreprise", ExitCategory.POSITIVE, EMPLOYMENT),
    ("Formation qualifiante", ExitCategory.POSITIVE, TRAINING),
    ("CDD de moins de 6 mois", ExitCategory.TRANSITION, EMPLOYMENT),
    ("Contrat aidé / IAE", ExitCategory.TRANSITION, EMPLOYMENT),
    ("Abandon", ExitCategory.OTHER, SEARCHING),
    ("Déménagement", ExitCategory.OTHER, NONE),
    ("Santé", ExitCategory.OTHER, NONE),
    ("Décès", ExitCategory.OTHER, NONE),
    ("Retraite", ExitCategory.OTHER, NONE),
    ("Réorientation", ExitCategory.OTHER, SEARCHING),
    ("Autre", ExitCategory.OTHER, NONE),
]


def create_default_exit_reasons(plie):
    ExitReason.objects.bulk_create(
        [
            ExitReason(plie=plie, label=label, category=category, fse_result=fse_result, position=position)
            for position, (label, category, fse_result) in enumerate(EXIT_REASONS, start=1)
        ],
        ignore_conflicts=True,
    )
