"""The participations of a fiche (FSE+): the list and the correction of an entry situation."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from operations.models import Operation
from plie.access import get_for_user, require_editor

from ..forms import (
    EntrySituationForm,
    exit_situation_forms,
)
from ..models import (
    Participant,
    Participation,
    record_access,
)
from ..participations import correct_entry_situation, record_exit_situations


def operation_participations(request, operation_pk):
    """The fiche's participations (« un participant = une opération »): the nominative list of the FSE+ and the
    one place where the team records the exit situation of everyone who left the operation, carried-over people
    leaving at the fiche's end included. Team only: it names people."""
    operation = get_for_user(Operation.objects.select_related("plie"), request.user, pk=operation_pk)
    require_editor(request.user, operation.plie)
    today = timezone.localdate()
    only_missing = request.GET.get("a_completer") == "1"
    rows = (
        Participation.objects.filter(operation=operation, participant__in=Participant.objects.in_use())
        .select_related("participant", "referent")
        .prefetch_related("participant__parcours__exit_reason")
        .order_by("participant__last_name", "participant__first_name", "pk")
    )
    if only_missing:
        rows = rows.left_before(today).filter(exit_recorded_at__isnull=True)
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    forms = exit_situation_forms(page.object_list, request.POST if request.method == "POST" else None, today)
    if request.method == "POST":
        if all(form.is_valid() for form in forms.values()):
            # A suggestion left as it is counts as confirmed: the team saves the page it has read.
            answers = {
                form.participation: form.cleaned_data
                for form in forms.values()
                if form.has_changed() or (not form.participation.exit_recorded and any(form.cleaned_data.values()))
            }
            record_exit_situations(answers=answers, by=request.user)
            messages.success(request, f"{len(answers)} situation(s) de sortie enregistrée(s).")
            return redirect(request.get_full_path())
        messages.error(request, "Rien n’a été enregistré : corrigez les lignes signalées.")
    record_access(
        user=request.user, what="liste", plie=operation.plie, detail=f"{request.path} : {len(page)} affiché(s)"
    )
    context = {
        "operation": operation,
        "page": page,
        "rows": [(participation, forms.get(participation.pk)) for participation in page.object_list],
        "only_missing": only_missing,
        "missing_count": Participation.objects.filter(operation=operation, exit_recorded_at__isnull=True)
        .left_before(today)
        .count(),
        "today": today,
    }
    return render(request, "participants/operation_participations.html", context)


@require_http_methods(["GET", "POST"])
def participation_correct(request, pk):
    """The team corrects the entry situation frozen on a participation; the correction is kept and audited."""
    participation = get_for_user(
        Participation.objects.select_related("participant__plie", "operation"), request.user, pk=pk
    )
    require_editor(request.user, participation.participant.plie)
    form = EntrySituationForm(request.POST or None, instance=Participation.objects.get(pk=participation.pk))
    if request.method == "POST" and form.is_valid():
        values = {name: form.cleaned_data[name] for name in EntrySituationForm.Meta.fields}
        correct_entry_situation(
            participation=participation, values=values, reason=form.cleaned_data["reason"], by=request.user
        )
        messages.success(request, f"La situation d’entrée de {participation.participant} est corrigée.")
        return redirect("operation_participations", participation.operation_id)
    return render(request, "participants/participation_form.html", {"form": form, "participation": participation})
