from django.urls import path

from . import views

urlpatterns = [
    path("agenda/", views.agenda, name="agenda"),
    path("agenda/rendez-vous/nouveau/", views.appointment_create, name="appointment_create"),
    path("agenda/rendez-vous/<int:pk>/", views.appointment_detail, name="appointment_detail"),
    path("agenda/rendez-vous/<int:pk>/modifier/", views.appointment_edit, name="appointment_edit"),
    path("agenda/rendez-vous/<int:pk>/suite/", views.appointment_outcome, name="appointment_outcome"),
    path("agenda/abonnement/", views.feed_settings, name="feed_settings"),
    path("agenda/ics/<str:token>.ics", views.calendar_feed, name="calendar_feed"),
    path("commissions/seances/", views.session_list, name="commission_session_list"),
    path("commissions/seances/nouvelle/", views.session_form, name="commission_session_create"),
    path("commissions/seances/<int:pk>/", views.session_detail, name="commission_session_detail"),
    path("commissions/seances/<int:pk>/modifier/", views.session_form, name="commission_session_edit"),
    path("commissions/seances/<int:pk>/proces-verbal.pdf", views.session_minutes, name="commission_session_minutes"),
]
