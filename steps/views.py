from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch, Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from participants.models import Document, DocumentKind, Parcours, Participant, ReferentAssignment, record_access
from plie.access import can_edit, get_for_user, get_or_404, require_admin, require_editor, role_in
from plie.models import Role

from . import services
from .forms import (
    AttendanceForm,
    GridRuleForm,
    GridVersionForm,
    ProofForm,
    RefusalForm,
    SessionForm,
    StepCategoryForm,
    StepForm,
    StepQueueFilterForm,
    StepTypeForm,
)
from .grid import Grid
from .models import CollectiveSession, GridVersion, Step, StepCategory, StepType, Validation

STEP_RELATED = ("parcours__participant__plie", "step_type__category__plie", "submitted_by", "decided_by")


NOMENCLATURE_REFUSAL = "Seul l’administrateur du PLIE modifie la nomenclature et la grille."


def _step(request, pk):
    return get_for_user(Step.objects.select_related(*STEP_RELATED), request.user, pk=pk)


def _save_step_form(request, form, step, success):
    if request.method == "POST" and form.is_valid():
        try:
            services.save_step(step=form.save(commit=False), by=request.user)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, success)
            return redirect(step)
    return None


@require_http_methods(["GET", "POST"])
def step_create(request, pk):
    parcours = get_for_user(Parcours.objects.select_related("participant__plie"), request.user, pk=pk)
    plie = parcours.participant.plie
    step = Step(parcours=parcours)
    form = StepForm(request.POST or None, instance=step, plie=plie, initial={"start": timezone.localdate()})
    response = _save_step_form(request, form, step, "La personne est positionnée sur l’étape.")
    return response or render(
        request,
        "steps/step_form.html",
        {
            "form": form,
            "participant": parcours.participant,
            "title": "Positionner sur une étape",
        },
    )


@require_http_methods(["GET", "POST"])
def step_edit(request, pk):
    step = _step(request, pk)
    form = StepForm(request.POST or None, instance=step, plie=step.step_type.category.plie)
    response = _save_step_form(request, form, step, "L’étape est enregistrée.")
    return response or render(
        request,
        "steps/step_form.html",
        {
            "form": form,
            "participant": step.parcours.participant,
            "title": f"Modifier l’étape {step}",
            "step": step,
        },
    )


def step_detail(request, pk):
    step = _step(request, pk)
    rule = step.grid_rule()
    missing = step.missing_proofs(rule)
    return render(
        request,
        "steps/step_detail.html",
        {
            "step": step,
            "participant": step.parcours.participant,
            "rule": rule,
            "missing": missing,
            "missing_labels": [DocumentKind(kind).label for kind in missing],
            "proofs": step.proofs.select_related("uploaded_by"),
            "proof_form": ProofForm(),
            "refusal_form": RefusalForm(),
            "can_decide": step.validation == Validation.SUBMITTED and step.can_be_validated_by(request.user),
        },
    )


@require_POST
def step_proof_add(request, pk):
    step = _step(request, pk)
    form = ProofForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.attach_proof(
                step=step, uploaded=form.cleaned_data["file"], kind=form.cleaned_data["kind"], by=request.user
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, "Le justificatif est joint à l’étape.")
    else:
        messages.error(request, " ".join(error for errors in form.errors.values() for error in errors))
    return redirect(step)


def _decision(request, step, action, success, level=messages.SUCCESS):
    try:
        action()
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.add_message(request, level, success)
    return redirect(request.POST.get("next") == "queue" and "validation_queue" or step)


@require_POST
def step_submit(request, pk):
    step = _step(request, pk)
    missing = [DocumentKind(kind).label for kind in step.missing_proofs()]
    success = "L’étape est soumise à l’équipe d’animation."
    if missing:
        success += (
            f" Attention : il manque {', '.join(missing)} ; l’équipe ne pourra la valider qu’une fois "
            f"{'ces justificatifs joints' if len(missing) > 1 else 'ce justificatif joint'}."
        )
    level = messages.WARNING if missing else messages.SUCCESS
    return _decision(request, step, lambda: services.submit_step(step=step, by=request.user), success, level)


@require_POST
def step_validate(request, pk):
    step = _step(request, pk)
    require_editor(request.user, step.step_type.category.plie)
    return _decision(request, step, lambda: services.validate_step(step=step, by=request.user), "L’étape est validée.")


@require_POST
def step_refuse(request, pk):
    step = _step(request, pk)
    require_editor(request.user, step.step_type.category.plie)
    form = RefusalForm(request.POST)
    reason = form.data.get("reason", "")
    return _decision(
        request,
        step,
        lambda: services.refuse_step(step=step, reason=reason, by=request.user),
        "L’étape est refusée : le référent peut la compléter et la soumettre à nouveau.",
    )


QUEUE_PAGE_SIZE = 25


def _queue_rows(request, form):
    """The submitted steps of the PLIE, filtered and sorted as the form says (newest first by default), with the
    proofs the grid still wants and the current referent of each."""
    steps = (
        Step.objects.filter(
            parcours__in=Parcours.objects.in_use().filter(participant__plie=request.plie),
            validation=Validation.SUBMITTED,
        )
        .select_related("parcours__participant", "step_type__category__plie", "submitted_by")
        .prefetch_related(
            Prefetch("proofs", Document.objects.only("pk", "kind")),
            Prefetch(
                "parcours__assignments",
                ReferentAssignment.objects.filter(end__isnull=True).select_related("referent__user"),
                to_attr="current_assignments",
            ),
        )
    )
    filters = form.cleaned_data if form.is_valid() else {}
    if filters.get("referent"):
        steps = steps.filter(
            parcours__assignments__end__isnull=True, parcours__assignments__referent=filters["referent"]
        )
    if filters.get("start"):
        steps = steps.filter(submitted_at__date__gte=filters["start"])
    if filters.get("end"):
        steps = steps.filter(submitted_at__date__lte=filters["end"])
    grid = Grid(request.plie)
    rows = []
    for step in steps:
        current = step.parcours.current_assignments[0] if step.parcours.current_assignments else None
        missing = step.missing_proofs(grid.rule_for(step))
        if filters.get("proofs") == "complets" and missing or filters.get("proofs") == "manquants" and not missing:
            continue
        follows = current is not None and current.referent.user_id == request.user.pk
        rows.append(
            {
                "step": step,
                "missing": [DocumentKind(kind).label for kind in missing],
                "referent": current and current.referent,
                "can_validate": not missing and not follows and step.submitted_by_id != request.user.pk,
            }
        )
    sort = filters.get("sort") or "recentes"
    participant = lambda row: (row["step"].parcours.participant.folded_name, row["step"].submitted_at)  # noqa: E731
    keys = {
        "recentes": (lambda row: row["step"].submitted_at, True),
        "anciennes": (lambda row: row["step"].submitted_at, False),
        "participant": (participant, False),
        "referent": (lambda row: (row["referent"].last_name if row["referent"] else "", participant(row)), False),
    }
    key, reverse = keys[sort]
    rows.sort(key=key, reverse=reverse)
    return rows


@require_http_methods(["GET", "POST"])
def validation_queue(request):
    """Submitted steps of the PLIE, newest first, a page at a time; those whose proofs are complete are validated
    together from here."""
    require_editor(request.user, request.plie)
    form = StepQueueFilterForm(request.GET, plie=request.plie)
    if request.method == "POST":
        return _validate_selected(request)
    rows = _queue_rows(request, form)
    page = Paginator(rows, QUEUE_PAGE_SIZE).get_page(request.GET.get("page"))
    record_access(
        user=request.user,
        what="liste",
        plie=request.plie,
        detail=f"{request.path} : {len(page.object_list)} affiché(s)",
    )
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "steps/validation_queue.html",
        {"form": form, "page": page, "total": len(rows), "query": query.urlencode()},
    )


def _validate_selected(request):
    ids = [int(pk) for pk in request.POST.getlist("steps") if pk.isdigit()]
    steps = (
        Step.objects.filter(
            pk__in=ids,
            parcours__in=Parcours.objects.in_use().filter(participant__plie=request.plie),
            validation=Validation.SUBMITTED,
        )
        .select_related(*STEP_RELATED)
        .order_by("parcours__participant__folded_name", "pk")
    )
    validated, refused = [], []
    for step in steps:
        try:
            services.validate_step(step=step, by=request.user)
        except ValidationError as error:
            refused.append(f"{step.parcours.participant} — {step.step_type.label} : {' '.join(error.messages)}")
        else:
            validated.append(step)
    if validated:
        count = len(validated)
        messages.success(
            request,
            f"{count} étape{'s' if count > 1 else ''} validée{'s' if count > 1 else ''} : "
            + ", ".join(f"{step.parcours.participant} ({step.step_type.label})" for step in validated)
            + ".",
        )
    if refused:
        messages.error(request, "Non validées : " + " ; ".join(refused))
    if not ids:
        messages.warning(request, "Cochez au moins une étape à valider.")
    back = reverse("validation_queue")
    return redirect(f"{back}?{request.GET.urlencode()}" if request.GET else back)


def nomenclature(request):
    if request.plie is None:
        raise Http404
    categories = StepCategory.objects.filter(plie=request.plie).prefetch_related(
        Prefetch("step_types", StepType.objects.order_by("label"))
    )
    return render(
        request,
        "steps/nomenclature.html",
        {
            "categories": categories,
            "is_admin": role_in(request.user, request.plie) == Role.ADMIN,
        },
    )


def _admin_form_page(request, form, title):
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "La nomenclature est enregistrée.")
        return redirect("nomenclature")
    return render(request, "steps/simple_form.html", {"form": form, "title": title})


@require_http_methods(["GET", "POST"])
def step_type_create(request):
    require_admin(request.user, request.plie, NOMENCLATURE_REFUSAL)
    return _admin_form_page(request, StepTypeForm(request.POST or None, plie=request.plie), "Nouveau type d’étape")


@require_http_methods(["GET", "POST"])
def step_type_edit(request, pk):
    step_type = get_or_404(StepType.objects.filter(category__plie__memberships__user=request.user), pk=pk)
    require_admin(request.user, step_type.category.plie, NOMENCLATURE_REFUSAL)
    form = StepTypeForm(request.POST or None, instance=step_type, plie=step_type.category.plie)
    return _admin_form_page(request, form, f"Modifier le type « {step_type} »")


@require_http_methods(["GET", "POST"])
def step_category_create(request):
    require_admin(request.user, request.plie, NOMENCLATURE_REFUSAL)
    return _admin_form_page(request, StepCategoryForm(request.POST or None, plie=request.plie), "Nouvelle catégorie")


def grid(request):
    if request.plie is None:
        raise Http404
    versions = GridVersion.objects.filter(plie=request.plie).select_related("created_by")
    current = versions.in_force_on(timezone.localdate())
    return render(
        request,
        "steps/grid.html",
        {
            "versions": versions,
            "current": current,
            "rules": current.rules.select_related("step_type__category") if current else [],
            "is_admin": role_in(request.user, request.plie) == Role.ADMIN,
        },
    )


def grid_version_detail(request, pk):
    version = get_for_user(GridVersion.objects.select_related("plie"), request.user, pk=pk)
    return render(
        request,
        "steps/grid_version.html",
        {
            "version": version,
            "rules": version.rules.select_related("step_type__category"),
        },
    )


@require_http_methods(["GET", "POST"])
def grid_version_create(request):
    """A new version starts from the one in force; past versions stay as they were approved."""
    plie = request.plie
    require_admin(request.user, plie, NOMENCLATURE_REFUSAL)
    step_types = list(StepType.objects.filter(category__plie=plie, is_active=True).select_related("category"))
    current = GridVersion.objects.filter(plie=plie).in_force_on(timezone.localdate())
    previous = {rule.step_type_id: rule for rule in current.rules.all()} if current else {}
    data = request.POST or None
    form = GridVersionForm(data)
    rule_forms = [
        (
            step_type,
            GridRuleForm(
                data,
                prefix=f"type-{step_type.pk}",
                initial={
                    "criteria": previous[step_type.pk].criteria if step_type.pk in previous else "",
                    "required_proofs": previous[step_type.pk].required_proofs if step_type.pk in previous else [],
                },
            ),
        )
        for step_type in step_types
    ]
    if data is not None and form.is_valid() and all(f.is_valid() for _, f in rule_forms):
        try:
            version = services.create_grid_version(
                plie=plie,
                approved_on=form.cleaned_data["approved_on"],
                notes=form.cleaned_data["notes"],
                rules={t: (f.cleaned_data["criteria"], f.cleaned_data["required_proofs"]) for t, f in rule_forms},
                by=request.user,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, f"La nouvelle version de la grille ({version}) est enregistrée.")
            return redirect("grid")
    return render(request, "steps/grid_version_form.html", {"form": form, "rule_forms": rule_forms, "current": current})


def _sessions_allowed(request, plie):
    if role_in(request.user, plie) not in (Role.ADMIN, Role.ANIMATION, Role.REFERENT):
        raise Http404


def session_list(request):
    if request.plie is None:
        raise Http404
    _sessions_allowed(request, request.plie)
    sessions = CollectiveSession.objects.filter(plie=request.plie).select_related("step_type")
    return render(request, "steps/session_list.html", {"sessions": sessions})


@require_http_methods(["GET", "POST"])
def session_create(request):
    if request.plie is None:
        raise Http404
    _sessions_allowed(request, request.plie)
    form = SessionForm(request.POST or None, plie=request.plie)
    if request.method == "POST" and form.is_valid():
        session = form.save(commit=False)
        session.created_by = request.user
        session.save()
        messages.success(request, "L’action collective est créée : inscrivez les personnes.")
        return redirect(session)
    return render(request, "steps/simple_form.html", {"form": form, "title": "Nouvelle action collective"})


def _session(request, pk):
    session = get_for_user(CollectiveSession.objects.select_related("plie", "step_type"), request.user, pk=pk)
    _sessions_allowed(request, session.plie)
    return session


@require_http_methods(["GET", "POST"])
def session_detail(request, pk):
    session = _session(request, pk)
    visible = Participant.objects.for_user(request.user).filter(plie=session.plie).order_by("last_name", "first_name")
    form = AttendanceForm(request.POST or None, session=session, participants=visible)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "La personne est inscrite.")
        return redirect(session)
    attendances = list(session.attendances.select_related("participant", "step"))
    record_access(
        user=request.user, what="liste", plie=session.plie, detail=f"{request.path} : {len(attendances)} inscrit(s)"
    )
    return render(
        request,
        "steps/session_detail.html",
        {
            "session": session,
            "form": form,
            "attendances": attendances,
            "visible_ids": set(visible.values_list("pk", flat=True)),
            "can_make_steps": session.step_type is not None and can_edit(request.user, session.plie),
        },
    )


@require_POST
def session_presence(request, pk):
    session = _session(request, pk)
    present = set(request.POST.getlist("present"))
    # A referent signs in only the people they follow, and prospects; nobody touches an archived or restricted file.
    visible = Participant.objects.for_user(request.user).values("pk")
    attendances = session.attendances.filter(Q(participant__isnull=True) | Q(participant__in=visible))
    for attendance in attendances:
        attendance.present = str(attendance.pk) in present
        attendance.save()
    messages.success(request, "L’émargement est enregistré.")
    return redirect(session)


@require_POST
def session_steps(request, pk):
    session = _session(request, pk)
    require_editor(request.user, session.plie)
    try:
        created = services.create_session_steps(session=session, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            f"{created} étape{'s' if created > 1 else ''} créée{'s' if created > 1 else ''} pour les participants présents.",
        )
    return redirect(session)
