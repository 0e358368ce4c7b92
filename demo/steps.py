"""Demo steps and validation grid for a PLIE whose demo participants exist (see participants/demo.py)."""

import contextlib
import datetime
import random

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from participants.models import Parcours
from plie.models import Membership, Role
from steps import services
from steps.models import GridVersion, Step, StepStatus, StepType

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"

# (type label, criteria, proofs) of the first grid; the second one, approved mid-2023, asks more for PMSMP.
GRID_2023 = [
    (
        "PMSMP",
        "Période d’au moins 2 jours chez un employeur, objectifs fixés avant la période.",
        ["convention", "bilan"],
    ),
    ("Stage", "Stage d’au moins une semaine en lien avec le projet.", ["convention", "attestation"]),
    ("Formation qualifiante", "Formation menant à une certification inscrite au RNCP.", ["attestation"]),
    ("Formation pré-qualifiante", "", ["attestation"]),
    ("CDD", "Contrat d’au moins un mois.", ["contrat_travail"]),
    ("Intérim", "Au moins 100 heures de mission.", ["contrat_travail"]),
    ("CDDI (SIAE)", "", ["contrat_travail"]),
    ("Atelier TRE", "Présence à l’ensemble des séances.", ["emargement"]),
    ("Mobilité", "Action levant un frein identifié au diagnostic.", ["attestation"]),
]
PMSMP_FROM_JULY = ["convention", "bilan", "attestation"]


@transaction.atomic
def create_demo_steps(*, plie, by, seed=2023, year=2023, until=None):
    """Two grid versions (the programming `year`'s, and one approved on 1 July of that year) and one to three steps
    for most integrated parcours until `until` (the end of `year` by default); returns the number of steps."""
    if GridVersion.objects.filter(plie=plie).exists():
        return 0
    types = {t.label: t for t in StepType.objects.filter(category__plie=plie).select_related("category")}
    rules = _create_grids(plie, types, year, by)
    rng = random.Random(f"{seed}-{plie.slug}-steps")
    labels = ("PMSMP", "Stage", "Formation qualifiante", "CDD", "Intérim", "Atelier TRE", "Mobilité", "Accompagnement")
    choices = [types[label] for label in labels if label in types]
    partners = ["Mairie d’Agen", "Hypermarché de Boé", "AFPA Agen", "GRETA Lot-et-Garonne", "Mobilité 47", ""]
    validator = _validator(plie)
    year_end = min(until or datetime.date(year, 12, 31), timezone.localdate())
    created = 0
    for parcours in Parcours.objects.filter(participant__plie=plie, entry_date__isnull=False).order_by("pk"):
        last_day = min(parcours.exit_date or year_end, year_end)
        for _ in range(rng.choice([0, 1, 1, 2, 2, 3])):
            start = parcours.entry_date + datetime.timedelta(
                days=rng.randint(0, max((last_day - parcours.entry_date).days, 0))
            )
            end = min(
                start + datetime.timedelta(days=rng.choice([2, 5, 14, 30, 90])), parcours.exit_date or datetime.date.max
            )
            step = Step(
                parcours=parcours,
                step_type=rng.choice(choices),
                start=start,
                end=end,
                status=StepStatus.DONE if end < year_end - datetime.timedelta(days=30) else StepStatus.IN_PROGRESS,
                partner=rng.choice(partners),
            )
            _save(step, by)
            created += 1
            _submit(step, rules, rng.random(), by, validator)
    return created


def _create_grids(plie, types, year, by):
    """The programming year's grid, then the one the copil approved on 1 July; returns the rules of the latter."""
    rules = {types[label]: (criteria, proofs) for label, criteria, proofs in GRID_2023 if label in types}
    services.create_grid_version(
        plie=plie,
        approved_on=datetime.date(year - 1, 12, 15),
        notes=f"Grille de la programmation {year}.",
        rules=rules,
        by=by,
    )
    if "PMSMP" in types:
        rules[types["PMSMP"]] = (rules[types["PMSMP"]][0], PMSMP_FROM_JULY)
    services.create_grid_version(
        plie=plie,
        approved_on=datetime.date(year, 7, 1),
        notes=f"Comité de pilotage du 1er juillet {year} : l’attestation de l’employeur est exigée pour les PMSMP.",
        rules=rules,
        by=by,
    )
    return rules


def _save(step, by):
    if step.parcours.allows("step"):
        services.save_step(step=step, by=by)
    else:  # save_step only positions people still in parcours; a closed parcours keeps its past steps
        services.check_step(step)
        step.created_by, step._history_user = by, by
        step.save()


def _submit(step, rules, fate, by, validator):
    """Most steps get their proofs and are submitted; half of them are validated."""
    if fate < 0.2:
        return
    required = rules.get(step.step_type, ("", []))[1]
    for kind in required if fate > 0.35 else required[:1]:
        services.attach_proof(step=step, uploaded=_pdf(kind), kind=kind, by=by)
    services.submit_step(step=step, by=by)
    if fate > 0.5 and validator is not None:
        with contextlib.suppress(ValidationError):  # a proof the July grid asks is missing: left in the queue
            services.validate_step(step=step, by=validator)


def _pdf(kind):
    uploaded = ContentFile(PDF, name=f"{kind}.pdf")
    uploaded.sniffed_type = "application/pdf"
    return uploaded


def _validator(plie):
    membership = Membership.objects.filter(plie=plie, role=Role.ANIMATION).select_related("user").first()
    return membership.user if membership else None
