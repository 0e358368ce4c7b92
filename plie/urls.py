from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from agenda import views as agenda
from operations import views as operations
from plie import mfa
from plie import views as plie
from plie.forms import LoginForm

admin.site.site_header = "Administration PLIE"
admin.site.site_title = "Administration PLIE"
admin.site.index_title = "Toutes les données"

urlpatterns = [
    path("", agenda.home, name="home"),
    path("configuration/", operations.home, name="configuration"),
    path(
        "connexion/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True, authentication_form=LoginForm),
        name="login",
    ),
    path("deconnexion/", auth_views.LogoutView.as_view(), name="logout"),
    path("mot-de-passe/oublie/", plie.PasswordResetView.as_view(), name="password_reset"),
    path("mot-de-passe/oublie/envoye/", auth_views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "mot-de-passe/nouveau/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path("mot-de-passe/nouveau/fait/", auth_views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
    path("mot-de-passe/changer/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("mot-de-passe/changer/fait/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("plie/changer/", plie.switch_plie, name="switch_plie"),
    path("confidentialite/", plie.privacy, name="privacy"),
    path("securite/double-authentification/", mfa.mfa_setup, name="mfa_setup"),
    path("securite/double-authentification/activer/<str:token>/", mfa.mfa_enrol, name="mfa_enrol"),
    path("securite/code/", mfa.mfa_verify, name="mfa_verify"),
    path("operations/nouvelle/", operations.operation_create, name="operation_create"),
    path("operations/<int:pk>/", operations.operation_detail, name="operation_detail"),
    path("operations/<int:pk>/modifier/", operations.operation_edit, name="operation_edit"),
    path("operations/<int:pk>/reconduire/", operations.operation_renew, name="operation_renew"),
    path("operations/<int:pk>/conservation/", operations.operation_retention, name="operation_retention"),
    path("zones/nouvelle/", operations.zone_create, name="zone_create"),
    path("zones/<int:pk>/modifier/", operations.zone_edit, name="zone_edit"),
    path("structures/", operations.structure_list, name="structure_list"),
    path("structures/nouvelle/", operations.structure_create, name="structure_create"),
    path("structures/<int:pk>/modifier/", operations.structure_edit, name="structure_edit"),
    path("referents/nouveau/", operations.referent_create, name="referent_create"),
    path("referents/<int:pk>/", operations.referent_detail, name="referent_detail"),
    path("referents/<int:pk>/modifier/", operations.referent_edit, name="referent_edit"),
    path("referents/<int:referent_pk>/periodes/nouvelle/", operations.period_create, name="period_create"),
    path("periodes/<int:pk>/modifier/", operations.period_edit, name="period_edit"),
    path("periodes/<int:pk>/supprimer/", operations.period_delete, name="period_delete"),
    path("", include("participants.urls")),
    path("", include("steps.urls")),
    path("", include("reporting.urls")),
    path("", include("applications.urls")),
    path("", include("imports.urls")),
    path("", include("printouts.urls")),
    path("", include("agenda.urls")),
    path("admin/", admin.site.urls),
]

handler500 = "plie.views.server_error"
