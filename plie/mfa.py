"""Second factor: a TOTP application (with ten single-use recovery codes), as OWASP ASVS level 2 asks."""

import base64
import io

import qrcode
import qrcode.image.svg
from django import forms
from django.contrib import messages
from django.db import transaction
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods
from django_otp import devices_for_user, match_token
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

RECOVERY_CODES = 10


class TokenForm(forms.Form):
    token = forms.CharField(
        label="Code à usage unique",
        max_length=16,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}),
    )


def _qr_data_uri(text):
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    buffer = io.BytesIO()
    image.save(buffer)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()


def _next(request):
    target = request.POST.get("next") or request.GET.get("next") or "home"
    return target if target == "home" or url_has_allowed_host_and_scheme(target, {request.get_host()}) else "home"


@require_http_methods(["GET", "POST"])
def mfa_setup(request):
    """Pairs an authenticator application; confirmed by a first code, which also opens the session."""
    user = request.user
    if any(device.confirmed for device in devices_for_user(user, confirmed=None) if isinstance(device, TOTPDevice)):
        return redirect("mfa_verify")
    device, _ = TOTPDevice.objects.get_or_create(
        user=user, confirmed=False, defaults={"name": "Application d’authentification"}
    )
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["token"].replace(" ", "")):
            with transaction.atomic():
                device.confirmed = True
                device.save()
                codes = _new_recovery_codes(user)
            otp_login(request, device)
            return render(request, "registration/mfa_codes.html", {"codes": codes})
        form.add_error("token", "Ce code ne correspond pas : vérifiez l’heure de votre téléphone et réessayez.")
    secret = base64.b32encode(device.bin_key).decode()
    return render(
        request,
        "registration/mfa_setup.html",
        {
            "form": form,
            "qr": _qr_data_uri(device.config_url),
            "secret": " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
        },
    )


def _new_recovery_codes(user):
    device, _ = StaticDevice.objects.get_or_create(user=user, name="Codes de secours")
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    return codes


@require_http_methods(["GET", "POST"])
def mfa_verify(request):
    """The second step of the login: a code of the application, or one of the recovery codes."""
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = match_token(request.user, form.cleaned_data["token"].replace(" ", ""))
        if device is not None:
            otp_login(request, device)
            if isinstance(device, StaticDevice):
                left = device.token_set.count()
                messages.warning(request, f"Code de secours utilisé : il vous en reste {left}.")
            return redirect(_next(request))
        form.add_error("token", "Code incorrect ou déjà utilisé.")
    return render(request, "registration/mfa_verify.html", {"form": form, "next": request.GET.get("next", "")})
