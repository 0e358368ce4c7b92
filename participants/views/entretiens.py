"""The entretiens of a participant: entered, read whole, corrected (each correction kept in the history with the\nprevious text), and their signed attendance sheet."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from operations.models import Referent
from plie.access import get_for_user

from .. import services
from ..forms import EntretienCorrectionForm, EntretienForm, SheetForm
from ..models import DocumentKind, Entretien, Modality, record_access
from .common import _attach, _participant


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


def _entretien(request, pk):
    return get_for_user(
        Entretien.objects.select_related("participant__plie", "referent", "created_by", "parcours"), request.user, pk=pk
    )


@require_http_methods(["GET", "POST"])
def entretien_detail(request, pk):
    entretien = _entretien(request, pk)
    sheet_form = SheetForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and sheet_form.is_valid():
        services.attach_sheet(entretien=entretien, uploaded=sheet_form.cleaned_data["sheet"], by=request.user)
        messages.success(request, "La feuille d’émargement signée est déposée.")
        return redirect("entretien_detail", pk=entretien.pk)
    record_access(participant=entretien.participant, user=request.user, what="entretien")
    versions = list(entretien.history.select_related("history_user").order_by("-history_date", "-history_id"))
    corrections = [
        {"version": newer, "previous": older}
        for newer, older in zip(versions, versions[1:], strict=False)
        if newer.summary != older.summary or newer.history_change_reason
    ]
    return render(
        request,
        "participants/entretien_detail.html",
        {
            "entretien": entretien,
            "participant": entretien.participant,
            "sheets": entretien.documents.filter(kind=DocumentKind.ATTENDANCE).select_related("uploaded_by"),
            "corrections": corrections,
            "sheet_form": sheet_form,
            "modalities": Modality,
        },
    )


@require_http_methods(["GET", "POST"])
def entretien_edit(request, pk):
    entretien = _entretien(request, pk)
    form = EntretienCorrectionForm(request.POST or None, instance=entretien)
    if request.method == "POST" and form.is_valid():
        changes = {field: form.cleaned_data[field] for field in form.Meta.fields}
        entretien.refresh_from_db()
        services.correct_entretien(
            entretien=entretien, changes=changes, reason=form.cleaned_data["reason"], by=request.user
        )
        messages.success(request, "Le compte rendu est corrigé ; la version précédente reste dans l’historique.")
        return redirect("entretien_detail", pk=entretien.pk)
    return render(
        request,
        "participants/action_form.html",
        {
            "form": form,
            "title": f"Corriger l’entretien du {entretien.date:%d/%m/%Y}",
            "participant": entretien.participant,
            "cnil_reminder": True,
        },
    )
