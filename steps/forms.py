from django import forms

from participants.forms import DATE_INPUT, QueueFilterForm
from participants.models import DocumentKind, Participant
from plie.forms import TenantModelForm
from plie.uploads import check_upload
from plie.versions import VersionedFormMixin

from .models import Attendance, CollectiveSession, Step, StepCategory, StepType


def step_type_field_queryset(plie):
    return StepType.objects.filter(category__plie=plie, is_active=True).select_related("category")


class StepForm(VersionedFormMixin, forms.ModelForm):
    versioned_label = "cette étape"

    class Meta:
        model = Step
        fields = ["step_type", "partner", "start", "end", "status", "notes"]
        widgets = {"start": DATE_INPUT, "end": DATE_INPUT, "notes": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, plie, **kwargs):
        super().__init__(*args, **kwargs)
        types = step_type_field_queryset(plie)
        if self.instance.step_type_id:  # a type retired since stays available to the steps that have it
            types = types | StepType.objects.filter(pk=self.instance.step_type_id, category__plie=plie)
        self.fields["step_type"].queryset = types.distinct()
        self.fields["step_type"].error_messages["invalid_choice"] = (
            "Ce type d’étape n’appartient pas à la nomenclature du PLIE."
        )


class ProofForm(forms.Form):
    kind = forms.ChoiceField(label="Type de justificatif", choices=DocumentKind.choices)
    file = forms.FileField(label="Fichier (PDF, JPEG ou PNG)")

    def clean_file(self):
        return check_upload(self.cleaned_data["file"])


class RefusalForm(forms.Form):
    reason = forms.CharField(label="Motif du refus", widget=forms.Textarea(attrs={"rows": 3}))


class StepTypeForm(forms.ModelForm):
    class Meta:
        model = StepType
        fields = ["category", "label", "counts_toward_target", "is_active"]

    def __init__(self, *args, plie, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = StepCategory.objects.filter(plie=plie)


class StepCategoryForm(TenantModelForm):
    class Meta:
        model = StepCategory
        fields = ["name", "position", "remote_follow_up"]


class GridVersionForm(forms.Form):
    approved_on = forms.DateField(label="Approuvée par le comité de pilotage le", widget=DATE_INPUT)
    notes = forms.CharField(label="Ce qui change", required=False, widget=forms.Textarea(attrs={"rows": 2}))


class GridRuleForm(forms.Form):
    criteria = forms.CharField(label="Critères qualitatifs", required=False, widget=forms.Textarea(attrs={"rows": 2}))
    required_proofs = forms.MultipleChoiceField(
        label="Justificatifs exigés", choices=DocumentKind.choices, required=False, widget=forms.CheckboxSelectMultiple
    )


class SessionForm(TenantModelForm):
    class Meta:
        model = CollectiveSession
        fields = ["kind", "theme", "date", "facilitator", "place", "step_type"]
        widgets = {"date": DATE_INPUT}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["step_type"].queryset = step_type_field_queryset(self.instance.plie)


class AttendanceForm(TenantModelForm):
    owner_field = "session"
    participant = forms.ModelChoiceField(label="Participant", queryset=Participant.objects.none(), required=False)

    class Meta:
        model = Attendance
        fields = ["participant", "prospect_name", "prospect_contact", "present"]

    def __init__(self, *args, participants, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["participant"].queryset = participants


class StepQueueFilterForm(QueueFilterForm):
    start_label = "Soumises du"
