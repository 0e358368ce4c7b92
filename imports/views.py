import logging

from django.contrib import messages
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from plie import jobs
from plie.access import get_for_user, require_admin

from . import services
from .forms import MappingForm, UploadForm
from .models import ImportFile, ImportRun, RunStatus

logger = logging.getLogger(__name__)


def _require_admin(request):
    if request.plie is None:
        raise Http404
    require_admin(request.user, request.plie, "Les imports sont réservés à l’administrateur du PLIE.")


def import_list(request):
    _require_admin(request)
    runs = (
        ImportRun.objects.filter(plie=request.plie)
        .select_related("created_by")
        .prefetch_related("files")
        .order_by("-created_at", "-pk")[:100]
    )
    return render(request, "imports/import_list.html", {"runs": runs})


def import_create(request):
    _require_admin(request)
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        files = [(upload.name, upload.read()) for upload in form.cleaned_data["files"]]
        try:
            run = services.deposit_files(
                plie=request.plie, files=files, create_referents=form.cleaned_data["create_referents"], by=request.user
            )
        except OSError:
            logger.exception("Dépôt d’extraction impossible")
            form.add_error(
                None,
                "Les fichiers n’ont pas pu être enregistrés : l’espace de stockage du serveur est plein ou "
                "indisponible. Rien n’a été déposé ; réessayez plus tard et prévenez l’administrateur technique.",
            )
        else:
            services.request_preview(run=run)
            return redirect(run)
    return render(request, "imports/import_create.html", {"form": form})


def _run_for(request, pk):
    return get_for_user(ImportRun.objects.select_related("plie", "created_by"), request.user, pk=pk)


def error_summary(errors, lines_shown=5):
    """Errors grouped by column and problem, the most frequent first: a missing column makes one line of 300."""
    groups = {}
    for error in errors:
        group = groups.setdefault(
            (error.get("column") or "", error.get("message") or ""),
            {"column": error.get("column"), "message": error.get("message"), "count": 0, "lines": []},
        )
        group["count"] += 1
        if len(group["lines"]) < lines_shown and error.get("line"):
            group["lines"].append(error["line"])
    return sorted(groups.values(), key=lambda group: -group["count"])


def import_detail(request, pk):
    run = _run_for(request, pk)
    files = list(run.files.all())
    mapping_forms = {
        f.pk: MappingForm(import_file=f)
        for f in files
        if run.status == RunStatus.UPLOADED and f.kind and f.report.get("ignored")
    }
    for f in files:
        f.error_summary = error_summary(f.errors)
    context = {
        "run": run,
        "label": _label(run),
        "files": [(f, mapping_forms.get(f.pk)) for f in files],
        "mappings": [(f, mapping_forms[f.pk]) for f in files if f.pk in mapping_forms],
        "importable": any(not f.rejected for f in files),
        "rejected": [f for f in files if f.rejected],
        "mappable": any(f.report.get("missing") for f in files if f.pk in mapping_forms),
    }
    return render(request, "imports/import_detail.html", context)


@require_POST
def import_mapping(request, pk):
    import_file = get_for_user(ImportFile.objects.select_related("run__plie"), request.user, pk=pk)
    run = import_file.run
    if run.status != RunStatus.UPLOADED or not import_file.kind:
        messages.info(request, "Cet import a déjà été lancé : les correspondances serviront au prochain.")
        return redirect(run)
    form = MappingForm(request.POST, import_file=import_file)
    if form.is_valid():
        for header, column in form.mappings():
            services.save_mapping(run=run, kind=import_file.kind, header=header, column=column, by=request.user)
        services.request_preview(run=run)
        messages.success(request, "Correspondances enregistrées pour les prochains imports ; l’aperçu est refait.")
    else:
        messages.error(request, " ".join(form.non_field_errors()))
    return redirect(run)


@require_POST
def import_start(request, pk):
    run = _run_for(request, pk)
    if run.status != RunStatus.UPLOADED:
        messages.info(request, "Cet import a déjà été lancé.")
        return redirect(run)
    services.queue(run=run)
    messages.success(request, "Import lancé : le rapport s’affiche ci-dessous dès qu’il est prêt.")
    return redirect(run)


def _label(run):
    if run.status in (RunStatus.ANALYSING, RunStatus.QUEUED):
        kind = "import_preview" if run.status == RunStatus.ANALYSING else "import"
        waiting = jobs.waiting_label(kind, run.pk)
        if waiting != "En attente":
            return waiting
    return run.progress_label or run.get_status_display()


def import_status(request, pk):
    run = _run_for(request, pk)
    return JsonResponse(
        {
            "status": run.status,
            "label": _label(run),
            "progress": run.progress,
            "finished": run.is_finished,
            "error": run.error,
        }
    )
