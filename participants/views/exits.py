"""The exit of a parcours: recorded by the referent, validated by the animation team, and the list of those awaiting validation."""

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Exists, OuterRef, Prefetch
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from plie.access import require_editor
from plie.text import of

from .. import services
from ..forms import ExitForm, ExitQueueFilterForm
from ..models import (
    Document,
    DocumentKind,
    Parcours,
    Participation,
    ReferentAssignment,
    Status,
    record_access,
)
from ..participations import record_exit_situations
from .common import _attach, _parcours, _record_list, _team_parcours, _workflow_page


@require_http_methods(["GET", "POST"])
def parcours_exit(request, pk):
    parcours = _parcours(request, pk)
    participant = parcours.participant
    form = ExitForm(request.POST or None, request.FILES or None, plie=participant.plie)

    def action(data):
        services.record_exit(
            parcours=parcours,
            exit_date=data["exit_date"],
            reason=data["reason"],
            by=request.user,
            contract_months=data["contract_months"],
            working_time=data["working_time"],
            months_in_year=data["months_in_year"],
            training_validated_on=data["training_validated_on"],
        )
        situation = {field: data[field] for field in Participation.EXIT_FIELDS}
        if any(situation.values()):  # the participations ending that day now exist: the referent confirms
            left = Participation.objects.filter(participant=participant, last_day=data["exit_date"])
            record_exit_situations(answers=dict.fromkeys(left, situation), by=request.user)
        _attach(
            data["proof"], participant=participant, parcours=parcours, kind=DocumentKind.CERTIFICATE, by=request.user
        )

    return _workflow_page(request, parcours, form, "Sortie du PLIE", action, "La sortie est enregistrée.")


EXIT_PROOFS = (DocumentKind.CERTIFICATE, DocumentKind.EMPLOYMENT_CONTRACT)


@require_http_methods(["GET", "POST"])
def parcours_validate_exit(request, pk):
    """The team checks the exit and its proof, then confirms: the page names the person and shows the proof."""
    parcours = _team_parcours(request, pk)
    participant = parcours.participant
    if request.method == "POST":
        try:
            with transaction.atomic():
                # A training exit is validated at the training's validation: its date may come with the validation.
                trained = forms.DateField(required=False).clean(request.POST.get("training_validated_on"))
                if trained:
                    services.record_training_validation(parcours=parcours, on=trained, by=request.user)
                services.validate_exit(parcours=parcours, by=request.user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect("parcours_validate_exit", parcours.pk)
        messages.success(request, f"La sortie {of(participant.first_name)} {participant.last_name} est validée.")
        return redirect("exits_to_validate")
    record_access(participant=participant, user=request.user, what="consultation")
    proofs = parcours.documents.filter(kind__in=EXIT_PROOFS).order_by("-uploaded_at")
    return render(
        request,
        "participants/exit_validation.html",
        {
            "parcours": parcours,
            "participant": participant,
            "proofs": proofs,
            "today": timezone.localdate(),
        },
    )


EXITS_PAGE_SIZE = 25


def exits_to_validate(request):
    """Exits awaiting validation, the latest first, a page at a time, with their proof and the current referent."""
    require_editor(request.user, request.plie)
    today = timezone.localdate()
    pending = (
        Parcours.objects.in_use()
        .filter(participant__plie=request.plie, status=Status.EXIT_PENDING)
        .select_related("participant", "exit_reason")
        .prefetch_related(
            Prefetch(
                "assignments",
                ReferentAssignment.objects.filter(end__isnull=True).select_related("referent"),
                to_attr="current_assignments",
            ),
            Prefetch(
                "documents",
                Document.objects.filter(kind__in=EXIT_PROOFS).only("pk", "kind", "parcours_id", "original_name"),
                to_attr="exit_proofs",
            ),
        )
    )
    form = ExitQueueFilterForm(request.GET, plie=request.plie)
    filters = form.cleaned_data if form.is_valid() else {}
    if filters.get("referent"):
        pending = pending.filter(assignments__end__isnull=True, assignments__referent=filters["referent"])
    if filters.get("start"):
        pending = pending.filter(exit_date__gte=filters["start"])
    if filters.get("end"):
        pending = pending.filter(exit_date__lte=filters["end"])
    has_proof = Exists(Document.objects.filter(parcours=OuterRef("pk"), kind__in=EXIT_PROOFS))
    if filters.get("proofs") == "complets":
        pending = pending.filter(has_proof)
    elif filters.get("proofs") == "manquants":
        pending = pending.exclude(has_proof)
    order = {
        "anciennes": ["exit_date", "pk"],
        "participant": ["participant__folded_name", "pk"],
    }.get(filters.get("sort"), ["-exit_date", "-pk"])
    page = Paginator(pending.order_by(*order), EXITS_PAGE_SIZE).get_page(request.GET.get("page"))
    _record_list(request, "liste", len(page.object_list))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "participants/exits_to_validate.html",
        {"page": page, "form": form, "today": today, "query": query.urlencode()},
    )
