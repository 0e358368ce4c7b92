from django.urls import path

from . import views

urlpatterns = [
    path("parcours/<int:pk>/etapes/nouvelle/", views.step_create, name="step_create"),
    path("etapes/a-valider/", views.validation_queue, name="validation_queue"),
    path("etapes/nomenclature/", views.nomenclature, name="nomenclature"),
    path("etapes/types/nouveau/", views.step_type_create, name="step_type_create"),
    path("etapes/types/<int:pk>/modifier/", views.step_type_edit, name="step_type_edit"),
    path("etapes/categories/nouvelle/", views.step_category_create, name="step_category_create"),
    path("etapes/grille/", views.grid, name="grid"),
    path("etapes/grille/nouvelle/", views.grid_version_create, name="grid_version_create"),
    path("etapes/grille/<int:pk>/", views.grid_version_detail, name="grid_version_detail"),
    path("etapes/<int:pk>/", views.step_detail, name="step_detail"),
    path("etapes/<int:pk>/modifier/", views.step_edit, name="step_edit"),
    path("etapes/<int:pk>/justificatifs/", views.step_proof_add, name="step_proof_add"),
    path("etapes/<int:pk>/soumettre/", views.step_submit, name="step_submit"),
    path("etapes/<int:pk>/valider/", views.step_validate, name="step_validate"),
    path("etapes/<int:pk>/refuser/", views.step_refuse, name="step_refuse"),
    path("ateliers/", views.session_list, name="session_list"),
    path("ateliers/nouveau/", views.session_create, name="session_create"),
    path("ateliers/<int:pk>/", views.session_detail, name="session_detail"),
    path("ateliers/<int:pk>/presences/", views.session_presence, name="session_presence"),
    path("ateliers/<int:pk>/etapes/", views.session_steps, name="session_steps"),
]
