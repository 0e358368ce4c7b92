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
    """Three queries whatever the size of the nomenclature: every PLIE created, a test's included, runs it."""
    StepCategory.objects.bulk_create(
        [StepCategory(plie=plie, name=name, position=position) for position, name in enumerate(STEP_NOMENCLATURE, 1)],
        ignore_conflicts=True,
    )
    categories = dict(StepCategory.objects.filter(plie=plie, name__in=STEP_NOMENCLATURE).values_list("name", "pk"))
    StepType.objects.bulk_create(
        [
            StepType(category_id=categories[name], label=label)
            for name, labels in STEP_NOMENCLATURE.items()
            for label in labels
        ],
        ignore_conflicts=True,
    )
