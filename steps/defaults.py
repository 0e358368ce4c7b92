"""The step nomenclature a new PLIE starts with (shared/spec/import-format.md); each PLIE then edits its own."""

from .models import StepCategory, StepType

STEP_NOMENCLATURE = {
    "Emploi": ["CDI", "CDD", "Intérim", "CDDI (SIAE)", "Parcours Emploi Compétences", "Contrat en alternance"],
    "Formation": [
        "Formation qualifiante",
        "Formation pré-qualifiante",
        "Savoirs de base",
        "Français langue étrangère",
        "Compétences numériques",
    ],
    "Mise en situation professionnelle": ["PMSMP", "Stage"],
    "Ateliers": ["Atelier TRE", "Atelier projet professionnel", "Coaching", "Information collective"],
    "Levée des freins": ["Mobilité", "Garde d’enfants", "Santé", "Logement", "Accès aux droits"],
    "Remobilisation": ["Action de remobilisation"],
    "Accompagnement": ["Accompagnement"],
}


def create_default_step_nomenclature(plie):
    for position, (name, labels) in enumerate(STEP_NOMENCLATURE.items(), start=1):
        category, _ = StepCategory.objects.get_or_create(plie=plie, name=name, defaults={"position": position})
        StepType.objects.bulk_create(
            [StepType(category=category, label=label) for label in labels], ignore_conflicts=True
        )
