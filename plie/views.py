from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from .access import memberships_of
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
