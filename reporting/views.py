import contextlib
import datetime
import io

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_POST

from operations.models import Operation, Referent
from participants import attribution
from participants.models import Parcours, record_access
from plie import jobs
from plie.access import can_edit, get_for_user, require_admin, require_editor, role_in
from plie.models import Role
from plie.text import download_name

from . import charts, disclosure, exports, mdfse, services
from .definitions import INDICATORS, indicator_rows
from .models import BilanRequest, BilanStatus, MdfseExport
from .periods import Period, check_length, period_from
from .report import cached_chart, report_for

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# The participants behind a figure: the same querysets the figures count (participants/attribution.py).
BEHIND = {
    "participants_accompagnes": ("Participants accompagnés", attribution.segments),
    "nouvelles_integrations": ("Nouvelles intégrations", attribution.integrations),
    "sorties": ("Sorties", attribution.exits),
    "sorties_positives": (
        "Sorties positives",
        lambda operation, s, e: attribution.exits(operation, s, e).filter(attribution.validated_positive()),
    ),
}


def _context(request):
    """The operation, the period and the viewer's role, from the query string; 404 outside the user's PLIEs. The
    steering committee and the referents read the fixed periods only (reporting/disclosure.py)."""
    if request.plie is None:
        raise Http404
    operations = Operation.objects.filter(plie=request.plie).order_by("-start", "code")
    pk = request.GET.get("operation")
    operation = (
        get_for_user(Operation.objects.select_related("plie"), request.user, pk=pk) if pk else operations.first()
    )
    if operation is None:
        raise Http404("Aucune fiche opération.")
    role = role_in(request.user, operation.plie)
    default = Period(operation.start, operation.end, f"Période de la fiche ({operation.years})")
    period, form = period_from(request.GET if "kind" in request.GET else None, default)
    if disclosure.audience(role) != disclosure.TEAM and not disclosure.is_allowed(operation, period.start, period.end):
        form.add_error(None, FIXED_PERIODS_ONLY)
        period = default
    return operation, operations, period, form, role


FIXED_PERIODS_ONLY = (
    "Votre rôle donne accès aux périodes fixes de la fiche (mois, trimestre, semestre, année, période de la fiche) : "
    "la période de la fiche est affichée."
)


def _referent_ids(request, operation):
    return set(Referent.objects.filter(plie=operation.plie, user=request.user).values_list("pk", flat=True))


def _report(request, operation, period, role):
    return report_for(operation, period.start, period.end, role=role, referent_ids=_referent_ids(request, operation))


def dashboard(request):
    operation, operations, period, form, role = _context(request)
    report = _report(request, operation, period, role)
    return render(
        request,
        "reporting/dashboard.html",
        {
            **report,
            "operations": operations,
            "period": period,
            "period_form": form,
            "role": role,
            "show_referents": report["referents"] is not None,
            "persons": can_edit(request.user, operation.plie),
            "indicator_rows": indicator_rows(report["totals"]),
            "query": request.GET.urlencode(),
            "behind": BEHIND,
        },
    )


CHARTS = {
    "objectifs": lambda report: charts.targets_chart(report["lines"]),
    "mois": lambda report: charts.monthly_chart(report["months"]),
}


def chart(request, name):
    operation, _, period, _, role = _context(request)
    if name not in CHARTS:
        raise Http404
    referent_ids = _referent_ids(request, operation)
    svg = cached_chart(operation, period.start, period.end, name, CHARTS[name], role=role, referent_ids=referent_ids)
    return HttpResponse(svg, content_type="image/svg+xml")


def behind_figure(request, key):
    """The participants behind a figure of the dashboard (animation and admin only)."""
    operation, _, period, _, _ = _context(request)
    if not can_edit(request.user, operation.plie) or key not in BEHIND:
        raise Http404
    label, select = BEHIND[key]
    parcours = select(operation, period.start, period.end)
    parcours = list(
        Parcours.objects.filter(pk__in=parcours.values("pk"))
        .select_related("participant", "exit_reason")
        .order_by("participant__last_name", "participant__first_name")
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
    operation, _, period, _, role = _context(request)
    report = _report(request, operation, period, role)
    options = {"referents": report["referents"]}
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
        self.persons = persons
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
        if not self.persons and operation and start and end and not disclosure.is_allowed(operation, start, end):
            raise forms.ValidationError(FIXED_PERIODS_ONLY.split(" :")[0] + ".")
        return cleaned


def bilan_list(request):
    if request.plie is None:
        raise Http404
    persons = can_edit(request.user, request.plie)
    operations = Operation.objects.filter(plie=request.plie).order_by("-start")
    # From the dashboard: the fiche and the period on screen; otherwise the latest fiche, whole.
    operation = (
        operations.filter(pk=request.GET.get("operation", "")).first()
        if request.GET.get("operation", "").isdigit()
        else None
    )
    operation = operation or operations.first()
    initial = {"operation": operation, "start": operation.start, "end": operation.end} if operation else {}
    for key in ("start", "end"):
        with contextlib.suppress(ValueError):
            initial[key] = datetime.date.fromisoformat(request.GET.get(key, ""))
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
        # The state is the page's to say (it follows the job): a message here would contradict it once ready.
        messages.success(request, "Votre demande de bilan est enregistrée.")
        return redirect(bilan)
    bilans = (
        BilanRequest.objects.for_user(request.user)
        .filter(plie=request.plie)
        .select_related("operation", "requested_by")
        .order_by("-requested_at")[:50]
    )
    return render(request, "reporting/bilan_list.html", {"form": form, "bilans": bilans})


def bilan_detail(request, pk):
    bilan = get_for_user(BilanRequest.objects.select_related("operation", "requested_by"), request.user, pk=pk)
    return render(request, "reporting/bilan_detail.html", {"bilan": bilan, "label": _label(bilan)})


def _label(bilan):
    if bilan.status == BilanStatus.PENDING:
        return jobs.waiting_label("bilan", bilan.pk)
    return bilan.get_status_display()


def bilan_status(request, pk):
    bilan = get_for_user(BilanRequest.objects.all(), request.user, pk=pk)
    return JsonResponse(
        {
            "status": bilan.status,
            "label": _label(bilan),
            "progress": bilan.progress,
            "error": bilan.error,
            "ready": bilan.status == "done",
        }
    )


def bilan_download(request, pk):
    bilan = get_for_user(BilanRequest.objects.select_related("operation__plie"), request.user, pk=pk)
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


@require_POST
def bilan_retry(request, pk):
    bilan = get_for_user(BilanRequest.objects.select_related("operation"), request.user, pk=pk)
    if bilan.status != "failed":
        raise PermissionDenied
    new = services.request_bilan(
        operation=bilan.operation, start=bilan.start, end=bilan.end, with_annex=bilan.with_annex, by=request.user
    )
    return redirect(new)


def mdfse_export(request, operation_pk):
    """The export for Ma Démarche FSE+: nominative, so for the animation team and the admin; each one journaled."""
    operation = get_for_user(Operation.objects.select_related("plie"), request.user, pk=operation_pk)
    require_editor(request.user, operation.plie)
    if request.method == "POST":
        file_format = request.POST.get("format")
        if file_format not in ("csv", "xlsx"):
            raise Http404
        content = services.export_mdfse(operation=operation, file_format=file_format, by=request.user)
        name = f"{download_name('mdfse', operation.plie.slug, operation.code, operation.years)}.{file_format}"
        content_type = "text/csv; charset=utf-8" if file_format == "csv" else XLSX
        return FileResponse(io.BytesIO(content), as_attachment=True, filename=name, content_type=content_type)
    context = {
        "operation": operation,
        "count": operation.participations.count(),
        "columns": services.mdfse_columns(operation.plie),
        "exports": MdfseExport.objects.filter(operation=operation).select_related("by")[:10],
        "is_admin": role_in(request.user, operation.plie) == Role.ADMIN,
    }
    return render(request, "reporting/mdfse_export.html", context)


class MdfseColumnForm(forms.Form):
    header = forms.CharField(label="En-tête", max_length=100, required=False)
    source = forms.ChoiceField(
        label="Donnée",
        choices=[("", "—")] + [(key, label) for key, (label, _) in mdfse.SOURCES.items()],
        required=False,
    )

    def clean(self):
        cleaned = super().clean()
        if bool(cleaned.get("header")) != bool(cleaned.get("source")):
            raise forms.ValidationError("Indiquez l’en-tête et la donnée, ou laissez les deux vides.")
        return cleaned


MdfseColumnFormSet = forms.formset_factory(MdfseColumnForm, extra=3)


def mdfse_columns(request):
    """The PLIE admin sets the columns of the export (a new MDFSE+ template is a matter of data)."""
    if request.plie is None:
        raise Http404
    require_admin(request.user, request.plie, "Seul l’administrateur du PLIE règle les colonnes de l’export.")
    initial = [{"header": header, "source": source} for header, source in services.mdfse_columns(request.plie)]
    formset = MdfseColumnFormSet(request.POST or None, initial=initial, prefix="col")
    if request.method == "POST":
        if formset.is_valid():
            columns = [(f["header"], f["source"]) for f in formset.cleaned_data if f.get("header")]
            if request.POST.get("defaults"):
                columns = list(mdfse.DEFAULT_COLUMNS)
            services.save_mdfse_columns(plie=request.plie, columns=columns, by=request.user)
            messages.success(request, f"Les {len(columns)} colonnes de l’export Ma Démarche FSE+ sont enregistrées.")
            return redirect("mdfse_columns")
        messages.error(request, "Rien n’a été enregistré : corrigez les lignes signalées.")
    return render(request, "reporting/mdfse_columns.html", {"formset": formset})
