"""Everything a dashboard, a bilan PDF or an export shows for one operation and one period."""

import datetime
from collections import defaultdict

from dateutil.relativedelta import relativedelta
from django.db.models import Count, Q

from participants.models import Parcours

from .fse import fse_indicators
from .indicators import compute_bilan
from .results import etp_periods_of, targets_vs_results

ADDITIVE = [
    "etp_moyen", "file_active_moyenne", "participants_accompagnes", "nouvelles_integrations", "etapes_validees",
    "sorties", "sorties_positives", "sorties_neutralisees", "entretiens",
]  # fmt: skip

# Counts from 1 to this are hidden from the steering committee: a small number can identify someone.
SMALL_COUNT = 5


def month_ends(start, end):
    day = start + relativedelta(day=31)
    while day < end:
        yield day
        day = (day + datetime.timedelta(days=1)) + relativedelta(day=31)
    yield end


def monthly_file_active(operation, start, end):
    """Parcours of the operation active on the last day of each month of the period (one query)."""
    days = list(month_ends(start, end))
    counts = Parcours.objects.filter(operation=operation).aggregate(
        **{
            f"m{index}": Count(
                "pk", filter=Q(entry_date__lte=day) & (Q(exit_date__isnull=True) | Q(exit_date__gte=day))
            )
            for index, day in enumerate(days)
        }
    )
    return [(day, counts[f"m{index}"]) for index, day in enumerate(days)]


def by_structure(referents):
    """The referents' figures added up per employer; rates are recomputed from the sums."""
    groups = defaultdict(lambda: dict.fromkeys(ADDITIVE, 0))
    for row in referents:
        group = groups[row["structure"]]
        for key in ADDITIVE:
            group[key] += row.get(key) or 0
    rows = []
    for structure, figures in sorted(groups.items()):
        counted = figures["sorties"] - figures["sorties_neutralisees"]
        figures["taux_sorties_positives"] = figures["sorties_positives"] / counted if counted else None
        rows.append({"structure": structure, **figures})
    return rows


def annex(operation, start, end):
    """The nominative list the fiches ask for: participants accompanied in the period, with their dates."""
    return (
        Parcours.objects.filter(operation=operation, entry_date__lte=end)
        .filter(Q(exit_date__isnull=True) | Q(exit_date__gte=start))
        .select_related("participant", "exit_reason")
        .order_by("participant__last_name", "participant__first_name", "entry_date")
    )


def target_lines(operation, start, end, *, today=None, bilan=None):
    bilan = bilan or compute_bilan(operation, start, end)
    targets = sorted(operation.targets.all(), key=lambda t: t.display_order())
    return targets_vs_results(operation, targets, etp_periods_of(operation), bilan["totals"], start, end, today)


def build_report(operation, start, end, *, persons=False, today=None):
    bilan = compute_bilan(operation, start, end)
    lines = target_lines(operation, start, end, today=today, bilan=bilan)
    return {
        "operation": operation,
        "start": start,
        "end": end,
        "bilan": bilan,
        "totals": bilan["totals"],
        "referents": bilan["referents"],
        "structures": by_structure(bilan["referents"]),
        "lines": lines,
        "fse": fse_indicators(operation, start, end),
        "months": monthly_file_active(operation, start, end),
        "annex": list(annex(operation, start, end)) if persons else None,
    }
