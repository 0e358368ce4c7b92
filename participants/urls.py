from django.urls import path

from . import views

urlpatterns = [
    path("participants/", views.participant_list, name="participant_list"),
    path("participants/nouveau/", views.participant_create, name="participant_create"),
    path("participants/<int:pk>/", views.participant_detail, name="participant_detail"),
    path("participants/<int:pk>/modifier/", views.participant_edit, name="participant_edit"),
    path("participants/<int:pk>/historique/", views.participant_history, name="participant_history"),
    path("participants/<int:pk>/prescription/", views.prescription_create, name="prescription_create"),
    path("participants/<int:pk>/entretiens/nouveau/", views.entretien_create, name="entretien_create"),
    path("entretiens/<int:pk>/", views.entretien_detail, name="entretien_detail"),
    path("entretiens/<int:pk>/corriger/", views.entretien_edit, name="entretien_edit"),
    path("participants/<int:pk>/justificatifs/nouveau/", views.document_create, name="document_create"),
    path("justificatifs/<int:pk>/", views.document_download, name="document_download"),
    path("parcours/<int:pk>/accueil/", views.parcours_reception, name="parcours_reception"),
    path("parcours/<int:pk>/commission/", views.parcours_commission, name="parcours_commission"),
    path("parcours/<int:pk>/integration/", views.parcours_integration, name="parcours_integration"),
    path("parcours/<int:pk>/contrat/", views.parcours_contract, name="parcours_contract"),
    path("parcours/<int:pk>/derogation/", views.parcours_waiver, name="parcours_waiver"),
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
