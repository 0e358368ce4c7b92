from django.urls import path

from . import views

urlpatterns = [
    path("participants/<int:pk>/export/", views.participant_export, name="participant_export"),
    path("participants/<int:pk>/effacement/", views.participant_erase, name="participant_erase"),
    path("participants/<int:pk>/gel/", views.participant_legal_hold, name="participant_legal_hold"),
    path("participants/<int:pk>/limitation/", views.participant_restrict, name="participant_restrict"),
    path(
        "participants/<int:pk>/levee-limitation/",
        views.participant_lift_restriction,
        name="participant_lift_restriction",
    ),
    path("archives/", views.archive_list, name="archive_list"),
    path("archives/<int:pk>/", views.archive_detail, name="archive_detail"),
]
