import csv
import io

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_http_methods

from operations.models import Operation
from plie.access import can_edit, get_for_edit, get_for_user, require_editor
from plie.spreadsheet import safe_row
from plie.text import download_name

from . import services
from .checks import application_checks, cap_for, granted_total, operation_checks
from .finance import financial_bilan
from .forms import ApplicationForm, DecisionForm, ExpenseForm, ProposedReferentFormSet, RegulationForm
from .models import Application, Expense, Outcome, RegulationMeeting


def _operation(request, pk):
    return get_for_user(Operation.objects.select_related("plie"), request.user, pk=pk)


def funding(request, pk):
    """The fiche's applications, decisions and money: ceiling, granted, remaining, per structure, with the checks."""
    operation = _operation(request, pk)
    applications = list(
        Application.objects.filter(operation=operation).select_related("structure").prefetch_related("zones_granted")
    )
    granted = granted_total(operation)
    meetings = RegulationMeeting.objects.filter(operation=operation).select_related("structure")
    return render(
        request,
        "applications/funding.html",
        {
            "operation": operation,
            "applications": applications,
            "granted": granted,
            "remaining": operation.fse_ceiling - granted if operation.fse_ceiling is not None else None,
            "checks": operation_checks(operation),
            "meetings": meetings,
            "can_edit": can_edit(request.user, operation.plie),
        },
    )


def _application_page(request, application, title):
    form = ApplicationForm(request.POST or None, instance=application, operation=application.operation)
    referents = ProposedReferentFormSet(
        request.POST or None, instance=application, prefix="referents", form_kwargs={"plie": application.operation.plie}
    )
    if request.method == "POST" and form.is_valid() and referents.is_valid():
        with transaction.atomic():
            saved = form.save()
            referents.instance = saved
            referents.save()
        messages.success(request, f"La candidature de {saved.structure} est enregistrée.")
        return redirect(saved)
    return render(
        request,
        "applications/application_form.html",
        {
            "form": form,
            "referents": referents,
            "title": title,
            "operation": application.operation,
        },
    )


@require_http_methods(["GET", "POST"])
def application_create(request, pk):
    operation = _operation(request, pk)
    require_editor(request.user, operation.plie)
    return _application_page(
        request, Application(operation=operation), f"Nouvelle candidature à la fiche {operation.code}"
    )


@require_http_methods(["GET", "POST"])
def application_edit(request, pk):
    application = get_for_edit(
        Application.objects.select_related("operation__plie"), request.user, plie_of=lambda a: a.operation.plie, pk=pk
    )
    if application.outcome != Outcome.SUBMITTED:
        messages.error(request, "Une candidature décidée ne se modifie plus.")
        return redirect(application)
    return _application_page(request, application, f"Modifier la candidature de {application.structure}")


@require_http_methods(["GET", "POST"])
def application_detail(request, pk):
    application = get_for_user(
        Application.objects.select_related("operation__plie", "structure", "decided_by"), request.user, pk=pk
    )
    operation = application.operation
    editable = can_edit(request.user, operation.plie)
    form = DecisionForm(
        request.POST or None,
        application=application,
        initial={
            "etp_granted": application.etp_proposed,
            "fse_granted": application.fse_requested,
            "zones": application.zones_requested.all(),
        },
    )
    if request.method == "POST":
        require_editor(request.user, operation.plie)
        if application.outcome != Outcome.SUBMITTED:  # a second decision sent from a page left open
            messages.error(request, "Cette candidature a déjà fait l’objet d’une décision.")
            return redirect(application)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.decide_application(
                    application=application,
                    outcome=data["outcome"],
                    decided_on=data["decided_on"],
                    by=request.user,
                    etp_granted=data["etp_granted"],
                    fse_granted=data["fse_granted"],
                    zones=list(data["zones"]),
                    notes=data["notes"],
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, "La décision du comité de pilotage est enregistrée.")
                return redirect(application)
    return render(
        request,
        "applications/application_detail.html",
        {
            "application": application,
            "operation": operation,
            "checks": application_checks(application),
            "cap": cap_for(operation, application.structure.kind),
            "referents": application.referents.select_related("zone"),
            "form": form if editable and application.outcome == Outcome.SUBMITTED else None,
            "can_edit": editable,
        },
    )


@require_http_methods(["GET", "POST"])
def regulation_create(request, pk):
    operation = _operation(request, pk)
    require_editor(request.user, operation.plie)
    form = RegulationForm(request.POST or None, request.FILES or None, operation=operation)
    if request.method == "POST" and form.is_valid():
        meeting = form.save(commit=False)
        meeting.created_by = request.user
        meeting.save()
        messages.success(request, "La réunion de régulation est enregistrée.")
        return redirect("funding", pk=operation.pk)
    return render(request, "applications/regulation_form.html", {"form": form, "operation": operation})


def funding_export(request, pk):
    operation = _operation(request, pk)
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer, delimiter=";")
    writer.writerow(
        [
            "Structure",
            "Nature",
            "Décision",
            "ETP proposés",
            "ETP accordés",
            "Coût éligible",
            "FSE+ demandé",
            "FSE+ accordé",
        ]
    )
    for application in Application.objects.filter(operation=operation).select_related("structure"):
        row = safe_row(
            [
                application.structure.name,
                application.structure.get_kind_display(),
                application.get_outcome_display(),
                application.etp_proposed,
                application.etp_granted,
                application.eligible_cost,
                application.fse_requested,
                application.fse_granted,
            ]
        )
        writer.writerow([*row[:3], *map(_amount, row[3:])])  # amounts formatted after: numbers stay numbers
    granted = granted_total(operation)
    writer.writerow([])
    writer.writerow(["Plafond FSE+ de la fiche", "", "", "", "", "", "", _amount(operation.fse_ceiling)])
    writer.writerow(["Total accordé", "", "", "", "", "", "", _amount(granted)])
    if operation.fse_ceiling is not None:
        writer.writerow(["Reste", "", "", "", "", "", "", _amount(operation.fse_ceiling - granted)])
    response = HttpResponse(buffer.getvalue().encode("utf-8"), content_type="text/csv; charset=utf-8")
    name = download_name("financement", operation.plie.slug, operation.code)
    response["Content-Disposition"] = content_disposition_header(True, f"{name}.csv")
    return response


def _amount(value):
    return "" if value is None else f"{value:.2f}".replace(".", ",")


@require_http_methods(["GET", "POST"])
def financial_bilan_page(request, pk):
    """The bilan financier of the fiche (no personal data: the steering committee reads it too); the team records the
    realised expenses here."""
    operation = _operation(request, pk)
    editable = can_edit(request.user, operation.plie)
    form = ExpenseForm(request.POST or None, request.FILES or None, operation=operation) if editable else None
    if request.method == "POST":
        require_editor(request.user, operation.plie)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.record_expense(
                    application=data["application"], category=data["category"], label=data["label"],
                    amount=data["amount"], paid_on=data["paid_on"], proof=data["proof"], by=request.user,
                )  # fmt: skip
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, "La dépense est enregistrée.")
                return redirect("financial_bilan", pk=operation.pk)
    expenses = Expense.objects.filter(application__operation=operation).select_related("application__structure")
    return render(
        request,
        "applications/financial_bilan.html",
        {"operation": operation, "bilan": financial_bilan(operation), "form": form, "expenses": expenses},
    )
