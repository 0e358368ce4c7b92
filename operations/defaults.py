"""The exit nomenclature a new PLIE starts with (shared/spec/import-format.md); each PLIE then edits its own."""

from .models import ExitCategory, ExitReason

EXIT_REASONS = [
    ("CDI", ExitCategory.POSITIVE),
    ("CDD de 6 mois et plus", ExitCategory.POSITIVE),
    ("Contrat en alternance", ExitCategory.POSITIVE),
    ("Intérim de 6 mois et plus", ExitCategory.POSITIVE),
    ("Création d'entreprise", ExitCategory.POSITIVE),
    ("Formation qualifiante", ExitCategory.POSITIVE),
    ("CDD de moins de 6 mois", ExitCategory.TRANSITION),
    ("Contrat aidé / IAE", ExitCategory.TRANSITION),
    ("Abandon", ExitCategory.OTHER),
    ("Déménagement", ExitCategory.OTHER),
    ("Santé", ExitCategory.OTHER),
    ("Décès", ExitCategory.OTHER),
    ("Retraite", ExitCategory.OTHER),
    ("Réorientation", ExitCategory.OTHER),
    ("Autre", ExitCategory.OTHER),
]


def create_default_exit_reasons(plie):
    ExitReason.objects.bulk_create(
        [
            ExitReason(plie=plie, label=label, category=category, position=position)
            for position, (label, category) in enumerate(EXIT_REASONS, start=1)
        ],
        ignore_conflicts=True,
    )
