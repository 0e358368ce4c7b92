from django.urls import path

from . import views

urlpatterns = [
    path("operations/<int:pk>/controle/", views.completeness_page, name="completeness"),
    path("operations/<int:pk>/controle/dossiers/", views.pack_request, name="audit_pack_request"),
    path("operations/<int:pk>/controle/temps/", views.staff_time_page, name="staff_time"),
    path("controle/periodes/<int:pk>/justificatif/", views.staff_time_upload, name="staff_time_upload"),
    path("controle/temps/<int:pk>/fichier/", views.staff_time_download, name="staff_time_download"),
    path("controle/dossiers/<int:pk>/", views.pack_detail, name="audit_pack_detail"),
    path("controle/dossiers/<int:pk>/telecharger/", views.pack_download, name="audit_pack_download"),
]
