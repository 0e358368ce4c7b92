from django import forms
from django.forms import inlineformset_factory

from plie.forms import TenantModelForm
from plie.versions import VersionedFormMixin
from territories.models import Commune, Zone

from .models import (
    CRITERIA,
    CofinancingCap,
    ExitReason,
    Operation,
    PlannedEtp,
    ProofType,
    Referent,
    ReferentPeriod,
    StepsCounted,
    Structure,
    Target,
)

DATE_INPUT = forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})


class OperationForm(VersionedFormMixin, TenantModelForm):
    versioned_label = "cette fiche opération"

    class Meta:
        model = Operation
        localized_fields = "__all__"
        fields = [
            "code",
            "title",
            "start",
            "end",
            "fse_ceiling",
            "referents_expected",
            "priority",
            "specific_objective",
            "context",
            "territory_notes",
            "content",
            "selection_criteria",
            "expected_proofs",
            "zones",
            "neutralised_exit_reasons",
            "vacancy_alert",
            "absence_alert_weeks",
            "min_etp_per_application",
        ]
        widgets = {
            "start": DATE_INPUT,
            "end": DATE_INPUT,
            "zones": forms.CheckboxSelectMultiple,
            "neutralised_exit_reasons": forms.CheckboxSelectMultiple,
            **{f: forms.Textarea(attrs={"rows": 3}) for f in ("priority", "specific_objective", "referents_expected")},
        }

    TEXT_FIELDS = [
        "referents_expected",
        "priority",
        "specific_objective",
        "context",
        "territory_notes",
        "content",
        "selection_criteria",
        "expected_proofs",
    ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        plie = self.instance.plie
        self.fields["zones"].queryset = Zone.objects.filter(plie=plie)
        self.fields["neutralised_exit_reasons"].queryset = ExitReason.objects.filter(plie=plie)

    def clean(self):
        cleaned = super().clean()
        code, start, end = cleaned.get("code"), cleaned.get("start"), cleaned.get("end")
        if code and start and end:
            clash = (
                Operation.objects.of_code(self.instance.plie, code)
                .filter(start__lte=end, end__gte=start)
                .exclude(pk=self.instance.pk)
                .first()
            )
            if clash:
                raise forms.ValidationError(
                    "La fiche %(code)s %(years)s couvre déjà une partie de cette période : une fiche d’un code donné "
                    "par année de programmation.",
                    params={"code": clash.code, "years": clash.years},
                    code="overlap",
                )
        return cleaned

    def text_fields(self):
        return [self[name] for name in self.TEXT_FIELDS]


class RenewalForm(forms.Form):
    start = forms.DateField(label="Début de la nouvelle fiche", widget=DATE_INPUT)
    end = forms.DateField(label="Fin de la nouvelle fiche", widget=DATE_INPUT)

    def __init__(self, *args, operation, **kwargs):
        super().__init__(*args, **kwargs)
        self.operation = operation

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end and end < start:
            raise forms.ValidationError("La fin de la fiche ne peut pas précéder son début.")
        if start and end:
            clash = Operation.objects.same_fiche_as(self.operation).filter(start__lte=end, end__gte=start).first()
            if clash:
                raise forms.ValidationError(
                    "La fiche %(code)s %(years)s couvre déjà une partie de cette période.",
                    params={"code": clash.code, "years": clash.years},
                )
        return cleaned


class RetentionForm(forms.Form):
    """What decides when a fiche's participants may be anonymised: the PLIE administrator's alone (RetentionForm is
    no ModelForm on purpose: its values are written by operations.services.set_retention, with its author)."""

    last_payment_year = forms.IntegerField(
        label="Année du dernier paiement FSE+",
        required=False,
        min_value=2000,
        max_value=2100,
        help_text="Fixe la date limite d’archivage : le 31 décembre de la cinquième année suivante.",
    )
    legal_hold = forms.BooleanField(
        label="Gel des données (contrôle ou contentieux en cours)",
        required=False,
        help_text="Tant qu’il est coché, aucun participant de la fiche n’est anonymisé ni effacé.",
    )

    def __init__(self, *args, operation, **kwargs):
        super().__init__(*args, **kwargs)
        self.operation = operation

    def clean_last_payment_year(self):
        year = self.cleaned_data["last_payment_year"]
        if year is not None and year < self.operation.end.year:
            raise forms.ValidationError(
                "Le dernier paiement ne peut pas précéder la fin de la fiche (%(year)s).",
                params={"year": self.operation.end.year},
            )
        return year


class TargetForm(forms.ModelForm):
    class Meta:
        model = Target
        localized_fields = "__all__"
        fields = [
            "kind", "scope", "qualifier", "value_min", "value_max", "basis", "label", "notes",
            "modalities", "remote_during_steps", "steps_counted", "protocol_start", "protocol_end",
        ]  # fmt: skip
        widgets = {"notes": forms.TextInput}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["steps_counted"].required = False

    def clean_steps_counted(self):
        return self.cleaned_data["steps_counted"] or StepsCounted.VALIDATED


class CofinancingCapForm(forms.ModelForm):
    class Meta:
        model = CofinancingCap
        localized_fields = "__all__"
        fields = ["beneficiary_kind", "rate"]


class PlannedEtpForm(forms.ModelForm):
    class Meta:
        model = PlannedEtp
        localized_fields = "__all__"
        fields = ["start", "end", "etp", "etp_max"]
        widgets = {"start": DATE_INPUT, "end": DATE_INPUT}


def operation_formset(form, extra):
    return inlineformset_factory(Operation, form.Meta.model, form=form, extra=extra, can_delete=True)


TargetFormSet = operation_formset(TargetForm, extra=2)
CofinancingCapFormSet = operation_formset(CofinancingCapForm, extra=1)
PlannedEtpFormSet = operation_formset(PlannedEtpForm, extra=1)


class ZoneForm(TenantModelForm):
    class Meta:
        model = Zone
        localized_fields = "__all__"
        fields = [
            "number", "name", "planned_etp", "planned_etp_max", "description", "communes",
            "within_commune", "qpv_name", "streets", "iris_codes",
        ]  # fmt: skip
        widgets = {"communes": forms.CheckboxSelectMultiple, "description": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["communes"].queryset = Commune.objects.of_plie(self.instance.plie)
        self.fields["within_commune"].queryset = Commune.objects.of_plie(self.instance.plie)
        self.fields["communes"].error_messages["invalid_choice"] = (
            "La commune %(value)s ne fait pas partie du territoire du PLIE."
        )


class StructureForm(TenantModelForm):
    class Meta:
        model = Structure
        fields = ["name", "kind", "city"]


class ReferentForm(TenantModelForm):
    class Meta:
        model = Referent
        fields = ["first_name", "last_name", "structure", "email"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["structure"].queryset = Structure.objects.filter(plie=self.instance.plie)


class ReferentPeriodForm(TenantModelForm):
    owner_field = "referent"

    class Meta:
        model = ReferentPeriod
        localized_fields = "__all__"
        fields = ["operation", "etp", "start", "end", "zone"]
        widgets = {"start": DATE_INPUT, "end": DATE_INPUT}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        plie = self.instance.referent.plie
        self.fields["operation"].queryset = Operation.objects.filter(plie=plie)
        self.fields["zone"].queryset = Zone.objects.filter(plie=plie)

    def clean(self):
        cleaned = super().clean()
        operation, start, end = cleaned.get("operation"), cleaned.get("start"), cleaned.get("end")
        if operation and start and not operation.start <= start <= operation.end:
            raise forms.ValidationError(
                "La période doit commencer dans la période d’exécution de la fiche (du %(start)s au %(end)s) ; "
                "au-delà de sa fin, elle compte pour la fiche suivante du même code.",
                params={"start": f"{operation.start:%d/%m/%Y}", "end": f"{operation.end:%d/%m/%Y}"},
                code="outside_operation",
            )
        if operation and start and (end is None or end >= start):
            clash = (
                ReferentPeriod.objects.filter(
                    referent=self.instance.referent,
                    operation__in=Operation.objects.same_fiche_as(operation).values("pk"),
                )
                .exclude(pk=self.instance.pk)
                .overlapping(start, end)
                .first()
            )
            if clash:
                raise forms.ValidationError(
                    "Cette période chevauche une autre période du même référent sur cette opération (%(other)s).",
                    params={"other": clash},
                    code="overlap",
                )
        return cleaned


class EligibilityRuleForm(forms.Form):
    criterion = forms.ChoiceField(
        label="Pour", choices=[("", "Toute personne qui entre sur la fiche"), *CRITERIA], required=False
    )
    proof_type = forms.ModelChoiceField(label="Justificatif exigé", queryset=ProofType.objects.none())

    def __init__(self, *args, plie, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["proof_type"].queryset = ProofType.objects.filter(plie=plie)


class ProofTypeForm(forms.ModelForm):
    class Meta:
        model = ProofType
        fields = ["label", "code", "validity_months"]

    def clean_code(self):
        code = self.cleaned_data["code"]
        if ProofType.objects.filter(plie=self.instance.plie, code=code).exists():
            raise forms.ValidationError("Ce code de justificatif existe déjà dans ce PLIE.")
        return code
