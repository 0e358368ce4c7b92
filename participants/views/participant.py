"""The person: search and list, creation, edition, the file and its history."""

import datetime
from collections import defaultdict

from django.contrib import messages
from django.db.models import Max
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.text import capfirst
from django.views.decorators.http import require_http_methods

from plie.access import can_edit, require_editor, role_in
from plie.models import Role
from plie.text import of

from .. import dossier
from ..forms import (
    ParticipantForm,
)
from ..models import (
    CommissionDecision,
    Document,
    Entretien,
    Parcours,
    Participant,
    ReferentAssignment,
    Status,
    record_access,
)
from .common import _participant, _record_list

SEARCH_LIMIT = 50


@require_http_methods(["GET", "POST"])
def participant_list(request):
    """The PLIE-wide search of the animation team; a referent searches their own portfolio. The words searched (names,
    birth dates) come in a POST: they never land in a URL, a browser history or an access log."""
    if request.plie is None or request.role == Role.COPIL:
        raise Http404
    query = request.POST.get("q", "").strip()
    participants = Participant.objects.for_user(request.user).filter(plie=request.plie).select_related("commune")
    if query:
        participants = participants.search(query)
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
        messages.success(request, f"Le dossier {of(participant.first_name)} {participant.last_name} est créé.")
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
    title = f"Modifier le dossier {of(participant.first_name)} {participant.last_name}"
    return render(
        request, "participants/participant_form.html", {"form": form, "title": title, "participant": participant}
    )


def participant_detail(request, pk):
    participant = _participant(request, pk)
    record_access(participant=participant, user=request.user, what="fiche")
    parcours = list(
        participant.parcours.select_related(
            "operation", "exit_reason", "exit_validated_by", "eligibility_waiver"
        ).prefetch_related("decisions", "assignments__referent", "steps__step_type")
    )
    is_team = can_edit(request.user, participant.plie)
    for one in parcours:
        one.actions = one.offered_actions(is_team)
    return render(
        request,
        "participants/participant_detail.html",
        {
            "participant": participant,
            "parcours_list": parcours,
            "entretiens": participant.entretiens.select_related("referent").prefetch_related("documents")[:100],
            "documents": participant.documents.select_related("uploaded_by", "proof_type"),
            "is_team": is_team,
            "today": timezone.localdate(),
            "sections": dossier.sections(request, participant),
        },
    )


def participant_history(request, pk):
    participant = _participant(request, pk)
    require_editor(request.user, participant.plie)
    changes, related = [], defaultdict(set)
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
        previous, referent_of_parcours = {}, {}
        for record in reversed(list(records.select_related("history_user"))):
            before = previous.get(record.id)
            diffs = []
            if before:
                for change in record.diff_against(before).changes:
                    field = model._meta.get_field(change.field)
                    if field.editable:
                        diffs.append((field, change.old, change.new))
            elif model is ReferentAssignment and record.history_type == "+":
                # A change of referent is a new assignment: it reads as the referent before → after.
                field = model._meta.get_field("referent")
                diffs.append((field, referent_of_parcours.get(record.parcours_id), record.referent_id))
            if model is ReferentAssignment:
                referent_of_parcours[record.parcours_id] = record.referent_id
            for field, old, new in diffs:
                if field.is_relation:
                    related[field.related_model].update(v for v in (old, new) if v is not None)
            changes.append({"what": label, "record": record, "diffs": diffs})
            previous[record.id] = record
    objects = {model: model._default_manager.in_bulk(pks) for model, pks in related.items()}
    for change in changes:
        change["changed"] = [
            {
                "field": capfirst(field.verbose_name),
                "old": shown(field, old, objects),
                "new": shown(field, new, objects),
            }
            for field, old, new in change.pop("diffs")
        ]
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


def shown(field, value, objects):
    """A value as the page shows it: a person's or a referent's name, a choice's label, a French date, « — »."""
    if value in (None, ""):
        return "—"
    if field.is_relation:
        related = objects.get(field.related_model, {}).get(value)
        return str(related) if related else "(supprimé)"
    if field.flatchoices:
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, datetime.datetime):
        return f"{timezone.localtime(value):%d/%m/%Y %H:%M}"
    if isinstance(value, datetime.date):
        return f"{value:%d/%m/%Y}"
    text = str(value)
    return text if len(text) <= 80 else f"{text[:79]}…"
