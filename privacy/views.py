"""The rights of a person and the archive, for the PLIE admin: export (access), erasure, restriction, legal hold."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from participants.models import Participant, record_access
from plie.access import get_or_404, require_admin

from .erasure import erase_participant, erasure_blocker, lift_restriction, restrict_participant, set_legal_hold
from .forms import WithdrawalForm
from .subject_access import participant_archive


def _record_list(request, what, shown):
    record_access(user=request.user, what=what, plie=request.plie, detail=f"{request.path} : {shown} affiché(s)")


def _participant_for_admin(request, pk, refusal):
    """A person in use or in the archive; 403 for the other roles of the PLIE, who may see the person but not act."""
    visible = Participant.objects.for_user(request.user) | Participant.objects.archive_for_user(request.user)
    participant = get_or_404(visible.select_related("plie", "commune"), pk=pk)
    require_admin(request.user, participant.plie, refusal)
    return participant


def participant_export(request, pk):
    """Right of access: the PLIE admin downloads everything held about the person, archived or not."""
    participant = _participant_for_admin(request, pk, "Seul l’administrateur du PLIE exporte un dossier complet.")
    record_access(participant=participant, user=request.user, what="export")
    response = HttpResponse(participant_archive(participant), content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="dossier-{participant.pk}.zip"'
    return response


def archive_list(request):
    """The archive of the PLIE: people without contact for two years, or whose processing is restricted."""
    if request.plie is None:
        raise Http404
    require_admin(request.user, request.plie, "Seul l’administrateur du PLIE consulte les archives.")
    people = list(
        Participant.objects.archive_for_user(request.user)
        .filter(plie=request.plie)
        .order_by("last_name", "first_name", "pk")
    )
    _record_list(request, "archives", len(people))
    return render(request, "privacy/archive_list.html", {"participants": people})


def archive_detail(request, pk):
    """Read-only: an archived file is kept for the FSE+ audit, not worked on."""
    participant = get_or_404(
        Participant.objects.archive_for_user(request.user).select_related("plie", "commune"), pk=pk
    )
    record_access(participant=participant, user=request.user, what="archive")
    parcours = participant.parcours.select_related("operation", "exit_reason").prefetch_related(
        "decisions", "assignments__referent", "steps__step_type"
    )
    return render(
        request,
        "privacy/archive_detail.html",
        {"participant": participant, "parcours_list": parcours, "documents": participant.documents.all()},
    )


def _withdrawal(
    request, pk, *, action, title, explanation, success, blocker=None, then=lambda participant: "archive_list"
):
    participant = _participant_for_admin(
        request, pk, "Seul l’administrateur du PLIE efface un dossier ou en limite le traitement."
    )
    form = WithdrawalForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            action(participant=participant, reason=form.cleaned_data["reason"], by=request.user)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, success)
            return redirect(then(participant))
    return render(
        request,
        "privacy/withdrawal_form.html",
        {
            "participant": participant,
            "form": form,
            "title": title,
            "explanation": explanation,
            "blocker": blocker(participant) if blocker else None,
        },
    )


@require_POST
def participant_legal_hold(request, pk):
    participant = _participant_for_admin(request, pk, "Seul l’administrateur du PLIE gèle un dossier.")
    on = request.POST.get("on") == "1"
    set_legal_hold(participant=participant, on=on, by=request.user)
    messages.success(request, "Le dossier est gelé." if on else "Le gel du dossier est levé.")
    return redirect(reverse("archive_detail", args=[participant.pk]) if participant.is_withdrawn else participant)


@require_http_methods(["GET", "POST"])
def participant_erase(request, pk):
    return _withdrawal(
        request,
        pk,
        action=erase_participant,
        title="Effacer le dossier (droit à l’effacement)",
        explanation=(
            "Une personne qui n’est jamais entrée dans une opération cofinancée est supprimée avec tout son dossier. "
            "Une personne dont un parcours est cofinancé par le FSE+ est anonymisée, et seulement après la date "
            "limite d’archivage de chaque fiche concernée. L’effacement est inscrit au journal, qui l’applique de "
            "nouveau après une restauration de sauvegarde."
        ),
        success="Le dossier est effacé ; l’effacement est inscrit au journal.",
        blocker=erasure_blocker,
    )


@require_http_methods(["GET", "POST"])
def participant_restrict(request, pk):
    return _withdrawal(
        request,
        pk,
        action=restrict_participant,
        title="Limiter le traitement du dossier",
        explanation=(
            "Les données sont conservées mais ne sont plus traitées : le dossier disparaît des listes, portefeuilles "
            "et recherches, et seul l’administrateur du PLIE peut le consulter, dans les archives. Les chiffres des "
            "bilans déjà dus au financeur restent comptés. La limitation est inscrite au journal."
        ),
        success="Le traitement du dossier est limité ; la limitation est inscrite au journal.",
    )


@require_http_methods(["GET", "POST"])
def participant_lift_restriction(request, pk):
    return _withdrawal(
        request,
        pk,
        action=lift_restriction,
        title="Lever la limitation du traitement",
        explanation=(
            "La personne doit en être informée avant la levée (art. 18.3 du RGPD). Le dossier revient dans les listes, "
            "portefeuilles et recherches de l’équipe, sauf s’il est par ailleurs archivé. La levée est inscrite au "
            "journal : une restauration de sauvegarde ne limitera pas de nouveau ce dossier."
        ),
        success="La limitation est levée ; la levée est inscrite au journal.",
        then=lambda participant: (
            participant if not participant.archived_at else reverse("archive_detail", args=[participant.pk])
        ),
    )
