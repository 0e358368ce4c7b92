"""What the participants pages share: the access helpers of a participant and a parcours, the attachment of an upload, the journal of a list read, the page of a workflow stage."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count
from django.shortcuts import redirect, render

from operations.models import Referent, ReferentPeriod, Target, TargetKind, TargetScope
from plie.access import get_for_user, require_editor
from plie.versions import stale_edit, version_of

from ..models import (
    OPEN_STATUSES,
    Document,
    Parcours,
    Participant,
    record_access,
)


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


def _team_parcours(request, pk):
    parcours = _parcours(request, pk)
    require_editor(request.user, parcours.participant.plie)
    return parcours


def referent_loads(plie, day):
    """Each referent's open parcours today against the fiche's file active target for their ETP (by default the
    PLIE's `default_file_active_per_etp` × ETP)."""
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
            period.operation_id, plie.default_file_active_per_etp
        )
    return {
        referent: {"load": loads.get(referent.pk, 0), "target": capacity.get(referent.pk)}
        for referent in Referent.objects.filter(plie=plie).select_related("structure")
    }
