"""The stages of a parcours before the exit: prescription, reception, commission, integration with a referent, reassignment, employment."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from operations.models import ReferentPeriod
from plie.access import require_editor

from .. import services
from ..forms import (
    AssignmentForm,
    CommissionForm,
    EmploymentForm,
    IntegrationForm,
    PrescriptionForm,
    ReceptionForm,
)
from ..models import (
    DocumentKind,
    Parcours,
)
from .common import _attach, _parcours, _participant, _team_parcours, _workflow_page, referent_loads


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
