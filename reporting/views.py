from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_POST

from operations.models import Operation, Referent
from participants.models import Parcours, record_access
from plie.access import can_edit, get_for_user, role_in
from plie.models import Role
from plie.text import download_name

from . import charts, exports, services
from .definitions import INDICATORS, indicator_rows
from .models import BilanRequest
from .periods import Period, check_length, period_from
from .report import build_report, monthly_file_active, target_lines

# What "the participants behind a figure" means, for the roles allowed to see persons.
BEHIND = {
    "participants_accompagnes": ("Participants accompagnés", lambda qs, s, e: qs.active_between(s, e)),
    "nouvelles_integrations": ("Nouvelles intégrations", lambda qs, s, e: qs.filter(entry_date__range=(s, e))),
    "sorties": ("Sorties", lambda qs, s, e: qs.filter(exit_date__range=(s, e))),
    "sorties_positives": (
        "Sorties positives",
        lambda qs, s, e: qs.filter(exit_date__range=(s, e), exit_reason__category="positive", status="exited"),
    ),
}


def _context(request):
    """The operation and period the page is about, from the query string; 404 outside the user's PLIEs."""
    if request.plie is None:
        raise Http404
    operations = Operation.objects.filter(plie=request.plie).order_by("-start", "code")
    pk = request.GET.get("operation")
    operation = (
        get_for_user(Operation.objects.select_related("plie"), request.user, pk=pk) if pk else operations.first()
    )
    if operation is None:
        raise Http404("Aucune fiche opération.")
    default = Period(operation.start, operation.end, f"Période de la fiche ({operation.start.year})")
    period, form = period_from(request.GET if "kind" in request.GET else None, default)
    return operation, operations, period, form


def dashboard(request):
    operation, operations, period, form = _context(request)
    role = role_in(request.user, operation.plie)
    report = build_report(operation, period.start, period.end, today=timezone.localdate())
    referents = _visible_referents(request, operation, role, report["referents"])
    query = request.GET.urlencode()
    return render(
        request,
        "reporting/dashboard.html",
        {
            **report,
            "operations": operations,
            "period": period,
            "period_form": form,
            "role": role,
            "referents": referents,
            "show_referents": role != Role.COPIL,
            "hide_small": role == Role.COPIL,
            "persons": can_edit(request.user, operation.plie),
            "indicator_rows": indicator_rows(report["totals"]),
            "query": query,
            "behind": BEHIND,
        },
    )


def _visible_referents(request, operation, role, rows):
    if role == Role.COPIL:
        return None
    if role == Role.REFERENT:
        mine = set(Referent.objects.filter(plie=operation.plie, user=request.user).values_list("pk", flat=True))
        return [row for row in rows if row.get("referent_id") in mine]
    return rows


def chart(request, name):
    """Each chart computes only what it draws: the page asks for both alongside its own figures."""
    operation, _, period, _ = _context(request)
    if name == "objectifs":
        svg = charts.targets_chart(target_lines(operation, period.start, period.end, today=timezone.localdate()))
    elif name == "mois":
        svg = charts.monthly_chart(monthly_file_active(operation, period.start, period.end))
    else:
        raise Http404
    return HttpResponse(svg, content_type="image/svg+xml")


def behind_figure(request, key):
    """The participants behind a figure of the dashboard (animation and admin only)."""
    operation, _, period, _ = _context(request)
    if not can_edit(request.user, operation.plie) or key not in BEHIND:
        raise Http404
    label, select = BEHIND[key]
    parcours = select(Parcours.objects.filter(operation=operation), period.start, period.end)
    parcours = list(
        parcours.select_related("participant", "exit_reason").order_by(
            "participant__last_name", "participant__first_name"
        )
    )
    record_access(
        user=request.user, what="liste", plie=operation.plie, detail=f"{request.path} : {len(parcours)} affiché(s)"
    )
    return render(
        request,
        "reporting/behind.html",
        {
            "label": label,
            "parcours": parcours,
            "operation": operation,
            "period": period,
            "query": request.GET.urlencode(),
        },
    )


def export(request, fmt):
    if fmt not in ("csv", "xlsx"):
        raise Http404
    operation, _, period, _ = _context(request)
    report = build_report(operation, period.start, period.end, today=timezone.localdate())
    role = role_in(request.user, operation.plie)
    # The same tables as the dashboard shows this role: no referent line for the copil, only one's own for a referent.
    options = {
        "referents": _visible_referents(request, operation, role, report["referents"]),
        "hide_small": role == Role.COPIL,
    }
    name = download_name("bilan", operation.plie.slug, operation.code, f"{period.start:%Y%m%d}-{period.end:%Y%m%d}")
    if fmt == "csv":
        response = HttpResponse(exports.to_csv(report, **options), content_type="text/csv; charset=utf-8")
    else:
        response = HttpResponse(
            exports.to_xlsx(report, **options),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    response["Content-Disposition"] = content_disposition_header(True, f"{name}.{fmt}")
    return response


def definitions(request):
    return render(request, "reporting/definitions.html", {"indicators": INDICATORS})


class BilanForm(forms.Form):
    operation = forms.ModelChoiceField(label="Fiche opération", queryset=Operation.objects.none())
    start = forms.DateField(label="Du", widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}))
    end = forms.DateField(label="Au", widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}))
    with_annex = forms.BooleanField(label="Joindre l’annexe nominative (participants accompagnés)", required=False)

    def __init__(self, *args, plie, persons, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["operation"].queryset = Operation.objects.filter(plie=plie)
        if not persons:
            del self.fields["with_annex"]

    def clean(self):
        cleaned = super().clean()
        start, end, operation = cleaned.get("start"), cleaned.get("end"), cleaned.get("operation")
        if start and end and end < start:
            raise forms.ValidationError("La fin de la période ne peut pas précéder son début.")
        if start and end:
            check_length(start, end)
        if operation and start and end and (start < operation.start or end > operation.end):
            raise forms.ValidationError(
                "La période dépasse celle de la fiche (du %(start)s au %(end)s).",
                params={"start": f"{operation.start:%d/%m/%Y}", "end": f"{operation.end:%d/%m/%Y}"},
            )
        return cleaned


def bilan_list(request):
    if request.plie is None:
        raise Http404
    persons = can_edit(request.user, request.plie)
    operation = Operation.objects.filter(plie=request.plie).order_by("-start").first()
    initial = {"operation": operation, "start": operation.start, "end": operation.end} if operation else {}
    form = BilanForm(request.POST or None, plie=request.plie, persons=persons, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        bilan = services.request_bilan(
            operation=data["operation"],
            start=data["start"],
            end=data["end"],
            with_annex=persons and data.get("with_annex", False),
            by=request.user,
        )
        messages.success(request, "Le bilan est en préparation.")
        return redirect(bilan)
    bilans = BilanRequest.objects.filter(plie=request.plie).select_related("operation", "requested_by")[:50]
    return render(request, "reporting/bilan_list.html", {"form": form, "bilans": bilans})


def bilan_detail(request, pk):
    bilan = get_for_user(BilanRequest.objects.select_related("operation", "requested_by"), request.user, pk=pk)
    _check_annex(request, bilan)
    return render(request, "reporting/bilan_detail.html", {"bilan": bilan})


def bilan_status(request, pk):
    bilan = get_for_user(BilanRequest.objects.all(), request.user, pk=pk)
    _check_annex(request, bilan)
    return JsonResponse(
        {
            "status": bilan.status,
            "label": bilan.get_status_display(),
            "progress": bilan.progress,
            "error": bilan.error,
            "ready": bilan.status == "done",
        }
    )


def bilan_download(request, pk):
    bilan = get_for_user(BilanRequest.objects.select_related("operation__plie"), request.user, pk=pk)
    _check_annex(request, bilan)
    if bilan.status != "done":
        raise Http404
    if bilan.with_annex:
        record_access(
            user=request.user, what="bilan avec annexe", plie=bilan.operation.plie, detail=f"bilan n° {bilan.pk}"
        )
    name = download_name(
        "bilan", bilan.operation.plie.slug, bilan.operation.code, f"{bilan.start:%Y%m%d}-{bilan.end:%Y%m%d}"
    )
    return FileResponse(
        bilan.file.open("rb"), as_attachment=True, filename=f"{name}.pdf", content_type="application/pdf"
    )


def _check_annex(request, bilan):
    """A bilan with the nominative annex is for the animation team and the admin only."""
    if bilan.with_annex and not can_edit(request.user, bilan.plie):
        raise Http404


@require_POST
def bilan_retry(request, pk):
    bilan = get_for_user(BilanRequest.objects.select_related("operation"), request.user, pk=pk)
    _check_annex(request, bilan)
    if bilan.status != "failed":
        raise PermissionDenied
    new = services.request_bilan(
        operation=bilan.operation, start=bilan.start, end=bilan.end, with_annex=bilan.with_annex, by=request.user
    )
    return redirect(new)
