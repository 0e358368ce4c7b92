from django.urls import path

from . import views

urlpatterns = [
    path("participants/<int:pk>/imprimer/contrat-engagement.pdf", views.contract, name="print_contract"),
    path("participants/<int:pk>/imprimer/questionnaire-fse.pdf", views.questionnaire, name="print_questionnaire"),
    path("participants/<int:pk>/imprimer/synthese.pdf", views.summary, name="print_summary"),
]
