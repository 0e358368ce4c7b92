from django.urls import path

from . import views

urlpatterns = [
    path("configuration/", views.home, name="configuration"),
    path("operations/nouvelle/", views.operation_create, name="operation_create"),
    path("operations/<int:pk>/", views.operation_detail, name="operation_detail"),
    path("operations/<int:pk>/modifier/", views.operation_edit, name="operation_edit"),
    path("operations/<int:pk>/reconduire/", views.operation_renew, name="operation_renew"),
    path("operations/<int:pk>/eligibilite/", views.eligibility_rules, name="eligibility_rules"),
    path("operations/<int:pk>/conservation/", views.operation_retention, name="operation_retention"),
    path("zones/nouvelle/", views.zone_create, name="zone_create"),
    path("zones/<int:pk>/modifier/", views.zone_edit, name="zone_edit"),
    path("structures/", views.structure_list, name="structure_list"),
    path("structures/nouvelle/", views.structure_create, name="structure_create"),
    path("structures/<int:pk>/modifier/", views.structure_edit, name="structure_edit"),
    path("referents/nouveau/", views.referent_create, name="referent_create"),
    path("referents/<int:pk>/", views.referent_detail, name="referent_detail"),
    path("referents/<int:pk>/modifier/", views.referent_edit, name="referent_edit"),
    path("referents/<int:referent_pk>/periodes/nouvelle/", views.period_create, name="period_create"),
    path("periodes/<int:pk>/modifier/", views.period_edit, name="period_edit"),
    path("periodes/<int:pk>/supprimer/", views.period_delete, name="period_delete"),
]
