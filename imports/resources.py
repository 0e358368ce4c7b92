"""django-import-export resources: the four extracts in their canonical format (shared/spec/import-format.md).

They serve the Django admin's exports, so that a file exported here is one the import takes back unchanged. The bulk
import itself does not go through them: row by row they are two orders of magnitude slower than imports/engine.py
(see `manage.py bench --imports`).
"""

from import_export import fields, resources, widgets
from import_export.formats.base_formats import CSV, XLSX

from operations.models import ReferentPeriod
from participants.models import Entretien, Parcours
from plie.spreadsheet import safe_row
from steps.models import Step, Validation


class NeutralisedFormulae:
    """Every cell goes through the project's formula neutraliser (plie/spreadsheet.py), whatever the settings say;
    django-import-export's own escaping strips a single leading « = » and nothing else."""

    def export_data(self, dataset, **kwargs):
        rows = [safe_row(row) for row in dataset]
        while dataset.height:
            dataset.lpop()
        dataset.extend(rows)
        return super().export_data(dataset, **kwargs)

    def _escape_formulae(self, dataset):
        pass  # done above, once


class FrenchCSV(NeutralisedFormulae, CSV):
    """CSV as French spreadsheet software reads it: semicolons."""

    def create_dataset(self, in_stream, **kwargs):
        return super().create_dataset(in_stream, delimiter=";", **kwargs)

    def export_data(self, dataset, **kwargs):
        return super().export_data(dataset, delimiter=";", **kwargs)


class SafeXLSX(NeutralisedFormulae, XLSX):
    pass


FORMATS = [FrenchCSV, SafeXLSX]
DAY = widgets.DateWidget(format="%d/%m/%Y")


class YesNo(widgets.BooleanWidget):
    def render(self, value, obj=None, **kwargs):
        return "" if value is None else "Oui" if value else "Non"


def column(name, attribute=None, widget=None):
    return fields.Field(column_name=name, attribute=attribute, widget=widget, readonly=True)


class ParcoursResource(resources.ModelResource):
    participant_id = column("ID participant", "participant__external_id")
    parcours_id = column("ID parcours", "external_id")
    last_name = column("Nom", "participant__last_name")
    first_name = column("Prénom", "participant__first_name")
    sex = column("Sexe", "participant__sex")
    birth_date = column("Date de naissance", "participant__birth_date", DAY)
    insee = column("Code INSEE", "participant__commune_id")
    postal_code = column("Code postal", "participant__postal_code")
    qpv = column("QPV", "participant__qpv", YesNo())
    level = column("Niveau de formation", "participant__qualification_level")
    rsa = column("RSA", "participant__rsa", YesNo())
    rqth = column("RQTH", "participant__rqth", YesNo())
    deld = column("DELD", "participant__deld", YesNo())
    bpi = column("BPI", "participant__bpi", YesNo())
    prescriber = column("Prescripteur")
    entry_date = column("Date d’entrée", "entry_date", DAY)
    exit_date = column("Date de sortie", "exit_date", DAY)
    exit_reason = column("Motif de sortie", "exit_reason__label")
    referent = column("Référent")
    structure = column("Structure")

    class Meta:
        model = Parcours
        fields = (
            "participant_id",
            "parcours_id",
            "last_name",
            "first_name",
            "sex",
            "birth_date",
            "insee",
            "postal_code",
            "qpv",
            "level",
            "rsa",
            "rqth",
            "deld",
            "bpi",
            "prescriber",
            "entry_date",
            "exit_date",
            "exit_reason",
            "referent",
            "structure",
        )

    def get_queryset(self):
        return (
            Parcours.objects.exclude(entry_date=None)
            .select_related("participant", "exit_reason")
            .prefetch_related("assignments__referent__structure")
        )

    def _first_referent(self, parcours):
        assignments = sorted(parcours.assignments.all(), key=lambda a: (a.start, a.pk))
        return assignments[0].referent if assignments else None

    def dehydrate_prescriber(self, parcours):
        return parcours.prescriber_detail or parcours.get_prescriber_display()

    def dehydrate_referent(self, parcours):
        referent = self._first_referent(parcours)
        return referent.full_name if referent else ""

    def dehydrate_structure(self, parcours):
        referent = self._first_referent(parcours)
        return referent.structure.name if referent else ""


class StepResource(resources.ModelResource):
    step_id = column("ID étape", "external_id")
    participant_id = column("ID participant", "parcours__participant__external_id")
    parcours_id = column("ID parcours", "parcours__external_id")
    step_type = column("Type d’étape", "step_type__label")
    start = column("Date de début", "start", DAY)
    end = column("Date de fin", "end", DAY)
    state = column("Statut")
    validated = column("Validée")
    partner = column("Organisme", "partner")

    class Meta:
        model = Step
        fields = (
            "step_id",
            "participant_id",
            "parcours_id",
            "step_type",
            "start",
            "end",
            "state",
            "validated",
            "partner",
        )

    def get_queryset(self):
        return Step.objects.select_related("parcours__participant", "step_type")

    def dehydrate_state(self, step):
        return step.get_status_display()

    def dehydrate_validated(self, step):
        return "Oui" if step.validation == Validation.VALIDATED else "Non"


class EntretienResource(resources.ModelResource):
    entretien_id = column("ID entretien", "external_id")
    participant_id = column("ID participant", "participant__external_id")
    date = column("Date", "date", DAY)
    modality = column("Modalité")
    referent = column("Référent")
    signed = column("Émargement", "signed", YesNo())

    class Meta:
        model = Entretien
        fields = (
            "entretien_id",
            "participant_id",
            "date",
            "modality",
            "referent",
            "signed",
        )

    def get_queryset(self):
        return Entretien.objects.select_related("participant", "referent")

    def dehydrate_modality(self, entretien):
        return entretien.get_modality_display()

    def dehydrate_referent(self, entretien):
        return entretien.referent.full_name if entretien.referent else ""


class ReferentPeriodResource(resources.ModelResource):
    referent = column("Référent")
    structure = column("Structure", "referent__structure__name")
    operation = column("Opération", "operation__code")
    etp = column("ETP")
    start = column("Date de début", "start", DAY)
    end = column("Date de fin", "end", DAY)
    zone = column("Zone", "zone__name")
    email = column("Email", "referent__email")

    class Meta:
        model = ReferentPeriod
        fields = (
            "referent",
            "structure",
            "operation",
            "etp",
            "start",
            "end",
            "zone",
            "email",
        )

    def get_queryset(self):
        return ReferentPeriod.objects.select_related("referent__structure", "operation", "zone")

    def dehydrate_referent(self, period):
        return period.referent.full_name

    def dehydrate_etp(self, period):
        return f"{period.etp.normalize():f}".replace(".", ",")
