from axes.admin import AccessAttemptAdmin, AccessFailureLogAdmin, AccessLogAdmin
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.apps import apps
from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin as BaseGroupAdmin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.models import Group, Permission
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice
from import_export.admin import ExportMixin

from .models import (
    AuthenticatorApp,
    LoginAttempt,
    LoginFailure,
    LoginRecord,
    Membership,
    Plie,
    RecoveryCodes,
    User,
)

# Django names its permissions « Can add … » in English, once, in the database.
ACTIONS = {"add": "ajouter", "change": "modifier", "delete": "supprimer", "view": "voir"}


def is_technical_superuser(user):
    return user.is_active and user.is_staff and user.is_superuser


class PersonalDataAdmin:
    """The Django admin of a model about people (participants, prospects, referents): a technical superuser's alone,
    whatever permissions or PLIE memberships a staff account holds, because the admin sees every PLIE at once.
    Every list, page, history and export it serves is written to the consultation journal."""

    def has_module_permission(self, request):
        return is_technical_superuser(request.user)

    def has_view_permission(self, request, obj=None):
        return is_technical_superuser(request.user) and super().has_view_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return is_technical_superuser(request.user) and super().has_change_permission(request, obj)

    def has_add_permission(self, request, *args):
        return is_technical_superuser(request.user) and super().has_add_permission(request, *args)

    def has_delete_permission(self, request, obj=None):
        return is_technical_superuser(request.user) and super().has_delete_permission(request, obj)

    def _journal(self, request, detail, object_id=None):
        # The journal is the participants' (a higher app): reached by its name, not imported.
        participant_id = object_id if self.model._meta.label == "participants.Participant" else None
        apps.get_model("participants", "FileAccess").objects.create(
            user=request.user,
            what="administration",
            participant_id=participant_id if str(participant_id or "").isdigit() else None,
            detail=f"{self.model._meta.label} : {detail}"[:200],
        )

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        if response.status_code == 200:
            self._journal(request, "liste")
        return response

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        response = super().changeform_view(request, object_id, form_url, extra_context)
        if response.status_code == 200 and object_id:
            self._journal(request, f"fiche n° {object_id}", object_id)
        return response

    def history_view(self, request, object_id, extra_context=None):
        response = super().history_view(request, object_id, extra_context)
        if response.status_code == 200:
            self._journal(request, f"historique n° {object_id}", object_id)
        return response

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        response = super().history_form_view(request, object_id, version_id, extra_context)
        if response.status_code == 200:
            self._journal(request, f"version {version_id} de la fiche n° {object_id}", object_id)
        return response


class JournalledExport(ExportMixin):
    """django-import-export's export for a PersonalDataAdmin: the technical superuser's alone, and journalled (left
    to itself, the export is open to any staff account when IMPORT_EXPORT_EXPORT_PERMISSION_CODE is unset)."""

    def has_export_permission(self, request):
        return is_technical_superuser(request.user)

    def get_export_data(self, file_format, request, queryset, **kwargs):
        data = super().get_export_data(file_format, request, queryset, **kwargs)
        self._journal(request, f"export {file_format.get_title()} de {queryset.count()} ligne(s)")
        return data


def permission_label(permission):
    """« Agenda et accueil | rendez-vous | peut ajouter » for Django's own permissions; a project's own as named."""
    model = permission.content_type.model_class()
    action, _, model_name = permission.codename.partition("_")
    if model is None or action not in ACTIONS or model_name != model._meta.model_name:
        return str(permission)
    return f"{model._meta.app_config.verbose_name} | {model._meta.verbose_name} | peut {ACTIONS[action]}"


class FrenchPermissions:
    """The permission pickers in French, without the permissions of the history tables (written by the application,
    never through the admin) nor those of the packages' models the admin shows through French proxies."""

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name in ("permissions", "user_permissions"):
            kwargs["queryset"] = (
                Permission.objects.exclude(content_type__model__startswith="historical")
                .exclude(content_type__app_label__in=["otp_totp", "otp_static", "axes"])
                .select_related("content_type")
                .order_by("content_type__app_label", "content_type__model", "codename")
            )
        field = super().formfield_for_manytomany(db_field, request, **kwargs)
        if db_field.name in ("permissions", "user_permissions"):
            field.label_from_instance = permission_label
        return field


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 1
    autocomplete_fields = ["plie"]


@admin.register(User)
class UserAdmin(FrenchPermissions, BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "first_name", "last_name", "is_active", "is_staff", "last_login"]
    search_fields = ["email", "first_name", "last_name"]
    list_filter = ["is_active", "is_staff", "memberships__role", "memberships__plie"]
    inlines = [MembershipInline]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Identité", {"fields": ["first_name", "last_name"]}),
        ("Droits", {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]}),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "password1", "password2"]})]


@admin.register(Plie)
class PlieAdmin(admin.ModelAdmin):
    list_display = ["name", "slug"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "plie", "role"]
    list_filter = ["plie", "role"]
    search_fields = ["user__email", "user__last_name"]
    autocomplete_fields = ["user", "plie"]


class ConfirmedFilter(admin.SimpleListFilter):
    title = "confirmé"
    parameter_name = "confirme"

    def lookups(self, request, model_admin):
        return [("oui", "Oui"), ("non", "Non")]

    def queryset(self, request, queryset):
        return queryset.filter(confirmed=self.value() == "oui") if self.value() else queryset


class SecondFactorAdmin(admin.ModelAdmin):
    """A second factor, seen and deleted here, never made or edited: its owner enrols from an e-mailed link
    (plie.mfa), and its secret is never shown. Deleting it makes its owner enrol again at the next login."""

    list_display = ["owner", "device_name", "is_confirmed", "created", "last_used"]
    list_filter = [ConfirmedFilter]
    list_select_related = ["user"]
    search_fields = ["user__email", "user__last_name"]
    fields = readonly_fields = ["owner", "device_name", "is_confirmed", "created", "last_used", "failures"]

    def has_module_permission(self, request):
        return is_technical_superuser(request.user)

    def has_view_permission(self, request, obj=None):
        return is_technical_superuser(request.user)

    def has_delete_permission(self, request, obj=None):
        return is_technical_superuser(request.user)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="titulaire", ordering="user__email")
    def owner(self, device):
        return device.user

    @admin.display(description="nom", ordering="name")
    def device_name(self, device):
        return device.name

    @admin.display(description="confirmé", boolean=True, ordering="confirmed")
    def is_confirmed(self, device):
        return device.confirmed

    @admin.display(description="créé le", ordering="created_at")
    def created(self, device):
        return device.created_at

    @admin.display(description="dernière utilisation", ordering="last_used_at")
    def last_used(self, device):
        return device.last_used_at

    @admin.display(description="échecs successifs")
    def failures(self, device):
        return device.throttling_failure_count


admin.site.unregister([TOTPDevice, StaticDevice])
admin.site.register(AuthenticatorApp, SecondFactorAdmin)
admin.site.register(RecoveryCodes, SecondFactorAdmin)


admin.site.unregister(Group)


@admin.register(Group)
class GroupAdmin(FrenchPermissions, BaseGroupAdmin):
    pass


admin.site.unregister([AccessAttempt, AccessLog, AccessFailureLog])
admin.site.register(LoginAttempt, AccessAttemptAdmin)
admin.site.register(LoginRecord, AccessLogAdmin)
admin.site.register(LoginFailure, AccessFailureLogAdmin)
