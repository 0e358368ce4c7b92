from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from plie.admin import PersonalDataAdmin

from .models import Attendance, CollectiveSession, GridRule, GridVersion, Step, StepCategory, StepType


class StepTypeInline(admin.TabularInline):
    model = StepType
    extra = 0


@admin.register(StepCategory)
class StepCategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "plie", "position", "remote_follow_up"]
    list_filter = ["plie"]
    inlines = [StepTypeInline]


@admin.register(StepType)
class StepTypeAdmin(admin.ModelAdmin):
    list_display = ["label", "category", "counts_toward_target", "is_active"]
    list_filter = ["category__plie", "counts_toward_target", "is_active"]
    search_fields = ["label"]


class GridRuleInline(admin.TabularInline):
    model = GridRule
    extra = 0


@admin.register(GridVersion)
class GridVersionAdmin(admin.ModelAdmin):
    list_display = ["plie", "approved_on", "notes"]
    list_filter = ["plie"]
    inlines = [GridRuleInline]


@admin.register(Step)
class StepAdmin(PersonalDataAdmin, SimpleHistoryAdmin):
    list_display = ["parcours", "step_type", "start", "end", "status", "validation"]
    list_filter = ["validation", "status", "step_type__category__plie"]
    raw_id_fields = ["parcours", "proofs"]


class AttendanceInline(admin.TabularInline):
    model = Attendance
    extra = 0
    raw_id_fields = ["participant", "step"]


@admin.register(CollectiveSession)
class CollectiveSessionAdmin(PersonalDataAdmin, admin.ModelAdmin):
    list_display = ["theme", "kind", "date", "plie", "step_type"]
    list_filter = ["plie", "kind"]
    inlines = [AttendanceInline]
