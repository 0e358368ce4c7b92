from django.urls import path

from . import views

urlpatterns = [
    path("participants/", views.participant_list, name="participant_list"),
    path("participants/nouveau/", views.participant_create, name="participant_create"),
    path("participants/<int:pk>/", views.participant_detail, name="participant_detail"),
    path("participants/<int:pk>/modifier/", views.participant_edit, name="participant_edit"),
    path("participants/<int:pk>/historique/", views.participant_history, name="participant_history"),
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
    path("participants/<int:pk>/prescription/", views.prescription_create, name="prescription_create"),
    path("participants/<int:pk>/entretiens/nouveau/", views.entretien_create, name="entretien_create"),
    path("participants/<int:pk>/justificatifs/nouveau/", views.document_create, name="document_create"),
    path("justificatifs/<int:pk>/", views.document_download, name="document_download"),
    path("parcours/<int:pk>/accueil/", views.parcours_reception, name="parcours_reception"),
    path("parcours/<int:pk>/commission/", views.parcours_commission, name="parcours_commission"),
    path("parcours/<int:pk>/integration/", views.parcours_integration, name="parcours_integration"),
    path("parcours/<int:pk>/affectation/", views.parcours_assignment, name="parcours_assignment"),
    path("parcours/<int:pk>/emploi/", views.parcours_employment, name="parcours_employment"),
    path("parcours/<int:pk>/sortie/", views.parcours_exit, name="parcours_exit"),
    path("parcours/<int:pk>/valider-sortie/", views.parcours_validate_exit, name="parcours_validate_exit"),
    path("portefeuille/", views.my_portfolio, name="portfolio"),
    path("portefeuilles/", views.team_portfolios, name="team_portfolios"),
    path("commissions/", views.commission_agenda, name="commission_agenda"),
    path("sorties-a-valider/", views.exits_to_validate, name="exits_to_validate"),
    path(
        "operations/<int:operation_pk>/participations/",
        views.operation_participations,
        name="operation_participations",
    ),
    path("participations/<int:pk>/corriger/", views.participation_correct, name="participation_correct"),
]
