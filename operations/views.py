from django.contrib import messages
from django.db.models import Prefetch
from django.shortcuts import redirect, render, resolve_url
from django.views.decorators.http import require_http_methods, require_POST

from plie.access import can_edit, get_for_edit, get_for_user, require_admin, require_editor, role_in
from plie.models import Role
from territories.models import Commune, Zone

from . import services
from .forms import (
    CofinancingCapFormSet,
    EligibilityRuleForm,
    OperationForm,
    PlannedEtpFormSet,
    ProofTypeForm,
    ReferentForm,
    ReferentPeriodForm,
    RenewalForm,
    RetentionForm,
    StructureForm,
    TargetFormSet,
    ZoneForm,
)
from .models import EligibilityRule, Operation, ProofType, Referent, ReferentPeriod, Structure, Target
from .services import next_period, renew_operation
from .targets import EtpPeriod, targets_by_year


def home(request):
    plie = request.plie
    if plie is None:
        return render(request, "operations/no_plie.html")
    zones = Zone.objects.filter(plie=plie).prefetch_related(Prefetch("communes", Commune.objects.order_by("name")))
    context = {
        "operations": Operation.objects.filter(plie=plie).prefetch_related("planned_etps").order_by("-start", "code"),
        "zones": zones,
        "referents": Referent.objects.filter(plie=plie)
        .select_related("structure")
        .prefetch_related(
            Prefetch("periods", ReferentPeriod.objects.select_related("operation", "zone").order_by("-start"))
        ),
        "territory_size": plie.communes.count(),
    }
    return render(request, "operations/home.html", context)


def operation_detail(request, pk):
    operation = get_for_user(Operation.objects.select_related("plie"), request.user, pk=pk)
    targets = sorted(operation.targets.all(), key=Target.display_order)
    planned = [EtpPeriod(p.etp, p.start, p.end) for p in operation.planned_etps.all()]
    context = {
        "operation": operation,
        "planned_etps": operation.planned_etps.all(),
        "caps": operation.cofinancing_caps.all(),
        "zones": operation.zones.prefetch_related(Prefetch("communes", Commune.objects.order_by("name"))),
        "table": targets_by_year(targets, planned, operation.start, operation.end),
        "has_planned_etp": bool(planned),
        "neutralised": operation.neutralised_exit_reasons.all(),
        "periods": operation.referent_periods.select_related("referent__structure", "zone").order_by(
            "referent__last_name", "start"
        ),
        "can_edit": can_edit(request.user, operation.plie),
        "is_admin": role_in(request.user, operation.plie) == Role.ADMIN,
    }
    return render(request, "operations/operation_detail.html", context)


@require_http_methods(["GET", "POST"])
def eligibility_rules(request, pk):
    """What the fiche accepts as eligibility and the proofs each criterion needs (the integration gate reads these
    rows, participants/eligibility.py); the team edits them, everyone of the PLIE reads them."""
    operation = get_for_user(Operation.objects.select_related("plie"), request.user, pk=pk)
    rule_form = EligibilityRuleForm(request.POST if "add_rule" in request.POST else None, plie=operation.plie)
    type_form = ProofTypeForm(
        request.POST if "add_type" in request.POST else None, instance=ProofType(plie=operation.plie)
    )
    if request.method == "POST":
        require_editor(request.user, operation.plie)
        if "delete_rule" in request.POST:
            rule = EligibilityRule.objects.filter(operation=operation, pk=request.POST["delete_rule"]).first()
            if rule:
                services.remove_eligibility_rule(rule=rule, by=request.user)
                messages.success(request, f"« {rule} » n’est plus exigé.")
            return redirect("eligibility_rules", pk=operation.pk)
        if "add_rule" in request.POST and rule_form.is_valid():
            services.add_eligibility_rule(operation=operation, by=request.user, **rule_form.cleaned_data)
            messages.success(request, "Le justificatif est exigé pour ce critère.")
            return redirect("eligibility_rules", pk=operation.pk)
        if "add_type" in request.POST and type_form.is_valid():
            type_form.instance._history_user = request.user
            type_form.save()
            messages.success(request, f"Le justificatif « {type_form.instance} » est ajouté à la liste du PLIE.")
            return redirect("eligibility_rules", pk=operation.pk)
    rules = operation.eligibility_rules.select_related("proof_type").order_by("criterion", "proof_type__label")
    editor = can_edit(request.user, operation.plie)
    return render(
        request,
        "operations/eligibility_rules.html",
        {
            "operation": operation,
            "rules": rules,
            # A reader's page shows no form: it is given none.
            "rule_form": rule_form if editor else None,
            "type_form": type_form if editor else None,
            "can_edit": editor,
        },
    )


@require_http_methods(["GET", "POST"])
def operation_retention(request, pk):
    """Last payment year and legal hold: they decide when participants are anonymised, so the PLIE admin sets them."""
    operation = get_for_user(Operation.objects.select_related("plie"), request.user, pk=pk)
    require_admin(request.user, operation.plie, "Seul l’administrateur du PLIE fixe la conservation de la fiche.")
    initial = {"last_payment_year": operation.last_payment_year, "legal_hold": operation.legal_hold}
    form = RetentionForm(_data(request), operation=operation, initial=initial)
    if request.method == "POST" and form.is_valid():
        services.set_retention(operation=operation, **form.cleaned_data, by=request.user)
        messages.success(request, "La conservation de la fiche est enregistrée.")
        return redirect(operation)
    return render(
        request,
        "operations/form_page.html",
        {
            "form": form,
            "title": f"Conservation des pièces de la fiche {operation.code}",
            "cancel_url": operation.get_absolute_url(),
        },
    )


def _operation_form_page(request, operation):
    formsets = {
        "targets": TargetFormSet,
        "caps": CofinancingCapFormSet,
        "planned": PlannedEtpFormSet,
    }
    data = request.POST if request.method == "POST" else None
    form = OperationForm(data, instance=operation, plie=operation.plie)
    bound = {name: cls(data, instance=operation, prefix=name) for name, cls in formsets.items()}
    if data is not None and form.is_valid() and all(fs.is_valid() for fs in bound.values()):
        operation = form.save()
        for formset in bound.values():
            formset.instance = operation
            formset.save()
        messages.success(request, f"La fiche opération « {operation.title} » est enregistrée.")
        return redirect(operation)
    if data is not None:
        messages.error(request, "La fiche n’a pas été enregistrée : corrigez les champs signalés.")
    return render(request, "operations/operation_form.html", {"form": form, "operation": operation, **bound})


@require_http_methods(["GET", "POST"])
def operation_create(request):
    require_editor(request.user, request.plie)
    return _operation_form_page(request, Operation(plie=request.plie))


@require_http_methods(["GET", "POST"])
def operation_renew(request, pk):
    """« Reconduire la fiche »: next year's fiche of the same code, to adjust before it starts."""
    operation = get_for_edit(Operation.objects.select_related("plie"), request.user, pk=pk)
    start, end = next_period(operation)
    form = RenewalForm(_data(request), operation=operation, initial={"start": start, "end": end})
    if request.method == "POST" and form.is_valid():
        renewed = renew_operation(
            operation=operation, start=form.cleaned_data["start"], end=form.cleaned_data["end"], by=request.user
        )
        messages.success(
            request,
            f"La fiche {renewed.code} {renewed.years} est créée à partir de celle de {operation.years} : "
            "vérifiez ses montants, ses objectifs et ses zones.",
        )
        return redirect("operation_edit", renewed.pk)
    return render(
        request,
        "operations/form_page.html",
        {
            "form": form,
            "title": f"Reconduire la fiche {operation.code} {operation.years}",
            "cancel_url": operation.get_absolute_url(),
        },
    )


@require_http_methods(["GET", "POST"])
def operation_edit(request, pk):
    return _operation_form_page(request, get_for_edit(Operation.objects.select_related("plie"), request.user, pk=pk))


def _simple_form_page(request, form, title, success_message, back=None, **context):
    """Bind, validate, save, say so in French and go `back` (a URL name or an object; by default the saved object)."""
    if request.method == "POST":
        if form.is_valid():
            obj = form.save()
            messages.success(request, success_message.format(obj=obj))
            return redirect(back or obj)
        messages.error(request, "Rien n’a été enregistré : corrigez les champs signalés.")
    cancel_url = resolve_url(back or "home")
    return render(
        request, "operations/form_page.html", {"form": form, "title": title, "cancel_url": cancel_url, **context}
    )


def _data(request):
    return request.POST if request.method == "POST" else None


@require_http_methods(["GET", "POST"])
def zone_create(request):
    require_editor(request.user, request.plie)
    form = ZoneForm(_data(request), plie=request.plie)
    return _simple_form_page(request, form, "Nouvelle zone", "La zone « {obj} » est créée.", "home")


@require_http_methods(["GET", "POST"])
def zone_edit(request, pk):
    zone = get_for_edit(Zone.objects.select_related("plie"), request.user, pk=pk)
    form = ZoneForm(_data(request), instance=zone, plie=zone.plie)
    return _simple_form_page(request, form, f"Modifier la zone {zone}", "La zone « {obj} » est enregistrée.", "home")


def structure_list(request):
    structures = Structure.objects.filter(plie=request.plie).prefetch_related("referents") if request.plie else []
    return render(request, "operations/structure_list.html", {"structures": structures})


@require_http_methods(["GET", "POST"])
def structure_create(request):
    require_editor(request.user, request.plie)
    form = StructureForm(_data(request), plie=request.plie)
    return _simple_form_page(request, form, "Nouvelle structure", "La structure « {obj} » est créée.", "structure_list")


@require_http_methods(["GET", "POST"])
def structure_edit(request, pk):
    structure = get_for_edit(Structure.objects.select_related("plie"), request.user, pk=pk)
    form = StructureForm(_data(request), instance=structure, plie=structure.plie)
    return _simple_form_page(
        request,
        form,
        f"Modifier la structure {structure}",
        "La structure « {obj} » est enregistrée.",
        "structure_list",
    )


def referent_detail(request, pk):
    referent = get_for_user(Referent.objects.select_related("plie", "structure"), request.user, pk=pk)
    periods = referent.periods.select_related("operation", "zone").order_by("-start")
    by_operation = {}
    for period in periods:
        by_operation.setdefault(period.operation, []).append(EtpPeriod(period.etp, period.start, period.end))
    targets = Target.objects.filter(operation__in=by_operation).order_by()
    tables = [
        {
            "operation": operation,
            "table": targets_by_year(
                sorted((t for t in targets if t.operation_id == operation.pk), key=Target.display_order),
                etp_periods,
                operation.start,
                operation.end,
            ),
        }
        for operation, etp_periods in by_operation.items()
    ]
    return render(
        request,
        "operations/referent_detail.html",
        {
            "referent": referent,
            "periods": periods,
            "tables": tables,
            "can_edit": can_edit(request.user, referent.plie),
        },
    )


@require_http_methods(["GET", "POST"])
def referent_create(request):
    require_editor(request.user, request.plie)
    form = ReferentForm(_data(request), plie=request.plie)
    return _simple_form_page(
        request,
        form,
        "Nouveau référent de parcours",
        "Le référent {obj} est créé.",
    )


@require_http_methods(["GET", "POST"])
def referent_edit(request, pk):
    referent = get_for_edit(Referent.objects.select_related("plie"), request.user, pk=pk)
    form = ReferentForm(_data(request), instance=referent, plie=referent.plie)
    return _simple_form_page(
        request,
        form,
        f"Modifier {referent}",
        "Le référent {obj} est enregistré.",
        referent,
    )


@require_http_methods(["GET", "POST"])
def period_create(request, referent_pk):
    referent = get_for_edit(Referent.objects.select_related("plie"), request.user, pk=referent_pk)
    form = ReferentPeriodForm(_data(request), referent=referent)
    return _simple_form_page(
        request,
        form,
        f"Nouvelle période d’ETP de {referent}",
        "La période d’ETP est enregistrée.",
        referent,
    )


@require_http_methods(["GET", "POST"])
def period_edit(request, pk):
    period = get_for_edit(
        ReferentPeriod.objects.select_related("referent__plie"),
        request.user,
        plie_of=lambda p: p.referent.plie,
        pk=pk,
    )
    form = ReferentPeriodForm(_data(request), instance=period, referent=period.referent)
    return _simple_form_page(
        request,
        form,
        f"Période d’ETP de {period.referent}",
        "La période d’ETP est enregistrée.",
        period.referent,
        period=period,
    )


@require_POST
def period_delete(request, pk):
    period = get_for_edit(
        ReferentPeriod.objects.select_related("referent__plie"),
        request.user,
        plie_of=lambda p: p.referent.plie,
        pk=pk,
    )
    period.delete()
    messages.success(request, "La période d’ETP est supprimée.")
    return redirect(period.referent)
