from django import forms
from django.db.models import Q
from django.utils import timezone

from operations.forms import DATE_INPUT
from operations.models import IDENTITY_PROOF, ExitReason, Operation, ProofType, Referent
from plie.forms import TenantModelForm
from plie.text import french_key, gendered
from plie.uploads import check_upload
from plie.versions import VersionedFormMixin

from .models import (
    CRITERIA,
    Answer,
    AssignmentReason,
    CommissionOutcome,
    ContractType,
    Document,
    DocumentKind,
    Entretien,
    Participant,
    Participation,
    Prescriber,
    ReceptionKind,
    Status,
    WorkingTime,
)
from .participations import suggested_exit_situation

ANSWERS = [("", "Non renseigné"), *Answer.choices]


def not_in_future(value, what):
    if value and value > timezone.localdate():
        raise forms.ValidationError(f"{what} ne peut pas être dans le futur.", code="future")
    return value


class ParticipantForm(VersionedFormMixin, TenantModelForm):
    confirm_duplicate = forms.BooleanField(
        label="Je confirme qu’il s’agit d’une autre personne", required=False, widget=forms.HiddenInput
    )

    class Meta:
        model = Participant
        fields = [
            "last_name", "first_name", "sex", "birth_date", "email", "phone", "address", "postal_code", "commune",
            "external_id", "qualification_level", "qualification_declined", "employment_status", "unemployed_since",
            *[field for field, _ in CRITERIA], "other_criterion_detail",
            "disability", "nationality", "foreign_background", "homeless", "dependent_children", "questionnaire_date",
        ]  # fmt: skip
        widgets = {"birth_date": DATE_INPUT, "unemployed_since": DATE_INPUT, "questionnaire_date": DATE_INPUT}

    CRITERIA_FIELDS = [field for field, _ in CRITERIA]

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        communes = self.instance.plie.communes.all()
        self.fields["commune"].queryset = communes
        self.fields["commune"].choices = [
            ("", self.fields["commune"].empty_label),
            *((c.pk, str(c)) for c in sorted(communes, key=lambda c: french_key(c.name))),
        ]
        self.user = user
        self.duplicates = []  # those the user may open; the others are never named
        self.duplicate_found = False

    def clean_birth_date(self):
        return not_in_future(self.cleaned_data["birth_date"], "La date de naissance")

    def clean_questionnaire_date(self):
        return not_in_future(self.cleaned_data["questionnaire_date"], "La date du questionnaire")

    def clean_unemployed_since(self):
        return not_in_future(self.cleaned_data["unemployed_since"], "La date de début de chômage")

    def clean(self):
        cleaned = super().clean()
        last_name, first_name, birth_date = (cleaned.get(k) for k in ("last_name", "first_name", "birth_date"))
        if last_name and first_name and birth_date and not cleaned.get("confirm_duplicate"):
            same = Participant.objects.same_person(
                plie=self.instance.plie, last_name=last_name, first_name=first_name, birth_date=birth_date
            ).exclude(pk=self.instance.pk)
            self.duplicate_found = same.exists()
            self.duplicates = list(Participant.objects.for_user(self.user).filter(pk__in=same.values("pk")))
            if self.duplicates:
                self.fields["confirm_duplicate"].widget = forms.CheckboxInput()
                raise forms.ValidationError(
                    "Un dossier existe déjà pour %(name)s, %(born)s le %(birth)s. Ouvrez-le plutôt que d’en créer un "
                    "second, ou cochez la confirmation s’il s’agit d’une autre personne.",
                    params={
                        "name": f"{first_name} {last_name}",
                        "born": gendered(cleaned.get("sex"), "né", "née"),
                        "birth": f"{birth_date:%d/%m/%Y}",
                    },
                    code="duplicate",
                )
            if self.duplicate_found:
                # A colleague's, archived or restricted file: its existence is not the user's to learn from here.
                self.fields["confirm_duplicate"].widget = forms.CheckboxInput()
                raise forms.ValidationError(
                    "Avant d’enregistrer ce dossier, contactez l’équipe d’animation du PLIE : elle vérifiera qu’il ne "
                    "fait pas double emploi. Cochez ensuite la confirmation s’il s’agit bien d’une autre personne.",
                    code="duplicate_hidden",
                )
        return cleaned

    def criteria_fields(self):
        return [self[name] for name in self.CRITERIA_FIELDS]


class PrescriptionForm(forms.Form):
    prescriber = forms.ChoiceField(label="Prescripteur", choices=Prescriber.choices)
    prescriber_detail = forms.CharField(label="Précision (structure, conseiller…)", required=False)
    prescription_date = forms.DateField(label="Date de prescription", widget=DATE_INPUT)
    prescription_form = forms.FileField(label="Fiche de prescription (PDF, JPEG ou PNG)", required=False)

    def clean_prescription_form(self):
        return check_upload(self.cleaned_data["prescription_form"])


class ReceptionForm(forms.Form):
    date = forms.DateField(label="Date d’accueil", widget=DATE_INPUT)
    kind = forms.ChoiceField(label="Modalité", choices=ReceptionKind.choices)


class CommissionForm(forms.Form):
    date = forms.DateField(label="Date de la commission", widget=DATE_INPUT)
    outcome = forms.ChoiceField(label="Décision", choices=CommissionOutcome.choices, widget=forms.RadioSelect)
    reason = forms.CharField(
        label="Motif (obligatoire en cas de refus ou d’ajournement)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def clean(self):
        cleaned = super().clean()
        if (
            cleaned.get("outcome") in (CommissionOutcome.REFUSED, CommissionOutcome.POSTPONED)
            and not cleaned.get("reason", "").strip()
        ):
            self.add_error("reason", "Un refus ou un ajournement doit être motivé.")
        return cleaned


class IntegrationForm(forms.Form):
    entry_date = forms.DateField(label="Date de signature du contrat d’engagement", widget=DATE_INPUT)
    operation = forms.ModelChoiceField(label="Fiche opération", queryset=Operation.objects.none())
    referent = forms.ModelChoiceField(label="Référent de parcours", queryset=Referent.objects.none())
    signed_contract = forms.FileField(label="Contrat d’engagement signé (PDF, JPEG ou PNG)", required=False)

    def __init__(self, *args, plie, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["operation"].queryset = Operation.objects.filter(plie=plie).order_by("-start")
        self.fields["referent"].queryset = Referent.objects.filter(plie=plie).select_related("structure")

    def clean_signed_contract(self):
        return check_upload(self.cleaned_data["signed_contract"])


class AssignmentForm(forms.Form):
    referent = forms.ModelChoiceField(label="Nouveau référent", queryset=Referent.objects.none())
    on = forms.DateField(label="À partir du", widget=DATE_INPUT)
    reason = forms.ChoiceField(
        label="Motif", choices=[c for c in AssignmentReason.choices if c[0] != AssignmentReason.INTEGRATION]
    )

    def __init__(self, *args, plie, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["referent"].queryset = Referent.objects.filter(plie=plie).select_related("structure")


class EmploymentForm(forms.Form):
    job_start = forms.DateField(label="Début de l’emploi", widget=DATE_INPUT)
    contract_type = forms.ChoiceField(label="Type de contrat", choices=ContractType.choices)


class ExitForm(forms.Form):
    exit_date = forms.DateField(label="Date de sortie", widget=DATE_INPUT)
    reason = forms.ModelChoiceField(label="Motif de sortie", queryset=ExitReason.objects.none())
    contract_months = forms.DecimalField(
        label="Durée du contrat (mois)",
        required=False,
        min_value=0,
        max_digits=4,
        decimal_places=1,
        help_text="Vide pour un CDI ou une création ; la fiche dit si « 6 mois et plus » ou « plus de 6 mois » compte.",
    )
    working_time = forms.ChoiceField(
        label="Temps de travail", choices=[("", "—"), *WorkingTime.choices], required=False
    )
    months_in_year = forms.IntegerField(
        label="Mois travaillés sur l’année", required=False, min_value=1, max_value=12,
        help_text="Pour le travail saisonnier.",
    )  # fmt: skip
    training_validated_on = forms.DateField(
        label="Formation validée le", required=False, widget=DATE_INPUT,
        help_text="Une sortie en formation qualifiante se valide à la validation de la formation si la fiche le dit.",
    )  # fmt: skip
    proof = forms.FileField(label="Justificatif (contrat de travail, attestation…)", required=False)
    exit_job_searching = forms.ChoiceField(
        label="FSE+ — à la sortie : en recherche d’emploi",
        choices=ANSWERS,
        required=False,
        help_text="Situation à la sortie, plusieurs réponses possibles ; laissée vide, l’équipe la confirmera "
        "depuis la liste des participants de l’opération, où le motif la propose.",
    )
    exit_training = forms.ChoiceField(
        label="FSE+ — à la sortie : en études ou en formation", choices=ANSWERS, required=False
    )
    exit_qualification = forms.ChoiceField(
        label="FSE+ — à la sortie : qualification obtenue", choices=ANSWERS, required=False
    )
    exit_employment = forms.ChoiceField(
        label="FSE+ — à la sortie : en emploi (ou indépendant)", choices=ANSWERS, required=False
    )

    def __init__(self, *args, plie, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].queryset = ExitReason.objects.filter(plie=plie, is_active=True)
        self.fields["reason"].error_messages["invalid_choice"] = (
            "Ce motif de sortie n’existe pas dans la nomenclature du PLIE."
        )

    def clean_exit_date(self):
        return not_in_future(self.cleaned_data["exit_date"], "La date de sortie")

    def clean_proof(self):
        return check_upload(self.cleaned_data["proof"])


class EntretienForm(forms.ModelForm):
    sheet = forms.FileField(label="Feuille d’émargement scannée (PDF, JPEG ou PNG)", required=False)

    class Meta:
        model = Entretien
        fields = ["date", "modality", "duration", "summary", "signed", "next_appointment"]
        widgets = {"date": DATE_INPUT, "next_appointment": DATE_INPUT, "summary": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args, participant, **kwargs):
        super().__init__(*args, **kwargs)
        self.participant = participant

    def clean_date(self):
        return not_in_future(self.cleaned_data["date"], "La date de l’entretien")

    def clean_sheet(self):
        return check_upload(self.cleaned_data["sheet"])

    def clean(self):
        cleaned = super().clean()
        day = cleaned.get("date")
        if day:
            # A positive exit waiting for validation is still followed in employment: entretiens go on.
            parcours = (
                self.participant.parcours.filter(entry_date__lte=day)
                .filter(Q(exit_date__isnull=True) | Q(exit_date__gte=day) | Q(status=Status.EXIT_PENDING))
                .first()
            )
            if parcours is None:
                self.add_error(
                    "date",
                    "Ce jour-là, la personne n’avait pas de parcours en cours : l’entretien ne peut pas être saisi.",
                )
            self.instance.parcours = parcours
        if cleaned.get("next_appointment") and day and cleaned["next_appointment"] <= day:
            self.add_error("next_appointment", "Le prochain rendez-vous doit suivre l’entretien.")
        return cleaned


class DocumentForm(forms.ModelForm):
    class Meta:
        model = Document
        fields = ["kind", "proof_type", "attests_on", "file"]
        labels = {"file": "Fichier (PDF, JPEG ou PNG)"}
        widgets = {"attests_on": DATE_INPUT}

    def __init__(self, *args, plie, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["proof_type"].queryset = ProofType.objects.filter(plie=plie)
        self.fields["proof_type"].label = "Pièce d’éligibilité (si c’en est une)"
        self.fields["kind"].required = False

    def clean_file(self):
        return check_upload(self.cleaned_data["file"])

    def clean(self):
        """A proof of eligibility files itself (identity document or proof of eligibility) and must be dated: the
        controller judges it by the date it attests."""
        cleaned = super().clean()
        proof_type = cleaned.get("proof_type")
        if proof_type:
            cleaned["kind"] = DocumentKind.IDENTITY if proof_type.code == IDENTITY_PROOF else DocumentKind.ELIGIBILITY
            if not cleaned.get("attests_on"):
                self.add_error("attests_on", "Indiquez la date du document : elle compte pour l’éligibilité.")
        elif not cleaned.get("kind"):
            self.add_error("kind", "Choisissez le type de justificatif.")
        if cleaned.get("attests_on") and cleaned["attests_on"] > timezone.localdate():
            self.add_error("attests_on", "La date du document ne peut pas être dans le futur.")
        return cleaned


class ContractForm(forms.Form):
    participant_on = forms.DateField(label="Signé par le participant le", widget=DATE_INPUT, required=False)
    referent_on = forms.DateField(label="Signé par le référent le", widget=DATE_INPUT, required=False)
    direction_on = forms.DateField(label="Signé par la direction du PLIE le", widget=DATE_INPUT, required=False)
    fse_notice_on = forms.DateField(
        label="Notice d’information FSE+ remise le",
        widget=DATE_INPUT,
        required=False,
        help_text="Le participant est informé du concours du Fonds social européen+ à son parcours.",
    )


class WaiverForm(forms.Form):
    reason = forms.CharField(label="Motif de la dérogation", widget=forms.Textarea(attrs={"rows": 3}))
    signatory = forms.CharField(label="Signée par (direction du PLIE)", max_length=150)
    signed_on = forms.DateField(label="Signée le", widget=DATE_INPUT)
    letter = forms.FileField(label="Dérogation signée (PDF, JPEG ou PNG)")

    def clean_letter(self):
        return check_upload(self.cleaned_data["letter"])


class ExitSituationForm(forms.Form):
    """The situation upon leaving a fiche (shared/spec/fse.md): four answers, several may be « Oui »."""

    exit_job_searching = forms.ChoiceField(label="Recherche d’emploi", choices=ANSWERS, required=False)
    exit_training = forms.ChoiceField(label="Études ou formation", choices=ANSWERS, required=False)
    exit_qualification = forms.ChoiceField(label="Qualification obtenue", choices=ANSWERS, required=False)
    exit_employment = forms.ChoiceField(label="En emploi (ou indépendant)", choices=ANSWERS, required=False)

    def __init__(self, *args, participation, **kwargs):
        super().__init__(*args, **kwargs)
        self.participation = participation
        for field in self.fields.values():
            field.widget.attrs["class"] = "form-select form-select-sm"


def exit_situation_forms(participations, data, today):
    """{participation pk: form} for the participations that have left the fiche, pre-filled with what was recorded
    or else with what the exit reason of the parcours that ended that day suggests."""
    forms_by_pk = {}
    for participation in participations:
        if participation.exit_date(today) is None:
            continue
        if participation.exit_recorded:
            initial = {field: getattr(participation, field) for field in Participation.EXIT_FIELDS}
        else:
            initial = suggested_exit_situation(participation)
        forms_by_pk[participation.pk] = ExitSituationForm(
            data, participation=participation, initial=initial, prefix=f"p{participation.pk}"
        )
    return forms_by_pk


class EntrySituationForm(forms.ModelForm):
    """A correction of a participation's frozen entry situation, with its reason (audited)."""

    reason = forms.CharField(label="Motif de la correction", max_length=100)

    class Meta:
        model = Participation
        fields = [
            "employment_status", "unemployed_since", "education", "disability", "nationality", "foreign_background",
            "homeless",
        ]  # fmt: skip
        widgets = {"unemployed_since": DATE_INPUT}


class QueueFilterForm(forms.Form):
    """The filters and the order of a validation queue; every field may stay empty."""

    start_label = "Du"
    sorts = [
        ("recentes", "Les plus récentes d’abord"),
        ("anciennes", "Les plus anciennes d’abord"),
        ("participant", "Participant (A → Z)"),
        ("referent", "Référent (A → Z)"),
    ]

    referent = forms.ModelChoiceField(label="Référent", queryset=None, required=False, empty_label="Tous les référents")
    proofs = forms.ChoiceField(
        label="Justificatifs",
        required=False,
        choices=[("", "Complets ou non"), ("complets", "Complets"), ("manquants", "Manquants")],
    )
    start = forms.DateField(label="Du", required=False, widget=DATE_INPUT)
    end = forms.DateField(label="au", required=False, widget=DATE_INPUT)
    sort = forms.ChoiceField(label="Ordre", required=False)

    def __init__(self, *args, plie, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["referent"].queryset = Referent.objects.filter(plie=plie).order_by("last_name", "first_name")
        self.fields["start"].label = self.start_label
        self.fields["sort"].choices = self.sorts


class ExitQueueFilterForm(QueueFilterForm):
    start_label = "Sorties du"
    sorts = QueueFilterForm.sorts[:3]


class EntretienCorrectionForm(forms.ModelForm):
    reason = forms.CharField(
        label="Motif de la correction",
        max_length=100,
        help_text="Gardé dans l’historique avec le texte d’avant (faute de frappe, erreur de date, demande de la personne…).",
    )

    class Meta:
        model = Entretien
        fields = ["modality", "duration", "summary", "signed"]
        widgets = {"summary": forms.Textarea(attrs={"rows": 10})}


class SheetForm(forms.Form):
    sheet = forms.FileField(label="Feuille d’émargement signée (PDF, JPEG ou PNG)")

    def clean_sheet(self):
        return check_upload(self.cleaned_data["sheet"])
