"""FSE+ common indicators (Regulation (EU) 2021/1057, Annex I) of the participants who entered in a period,
broken down by sex, with one aggregate query for the entries and one for the exits."""

from django.db.models import Case, Count, F, IntegerField, Q, Value, When
from django.db.models.functions import ExtractDay, ExtractMonth, ExtractYear

from operations.models import ExitCategory, FseResult
from participants.models import Answer, EmploymentStatus, Nationality, Parcours, Sex, Status

# A commune under 2,000 inhabitants stands for a rural area: the communes file has no density grid.
RURAL_POPULATION = 2000

ENTRY_INDICATORS = [
    ("chomeurs", "Chômeurs, y compris de longue durée", Q(participant__employment_status=EmploymentStatus.UNEMPLOYED)),
    ("chomeurs_longue_duree", "Chômeurs de longue durée", Q(participant__deld=True) | Q(participant__detld=True)),
    ("inactifs", "Personnes inactives", Q(participant__employment_status=EmploymentStatus.INACTIVE)),
    (
        "salaries",
        "Personnes exerçant un emploi, y compris indépendantes",
        Q(participant__employment_status=EmploymentStatus.EMPLOYED),
    ),
    ("moins_18", "Moins de 18 ans", Q(age__lt=18)),
    ("de_18_a_29", "De 18 à 29 ans", Q(age__gte=18, age__lte=29)),
    ("plus_55", "55 ans et plus", Q(age__gte=55)),
    ("cite_0_2", "Niveau CITE 0 à 2", Q(participant__qualification_level__in=[1, 2])),
    ("cite_3_4", "Niveau CITE 3 ou 4", Q(participant__qualification_level__in=[3, 4])),
    ("cite_5_8", "Niveau CITE 5 à 8", Q(participant__qualification_level__gte=5)),
    ("handicap", "Personnes handicapées", Q(participant__disability=Answer.YES)),
    ("pays_tiers", "Ressortissants de pays tiers", Q(participant__nationality=Nationality.OUTSIDE_EU)),
    ("origine_etrangere", "Personnes d’origine étrangère", Q(participant__foreign_background=Answer.YES)),
    ("sans_abri", "Sans-abri ou exclusion du logement", Q(participant__homeless=Answer.YES)),
    ("rural", "Habitants de zones rurales", Q(participant__commune__population__lt=RURAL_POPULATION)),
]

EXIT_INDICATORS = [
    ("recherche_emploi", "En recherche d’emploi à la sortie", Q(exit_reason__fse_result=FseResult.JOB_SEARCHING)),
    ("formation", "En études ou en formation à la sortie", Q(exit_reason__fse_result=FseResult.TRAINING)),
    ("qualification", "Obtiennent une qualification à la sortie", Q(exit_reason__fse_result=FseResult.QUALIFICATION)),
    ("emploi", "En emploi à la sortie", Q(exit_reason__fse_result=FseResult.EMPLOYMENT)),
    (
        "emploi_6_mois",
        "En emploi six mois après la sortie (suivi de 6 mois validé)",
        Q(
            exit_reason__fse_result=FseResult.EMPLOYMENT,
            exit_reason__category=ExitCategory.POSITIVE,
            status=Status.EXITED,
        ),
    ),
]

SEXES = [("total", Q()), *[(sex.value, Q(participant__sex=sex.value)) for sex in Sex]]


def _age_at_entry():
    birthday_not_reached = Q(entry_month__lt=F("birth_month")) | Q(
        entry_month=F("birth_month"), entry_day__lt=F("birth_day")
    )
    return (
        F("entry_year")
        - F("birth_year")
        - Case(When(birthday_not_reached, then=Value(1)), default=Value(0), output_field=IntegerField())
    )


def _counts(queryset, indicators):
    aggregates = {
        f"{key}__{sex}": Count("participant", filter=condition & by_sex, distinct=True)
        for key, _, condition in [("participants", "Participants", Q()), *indicators]
        for sex, by_sex in SEXES
    }
    values = queryset.aggregate(**aggregates)
    return [
        {"key": key, "label": label, **{sex: values[f"{key}__{sex}"] for sex, _ in SEXES}}
        for key, label, _ in [("participants", "Participants", Q()), *indicators]
    ]


def fse_indicators(operation, start, end):
    """{"entries": rows, "exits": rows}; each row: key, label, total, F, H, NB."""
    parcours = Parcours.objects.filter(operation=operation)
    entered = (
        parcours.filter(entry_date__range=(start, end))
        .annotate(
            entry_year=ExtractYear("entry_date"),
            entry_month=ExtractMonth("entry_date"),
            entry_day=ExtractDay("entry_date"),
            birth_year=ExtractYear("participant__birth_date"),
            birth_month=ExtractMonth("participant__birth_date"),
            birth_day=ExtractDay("participant__birth_date"),
        )
        .annotate(age=_age_at_entry())
    )
    left = parcours.filter(exit_date__range=(start, end))
    return {"entries": _counts(entered, ENTRY_INDICATORS), "exits": _counts(left, EXIT_INDICATORS)}
