from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from plie.admin import PersonalDataAdmin

from .models import (
    CofinancingCap,
    EligibilityRule,
    ExitReason,
    Operation,
    PlannedEtp,
    ProofType,
    Referent,
    ReferentPeriod,
    Structure,
    Target,
)


class TargetInline(admin.TabularInline):
    model = Target
    extra = 0


class CofinancingCapInline(admin.TabularInline):
    model = CofinancingCap
    extra = 0


class PlannedEtpInline(admin.TabularInline):
    model = PlannedEtp
    extra = 0


class EligibilityRuleInline(admin.TabularInline):
    model = EligibilityRule
    extra = 0


@admin.register(Operation)
class OperationAdmin(SimpleHistoryAdmin):
    list_display = ["code", "title", "plie", "start", "end", "fse_ceiling"]
    list_filter = ["plie"]
    search_fields = ["code", "title"]
    inlines = [CofinancingCapInline, PlannedEtpInline, TargetInline, EligibilityRuleInline]
    filter_horizontal = ["zones", "neutralised_exit_reasons"]


@admin.register(Structure)
class StructureAdmin(SimpleHistoryAdmin):
    list_display = ["name", "kind", "plie"]
    list_filter = ["plie", "kind"]
    search_fields = ["name"]


class ReferentPeriodInline(admin.TabularInline):
    model = ReferentPeriod
    extra = 0


@admin.register(Referent)
class ReferentAdmin(PersonalDataAdmin, SimpleHistoryAdmin):
    list_display = ["last_name", "first_name", "structure", "plie"]
    list_filter = ["plie"]
    search_fields = ["last_name", "first_name", "email"]
    inlines = [ReferentPeriodInline]


@admin.register(ExitReason)
class ExitReasonAdmin(admin.ModelAdmin):
    list_display = ["label", "category", "conditions", "validation", "plie", "is_active"]
    list_filter = ["plie", "category", "validation", "is_active"]
    fieldsets = [
        (None, {"fields": ["plie", "label", "category", "fse_result", "position", "is_active"]}),
        (
            "Définition de la fiche",
            {
                "fields": [
                    "contract_type",
                    "min_months",
                    "duration_rule",
                    "working_time",
                    "min_months_in_year",
                    "validation",
                ],  # fmt: skip
                "description": "Une sortie de ce motif ne compte dans sa catégorie que si elle remplit ces conditions.",
            },
        ),
    ]

    @admin.display(description="conditions")
    def conditions(self, reason):
        return reason.conditions or "—"

    search_fields = ["label"]


@admin.register(Target)
class TargetAdmin(SimpleHistoryAdmin):
    list_display = ["operation", "kind", "scope", "value_min", "value_max", "basis"]
    list_filter = ["operation__plie", "kind"]


@admin.register(ProofType)
class ProofTypeAdmin(SimpleHistoryAdmin):
    list_display = ["label", "code", "validity_months", "plie"]
    list_filter = ["plie"]
    search_fields = ["label", "code"]
