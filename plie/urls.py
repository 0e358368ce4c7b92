from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from plie import mfa
from plie import views as plie
from plie.forms import LoginForm

admin.site.site_header = "Administration PLIE"
admin.site.site_title = "Administration PLIE"
admin.site.index_title = "Toutes les données"

urlpatterns = [
    path("", include("home.urls")),
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
    path("", include("operations.urls")),
    path("", include("participants.urls")),
    path("", include("steps.urls")),
    path("", include("applications.urls")),
    path("", include("reporting.urls")),
    path("", include("controls.urls")),
    path("", include("privacy.urls")),
    path("", include("imports.urls")),
    path("", include("printouts.urls")),
    path("", include("agenda.urls")),
    path("admin/", admin.site.urls),
]

handler500 = "plie.views.server_error"
