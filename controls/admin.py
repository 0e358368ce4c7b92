from django.contrib import admin

from .models import AuditPack


@admin.register(AuditPack)
class AuditPackAdmin(admin.ModelAdmin):
    """Read-only: the draws and their state, never the content (the ZIP is downloaded from the team's page)."""

    list_display = ["operation", "mode", "population", "status", "requested_by", "requested_at", "expires_on"]
    list_filter = ["status", "mode"]
    fields = ["operation", "mode", "seed", "population", "reference", "status", "progress", "missing",
              "requested_by", "requested_at", "expires_on", "purged_at"]  # fmt: skip
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
