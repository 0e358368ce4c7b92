"""An entretien's own page: its whole compte rendu, its corrections (each kept in its history with the previous
text), and its signed attendance sheet."""

from django import forms
from django.contrib import messages
from django.db import transaction
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from plie.access import get_for_user
from plie.audit import save_as
from plie.uploads import check_upload

from .models import Document, DocumentKind, Entretien, Modality, record_access


class EntretienCorrectionForm(forms.ModelForm):
    reason = forms.CharField(
        label="Motif de la correction",
        max_length=100,
        help_text="Gardé dans l’historique avec le texte d’avant (faute de frappe, erreur de date, demande de la personne…).",
    )

    class Meta:
        model = Entretien
        fields = ["modality", "duration", "summary", "signed"]
        widgets = {"summary": forms.Textarea(attrs={"rows": 10})}


class SheetForm(forms.Form):
    sheet = forms.FileField(label="Feuille d’émargement signée (PDF, JPEG ou PNG)")

    def clean_sheet(self):
        return check_upload(self.cleaned_data["sheet"])


@transaction.atomic
def correct_entretien(*, entretien, changes, reason, by):
    """A correction: the history keeps the previous version, its author and the reason."""
    for field, value in changes.items():
        setattr(entretien, field, value)
    entretien._change_reason = reason
    return save_as(entretien, by)


@transaction.atomic
def attach_sheet(*, entretien, uploaded, by):
    """The signed attendance sheet, stored privately like every justificatif; the entretien is then marked signed."""
    document = Document.objects.create(
        participant=entretien.participant,
        parcours=entretien.parcours,
        entretien=entretien,
        kind=DocumentKind.ATTENDANCE,
        file=uploaded,
        original_name=uploaded.name[:200],
        content_type=uploaded.sniffed_type,
        size=uploaded.size,
        uploaded_by=by,
    )
    if not entretien.signed:
        entretien.signed = True
        entretien._change_reason = "Feuille d’émargement signée déposée"
        save_as(entretien, by)
    return document


def _entretien(request, pk):
    return get_for_user(
        Entretien.objects.select_related("participant__plie", "referent", "created_by", "parcours"), request.user, pk=pk
    )


@require_http_methods(["GET", "POST"])
def entretien_detail(request, pk):
    entretien = _entretien(request, pk)
    sheet_form = SheetForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and sheet_form.is_valid():
        attach_sheet(entretien=entretien, uploaded=sheet_form.cleaned_data["sheet"], by=request.user)
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
        correct_entretien(entretien=entretien, changes=changes, reason=form.cleaned_data["reason"], by=request.user)
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
