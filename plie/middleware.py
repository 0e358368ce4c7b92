from django.conf import settings
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import Resolver404, resolve
from django_otp import user_has_device

from .access import memberships_of

SESSION_KEY = "current_plie_id"


class CurrentPlieMiddleware:
    """Puts the PLIE the user is working in on `request.plie` (and their role on `request.role`)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.plie = request.role = None
        memberships = memberships_of(request.user)
        if memberships:
            current = memberships.get(request.session.get(SESSION_KEY)) or next(iter(memberships.values()))
            request.plie, request.role = current.plie, current.role
        return self.get_response(request)


# Pages a signed-in user may reach before proving the second factor.
SECOND_FACTOR_OPEN = {"mfa_setup", "mfa_enrol", "mfa_verify", "logout", "privacy"}


class RequireSecondFactorMiddleware:
    """Where MFA is required, a session without a verified second factor reaches only the MFA pages."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if settings.MFA_REQUIRED and user.is_authenticated and not user.is_verified():
            try:
                name = resolve(request.path_info).url_name
            except Resolver404:
                name = None
            if name not in SECOND_FACTOR_OPEN and not request.path_info.startswith("/" + settings.STATIC_URL):
                return redirect("mfa_verify" if user_has_device(user) else "mfa_setup")
        return self.get_response(request)


class NoStoreMiddleware:
    """Pages of signed-in users hold personal data: no browser or proxy keeps a copy."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.user.is_authenticated:
            response["Cache-Control"] = "no-store"
        return response


class RequestSizeLimitMiddleware:
    """Refuses an oversized body before anything reads it (CSRF checking would spool a whole upload to disk first)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > settings.MAX_REQUEST_BYTES:
            limit = settings.MAX_REQUEST_BYTES // 1024 // 1024
            return HttpResponse(
                f"Envoi trop volumineux ({length // 1024 // 1024} Mo) : la limite est de {limit} Mo par envoi.",
                status=413,
                content_type="text/plain; charset=utf-8",
            )
        return self.get_response(request)
