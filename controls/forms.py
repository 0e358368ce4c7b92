from django import forms

from operations.forms import DATE_INPUT
from operations.models import StaffProofKind
from participants.models import Participation
from plie.uploads import check_upload


class SampleForm(forms.Form):
    size = forms.IntegerField(label="Nombre de participants à tirer au sort", min_value=1, max_value=500, initial=10)
    reference = forms.CharField(label="Référence du contrôle (facultatif)", max_length=200, required=False)


class ControllerListForm(forms.Form):
    participations = forms.ModelMultipleChoiceField(
        label="Participants demandés par le contrôleur",
        queryset=Participation.objects.none(),
        widget=forms.SelectMultiple(attrs={"size": 12}),
    )
    reference = forms.CharField(label="Référence du contrôle (facultatif)", max_length=200, required=False)

    def __init__(self, *args, operation, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["participations"].queryset = (
            Participation.objects.filter(operation=operation)
            .select_related("participant")
            .order_by("participant__last_name", "participant__first_name")
        )
        self.fields["participations"].label_from_instance = lambda p: (
            f"{p.participant} (né(e) le {p.participant.birth_date:%d/%m/%Y})"
        )


class StaffTimeProofForm(forms.Form):
    month = forms.DateField(label="Mois (n’importe quel jour du mois)", widget=DATE_INPUT)
    kind = forms.ChoiceField(label="Nature", choices=StaffProofKind.choices)
    hours = forms.DecimalField(label="Heures consacrées à l’opération", required=False, min_value=0, localize=True)
    file = forms.FileField(label="Fichier (PDF, JPEG ou PNG)")

    def clean_file(self):
        return check_upload(self.cleaned_data["file"])
