"""The landing page after login: what each role does today. The referent's day (appointments, alerts, steps to
finish), the team's queues with their counts, the admin's imports and accounts; the copil's home is the dashboard."""

import datetime

from django.db.models import Count, Exists, OuterRef, Q
from django.shortcuts import redirect, render
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from agenda.models import CommissionSession
from agenda.views import WAITING_FOR_COMMISSION, journal_list, my_referent, visible_appointments
from imports.models import ImportRun
from participants.alerts import portfolio, with_alerts
from participants.models import Document, DocumentKind, Parcours, Status
from plie.models import Membership, Role
from steps.models import Step, StepStatus, Validation


def home(request):
    """The landing page after login: what this role does today."""
    if request.plie is None:
        return render(request, "operations/no_plie.html")
    if request.role == Role.COPIL:
        return redirect("dashboard")
    today = timezone.localdate()
    if request.role == Role.REFERENT:
        return _referent_home(request, today)
    context = {"today": today, "now": timezone.now(), "queues": team_queues(request.plie, today)}
    if request.role == Role.ADMIN:
        context["imports"] = (
            ImportRun.objects.filter(plie=request.plie).select_related("created_by").order_by("-created_at")[:5]
        )
        context["accounts"] = (
            Membership.objects.filter(plie=request.plie)
            .select_related("user")
            .annotate(totp=Exists(TOTPDevice.objects.filter(user=OuterRef("user"), confirmed=True)))
            .order_by("role", "user__last_name", "user__email")
        )
    context["appointments"] = list(visible_appointments(request).on(today))
    journal_list(request, "accueil", len(context["appointments"]))
    return render(request, "home/team.html", context)


def team_queues(plie, today):
    """The team's queues and their counts, one aggregate query per table."""
    parcours = Parcours.objects.in_use().filter(participant__plie=plie)
    counts = parcours.aggregate(
        commission=Count("pk", filter=Q(status__in=WAITING_FOR_COMMISSION)),
        exits=Count("pk", filter=Q(status=Status.EXIT_PENDING)),
        accepted=Count("pk", filter=Q(status=Status.ACCEPTED)),
        without_contract=Count(
            "pk",
            filter=Q(status__in=[Status.ACTIVE, Status.FOLLOW_UP])
            & ~Q(Exists(Document.objects.filter(parcours=OuterRef("pk"), kind=DocumentKind.CONTRACT))),
        ),
    )
    counts["steps"] = Step.objects.filter(parcours__in=parcours, validation=Validation.SUBMITTED).count()
    counts["next_session"] = (
        CommissionSession.objects.filter(plie=plie, date__gte=today, held_at__isnull=True).order_by("date").first()
    )
    return counts


def _referent_home(request, today):
    referent = my_referent(request)
    mine = (
        Parcours.objects.in_use().filter(assignments__referent=referent, assignments__end__isnull=True)
        if referent
        else Parcours.objects.none()
    )
    rows = [row for row in with_alerts(portfolio(mine, request.plie, today), today) if row.alerts]
    steps = (
        Step.objects.filter(parcours__in=mine, validation=Validation.DRAFT)
        .filter(Q(status=StepStatus.DONE) | Q(status=StepStatus.IN_PROGRESS, end__lte=today))
        .select_related("parcours__participant", "step_type")
        .order_by("end", "pk")
    )
    appointments = list(visible_appointments(request).filter(referent=referent).on(today)) if referent else []
    week_start = today - datetime.timedelta(days=today.weekday())
    week = (
        visible_appointments(request)
        .filter(referent=referent)
        .planned()
        .between(today + datetime.timedelta(days=1), week_start + datetime.timedelta(days=6))
        .count()
        if referent
        else 0
    )
    journal_list(request, "accueil", len(rows) + len(appointments))
    return render(
        request,
        "home/referent.html",
        {
            "today": today,
            "referent": referent,
            "appointments": appointments,
            "rest_of_week": week,
            "alert_rows": rows,
            "steps": list(steps),
            "now": timezone.now(),
        },
    )
