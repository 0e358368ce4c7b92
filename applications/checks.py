"""The FSE+ checks of a fiche's applications, exact to the cent (amounts are Decimal, never float)."""

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Sum

from operations.models import BeneficiaryKind
from plie.formats import french_number

from .models import CENT, Application

HUNDRED = Decimal(100)


def euros(amount):
    return f"{french_number(amount, 2)}\u00a0€"


@dataclass
class Check:
    ok: bool
    label: str
    detail: str


def cap_for(operation, structure_kind):
    """The cofinancing cap (in %) for this kind of structure: its own, else the one for all, else none."""
    caps = {cap.beneficiary_kind: cap.rate for cap in operation.cofinancing_caps.all()}
    return caps.get(structure_kind, caps.get(BeneficiaryKind.ALL))


def max_fse(application, cap):
    return (application.eligible_cost * cap / HUNDRED).quantize(CENT) if cap is not None else None


def application_checks(application):
    operation, checks = application.operation, []
    cap = cap_for(operation, application.structure.kind)
    cost = application.eligible_cost
    if cap is not None:
        ceiling = max_fse(application, cap)
        checks.append(
            Check(
                application.fse_requested <= ceiling,
                "Taux de cofinancement FSE+",
                f"FSE+ demandé {euros(application.fse_requested)} ; plafond {french_number(cap)} % du coût éligible "
                f"({euros(cost)}) = {euros(ceiling)}.",
            )
        )
        minimum = (cost * (HUNDRED - cap) / HUNDRED).quantize(CENT)
        others = application.other_cofinancing + application.counterpart
        checks.append(
            Check(
                others >= minimum,
                "Contrepartie minimale",
                f"Autres financements {euros(others)} ; au moins {french_number(HUNDRED - cap)} % du coût éligible = {euros(minimum)}.",
            )
        )
    minimum_etp = operation.min_etp_per_application
    if minimum_etp is not None:
        checks.append(
            Check(
                application.etp_proposed >= minimum_etp,
                "ETP minimum de la réponse",
                f"{french_number(application.etp_proposed)} ETP proposés ; la fiche demande au moins "
                f"{french_number(minimum_etp)} ETP.",
            )
        )
    checks.append(
        Check(
            application.resources == cost,
            "Budget équilibré",
            f"Ressources {euros(application.resources)} pour un coût éligible de {euros(cost)}.",
        )
    )
    return checks


def granted_total(operation, exclude=None):
    qs = Application.objects.filter(operation=operation).accepted()
    if exclude is not None:
        qs = qs.exclude(pk=exclude.pk)
    return qs.aggregate(total=Sum("fse_granted"))["total"] or Decimal("0")


def operation_checks(operation):
    """The fiche-wide checks: ceiling, ETP against the plan, zones covered and not over-allocated."""
    accepted = list(Application.objects.filter(operation=operation).accepted().prefetch_related("zones_granted"))
    checks = []
    granted = sum((a.fse_granted or Decimal("0") for a in accepted), Decimal("0"))
    if operation.fse_ceiling is not None:
        checks.append(
            Check(
                granted <= operation.fse_ceiling,
                "Plafond FSE+ de la fiche",
                f"Accordé {euros(granted)} sur {euros(operation.fse_ceiling)} ; reste {euros(operation.fse_ceiling - granted)}.",
            )
        )
    return checks + _planned_etp_checks(operation, accepted) + _zone_checks(operation, accepted)


def _planned_etp_checks(operation, accepted):
    planned_periods = list(operation.planned_etps.all())
    checks = []
    for planned in planned_periods:
        # Each planned period (Sud Périgord: 1,25 ETP in 2022, 1,75 in 2023) against the conventions running then.
        running = [a for a in accepted if a.start <= planned.end and a.end >= planned.start]
        etp = sum((a.etp_granted or Decimal("0") for a in running), Decimal("0"))
        when = f" du {planned.start:%d/%m/%Y} au {planned.end:%d/%m/%Y}" if len(planned_periods) > 1 else ""
        high = planned.etp_max if planned.etp_max is not None else planned.etp
        expected = (
            french_number(planned.etp)
            if high == planned.etp
            else f"{french_number(planned.etp)} à {french_number(high)}"
        )
        checks.append(
            Check(
                planned.etp <= etp <= high,
                "ETP attendus",
                f"{french_number(etp)} ETP accordés pour {expected} ETP attendus{when}.",
            )
        )
    return checks


def _zone_checks(operation, accepted):
    zones = list(operation.zones.all())
    if not zones:
        return []
    load = {zone.pk: Decimal("0") for zone in zones}
    for application in accepted:
        granted_zones = application.zones_granted.all()
        for zone in granted_zones:
            load[zone.pk] = load.get(zone.pk, Decimal("0")) + (application.etp_granted or Decimal("0")) / len(
                granted_zones
            )
    uncovered = [zone.name for zone in zones if not load[zone.pk]]
    over = [zone.name for zone in zones if zone.etp_ceiling and load[zone.pk] > zone.etp_ceiling]
    return [
        Check(
            not uncovered,
            "Zones couvertes",
            "Toutes les zones sont couvertes."
            if not uncovered
            else "Zones sans structure : " + ", ".join(uncovered) + ".",
        ),
        Check(
            not over,
            "Zones sans excès d’ETP",
            "Aucune zone ne dépasse ses ETP." if not over else "ETP au-delà du prévu sur : " + ", ".join(over) + ".",
        ),
    ]
