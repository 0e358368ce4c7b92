"""The exit of a parcours: recorded by the referent, validated by the animation team, and the list of those awaiting validation."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from plie.access import require_editor

from .. import services
from ..forms import (
    ExitForm,
)
from ..models import (
    DocumentKind,
    Parcours,
    Participation,
    Status,
)
from ..participations import record_exit_situations
from .common import _attach, _parcours, _record_list, _team_parcours, _workflow_page


@require_http_methods(["GET", "POST"])
def parcours_exit(request, pk):
    parcours = _parcours(request, pk)
    participant = parcours.participant
    form = ExitForm(request.POST or None, request.FILES or None, plie=participant.plie)

    def action(data):
        services.record_exit(parcours=parcours, exit_date=data["exit_date"], reason=data["reason"], by=request.user)
        situation = {field: data[field] for field in Participation.EXIT_FIELDS}
        if any(situation.values()):  # the participations ending that day now exist: the referent confirms
            left = Participation.objects.filter(participant=participant, last_day=data["exit_date"])
            record_exit_situations(answers=dict.fromkeys(left, situation), by=request.user)
        _attach(
            data["proof"], participant=participant, parcours=parcours, kind=DocumentKind.CERTIFICATE, by=request.user
        )

    return _workflow_page(request, parcours, form, "Sortie du PLIE", action, "La sortie est enregistrée.")


@require_POST
def parcours_validate_exit(request, pk):
    parcours = _team_parcours(request, pk)
    try:
        services.validate_exit(parcours=parcours, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, "La sortie est validée.")
    next_url = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = parcours.participant.get_absolute_url()
    return redirect(next_url)


def exits_to_validate(request):
    require_editor(request.user, request.plie)
    today = timezone.localdate()
    pending = list(
        Parcours.objects.in_use()
        .filter(participant__plie=request.plie, status=Status.EXIT_PENDING)
        .select_related("participant", "exit_reason")
        .prefetch_related("assignments__referent")
        .order_by("exit_date")
    )
    _record_list(request, "liste", len(pending))
    return render(request, "participants/exits_to_validate.html", {"pending": pending, "today": today})
