import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Prefetch
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from operations.models import Referent
from participants.models import Parcours, Participant, Status, record_access
from plie.access import can_edit, get_for_user, get_or_404, require_editor
from plie.models import Role

from . import calendar, services
from .forms import AppointmentForm, CommissionSessionForm, DecisionForm, FeedForm, appointments_initial_day
from .models import Appointment, AppointmentStatus, CalendarFeed, CommissionSession

WAITING_FOR_COMMISSION = [Status.RECEIVED, Status.POSTPONED]


def my_referent(request):
    return Referent.objects.filter(plie=request.plie, user=request.user).first()


def visible_appointments(request):
    """The PLIE's appointments the user may see, with what a list shows."""
    return (
        Appointment.objects.for_user(request.user)
        .filter(participant__plie=request.plie)
        .select_related("participant", "referent")
    )


def journal_list(request, what, shown):
    record_access(user=request.user, plie=request.plie, what=what, detail=f"{shown} ligne(s)")


def _week_start(day):
    return day - datetime.timedelta(days=day.weekday())


def agenda(request):
    """Day or week view, for one referent or the whole team (the team only)."""
    if request.plie is None or request.role == Role.COPIL:
        raise Http404
    today = timezone.localdate()
    day = appointments_initial_day(request.GET.get("date")) or today
    view = "jour" if request.GET.get("vue") == "jour" else "semaine"
    team = can_edit(request.user, request.plie)
    referents = Referent.objects.filter(plie=request.plie).order_by("last_name", "first_name")
    chosen = request.GET.get("referent", "")
    if team and chosen == "":
        referent = None
    elif team:
        referent = get_or_404(referents, pk=chosen)
    else:
        referent = my_referent(request)
        if referent is None:
            raise Http404
    start = day if view == "jour" else _week_start(day)
    end = day if view == "jour" else start + datetime.timedelta(days=6)
    appointments = visible_appointments(request).between(start, end)
    if referent is not None:
        appointments = appointments.filter(referent=referent)
    appointments = list(appointments)
    days = []
    for offset in range((end - start).days + 1):
        current = start + datetime.timedelta(days=offset)
        days.append(
            {
                "day": current,
                "appointments": [a for a in appointments if timezone.localtime(a.starts_at).date() == current],
            }
        )
    step = datetime.timedelta(days=1 if view == "jour" else 7)
    journal_list(request, "agenda", len(appointments))
    return render(
        request,
        "agenda/agenda.html",
        {
            "view": view,
            "days": days,
            "start": start,
            "end": end,
            "today": today,
            "previous": start - step,
            "next": start + step,
            "referent": referent,
            "referents": referents if team else [],
            "chosen": chosen,
            "team": team,
            "count": len(appointments),
            "now": timezone.now(),
        },
    )


def _planning_scope(request):
    """Who may be chosen in the appointment form: the team plans for any referent, a referent for themself."""
    if request.plie is None or request.role == Role.COPIL:
        raise Http404
    participants = Participant.objects.for_user(request.user).filter(plie=request.plie)
    referents = Referent.objects.filter(plie=request.plie)
    if not can_edit(request.user, request.plie):
        referents = referents.filter(user=request.user)
    return participants, referents


@require_http_methods(["GET", "POST"])
def appointment_create(request):
    participants, referents = _planning_scope(request)
    fixed = None
    if request.GET.get("participant"):
        fixed = get_or_404(participants, pk=request.GET["participant"])
    mine = referents.filter(user=request.user).first()
    if mine is None and fixed is not None:
        current = fixed.parcours.filter(assignments__end__isnull=True).values_list("assignments__referent", flat=True)
        mine = referents.filter(pk__in=current).first()
    initial = {"day": appointments_initial_day(request.GET.get("date")), "time": datetime.time(9, 0)}
    if request.GET.get("modalite"):
        initial["modality"] = request.GET["modalite"]
    form = AppointmentForm(
        request.POST or None,
        participants=participants,
        referents=referents,
        fixed_participant=fixed,
        fixed_referent=mine if not can_edit(request.user, request.plie) else None,
        initial={**initial, "referent": mine},
    )
    if request.method == "POST" and form.is_valid():
        try:
            appointment = services.plan_appointment(
                parcours=form.cleaned_data["parcours"], **form.write_kwargs(), by=request.user
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, f"Rendez-vous planifié le {_when(appointment)}.")
            return redirect(appointment)
    return render(
        request,
        "agenda/appointment_form.html",
        {"form": form, "participant": fixed, "title": "Planifier un rendez-vous"},
    )


def _when(appointment):
    return f"{timezone.localtime(appointment.starts_at):%d/%m/%Y à %H:%M}"


def _appointment(request, pk):
    appointment = get_for_user(
        Appointment.objects.select_related("participant", "referent", "parcours", "created_by"), request.user, pk=pk
    )
    return appointment


def appointment_detail(request, pk):
    appointment = _appointment(request, pk)
    record_access(participant=appointment.participant, user=request.user, what="rendez-vous")
    history = appointment.history.select_related("history_user").order_by("-history_date")
    return render(
        request,
        "agenda/appointment_detail.html",
        {
            "appointment": appointment,
            "history": history,
            "may_change": appointment.can_be_changed_by(request.user),
            "now": timezone.now(),
        },
    )


@require_http_methods(["GET", "POST"])
def appointment_edit(request, pk):
    appointment = _appointment(request, pk)
    if not appointment.can_be_changed_by(request.user):
        raise PermissionDenied("Seuls son référent et l’équipe d’animation modifient ce rendez-vous.")
    plie = appointment.participant.plie_id
    team = can_edit(request.user, plie)
    referents = Referent.objects.filter(plie=plie)
    form = AppointmentForm(
        request.POST or None,
        participants=Participant.objects.for_user(request.user).filter(plie=plie),
        referents=referents if team else referents.filter(user=request.user),
        fixed_participant=appointment.participant,
        fixed_referent=None if team else appointment.referent,
        initial=AppointmentForm.initial_from(appointment),
        editing=True,
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.reschedule_appointment(appointment=appointment, **form.write_kwargs(), by=request.user)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, f"Rendez-vous déplacé au {_when(appointment)}.")
            return redirect(appointment)
    return render(
        request,
        "agenda/appointment_form.html",
        {
            "form": form,
            "participant": appointment.participant,
            "title": "Modifier le rendez-vous",
            "appointment": appointment,
        },
    )


OUTCOME_MESSAGES = {
    AppointmentStatus.HELD: "Rendez-vous honoré : pensez à saisir le compte rendu de l’entretien.",
    AppointmentStatus.NO_SHOW: "Absence enregistrée pour le rendez-vous du {when} de {person}.",
    AppointmentStatus.CANCELLED: "Rendez-vous du {when} annulé.",
}


@require_POST
def appointment_outcome(request, pk):
    """One click from the day's list or the appointment page: held, no-show or cancelled."""
    appointment = _appointment(request, pk)
    if not appointment.can_be_changed_by(request.user):
        raise PermissionDenied("Seuls son référent et l’équipe d’animation enregistrent la suite de ce rendez-vous.")
    try:
        services.record_outcome(appointment=appointment, status=request.POST.get("status", ""), by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            OUTCOME_MESSAGES[appointment.status].format(when=_when(appointment), person=appointment.participant),
        )
        if appointment.status == AppointmentStatus.HELD:
            return redirect(
                reverse("entretien_create", args=[appointment.participant_id])
                + f"?date={timezone.localtime(appointment.starts_at):%Y-%m-%d}&modalite={appointment.modality}"
            )
    target = request.POST.get("next", "")
    return redirect(target if target.startswith("/") and not target.startswith("//") else appointment)


@require_http_methods(["GET", "POST"])
def feed_settings(request):
    """A referent's subscription address for their calendar application: shown once, renewed or revoked."""
    if request.plie is None:
        raise Http404
    referent = my_referent(request)
    if referent is None:
        raise Http404
    form = FeedForm(request.POST or None)
    address = None
    if request.method == "POST" and form.is_valid():
        if form.cleaned_data["action"] == "renew":
            token = services.renew_feed(referent=referent, by=request.user)
            address = request.build_absolute_uri(reverse("calendar_feed", args=[token]))
            messages.success(request, "Nouvelle adresse créée : l’ancienne ne fonctionne plus.")
        else:
            services.revoke_feed(referent=referent, by=request.user)
            messages.success(request, "Adresse révoquée : votre agenda n’est plus publié.")
            return redirect("feed_settings")
    feed = CalendarFeed.objects.filter(referent=referent).first()
    return render(request, "agenda/feed_settings.html", {"feed": feed, "address": address, "referent": referent})


@login_not_required
def calendar_feed(request, token):
    """The iCalendar feed at the secret address: no session (calendar applications have none), no participant named."""
    feed = CalendarFeed.objects.filter(token_hash=CalendarFeed.hash(token)).select_related("referent__plie").first()
    if feed is None:
        raise Http404("Adresse inconnue ou révoquée.")
    body = calendar.feed_for(
        feed.referent,
        timezone.localdate(),
        base_url=request.build_absolute_uri("/").rstrip("/"),
        host=request.get_host(),
    )
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="agenda-plie.ics"'
    response["Cache-Control"] = "private, max-age=300"
    return response


# Commission sessions -------------------------------------------------------------------------------------------


def _waiting(plie):
    return (
        Parcours.objects.in_use()
        .filter(participant__plie=plie, status__in=WAITING_FOR_COMMISSION)
        .select_related("participant")
        .order_by("prescription_date", "pk")
    )


def _session(request, pk):
    return get_for_user(CommissionSession.objects.select_related("plie", "created_by"), request.user, pk=pk)


def session_list(request):
    require_editor(request.user, request.plie)
    sessions = list(
        CommissionSession.objects.filter(plie=request.plie)
        .annotate(files=Count("parcours"))
        .order_by("-date", "-pk")[:100]
    )
    return render(
        request,
        "agenda/session_list.html",
        {"sessions": sessions, "waiting": _waiting(request.plie).count(), "today": timezone.localdate()},
    )


@require_http_methods(["GET", "POST"])
def session_form(request, pk=None):
    session = _session(request, pk) if pk else None
    require_editor(request.user, session.plie if session else request.plie)
    if session and session.held_at:
        raise PermissionDenied("Les décisions de cette séance sont enregistrées : elle ne se modifie plus.")
    waiting = _waiting(request.plie)
    if session:
        waiting = (waiting | session.parcours.all()).distinct()
        initial = {
            "date": session.date,
            "place": session.place,
            "members": session.members,
            "notes": session.notes,
            "parcours": list(session.parcours.all()),
        }
    else:
        initial = {"parcours": list(waiting)}
    form = CommissionSessionForm(request.POST or None, waiting=waiting, initial=initial)
    if request.method == "POST" and form.is_valid():
        session = services.prepare_session(plie=request.plie, **form.cleaned_data, by=request.user, session=session)
        messages.success(
            request, f"Séance du {session.date:%d/%m/%Y} enregistrée avec {session.parcours.count()} dossier(s)."
        )
        return redirect(session)
    return render(request, "agenda/session_form.html", {"form": form, "session": session})


def _session_rows(session, data=None):
    parcours = list(
        session.parcours.select_related("participant", "participant__commune")
        .prefetch_related(Prefetch("decisions", to_attr="all_decisions"))
        .order_by("participant__last_name", "participant__first_name")
    )
    rows = []
    for item in parcours:
        decision = next((d for d in item.all_decisions if d.date == session.date), None)
        form = None
        if decision is None and item.status in WAITING_FOR_COMMISSION:
            form = DecisionForm(data, prefix=f"p{item.pk}")
        rows.append({"parcours": item, "decision": decision, "form": form})
    return rows


@require_http_methods(["GET", "POST"])
def session_detail(request, pk):
    """The session's files, and the decisions for several files at once."""
    session = _session(request, pk)
    require_editor(request.user, session.plie)
    rows = _session_rows(session, request.POST if request.method == "POST" else None)
    if request.method == "POST":
        forms = [row for row in rows if row["form"] is not None]
        if all(row["form"].is_valid() for row in forms):
            decisions = [
                (row["parcours"], row["form"].cleaned_data["outcome"], row["form"].cleaned_data["reason"])
                for row in forms
                if row["form"].cleaned_data["outcome"]
            ]
            if not decisions:
                messages.error(request, "Aucune décision choisie.")
            else:
                try:
                    recorded = services.record_session_decisions(session=session, decisions=decisions, by=request.user)
                except ValidationError as error:
                    messages.error(request, " ".join(error.messages))
                else:
                    messages.success(
                        request,
                        f"{len(recorded)} décision(s) enregistrée(s) pour la séance du {session.date:%d/%m/%Y}.",
                    )
                    return redirect(session)
    journal_list(request, "commission", len(rows))
    return render(
        request,
        "agenda/session_detail.html",
        {
            "session": session,
            "rows": rows,
            "undecided": any(row["form"] for row in rows),
            "today": timezone.localdate(),
        },
    )


def session_minutes(request, pk):
    """The minutes as PDF: members, files presented and their decisions."""
    from . import minutes

    session = _session(request, pk)
    require_editor(request.user, session.plie)
    pdf = minutes.render_minutes_pdf(session, _session_rows(session), by=request.user)
    record_access(user=request.user, plie=session.plie, what="procès-verbal", detail=str(session))
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="commission-{session.date:%Y-%m-%d}.pdf"'
    return response
