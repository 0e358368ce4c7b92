"""The controller's side of a fiche: completeness, staff time proofs and the auditor's packs. The animation team and
the PLIE admin only: every page here names participants or holds their proofs (the copil gets 404, a referent 403)."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from operations.models import Operation, ReferentPeriod, StaffTimeProof
from participants.models import record_access
from plie import jobs
from plie.access import can_edit, get_for_user, memberships_of
from plie.audit import save_as
from plie.models import Role

from . import completeness, pack, services
from .forms import ControllerListForm, SampleForm, StaffTimeProofForm
from .models import AuditPack, PackStatus


def _team_operation(request, pk):
    """The fiche, for its PLIE's team only; the steering committee never reaches a page that names people."""
    operation = get_for_user(Operation.objects.select_related("plie"), request.user, pk=pk)
    membership = memberships_of(request.user).get(operation.plie_id)
    if membership.role == Role.COPIL:
        raise Http404
    if not can_edit(request.user, operation.plie):
        raise PermissionDenied("Réservé à l’équipe d’animation du PLIE.")
    return operation


def completeness_page(request, pk):
    operation = _team_operation(request, pk)
    today = timezone.localdate()
    summary = completeness.summary(operation, today)
    page = Paginator(completeness.annotated(operation, today), 50).get_page(request.GET.get("page"))
    rows = [{"row": row, "score": completeness.score(row), "missing": completeness.missing_items(row)} for row in page]
    record_access(user=request.user, what="complétude", plie=operation.plie, detail=f"{len(rows)} affiché(s)")
    return render(
        request,
        "controls/completeness.html",
        {
            "operation": operation,
            "summary": summary,
            "page": page,
            "rows": rows,
            "packs": AuditPack.objects.filter(operation=operation).select_related("requested_by")[:10],
        },
    )


@require_http_methods(["GET", "POST"])
def pack_request(request, pk):
    operation = _team_operation(request, pk)
    sample = SampleForm(request.POST if request.POST.get("mode") == "random" else None, prefix="tirage")
    listed = ControllerListForm(
        request.POST if request.POST.get("mode") == "list" else None, operation=operation, prefix="liste"
    )
    form = sample if request.POST.get("mode") == "random" else listed
    if request.method == "POST" and form.is_valid():
        try:
            if form is sample:
                created = services.request_pack(
                    operation=operation, by=request.user, size=form.cleaned_data["size"],
                    reference=form.cleaned_data["reference"],
                )  # fmt: skip
            else:
                created = services.request_pack(
                    operation=operation, by=request.user, participations=form.cleaned_data["participations"],
                    reference=form.cleaned_data["reference"],
                )  # fmt: skip
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, "Le dossier de contrôle est en préparation.")
            return redirect(created)
    return render(request, "controls/pack_request.html", {"operation": operation, "sample": sample, "listed": listed})


def _pack(request, pk):
    found = get_for_user(AuditPack.objects.select_related("operation__plie", "requested_by"), request.user, pk=pk)
    return found


def _label(found):
    if found.status == PackStatus.PENDING:
        return jobs.waiting_label("audit_pack", found.pk)
    label = found.get_status_display()
    if found.status == PackStatus.RUNNING:
        label = f"{label} ({found.progress} %)"
    return label


def pack_detail(request, pk):
    found = _pack(request, pk)
    if request.headers.get("Accept") == "application/json":
        return JsonResponse(
            {
                "status": found.status,
                "label": _label(found),
                "progress": found.progress,
                "error": found.error,
                "ready": found.status == PackStatus.DONE,
            }
        )
    return render(request, "controls/pack_detail.html", {"pack": found, "label": _label(found)})


def pack_download(request, pk):
    found = _pack(request, pk)
    if found.status != PackStatus.DONE or not found.file:
        raise Http404
    record_access(user=request.user, what="dossier de contrôle", plie=found.plie, detail=f"dossier n° {found.pk}")
    return FileResponse(
        found.file.open("rb"),
        as_attachment=True,
        filename=f"controle-{found.operation.code}-{found.operation.years}-{found.pk}.zip".replace(" ", ""),
        content_type="application/zip",
    )


def staff_time_page(request, pk):
    operation = _team_operation(request, pk)
    lines = pack.staff_time(operation, timezone.localdate())
    periods = []
    for line in lines:
        if not periods or periods[-1]["period"].pk != line["period"].pk:
            periods.append({"period": line["period"], "months": []})
        periods[-1]["months"].append(line)
    return render(
        request,
        "controls/staff_time.html",
        {"operation": operation, "periods": periods, "missing": sum(1 for line in lines if not line["proofs"])},
    )


@require_http_methods(["GET", "POST"])
def staff_time_upload(request, pk):
    period = get_for_user(ReferentPeriod.objects.select_related("referent__plie", "operation"), request.user, pk=pk)
    operation = _team_operation(request, period.operation_id)
    form = StaffTimeProofForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        month = data["month"].replace(day=1)
        first, last = period.days_within(period.operation)
        if not first.replace(day=1) <= month <= last:
            form.add_error("month", "Ce mois n’appartient pas à la période d’ETP sur cette fiche.")
        elif StaffTimeProof.objects.filter(period=period, month=month, kind=data["kind"]).exists():
            form.add_error("month", "Ce mois a déjà ce justificatif.")
        else:
            uploaded = data["file"]
            save_as(
                StaffTimeProof(
                    period=period, month=month, kind=data["kind"], hours=data["hours"], file=uploaded,
                    original_name=uploaded.name[:200], content_type=uploaded.sniffed_type, uploaded_by=request.user,
                ),
                request.user,
            )  # fmt: skip
            messages.success(request, f"Justificatif de {month:%m/%Y} déposé pour {period.referent}.")
            return redirect("staff_time", pk=operation.pk)
    return render(request, "controls/staff_time_upload.html", {"operation": operation, "period": period, "form": form})


def staff_time_download(request, pk):
    proof = get_for_user(
        StaffTimeProof.objects.select_related("period__referent", "period__operation"),
        request.user,
        pk=pk,
    )
    _team_operation(request, proof.period.operation_id)
    return FileResponse(
        proof.file.open("rb"), as_attachment=True, filename=proof.original_name, content_type=proof.content_type
    )
