from django import forms
from django.forms import inlineformset_factory

from operations.forms import DATE_INPUT
from operations.models import Structure
from plie.uploads import check_upload
from territories.models import Zone

from .models import Application, ExpenseCategory, Outcome, ProposedReferent, RegulationMeeting


class ApplicationForm(forms.ModelForm):
    class Meta:
        model = Application
        localized_fields = "__all__"
        fields = [
            "structure", "contact_name", "contact_email", "etp_proposed", "zones_requested", "start", "end",
            "salaries", "indirect_rate", "other_costs", "fse_requested", "other_cofinancing", "counterpart",
            "criteria_answers",
        ]  # fmt: skip
        widgets = {"start": DATE_INPUT, "end": DATE_INPUT, "zones_requested": forms.CheckboxSelectMultiple}

    def __init__(self, *args, operation, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.operation = operation
        self.fields["structure"].queryset = Structure.objects.filter(plie=operation.plie)
        self.fields["zones_requested"].queryset = operation.zones.all() or Zone.objects.filter(plie=operation.plie)

    def clean(self):
        cleaned = super().clean()
        start, end, operation = cleaned.get("start"), cleaned.get("end"), self.instance.operation
        if start and end and (start < operation.start or end > operation.end):
            raise forms.ValidationError(
                "Les dates doivent se situer dans la période de la fiche (du %(start)s au %(end)s).",
                params={"start": f"{operation.start:%d/%m/%Y}", "end": f"{operation.end:%d/%m/%Y}"},
            )
        return cleaned


class ProposedReferentForm(forms.ModelForm):
    class Meta:
        model = ProposedReferent
        localized_fields = "__all__"
        fields = ["first_name", "last_name", "etp", "zone"]

    def __init__(self, *args, plie, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["zone"].queryset = Zone.objects.filter(plie=plie)
        self.fields["zone"].error_messages["invalid_choice"] = "Cette zone n’appartient pas au PLIE."


ProposedReferentFormSet = inlineformset_factory(
    Application, ProposedReferent, form=ProposedReferentForm, extra=2, can_delete=True
)


class DecisionForm(forms.Form):
    outcome = forms.ChoiceField(
        label="Décision", choices=[c for c in Outcome.choices if c[0] != Outcome.SUBMITTED], widget=forms.RadioSelect
    )
    decided_on = forms.DateField(label="Date du comité de pilotage", widget=DATE_INPUT)
    etp_granted = forms.DecimalField(label="ETP accordés", required=False, localize=True, min_value=0)
    fse_granted = forms.DecimalField(
        label="FSE+ accordé (€)", required=False, localize=True, min_value=0, decimal_places=2
    )
    zones = forms.ModelMultipleChoiceField(
        label="Zones attribuées", queryset=Zone.objects.none(), required=False, widget=forms.CheckboxSelectMultiple
    )
    notes = forms.CharField(label="Motifs et modifications", required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, application, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["zones"].queryset = Zone.objects.filter(plie=application.operation.plie)
        self.fields["zones"].error_messages["invalid_choice"] = "La zone %(value)s n’appartient pas au PLIE."

    def clean(self):
        cleaned = super().clean()
        if (
            cleaned.get("outcome") in (Outcome.REFUSED, Outcome.ACCEPTED_WITH_CHANGES)
            and not cleaned.get("notes", "").strip()
        ):
            self.add_error("notes", "Indiquez le motif du refus ou les modifications décidées.")
        return cleaned


class RegulationForm(forms.ModelForm):
    class Meta:
        model = RegulationMeeting
        fields = ["structure", "date", "attendees", "minutes", "sheet"]
        widgets = {
            "date": DATE_INPUT,
            "attendees": forms.Textarea(attrs={"rows": 2}),
            "minutes": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, operation, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.operation = operation
        self.fields["structure"].queryset = Structure.objects.filter(plie=operation.plie)

    def clean_sheet(self):
        return check_upload(self.cleaned_data.get("sheet"))


class ExpenseForm(forms.Form):
    application = forms.ModelChoiceField(label="Structure (candidature retenue)", queryset=Application.objects.none())
    category = forms.ChoiceField(label="Catégorie", choices=ExpenseCategory.choices)
    label = forms.CharField(label="Libellé", max_length=200)
    amount = forms.DecimalField(
        label="Montant payé (€)", max_digits=12, decimal_places=2, min_value=0.01, localize=True
    )
    paid_on = forms.DateField(label="Payée le", widget=DATE_INPUT)
    proof = forms.FileField(label="Pièce (facture, état de paie… PDF, JPEG ou PNG)", required=False)

    def __init__(self, *args, operation, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["application"].queryset = (
            Application.objects.accepted().filter(operation=operation).select_related("structure")
        )
        self.fields["application"].label_from_instance = lambda application: application.structure.name

    def clean_proof(self):
        return check_upload(self.cleaned_data.get("proof"))
