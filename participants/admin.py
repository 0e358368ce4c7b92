from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from plie.admin import PersonalDataAdmin

from .models import (
    CommissionDecision,
    Document,
    Entretien,
    FileAccess,
    Parcours,
    Participant,
    Participation,
    ReferentAssignment,
)


class ParcoursInline(admin.TabularInline):
    model = Parcours
    extra = 0
    fields = ["status", "operation", "prescription_date", "entry_date", "exit_date", "exit_reason"]
    show_change_link = True


@admin.register(Participant)
class ParticipantAdmin(PersonalDataAdmin, SimpleHistoryAdmin):
    list_display = ["last_name", "first_name", "birth_date", "plie", "external_id"]
    list_filter = ["plie"]
    search_fields = ["folded_name"]
    autocomplete_fields = ["commune"]
    inlines = [ParcoursInline]

    def get_search_results(self, request, queryset, search_term):
        """The same search as the application's: accents, case and hyphens do not matter."""
        if not search_term.strip():
            return queryset, False
        return queryset.search(search_term), False


class DecisionInline(admin.TabularInline):
    model = CommissionDecision
    extra = 0


class AssignmentInline(admin.TabularInline):
    model = ReferentAssignment
    extra = 0


@admin.register(Parcours)
class ParcoursAdmin(PersonalDataAdmin, SimpleHistoryAdmin):
    list_display = ["participant", "status", "operation", "prescription_date", "entry_date", "exit_date"]
    list_filter = ["status", "participant__plie"]
    search_fields = ["participant__last_name", "external_id"]
    raw_id_fields = ["participant"]
    inlines = [DecisionInline, AssignmentInline]


@admin.register(Entretien)
class EntretienAdmin(PersonalDataAdmin, SimpleHistoryAdmin):
    list_display = ["participant", "date", "modality", "referent", "signed"]
    list_filter = ["modality", "participant__plie"]
    raw_id_fields = ["participant", "parcours"]


@admin.register(Document)
class DocumentAdmin(PersonalDataAdmin, SimpleHistoryAdmin):
    list_display = ["participant", "kind", "original_name", "uploaded_at", "uploaded_by"]
    list_filter = ["kind"]
    raw_id_fields = ["participant", "parcours", "entretien"]


@admin.register(FileAccess)
class FileAccessAdmin(PersonalDataAdmin, admin.ModelAdmin):
    list_display = ["at", "user", "participant", "what"]
    list_filter = ["what"]
    raw_id_fields = ["participant"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Participation)
class ParticipationAdmin(PersonalDataAdmin, SimpleHistoryAdmin):
    """Read-only: the dates follow attribution and a correction goes through correct_entry_situation."""

    list_display = ["participant", "operation", "entry_date", "last_day", "referent"]
    list_filter = ["operation__plie"]
    raw_id_fields = ["participant"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
