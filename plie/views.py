import sys

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, HttpResponseServerError
from django.shortcuts import redirect, render
from django.template import loader
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from .access import memberships_of
from .forms import QueuedPasswordResetForm
from .identity import client_ip, over_limit
from .middleware import SESSION_KEY


@require_POST
def switch_plie(request):
    plie_id = request.POST.get("plie", "")
    membership = memberships_of(request.user).get(int(plie_id)) if plie_id.isdigit() else None
    if membership is None:
        messages.error(request, "Vous n’êtes pas membre de ce PLIE.")
    else:
        request.session[SESSION_KEY] = membership.plie_id
        messages.success(request, f"Vous travaillez maintenant pour le {membership.plie}.")
    next_url = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = "home"
    return redirect(next_url)


@login_not_required
def privacy(request):
    return render(request, "privacy.html")


@login_not_required
def server_error(request):
    """The error page; a database that went away mid-page (a restart, a failover) is said as such, with a 503 the
    user can retry."""
    error = sys.exc_info()[1]
    if isinstance(error, OperationalError | InterfaceError):
        response = HttpResponse(loader.render_to_string("503.html"), status=503)
        response["Retry-After"] = "30"
        return response
    return HttpResponseServerError(loader.render_to_string("500.html"))


class PasswordResetView(auth_views.PasswordResetView):
    """At most PASSWORD_RESET_PER_IP requests an hour from one address (and PASSWORD_RESET_PER_ACCOUNT mails an hour
    to one account, counted by the form)."""

    form_class = QueuedPasswordResetForm

    def post(self, request, *args, **kwargs):
        if over_limit("reset-ip", client_ip(request), limit=settings.PASSWORD_RESET_PER_IP, seconds=3600):
            return render(request, "registration/password_reset_limited.html", status=429)
        return super().post(request, *args, **kwargs)
