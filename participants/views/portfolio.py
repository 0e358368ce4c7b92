"""What each one has to do: the referent's portfolio with its alerts, the commission agenda, the team's portfolios."""

from django.http import Http404
from django.shortcuts import render
from django.utils import timezone

from operations.models import Referent
from plie.access import can_edit, get_or_404, require_editor
from plie.models import Role

from ..alerts import portfolio, with_alerts
from ..models import (
    OPEN_STATUSES,
    CommissionDecision,
    Parcours,
    Status,
)
from .common import _record_list, referent_loads


def my_portfolio(request):
    """ "Mon portefeuille": a referent's open parcours with their alerts; the team may open any referent's."""
    if request.plie is None or request.role == Role.COPIL:
        raise Http404
    referents = Referent.objects.filter(plie=request.plie)
    if can_edit(request.user, request.plie) and request.GET.get("referent"):
        referent = get_or_404(referents, pk=request.GET["referent"])
    else:
        referent = referents.filter(user=request.user).first()
        if referent is None and not can_edit(request.user, request.plie):
            raise Http404
    today = timezone.localdate()
    rows = []
    if referent:
        parcours = Parcours.objects.in_use().filter(assignments__referent=referent, assignments__end__isnull=True)
        rows = with_alerts(portfolio(parcours, request.plie, today), today)
    status = request.GET.get("statut", "")
    if status:
        rows = [row for row in rows if row.status == status]
    alert = request.GET.get("alerte", "")
    if alert:
        rows = [row for row in rows if any(a.code == alert for a in row.alerts)]
    load = referent_loads(request.plie, today).get(referent) if referent else None
    _record_list(request, "portefeuille", len(rows))
    return render(
        request,
        "participants/portfolio.html",
        {
            "referent": referent,
            "rows": rows,
            "alert_count": sum(1 for row in rows if row.alerts),
            "load": load,
            "today": today,
            "referents": referents.order_by("last_name") if can_edit(request.user, request.plie) else [],
            "status": status,
            "alert": alert,
            "statuses": [(s, Status(s).label) for s in OPEN_STATUSES],
            "alert_kinds": ALERT_KINDS,
        },
    )


ALERT_KINDS = [
    ("no_entretien", "Pas d’entretien depuis un mois"),
    ("follow_up_due", "Suivi de 6 mois à échéance"),
    ("exit_to_validate", "Sortie à valider"),
    ("review_due", "Point de situation à faire"),
    ("missing_contract", "Contrat d’engagement manquant"),
    ("missing_exit_proof", "Justificatif de sortie manquant"),
    ("step_ending", "Étape qui se termine cette semaine"),
]


def commission_agenda(request):
    require_editor(request.user, request.plie)
    waiting = (
        Parcours.objects.in_use()
        .filter(
            participant__plie=request.plie,
            status__in=[Status.PRESCRIBED, Status.RECEIVED, Status.POSTPONED, Status.ACCEPTED],
        )
        .select_related("participant")
        .order_by("prescription_date")
    )
    decisions = (
        CommissionDecision.objects.filter(parcours__in=Parcours.objects.in_use().filter(participant__plie=request.plie))
        .select_related("parcours__participant", "decided_by")
        .order_by("-date", "-pk")[:50]
    )
    waiting = list(waiting)
    for parcours in waiting:
        parcours.actions = parcours.offered_actions(is_team=True)
    _record_list(request, "liste", len(waiting))
    return render(request, "participants/commission_agenda.html", {"waiting": waiting, "decisions": decisions})


def team_portfolios(request):
    """One line per referent: load against target and the alerts of their portfolio."""
    require_editor(request.user, request.plie)
    today = timezone.localdate()
    rows = with_alerts(
        portfolio(
            Parcours.objects.in_use().filter(participant__plie=request.plie, assignments__end__isnull=True),
            request.plie,
            today,
        ),
        today,
    )
    by_referent = {}
    for row in rows:
        by_referent.setdefault(row.referent, []).append(row)
    loads = referent_loads(request.plie, today)
    lines = [
        {
            "referent": referent,
            "load": load,
            "alerts": sum(len(r.alerts) for r in by_referent.get(referent, [])),
            "no_entretien": sum(1 for r in by_referent.get(referent, []) for a in r.alerts if a.code == "no_entretien"),
        }
        for referent, load in loads.items()
    ]
    return render(request, "participants/team_portfolios.html", {"lines": lines})
