from django.urls import path

from . import views

urlpatterns = [
    path("imports/", views.import_list, name="import_list"),
    path("imports/nouveau/", views.import_create, name="import_create"),
    path("imports/<int:pk>/", views.import_detail, name="import_detail"),
    path("imports/fichiers/<int:pk>/correspondances/", views.import_mapping, name="import_mapping"),
    path("imports/<int:pk>/lancer/", views.import_start, name="import_start"),
    path("imports/<int:pk>/progression/", views.import_status, name="import_status"),
]
