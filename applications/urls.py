from django.urls import path

from . import views

urlpatterns = [
    path("operations/<int:pk>/financement/", views.funding, name="funding"),
    path("operations/<int:pk>/bilan-financier/", views.financial_bilan_page, name="financial_bilan"),
    path("operations/<int:pk>/financement.csv", views.funding_export, name="funding_export"),
    path("operations/<int:pk>/candidatures/nouvelle/", views.application_create, name="application_create"),
    path("operations/<int:pk>/regulation/nouvelle/", views.regulation_create, name="regulation_create"),
    path("candidatures/<int:pk>/", views.application_detail, name="application_detail"),
    path("candidatures/<int:pk>/modifier/", views.application_edit, name="application_edit"),
]
