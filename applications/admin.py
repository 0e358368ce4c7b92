from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from plie.admin import PersonalDataAdmin

from .models import Application, ProposedReferent, RegulationMeeting


class ProposedReferentInline(admin.TabularInline):
    model = ProposedReferent
    extra = 0


@admin.register(Application)
class ApplicationAdmin(PersonalDataAdmin, SimpleHistoryAdmin):
    list_display = ["structure", "operation", "outcome", "etp_proposed", "fse_requested", "fse_granted"]
    list_filter = ["outcome", "operation__plie"]
    inlines = [ProposedReferentInline]


@admin.register(RegulationMeeting)
class RegulationMeetingAdmin(admin.ModelAdmin):
    list_display = ["operation", "structure", "date"]
    list_filter = ["operation__plie"]
