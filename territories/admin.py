from django.contrib import admin

from .models import Commune, Permanence, TerritoryCommune, Zone


@admin.register(Commune)
class CommuneAdmin(admin.ModelAdmin):
    list_display = ["code_insee", "name", "department", "epci_name", "population"]
    list_filter = ["department"]
    search_fields = ["code_insee", "name", "epci_name", "postal_codes"]


@admin.register(TerritoryCommune)
class TerritoryCommuneAdmin(admin.ModelAdmin):
    list_display = ["commune", "plie"]
    list_filter = ["plie"]
    search_fields = ["commune__name", "commune__code_insee"]
    autocomplete_fields = ["commune", "plie"]


class PermanenceInline(admin.TabularInline):
    model = Permanence
    extra = 0


@admin.register(Zone)
class ZoneAdmin(admin.ModelAdmin):
    inlines = [PermanenceInline]
    list_display = ["name", "number", "plie", "planned_etp"]
    list_filter = ["plie"]
    search_fields = ["name"]
    autocomplete_fields = ["communes", "within_commune"]
