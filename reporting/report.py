"""Everything a dashboard, a bilan PDF or an export shows for one operation and one period."""

import datetime
from collections import defaultdict

from django.core.cache import cache
from django.utils import timezone

from participants import attribution
from participants.models import Participation
from plie import dataversion

from . import disclosure
from .fse import fse_sections
from .indicators import compute_bilan
from .results import etp_periods_of, targets_vs_results

ADDITIVE = [
    "etp_moyen", "file_active_moyenne", "participants_accompagnes", "nouvelles_integrations", "etapes_validees",
    "sorties", "sorties_positives", "sorties_neutralisees", "entretiens",
]  # fmt: skip


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
    """The nominative annex the fiches ask for: the fiche's participations with an attributed day in the period
    (the same segments as `participants_accompagnes`), with their dates in the operation and their referent."""
    present = attribution.segments(operation, start, end).values("participant_id")
    return (
        Participation.objects.filter(operation=operation, participant__in=present)
        .select_related("participant", "referent")
        .order_by("participant__last_name", "participant__first_name", "pk")
    )


def _with_exit_dates(participations, today):
    participations = list(participations)
    for participation in participations:
        participation.exit_on = participation.exit_date(today)
    return participations


def target_lines(operation, start, end, *, today=None, bilan=None):
    bilan = bilan or compute_bilan(operation, start, end, today=today)
    targets = sorted(operation.targets.all(), key=lambda t: t.display_order())
    totals = {**bilan["totals"], "regles": bilan["regles"]}
    return targets_vs_results(targets, etp_periods_of(operation), totals, start, end, today)


def build_report(operation, start, end, *, persons=False, today=None):
    today = today or timezone.localdate()
    bilan = compute_bilan(operation, start, end, today=today)
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
        "fse": bilan["fse"],
        "fse_sections": fse_sections(bilan["fse"]),
        "months": [(datetime.date.fromisoformat(month["fin"]), month["file_active"]) for month in bilan["mois"]],
        "annex": _with_exit_dates(annex(operation, start, end), today) if persons else None,
    }


# Cached reports are reused for a day at most: `today` is part of their key anyway (projections, exit dates).
CACHE_SECONDS = 24 * 3600


def report_key(operation, start, end, *, role, referent_ids=(), today=None):
    """The cache key of what a viewer with `role` sees: the audience (never the role alone: one cached report for
    one audience never serves another), a referent's own profiles, the day, and the PLIE's data version."""
    today = today or timezone.localdate()
    seen = disclosure.audience(role)
    own = ",".join(map(str, sorted(referent_ids))) if seen == disclosure.REFERENT else ""
    version = dataversion.tokens(operation.plie_id)
    return f"report:{operation.pk}:{start}:{end}:{seen}:{own}:{today}:{version}"


def _compute(operation, start, end, *, role, referent_ids, persons, today):
    seen = disclosure.audience(role)
    report = build_report(operation, start, end, persons=persons and seen == disclosure.TEAM, today=today)
    siblings = []
    if seen == disclosure.COPIL:
        siblings = [build_report(operation, s, e, today=today) for s, e in disclosure.siblings(operation, start, end)]
    return disclosure.disclose(report, role=role, referent_ids=referent_ids, sibling_reports=siblings)


def report_for(operation, start, end, *, role, referent_ids=(), persons=False, today=None):
    """The report as a viewer with `role` may see it (reporting/disclosure.py): every output is drawn from this.
    Computed once per data version (plie/dataversion.py); the nominative annex is never cached."""
    today = today or timezone.localdate()
    options = {"role": role, "referent_ids": referent_ids, "persons": persons, "today": today}
    if (persons and disclosure.audience(role) == disclosure.TEAM) or dataversion.written(operation.plie_id):
        return _compute(operation, start, end, **options)
    key = report_key(operation, start, end, role=role, referent_ids=referent_ids, today=today)
    cached = cache.get(key)
    if cached is None:
        report = _compute(operation, start, end, **options)
        cache.set(key, {name: value for name, value in report.items() if name != "operation"}, CACHE_SECONDS)
        return report
    return {**cached, "operation": operation}


def cached_chart(operation, start, end, name, draw, *, role, referent_ids=()):
    """The SVG of chart `name`, drawn by `draw(report)` from the same cached report as the page, and kept with it."""
    if dataversion.written(operation.plie_id):
        return draw(report_for(operation, start, end, role=role, referent_ids=referent_ids))
    key = f"{report_key(operation, start, end, role=role, referent_ids=referent_ids)}:chart:{name}"
    svg = cache.get(key)
    if svg is None:
        svg = draw(report_for(operation, start, end, role=role, referent_ids=referent_ids))
        cache.set(key, svg, CACHE_SECONDS)
    return svg
