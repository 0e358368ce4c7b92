from django.urls import path

from . import views

urlpatterns = [
    path("tableau-de-bord/", views.dashboard, name="dashboard"),
    path("tableau-de-bord/graphiques/<slug:name>.svg", views.chart, name="dashboard_chart"),
    path("tableau-de-bord/participants/<slug:key>/", views.behind_figure, name="behind_figure"),
    path("tableau-de-bord/export.<str:fmt>", views.export, name="dashboard_export"),
    path("indicateurs/", views.definitions, name="definitions"),
    path("bilans/", views.bilan_list, name="bilan_list"),
    path("bilans/<int:pk>/", views.bilan_detail, name="bilan_detail"),
    path("bilans/<int:pk>/etat/", views.bilan_status, name="bilan_status"),
    path("bilans/<int:pk>/pdf/", views.bilan_download, name="bilan_download"),
    path("bilans/<int:pk>/relancer/", views.bilan_retry, name="bilan_retry"),
    path("operations/<int:operation_pk>/ma-demarche-fse/", views.mdfse_export, name="mdfse_export"),
    path("ma-demarche-fse/colonnes/", views.mdfse_columns, name="mdfse_columns"),
]
