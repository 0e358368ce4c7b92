from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from operations.models import ReferentPeriod
from participants.admin import EntretienAdmin, ParcoursAdmin
from participants.models import Entretien, Parcours
from plie.admin import JournalledExport, PersonalDataAdmin
from steps.admin import StepAdmin
from steps.models import Step

from .models import ColumnMapping, ImportFile, ImportRun
from .resources import FORMATS, EntretienResource, ParcoursResource, ReferentPeriodResource, StepResource


class ImportFileInline(admin.TabularInline):
    model = ImportFile
    extra = 0
    fields = ["name", "kind", "checksum", "size", "rows_created", "rows_updated", "rows_unchanged", "is_rejected"]
    readonly_fields = fields
    can_delete = False

    @admin.display(description="créées")
    def rows_created(self, file):
        return file.created

    @admin.display(description="mises à jour")
    def rows_updated(self, file):
        return file.updated

    @admin.display(description="inchangées")
    def rows_unchanged(self, file):
        return file.unchanged

    @admin.display(description="refusé", boolean=True)
    def is_rejected(self, file):
        return file.rejected


@admin.register(ImportRun)
class ImportRunAdmin(PersonalDataAdmin, admin.ModelAdmin):
    list_display = ["created_at", "plie", "created_by", "status"]
    list_filter = ["plie", "status"]
    readonly_fields = ["plie", "created_by", "status", "progress", "progress_label", "error", "finished_at"]
    inlines = [ImportFileInline]


@admin.register(ColumnMapping)
class ColumnMappingAdmin(admin.ModelAdmin):
    list_display = ["plie", "kind", "header", "column"]
    list_filter = ["plie", "kind"]


def with_export(model, model_admin, resource):
    """The app's admin for `model`, plus an export in the format the import takes back."""
    admin.site.unregister(model)
    exporting = type(
        f"Exporting{model_admin.__name__}",
        (JournalledExport, model_admin),
        {"resource_classes": [resource], "formats": FORMATS, "to_encoding": "utf-8-sig"},
    )
    admin.site.register(model, exporting)


with_export(Parcours, ParcoursAdmin, ParcoursResource)
with_export(Step, StepAdmin, StepResource)
with_export(Entretien, EntretienAdmin, EntretienResource)


@admin.register(ReferentPeriod)
class ReferentPeriodAdmin(JournalledExport, PersonalDataAdmin, SimpleHistoryAdmin):
    list_display = ["referent", "operation", "etp", "start", "end", "zone"]
    list_filter = ["operation__plie"]
    raw_id_fields = ["referent"]
    resource_classes = [ReferentPeriodResource]
    formats = FORMATS
    to_encoding = "utf-8-sig"
