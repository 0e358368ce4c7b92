"""The entretiens of a participant."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from operations.models import Referent

from ..forms import (
    EntretienForm,
)
from ..models import (
    DocumentKind,
)
from .common import _attach, _participant


@require_http_methods(["GET", "POST"])
def entretien_create(request, pk):
    participant = _participant(request, pk)
    form = EntretienForm(
        request.POST or None, request.FILES or None, participant=participant, initial={"date": timezone.localdate()}
    )
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
