from django.contrib import admin

from .models import StepCategory, StepType


class StepTypeInline(admin.TabularInline):
    model = StepType
    extra = 0


@admin.register(StepCategory)
class StepCategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "plie", "position"]
    list_filter = ["plie"]
    inlines = [StepTypeInline]


@admin.register(StepType)
class StepTypeAdmin(admin.ModelAdmin):
    list_display = ["label", "category", "counts_toward_target", "is_active"]
    list_filter = ["category__plie", "counts_toward_target", "is_active"]
    search_fields = ["label"]
