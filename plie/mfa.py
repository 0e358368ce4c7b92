"""Second factor: a TOTP application (with ten single-use recovery codes), as OWASP ASVS level 2 asks.

An account without one is not enrolled by whoever holds its password: the enrolment starts from a link e-mailed to
the account's owner (valid MFA_INVITATION_SECONDS, and once), and the secret is shown only to the session that
opened it."""

import base64
import hashlib
import io

import qrcode
import qrcode.image.svg
from django import forms
from django.conf import settings
from django.contrib import messages
from django.core import signing
from django.db import transaction
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.crypto import constant_time_compare
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods
from django_otp import devices_for_user, match_token
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice, default_key

from . import jobs
from .identity import normalize_email, over_limit

RECOVERY_CODES = 10
INVITATION_SALT = "plie.mfa.invitation"
ENROLMENT_SESSION_KEY = "mfa_enrolment_device"
INVITATIONS_PER_HOUR = 3


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


def _fingerprint(device):
    return hashlib.sha256(f"{device.pk}:{device.key}".encode()).hexdigest()


def invitation_token(device):
    return signing.dumps({"device": device.pk, "fingerprint": _fingerprint(device)}, salt=INVITATION_SALT)


def send_invitation(request, user):
    """A new pending authenticator for `user` (older pending ones dropped, and their links with them), its link
    e-mailed to the account's address."""
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        device = TOTPDevice.objects.create(user=user, confirmed=False, name="Application d’authentification")
    link = request.build_absolute_uri(reverse("mfa_enrol", args=[invitation_token(device)]))
    body = render_to_string(
        "registration/mfa_invitation_email.txt",
        {"link": link, "hours": settings.MFA_INVITATION_SECONDS // 3600, "email": user.email},
    )
    jobs.enqueue(
        "email",
        payload={"subject": "Activer la double authentification", "body": body, "to": [normalize_email(user.email)]},
    )


def _has_confirmed_totp(user):
    return any(d.confirmed for d in devices_for_user(user, confirmed=None) if isinstance(d, TOTPDevice))


@require_http_methods(["GET"])
def mfa_enrol(request, token):
    """The link of the invitation: for the account it was sent to, pending, not expired, not used yet."""
    try:
        data = signing.loads(token, salt=INVITATION_SALT, max_age=settings.MFA_INVITATION_SECONDS)
    except signing.BadSignature:  # expired links too (SignatureExpired)
        data = {}
    device = TOTPDevice.objects.filter(pk=data.get("device"), user=request.user, confirmed=False).first()
    if device is None or not constant_time_compare(_fingerprint(device), data.get("fingerprint", "")):
        return render(request, "registration/mfa_invitation_invalid.html", status=404)
    device.key = default_key()  # the link is spent, and the secret shown from now on is this session's alone
    device.save(update_fields=["key"])
    request.session[ENROLMENT_SESSION_KEY] = device.pk
    return redirect("mfa_setup")


@require_http_methods(["GET", "POST"])
def mfa_setup(request):
    """Pairs an authenticator application, in the session that opened the invitation; confirmed by a first code,
    which also opens the session. Without an invitation opened, sends one (or another, on request)."""
    user = request.user
    if _has_confirmed_totp(user):
        return redirect("mfa_verify")
    device = TOTPDevice.objects.filter(
        pk=request.session.get(ENROLMENT_SESSION_KEY) or 0, user=user, confirmed=False
    ).first()
    if device is None:
        return _invitation_page(request, user)
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["token"].replace(" ", "")):
            with transaction.atomic():
                device.confirmed = True
                device.save()
                codes = _new_recovery_codes(user)
            _second_factor_verified(request, device)
            del request.session[ENROLMENT_SESSION_KEY]
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


def _invitation_page(request, user):
    pending = TOTPDevice.objects.filter(user=user, confirmed=False).exists()
    if request.method == "POST" or not pending:
        if over_limit("mfa-invitation", str(user.pk), limit=INVITATIONS_PER_HOUR, seconds=3600):
            messages.error(request, "Plusieurs liens ont déjà été envoyés : réessayez dans une heure.")
        else:
            send_invitation(request, user)
            messages.success(request, "Un lien d’activation vient d’être envoyé à votre adresse e-mail.")
        if request.method == "POST":
            return redirect("mfa_setup")
    return render(
        request,
        "registration/mfa_invitation_sent.html",
        {"email": user.email, "hours": settings.MFA_INVITATION_SECONDS // 3600},
    )


def _second_factor_verified(request, device):
    """The session is now a stronger one: it gets a new key, so that a key known before cannot ride on it."""
    otp_login(request, device)
    request.session.cycle_key()


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
            _second_factor_verified(request, device)
            if isinstance(device, StaticDevice):
                left = device.token_set.count()
                messages.warning(request, f"Code de secours utilisé : il vous en reste {left}.")
            return redirect(_next(request))
        form.add_error("token", "Code incorrect ou déjà utilisé.")
    return render(request, "registration/mfa_verify.html", {"form": form, "next": request.GET.get("next", "")})
