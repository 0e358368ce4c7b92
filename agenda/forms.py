import datetime

from django import forms
from django.utils import timezone

from operations.models import Referent
from participants.models import CommissionOutcome, Modality, Parcours, Participant, Status

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
TIME_INPUT = forms.TimeInput(attrs={"type": "time", "step": 300}, format="%H:%M")


class AppointmentForm(forms.Form):
    participant = forms.ModelChoiceField(label="Participant", queryset=Participant.objects.none())
    referent = forms.ModelChoiceField(label="Référent", queryset=Referent.objects.none())
    day = forms.DateField(label="Date", widget=DATE_INPUT)
    time = forms.TimeField(label="Heure", widget=TIME_INPUT)
    duration = forms.IntegerField(label="Durée (minutes)", min_value=5, max_value=600, initial=45)
    modality = forms.ChoiceField(label="Modalité", choices=Modality.choices, initial=Modality.IN_PERSON)
    place = forms.CharField(
        label="Lieu",
        max_length=200,
        required=False,
        help_text="Adresse ou salle ; numéro de téléphone ou lien de visio. Il figure dans le rappel envoyé.",
    )
    purpose = forms.CharField(label="Objet", max_length=200, required=False)

    def __init__(
        self, *args, participants, referents, fixed_participant=None, fixed_referent=None, editing=False, **kwargs
    ):
        super().__init__(*args, **kwargs)
        self.editing = editing
        self.fields["participant"].queryset = participants
        self.fields["referent"].queryset = referents
        if fixed_participant is not None:
            self.fields["participant"].initial = fixed_participant
            self.fields["participant"].widget = forms.HiddenInput()
        if fixed_referent is not None:
            self.fields["referent"].initial = fixed_referent
            self.fields["referent"].widget = forms.HiddenInput()

    @classmethod
    def initial_from(cls, appointment):
        local = timezone.localtime(appointment.starts_at)
        return {
            "participant": appointment.participant,
            "referent": appointment.referent,
            "day": local.date(),
            "time": local.time(),
            "duration": appointment.duration,
            "modality": appointment.modality,
            "place": appointment.place,
            "purpose": appointment.purpose,
        }

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("day") and cleaned.get("time"):
            starts_at = datetime.datetime.combine(
                cleaned["day"], cleaned["time"], tzinfo=timezone.get_current_timezone()
            )
            if starts_at < timezone.now() - datetime.timedelta(minutes=5) and not self.editing:
                self.add_error("day", "Un rendez-vous se planifie à venir ; un entretien passé se saisit sur la fiche.")
            cleaned["starts_at"] = starts_at
        participant = cleaned.get("participant")
        if participant is not None:
            cleaned["parcours"] = (
                participant.parcours.exclude(status__in=[Status.EXITED, Status.REFUSED]).order_by("-pk").first()
            )
            if cleaned["parcours"] is None:
                self.add_error("participant", "Cette personne n’a pas de parcours en cours.")
        return cleaned

    def write_kwargs(self):
        data = self.cleaned_data
        return {key: data[key] for key in ("referent", "starts_at", "duration", "modality", "place", "purpose")}


class FeedForm(forms.Form):
    action = forms.ChoiceField(choices=[("renew", "renew"), ("revoke", "revoke")])


class CommissionSessionForm(forms.Form):
    date = forms.DateField(label="Date de la séance", widget=DATE_INPUT)
    place = forms.CharField(label="Lieu", max_length=200, required=False)
    members = forms.CharField(
        label="Membres",
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Un membre par ligne : nom et institution (France Travail, Département, CCAS…).",
    )
    parcours = forms.ModelMultipleChoiceField(
        label="Dossiers à présenter",
        queryset=Parcours.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="Les personnes accueillies ou ajournées, qui attendent la décision de la commission.",
    )
    notes = forms.CharField(label="Observations générales", widget=forms.Textarea(attrs={"rows": 3}), required=False)

    def __init__(self, *args, waiting, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["parcours"].queryset = waiting
        self.fields["parcours"].label_from_instance = lambda p: (
            f"{p.participant} — {p.get_status_display().lower()}, prescrit le {p.prescription_date:%d/%m/%Y}"
        )


class DecisionForm(forms.Form):
    """One row of the session's decisions; the prefix carries the parcours id."""

    outcome = forms.ChoiceField(
        label="Décision",
        choices=[("", "— pas de décision —"), *CommissionOutcome.choices],
        required=False,
        widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
    )
    reason = forms.CharField(
        label="Motif",
        max_length=500,
        required=False,
        widget=forms.TextInput(attrs={"class": "form-control form-control-sm"}),
    )

    def clean(self):
        cleaned = super().clean()
        if (
            cleaned.get("outcome") in (CommissionOutcome.REFUSED, CommissionOutcome.POSTPONED)
            and not cleaned.get("reason", "").strip()
        ):
            self.add_error("reason", "Un refus ou un ajournement doit être motivé.")
        return cleaned


def appointments_initial_day(value):
    try:
        return datetime.date.fromisoformat(value) if value else None
    except ValueError:
        return None
