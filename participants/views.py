import contextlib
import datetime

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count, Max, Q
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from operations.models import Operation, Referent, ReferentPeriod, Target, TargetKind, TargetScope
from plie.access import can_edit, get_for_user, get_or_404, require_admin, require_editor, role_in
from plie.models import Role
from plie.versions import stale_edit, version_of

from . import services
from .alerts import portfolio, with_alerts
from .erasure import erase_participant, erasure_blocker, lift_restriction, restrict_participant, set_legal_hold
from .forms import (
    AssignmentForm,
    CommissionForm,
    DocumentForm,
    EmploymentForm,
    EntretienForm,
    EntrySituationForm,
    ExitForm,
    IntegrationForm,
    ParticipantForm,
    PrescriptionForm,
    ReceptionForm,
    WithdrawalForm,
    exit_situation_forms,
)
from .models import (
    OPEN_STATUSES,
    CommissionDecision,
    Document,
    DocumentKind,
    Entretien,
    Parcours,
    Participant,
    Participation,
    ReferentAssignment,
    Status,
    record_access,
)
from .participations import correct_entry_situation, record_exit_situations
from .subject_access import participant_archive

SEARCH_LIMIT = 50


def _participant(request, pk):
    return get_for_user(Participant.objects.select_related("plie", "commune"), request.user, pk=pk)


def _parcours(request, pk):
    return get_for_user(Parcours.objects.select_related("participant__plie", "operation"), request.user, pk=pk)


def _attach(uploaded, *, participant, kind, by, parcours=None, entretien=None):
    if uploaded:
        Document.objects.create(
            participant=participant,
            parcours=parcours,
            entretien=entretien,
            kind=kind,
            file=uploaded,
            original_name=uploaded.name[:200],
            content_type=uploaded.sniffed_type,
            size=uploaded.size,
            uploaded_by=by,
        )


def _record_list(request, what, shown):
    record_access(user=request.user, what=what, plie=request.plie, detail=f"{request.path} : {shown} affiché(s)")


@require_http_methods(["GET", "POST"])
def participant_list(request):
    """The PLIE-wide search of the animation team; a referent searches their own portfolio. The words searched (names,
    birth dates) come in a POST: they never land in a URL, a browser history or an access log."""
    if request.plie is None or request.role == Role.COPIL:
        raise Http404
    query = request.POST.get("q", "").strip()
    participants = Participant.objects.for_user(request.user).filter(plie=request.plie).select_related("commune")
    if query:
        by_name = Q()
        for word in query.split():
            by_name &= Q(last_name__icontains=word) | Q(first_name__icontains=word)
        condition = by_name | Q(external_id__iexact=query)
        with contextlib.suppress(ValueError):
            condition |= Q(birth_date=datetime.datetime.strptime(query, "%d/%m/%Y").date())
        participants = participants.filter(condition)
    participants = participants.annotate(last_parcours=Max("parcours__prescription_date")).order_by(
        "last_name", "first_name"
    )
    results = list(participants[: SEARCH_LIMIT + 1])
    _record_list(request, "recherche" if query else "liste", len(results[:SEARCH_LIMIT]))
    statuses = dict(
        Parcours.objects.filter(participant__in=results[:SEARCH_LIMIT])
        .order_by("participant_id", "prescription_date")
        .values_list("participant_id", "status")
    )
    return render(
        request,
        "participants/participant_list.html",
        {
            "query": query,
            "participants": results[:SEARCH_LIMIT],
            "truncated": len(results) > SEARCH_LIMIT,
            "statuses": {pk: Status(status).label for pk, status in statuses.items()},
            "can_create": can_edit(request.user, request.plie),
        },
    )


@require_http_methods(["GET", "POST"])
def participant_create(request):
    require_editor(request.user, request.plie)
    form = ParticipantForm(request.POST or None, plie=request.plie, user=request.user)
    if request.method == "POST" and form.is_valid():
        participant = form.save()
        messages.success(request, f"Le dossier de {participant.first_name} {participant.last_name} est créé.")
        return redirect(participant)
    return render(request, "participants/participant_form.html", {"form": form, "title": "Nouveau participant"})


@require_http_methods(["GET", "POST"])
def participant_edit(request, pk):
    participant = _participant(request, pk)
    if request.method == "GET":
        record_access(participant=participant, user=request.user, what="modification")
    form = ParticipantForm(request.POST or None, instance=participant, plie=participant.plie, user=request.user)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Le dossier est enregistré.")
        return redirect(participant)
    title = f"Modifier le dossier de {participant.first_name} {participant.last_name}"
    return render(
        request, "participants/participant_form.html", {"form": form, "title": title, "participant": participant}
    )


def participant_detail(request, pk):
    participant = _participant(request, pk)
    record_access(participant=participant, user=request.user, what="fiche")
    parcours = list(
        participant.parcours.select_related("operation", "exit_reason", "exit_validated_by").prefetch_related(
            "decisions", "assignments__referent", "steps__step_type"
        )
    )
    return render(
        request,
        "participants/participant_detail.html",
        {
            "participant": participant,
            "parcours_list": parcours,
            "entretiens": participant.entretiens.select_related("referent").prefetch_related("documents")[:100],
            "documents": participant.documents.select_related("uploaded_by"),
            "is_team": can_edit(request.user, participant.plie),
            "today": timezone.localdate(),
        },
    )


def participant_history(request, pk):
    participant = _participant(request, pk)
    require_editor(request.user, participant.plie)
    changes = []
    for label, model, records in (
        ("Dossier", Participant, participant.history.all()),
        ("Parcours", Parcours, Parcours.history.filter(participant_id=participant.pk)),
        (
            "Décision de commission",
            CommissionDecision,
            CommissionDecision.history.filter(parcours__participant_id=participant.pk),
        ),
        ("Affectation", ReferentAssignment, ReferentAssignment.history.filter(parcours__participant_id=participant.pk)),
        ("Entretien", Entretien, Entretien.history.filter(participant_id=participant.pk)),
        ("Justificatif", Document, Document.history.filter(participant_id=participant.pk)),
    ):
        previous = {}
        for record in reversed(list(records.select_related("history_user"))):
            before = previous.get(record.id)
            changed = (
                [
                    str(model._meta.get_field(change.field).verbose_name)
                    for change in record.diff_against(before).changes
                ]
                if before
                else []
            )
            changes.append({"what": label, "record": record, "changed": changed})
            previous[record.id] = record
    changes.sort(key=lambda c: c["record"].history_date, reverse=True)
    accesses = participant.accesses.select_related("user")[:100]
    return render(
        request,
        "participants/participant_history.html",
        {
            "participant": participant,
            "changes": changes,
            "accesses": accesses,
            "can_export": role_in(request.user, participant.plie) == Role.ADMIN,
        },
    )


def _workflow_page(request, parcours, form, title, action, success, **context):
    """Bind the form, call the write function of the parcours, say what happened; a refusal keeps the input, and so
    does a parcours someone else changed since the page was shown."""
    refusal, version = "", version_of(parcours)
    if request.method == "POST":
        refusal, version = stale_edit(parcours, request.POST.get("version"), "ce parcours")
    if request.method == "POST" and refusal:
        form.is_valid()
        form.add_error(None, refusal)
    elif request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                action(form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, success)
            return redirect(parcours.participant)
    return render(
        request,
        "participants/action_form.html",
        {
            "form": form,
            "title": title,
            "participant": parcours.participant,
            "parcours": parcours,
            "version": version,
            **context,
        },
    )


@require_http_methods(["GET", "POST"])
def prescription_create(request, pk):
    participant = _participant(request, pk)
    require_editor(request.user, participant.plie)
    form = PrescriptionForm(request.POST or None, request.FILES or None)

    def action(data):
        parcours = services.prescribe(
            participant=participant,
            prescriber=data["prescriber"],
            prescriber_detail=data["prescriber_detail"],
            prescription_date=data["prescription_date"],
            by=request.user,
        )
        _attach(
            data["prescription_form"],
            participant=participant,
            parcours=parcours,
            kind=DocumentKind.PRESCRIPTION,
            by=request.user,
        )

    placeholder = Parcours(participant=participant)
    return _workflow_page(
        request, placeholder, form, "Nouvelle prescription", action, "La prescription est enregistrée."
    )


def _team_parcours(request, pk):
    parcours = _parcours(request, pk)
    require_editor(request.user, parcours.participant.plie)
    return parcours


@require_http_methods(["GET", "POST"])
def parcours_reception(request, pk):
    parcours = _team_parcours(request, pk)
    form = ReceptionForm(request.POST or None)
    return _workflow_page(
        request,
        parcours,
        form,
        "Accueil",
        lambda d: services.record_reception(parcours=parcours, date=d["date"], kind=d["kind"], by=request.user),
        "L’accueil est enregistré.",
    )


@require_http_methods(["GET", "POST"])
def parcours_commission(request, pk):
    parcours = _team_parcours(request, pk)
    form = CommissionForm(request.POST or None)
    return _workflow_page(
        request,
        parcours,
        form,
        "Décision de la commission d’intégration",
        lambda d: services.decide_admission(
            parcours=parcours, date=d["date"], outcome=d["outcome"], reason=d["reason"], by=request.user
        ),
        "La décision de la commission est enregistrée.",
    )


def referent_loads(plie, day):
    """Each referent's open parcours today against the fiche's file active target for their ETP (70 × ETP by default)."""
    loads = dict(
        Parcours.objects.filter(
            status__in=OPEN_STATUSES, assignments__end__isnull=True, assignments__referent__plie=plie
        )
        .values_list("assignments__referent")
        .annotate(n=Count("pk", distinct=True))
    )
    targets = {
        t.operation_id: t.value_min
        for t in Target.objects.filter(operation__plie=plie, kind=TargetKind.FILE_ACTIVE, scope=TargetScope.PER_ETP)
    }
    periods = ReferentPeriod.objects.filter(referent__plie=plie).overlapping(day, day)
    capacity = {}
    for period in periods:
        capacity[period.referent_id] = capacity.get(period.referent_id, 0) + period.etp * targets.get(
            period.operation_id, 70
        )
    return {
        referent: {"load": loads.get(referent.pk, 0), "target": capacity.get(referent.pk)}
        for referent in Referent.objects.filter(plie=plie).select_related("structure")
    }


def _suggested_referent(participant, loads):
    """The least loaded referent working on a zone that covers the person's commune."""
    if participant.commune is None:
        return None
    candidates = set(
        ReferentPeriod.objects.filter(zone__plie=participant.plie, zone__communes=participant.commune).values_list(
            "referent", flat=True
        )
    )
    ranked = sorted(
        (load["load"], referent.last_name, referent) for referent, load in loads.items() if referent.pk in candidates
    )
    return ranked[0][2] if ranked else None


@require_http_methods(["GET", "POST"])
def parcours_integration(request, pk):
    parcours = _team_parcours(request, pk)
    participant = parcours.participant
    loads = referent_loads(participant.plie, timezone.localdate())
    suggested = _suggested_referent(participant, loads)
    form = IntegrationForm(
        request.POST or None, request.FILES or None, plie=participant.plie, initial={"referent": suggested}
    )

    def action(data):
        services.integrate(
            parcours=parcours,
            entry_date=data["entry_date"],
            operation=data["operation"],
            referent=data["referent"],
            by=request.user,
        )
        _attach(
            data["signed_contract"],
            participant=participant,
            parcours=parcours,
            kind=DocumentKind.CONTRACT,
            by=request.user,
        )

    return _workflow_page(
        request,
        parcours,
        form,
        "Intégration : contrat d’engagement",
        action,
        "Le participant est intégré au PLIE.",
        loads=loads,
        suggested=suggested,
    )


@require_http_methods(["GET", "POST"])
def parcours_assignment(request, pk):
    parcours = _team_parcours(request, pk)
    plie = parcours.participant.plie
    loads = referent_loads(plie, timezone.localdate())
    suggested = _suggested_referent(parcours.participant, loads)
    form = AssignmentForm(request.POST or None, plie=plie, initial={"on": timezone.localdate(), "referent": suggested})
    if request.method == "POST" and form.is_valid():
        try:
            services.assign_referent(
                parcours=parcours,
                referent=form.cleaned_data["referent"],
                on=form.cleaned_data["on"],
                reason=form.cleaned_data["reason"],
                by=request.user,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, f"Le parcours est confié à {form.cleaned_data['referent']}.")
            return redirect(parcours.participant)
    return render(
        request,
        "participants/assignment_form.html",
        {
            "form": form,
            "participant": parcours.participant,
            "parcours": parcours,
            "loads": loads,
            "suggested": suggested,
            "history": parcours.assignments.select_related("referent", "assigned_by"),
        },
    )


@require_http_methods(["GET", "POST"])
def parcours_employment(request, pk):
    parcours = _parcours(request, pk)
    form = EmploymentForm(request.POST or None)
    return _workflow_page(
        request,
        parcours,
        form,
        "Suivi dans l’emploi",
        lambda d: services.start_employment_follow_up(
            parcours=parcours, job_start=d["job_start"], contract_type=d["contract_type"], by=request.user
        ),
        "Le suivi de 6 mois dans l’emploi commence.",
    )


@require_http_methods(["GET", "POST"])
def parcours_exit(request, pk):
    parcours = _parcours(request, pk)
    participant = parcours.participant
    form = ExitForm(request.POST or None, request.FILES or None, plie=participant.plie)

    def action(data):
        services.record_exit(parcours=parcours, exit_date=data["exit_date"], reason=data["reason"], by=request.user)
        situation = {field: data[field] for field in Participation.EXIT_FIELDS}
        if any(situation.values()):  # the participations ending that day now exist: the referent confirms
            left = Participation.objects.filter(participant=participant, last_day=data["exit_date"])
            record_exit_situations(answers=dict.fromkeys(left, situation), by=request.user)
        _attach(
            data["proof"], participant=participant, parcours=parcours, kind=DocumentKind.CERTIFICATE, by=request.user
        )

    return _workflow_page(request, parcours, form, "Sortie du PLIE", action, "La sortie est enregistrée.")


@require_POST
def parcours_validate_exit(request, pk):
    parcours = _team_parcours(request, pk)
    try:
        services.validate_exit(parcours=parcours, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, "La sortie est validée.")
    next_url = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = parcours.participant.get_absolute_url()
    return redirect(next_url)


@require_http_methods(["GET", "POST"])
def entretien_create(request, pk):
    participant = _participant(request, pk)
    initial = {"date": timezone.localdate()}
    for field, param in (("date", "date"), ("modality", "modalite")):  # from an appointment marked as held
        if request.GET.get(param):
            initial[field] = request.GET[param]
    form = EntretienForm(request.POST or None, request.FILES or None, participant=participant, initial=initial)
    if request.method == "POST" and form.is_valid():
        entretien = form.save(commit=False)
        entretien.participant, entretien.created_by = participant, request.user
        entretien.referent = Referent.objects.filter(
            plie=participant.plie, user=request.user
        ).first() or entretien.parcours.referent_on(entretien.date)
        entretien.save()
        _attach(
            form.cleaned_data["sheet"],
            participant=participant,
            parcours=entretien.parcours,
            entretien=entretien,
            kind=DocumentKind.ATTENDANCE,
            by=request.user,
        )
        messages.success(request, f"L’entretien du {entretien.date:%d/%m/%Y} est enregistré.")
        if entretien.next_appointment:
            # The next rendez-vous becomes an appointment of the agenda: its hour and place are asked for now.
            messages.info(
                request, "Précisez l’heure et le lieu du prochain rendez-vous : la personne en sera rappelée."
            )
            return redirect(
                f"{reverse('appointment_create')}?participant={participant.pk}"
                f"&date={entretien.next_appointment:%Y-%m-%d}&modalite={entretien.modality}"
            )
        return redirect(participant)
    return render(
        request,
        "participants/action_form.html",
        {
            "form": form,
            "title": "Nouvel entretien",
            "participant": participant,
            "cnil_reminder": True,
        },
    )


@require_http_methods(["GET", "POST"])
def document_create(request, pk):
    participant = _participant(request, pk)
    form = DocumentForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        current = participant.parcours.order_by("-prescription_date").first()
        _attach(
            form.cleaned_data["file"],
            participant=participant,
            parcours=current,
            kind=form.cleaned_data["kind"],
            by=request.user,
        )
        messages.success(request, "Le justificatif est déposé.")
        return redirect(participant)
    return render(
        request,
        "participants/action_form.html",
        {
            "form": form,
            "title": "Déposer un justificatif",
            "participant": participant,
        },
    )


def document_download(request, pk):
    document = get_for_user(Document.objects.select_related("participant"), request.user, pk=pk)
    record_access(participant=document.participant, user=request.user, what="justificatif")
    return FileResponse(
        document.file.open("rb"),
        as_attachment=True,
        filename=document.original_name,
        content_type=document.content_type,
    )


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
    _record_list(request, "liste", len(waiting))
    return render(request, "participants/commission_agenda.html", {"waiting": waiting, "decisions": decisions})


def exits_to_validate(request):
    require_editor(request.user, request.plie)
    today = timezone.localdate()
    pending = list(
        Parcours.objects.in_use()
        .filter(participant__plie=request.plie, status=Status.EXIT_PENDING)
        .select_related("participant", "exit_reason")
        .prefetch_related("assignments__referent")
        .order_by("exit_date")
    )
    _record_list(request, "liste", len(pending))
    return render(request, "participants/exits_to_validate.html", {"pending": pending, "today": today})


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


def _participant_for_admin(request, pk, refusal):
    """A person in use or in the archive; 403 for the other roles of the PLIE, who may see the person but not act."""
    visible = Participant.objects.for_user(request.user) | Participant.objects.archive_for_user(request.user)
    participant = get_or_404(visible.select_related("plie", "commune"), pk=pk)
    require_admin(request.user, participant.plie, refusal)
    return participant


def participant_export(request, pk):
    """Right of access: the PLIE admin downloads everything held about the person, archived or not."""
    participant = _participant_for_admin(request, pk, "Seul l’administrateur du PLIE exporte un dossier complet.")
    record_access(participant=participant, user=request.user, what="export")
    response = HttpResponse(participant_archive(participant), content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="dossier-{participant.pk}.zip"'
    return response


def archive_list(request):
    """The archive of the PLIE: people without contact for two years, or whose processing is restricted."""
    if request.plie is None:
        raise Http404
    require_admin(request.user, request.plie, "Seul l’administrateur du PLIE consulte les archives.")
    people = list(
        Participant.objects.archive_for_user(request.user)
        .filter(plie=request.plie)
        .order_by("last_name", "first_name", "pk")
    )
    _record_list(request, "archives", len(people))
    return render(request, "participants/archive_list.html", {"participants": people})


def archive_detail(request, pk):
    """Read-only: an archived file is kept for the FSE+ audit, not worked on."""
    participant = get_or_404(
        Participant.objects.archive_for_user(request.user).select_related("plie", "commune"), pk=pk
    )
    record_access(participant=participant, user=request.user, what="archive")
    parcours = participant.parcours.select_related("operation", "exit_reason").prefetch_related(
        "decisions", "assignments__referent", "steps__step_type"
    )
    return render(
        request,
        "participants/archive_detail.html",
        {"participant": participant, "parcours_list": parcours, "documents": participant.documents.all()},
    )


def _withdrawal(
    request, pk, *, action, title, explanation, success, blocker=None, then=lambda participant: "archive_list"
):
    participant = _participant_for_admin(
        request, pk, "Seul l’administrateur du PLIE efface un dossier ou en limite le traitement."
    )
    form = WithdrawalForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            action(participant=participant, reason=form.cleaned_data["reason"], by=request.user)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, success)
            return redirect(then(participant))
    return render(
        request,
        "participants/withdrawal_form.html",
        {
            "participant": participant,
            "form": form,
            "title": title,
            "explanation": explanation,
            "blocker": blocker(participant) if blocker else None,
        },
    )


@require_POST
def participant_legal_hold(request, pk):
    participant = _participant_for_admin(request, pk, "Seul l’administrateur du PLIE gèle un dossier.")
    on = request.POST.get("on") == "1"
    set_legal_hold(participant=participant, on=on, by=request.user)
    messages.success(request, "Le dossier est gelé." if on else "Le gel du dossier est levé.")
    return redirect(reverse("archive_detail", args=[participant.pk]) if participant.is_withdrawn else participant)


@require_http_methods(["GET", "POST"])
def participant_erase(request, pk):
    return _withdrawal(
        request,
        pk,
        action=erase_participant,
        title="Effacer le dossier (droit à l’effacement)",
        explanation=(
            "Une personne qui n’est jamais entrée dans une opération cofinancée est supprimée avec tout son dossier. "
            "Une personne dont un parcours est cofinancé par le FSE+ est anonymisée, et seulement après la date "
            "limite d’archivage de chaque fiche concernée. L’effacement est inscrit au journal, qui l’applique de "
            "nouveau après une restauration de sauvegarde."
        ),
        success="Le dossier est effacé ; l’effacement est inscrit au journal.",
        blocker=erasure_blocker,
    )


@require_http_methods(["GET", "POST"])
def participant_restrict(request, pk):
    return _withdrawal(
        request,
        pk,
        action=restrict_participant,
        title="Limiter le traitement du dossier",
        explanation=(
            "Les données sont conservées mais ne sont plus traitées : le dossier disparaît des listes, portefeuilles "
            "et recherches, et seul l’administrateur du PLIE peut le consulter, dans les archives. Les chiffres des "
            "bilans déjà dus au financeur restent comptés. La limitation est inscrite au journal."
        ),
        success="Le traitement du dossier est limité ; la limitation est inscrite au journal.",
    )


@require_http_methods(["GET", "POST"])
def participant_lift_restriction(request, pk):
    return _withdrawal(
        request,
        pk,
        action=lift_restriction,
        title="Lever la limitation du traitement",
        explanation=(
            "La personne doit en être informée avant la levée (art. 18.3 du RGPD). Le dossier revient dans les listes, "
            "portefeuilles et recherches de l’équipe, sauf s’il est par ailleurs archivé. La levée est inscrite au "
            "journal : une restauration de sauvegarde ne limitera pas de nouveau ce dossier."
        ),
        success="La limitation est levée ; la levée est inscrite au journal.",
        then=lambda participant: (
            participant if not participant.archived_at else reverse("archive_detail", args=[participant.pk])
        ),
    )


def operation_participations(request, operation_pk):
    """The fiche's participations (« un participant = une opération »): the nominative list of the FSE+ and the
    one place where the team records the exit situation of everyone who left the operation, carried-over people
    leaving at the fiche's end included. Team only: it names people."""
    operation = get_for_user(Operation.objects.select_related("plie"), request.user, pk=operation_pk)
    require_editor(request.user, operation.plie)
    today = timezone.localdate()
    only_missing = request.GET.get("a_completer") == "1"
    rows = (
        Participation.objects.filter(operation=operation, participant__in=Participant.objects.in_use())
        .select_related("participant", "referent")
        .prefetch_related("participant__parcours__exit_reason")
        .order_by("participant__last_name", "participant__first_name", "pk")
    )
    if only_missing:
        rows = rows.left_before(today).filter(exit_recorded_at__isnull=True)
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    forms = exit_situation_forms(page.object_list, request.POST if request.method == "POST" else None, today)
    if request.method == "POST":
        if all(form.is_valid() for form in forms.values()):
            # A suggestion left as it is counts as confirmed: the team saves the page it has read.
            answers = {
                form.participation: form.cleaned_data
                for form in forms.values()
                if form.has_changed() or (not form.participation.exit_recorded and any(form.cleaned_data.values()))
            }
            record_exit_situations(answers=answers, by=request.user)
            messages.success(request, f"{len(answers)} situation(s) de sortie enregistrée(s).")
            return redirect(request.get_full_path())
        messages.error(request, "Rien n’a été enregistré : corrigez les lignes signalées.")
    record_access(
        user=request.user, what="liste", plie=operation.plie, detail=f"{request.path} : {len(page)} affiché(s)"
    )
    context = {
        "operation": operation,
        "page": page,
        "rows": [(participation, forms.get(participation.pk)) for participation in page.object_list],
        "only_missing": only_missing,
        "missing_count": Participation.objects.filter(operation=operation, exit_recorded_at__isnull=True)
        .left_before(today)
        .count(),
        "today": today,
    }
    return render(request, "participants/operation_participations.html", context)


@require_http_methods(["GET", "POST"])
def participation_correct(request, pk):
    """The team corrects the entry situation frozen on a participation; the correction is kept and audited."""
    participation = get_for_user(
        Participation.objects.select_related("participant__plie", "operation"), request.user, pk=pk
    )
    require_editor(request.user, participation.participant.plie)
    form = EntrySituationForm(request.POST or None, instance=Participation.objects.get(pk=participation.pk))
    if request.method == "POST" and form.is_valid():
        values = {name: form.cleaned_data[name] for name in EntrySituationForm.Meta.fields}
        correct_entry_situation(
            participation=participation, values=values, reason=form.cleaned_data["reason"], by=request.user
        )
        messages.success(request, f"La situation d’entrée de {participation.participant} est corrigée.")
        return redirect("operation_participations", participation.operation_id)
    return render(request, "participants/participation_form.html", {"form": form, "participation": participation})
