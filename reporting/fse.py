"""FSE+ common indicators (Regulation (EU) 2021/1057, Annex I) as shared/spec/fse.md defines them, counted on the
participations of a fiche: output indicators (EECO) on those that entered it in the period, result indicators (EECR)
on those that left it in the period; each by sex, with the « ne souhaite pas répondre » and « non renseigné » counts.
One aggregate query for the entries, one for the exits."""

from collections import Counter
from dataclasses import dataclass

from django.db.models import Case, Count, Q, Value, When
from django.utils import timezone

from participants.models import Answer, Education, EmploymentStatus, Nationality, Participation, Sex
from territories.models import RURAL_FROM_LEVEL

STATUS_DECLINED = Q(employment_status=EmploymentStatus.DECLINED)
STATUS_MISSING = Q(employment_status="")
NOT_ASKED = Q(pk__in=[])


@dataclass(frozen=True)
class Indicator:
    code: str
    label: str
    condition: Q | None  # None: not collected in France (EECO15)
    declined: Q = NOT_ASKED
    missing: Q = NOT_ASKED

    @property
    def is_result(self):
        return self.code.startswith("EECR")


def _answer(field, yes=Answer.YES):
    return {
        "condition": Q(**{field: yes}),
        "declined": Q(**{field: Answer.DECLINED}),
        "missing": Q(**{field: ""}),
    }


def _education(band):
    return {
        "condition": Q(education=band),
        "declined": Q(education=Education.DECLINED),
        "missing": Q(education=""),
    }


def _status(status):
    return {"condition": Q(employment_status=status), "declined": STATUS_DECLINED, "missing": STATUS_MISSING}


INDICATORS = [
    Indicator("EECO01", "Participants", Q()),
    Indicator("EECO02", "Chômeurs, y compris de longue durée", **_status(EmploymentStatus.UNEMPLOYED)),
    Indicator(
        "EECO03",
        "Chômeurs de longue durée",
        Q(long_term_unemployed=True),
        STATUS_DECLINED,
        Q(long_term_unemployed__isnull=True) & ~STATUS_DECLINED,
    ),
    Indicator("EECO04", "Personnes inactives", **_status(EmploymentStatus.INACTIVE)),
    Indicator("EECO05", "Personnes exerçant un emploi, y compris indépendantes", **_status(EmploymentStatus.EMPLOYED)),
    Indicator("EECO06", "Moins de 18 ans", Q(age_at_entry__lt=18)),
    Indicator("EECO07", "De 18 à 29 ans", Q(age_at_entry__gte=18, age_at_entry__lte=29)),
    Indicator("EECO08", "55 ans et plus", Q(age_at_entry__gte=55)),
    Indicator("EECO09", "Niveau CITE 0 à 2", **_education(Education.ISCED_0_2)),
    Indicator("EECO10", "Niveau CITE 3 ou 4", **_education(Education.ISCED_3_4)),
    Indicator("EECO11", "Niveau CITE 5 à 8", **_education(Education.ISCED_5_8)),
    Indicator("EECO12", "Personnes handicapées", **_answer("disability")),
    Indicator(
        "EECO13",
        "Ressortissants de pays tiers",
        Q(nationality=Nationality.OUTSIDE_EU),
        Q(nationality=Nationality.DECLINED),
        Q(nationality=""),
    ),
    Indicator("EECO14", "Participants d’origine étrangère", **_answer("foreign_background")),
    Indicator("EECO15", "Minorités (non collecté en France)", None),
    Indicator("EECO16", "Sans domicile fixe ou exclusion du logement", **_answer("homeless")),
    Indicator(
        "EECO17",
        "Participants des zones rurales",
        Q(commune__density_level__gte=RURAL_FROM_LEVEL),
        missing=Q(commune__isnull=True),
    ),
    Indicator("EECR01", "En recherche d’emploi à la sortie", **_answer("exit_job_searching")),
    Indicator("EECR02", "En études ou en formation à la sortie", **_answer("exit_training")),
    Indicator("EECR03", "Obtenant une qualification à la sortie", **_answer("exit_qualification")),
    Indicator("EECR04", "En emploi, y compris indépendant, à la sortie", **_answer("exit_employment")),
]

SEXES = ["total", "femmes", "hommes", "autres"]
SEX_GROUP = Case(
    When(sex=Sex.FEMALE, then=Value("femmes")),
    When(sex=Sex.MALE, then=Value("hommes")),
    default=Value("autres"),  # non binaire ou non renseigné
)
# The density grid is loaded by a command: until then the rural count is « non disponible », never a guess.
GRID_MISSING = Q(commune__isnull=False, commune__density_level__isnull=True)


def _aggregate(queryset, indicators):
    """The counts of `indicators` (their declined and missing answers too) per sex group and in all: one query grouped
    by sex, three counts an indicator. A count per sex each made twice as many expressions for the ORM to build: the
    demo's FSE+ tables took 28 ms a bilan, almost all of it in the ORM, and take 9."""
    counted = [indicator for indicator in indicators if indicator.condition is not None]
    aggregates = {"all": Count("pk"), "grid_missing": Count("pk", filter=GRID_MISSING)}
    for indicator in counted:
        aggregates[f"{indicator.code}__total"] = Count("pk", filter=indicator.condition)
        aggregates[f"{indicator.code}__declined"] = Count("pk", filter=indicator.declined)
        aggregates[f"{indicator.code}__missing"] = Count("pk", filter=indicator.missing)
    counts = Counter()  # a group with no participation counts 0
    for row in queryset.annotate(sex_group=SEX_GROUP).values("sex_group").annotate(**aggregates).order_by():
        group = row.pop("sex_group")
        counts.update(row)
        counts.update({f"{indicator.code}__{group}": row[f"{indicator.code}__total"] for indicator in counted})
    return counts


def fse_figures(operation, start, end, *, participations, today=None):
    """The "fse" object of `bilan --json`. `participations` is the count of participations with an attributed day
    in the period, which is the bilan's `participants_accompagnes` (same segments, same query)."""
    today = today or timezone.localdate()
    of_fiche = Participation.objects.filter(operation=operation).order_by()
    entered = of_fiche.entered_between(start, end)
    left = of_fiche.left_between(start, end, today)
    entries = _aggregate(entered, [i for i in INDICATORS if not i.is_result])
    exits = _aggregate(left, [i for i in INDICATORS if i.is_result])
    figures, declined, missing = {}, {}, {}
    for indicator in INDICATORS:
        values = exits if indicator.is_result else entries
        if indicator.condition is None or (indicator.code == "EECO17" and values["grid_missing"]):
            figures[indicator.code] = dict.fromkeys(SEXES)
            continue
        figures[indicator.code] = {sex: values[f"{indicator.code}__{sex}"] for sex in SEXES}
        declined[indicator.code] = values[f"{indicator.code}__declined"]
        missing[indicator.code] = values[f"{indicator.code}__missing"]
    return {
        "participations": participations,
        "entrees": figures["EECO01"]["total"],
        "sorties": exits["all"],
        "indicateurs": figures,
        "ne_souhaite_pas_repondre": declined,
        "non_renseigne": missing,
        "non_collecte": ["EECO15"],
        "rural_disponible": not entries["grid_missing"],
    }


SECTIONS = [
    (False, "Indicateurs de réalisation : participations entrées dans l’opération sur la période"),
    (True, "Indicateurs de résultat : participations sorties de l’opération sur la période"),
]


def fse_sections(fse):
    """The tables the dashboard, the PDF and the exports show: [(title, rows)], one row per indicator."""
    rows = fse_rows(fse)
    return [(title, [row for row in rows if row["is_result"] == is_result]) for is_result, title in SECTIONS]


def fse_rows(fse):
    rows = []
    for indicator in INDICATORS:
        values = fse["indicateurs"][indicator.code]
        if indicator.condition is None:
            note = "non collecté"
        elif values["total"] is None:
            note = "non disponible : grille communale de densité non chargée"
        else:
            note = ""
        rows.append(
            {
                "code": indicator.code,
                "label": indicator.label,
                **values,
                "declined": fse["ne_souhaite_pas_repondre"].get(indicator.code),
                "missing": fse["non_renseigne"].get(indicator.code),
                "note": note,
                "is_result": indicator.is_result,
            }
        )
    return rows
