"""What a referent must act on, computed from one annotated query over their parcours (no query per row)."""

import datetime
from dataclasses import dataclass

from dateutil.relativedelta import relativedelta
from django.db.models import Count, Exists, Max, OuterRef, Prefetch, Q

from territories.models import Zone

from .models import (
    OPEN_STATUSES,
    RUNNING_STEP_STATUSES,
    Document,
    DocumentKind,
    ReferentAssignment,
    Status,
    StepStatus,
)

EXIT_PROOFS = [DocumentKind.EMPLOYMENT_CONTRACT, DocumentKind.CERTIFICATE]


@dataclass(frozen=True)
class Alert:
    code: str
    label: str
    level: str = "warning"


def portfolio(parcours, plie, today):
    """Open parcours with what the portfolio shows: last entretien, next appointment, steps, proofs, zone, referent."""
    running = Q(steps__status__in=RUNNING_STEP_STATUSES)
    return (
        parcours.filter(status__in=OPEN_STATUSES)
        .select_related("participant__commune", "operation", "exit_reason")
        .prefetch_related(
            Prefetch("participant__commune__zones", Zone.objects.filter(plie=plie), to_attr="plie_zones"),
            Prefetch(
                "assignments",
                ReferentAssignment.objects.filter(end__isnull=True).select_related("referent"),
                to_attr="current_assignments",
            ),
        )
        .annotate(
            last_entretien=Max("entretiens__date"),
            steps_in_progress=Count("steps", filter=Q(steps__status=StepStatus.IN_PROGRESS), distinct=True),
            steps_ending_soon=Count(
                "steps",
                filter=running & Q(steps__end__gte=today, steps__end__lte=today + datetime.timedelta(days=7)),
                distinct=True,
            ),
            next_appointment=Max("entretiens__next_appointment"),
            has_contract=Exists(Document.objects.filter(parcours=OuterRef("pk"), kind=DocumentKind.CONTRACT)),
            has_exit_proof=Exists(Document.objects.filter(parcours=OuterRef("pk"), kind__in=EXIT_PROOFS)),
        )
        .order_by("participant__last_name", "participant__first_name")
    )


def alerts_for(parcours, today):
    """The alerts of one parcours annotated by `portfolio`, for the day `today`."""
    alerts = []
    seen_last = parcours.last_entretien or parcours.entry_date
    if seen_last and seen_last < today - relativedelta(months=1):
        alerts.append(Alert("no_entretien", f"Pas d’entretien depuis le {seen_last:%d/%m/%Y}", "danger"))
    due = parcours.follow_up_due_on
    if parcours.status == Status.FOLLOW_UP and due and due <= today + datetime.timedelta(days=14):
        alerts.append(Alert("follow_up_due", f"Suivi de 6 mois dans l’emploi : échéance le {due:%d/%m/%Y}"))
    if parcours.status == Status.EXIT_PENDING:
        when = f"depuis le {due:%d/%m/%Y}" if due and due <= today else (f"le {due:%d/%m/%Y}" if due else "")
        alerts.append(Alert("exit_to_validate", f"Sortie positive à faire valider {when}".strip(), "info"))
    review = parcours.review_due_on
    if review and review <= today + datetime.timedelta(days=30):
        alerts.append(
            Alert("review_due", f"Point de situation à faire (parcours entré le {parcours.entry_date:%d/%m/%Y})")
        )
    if parcours.steps_ending_soon:
        alerts.append(Alert("step_ending", "Une étape se termine cette semaine", "info"))
    if not parcours.has_contract:
        alerts.append(Alert("missing_contract", "Contrat d’engagement signé manquant"))
    if parcours.status == Status.EXIT_PENDING and not parcours.has_exit_proof:
        alerts.append(Alert("missing_exit_proof", "Justificatif de sortie manquant"))
    return alerts


def with_alerts(rows, today):
    rows = list(rows)
    for row in rows:
        row.alerts = alerts_for(row, today)
        row.zone = (
            next(iter(getattr(row.participant.commune, "plie_zones", None) or []), None)
            if row.participant.commune
            else None
        )
        row.referent = row.current_assignments[0].referent if row.current_assignments else None
    return rows
