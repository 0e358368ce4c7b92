"""Justificatifs: upload, and download through a checked view."""

from django.contrib import messages
from django.http import FileResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from plie.access import get_for_user

from ..forms import (
    DocumentForm,
)
from ..models import (
    Document,
    record_access,
)
from .common import _attach, _participant


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
