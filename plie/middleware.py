import datetime
import logging
import time

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.urls import Resolver404, resolve
from django.utils import timezone
from django.views import defaults
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


# The session's expiry (SESSION_COOKIE_AGE after the last activity) is pushed back by one write at most this often.
IDLE_REFRESH_SECONDS = 60
IDLE_REFRESHED_KEY = "idle_refreshed_at"


def stamp_idle_refresh(session):
    session[IDLE_REFRESHED_KEY] = int(time.time())


class IdleTimeoutMiddleware:
    """Sessions end SESSION_COOKIE_AGE seconds after their last activity, within IDLE_REFRESH_SECONDS: the session is
    saved again (which moves its expiry) once a minute at most, not on every request: a copil meeting's twenty
    dashboards, each with its chart images, would otherwise write the same rows sixty times a second."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        # Anonymous visitors, an expired cookie included, are given no session.
        signed_in = getattr(request, "user", None) is not None and request.user.is_authenticated
        if signed_in and time.time() - request.session.get(IDLE_REFRESHED_KEY, 0) >= IDLE_REFRESH_SECONDS:
            stamp_idle_refresh(request.session)
        return response


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


# Fields never kept: secrets, and what the form machinery sends by itself.
NOT_KEPT = ("csrfmiddlewaretoken", "password", "otp", "token", "code")
KEPT_POST = "kept_post"
KEPT_FOR = datetime.timedelta(hours=12)
KEPT_MAX_CHARACTERS = 200_000


def _expired_session_owner(request):
    """The account of the session the browser still names, now expired: its row stays until `clearsessions`."""
    key = request.COOKIES.get(settings.SESSION_COOKIE_NAME)
    if not key or settings.SESSION_ENGINE != "django.contrib.sessions.backends.db":
        return None
    from django.contrib.sessions.models import Session

    row = Session.objects.filter(session_key=key).first()
    return row.get_decoded().get("_auth_user_id") if row else None


class KeepExpiredPostMiddleware:
    """A form sent after the session expired is not lost: what was typed waits in the new session, tied to the account
    of the expired one, and is put back in the same form once that account has signed in again (static/js/drafts.js).
    It is never replayed: the person reads it and sends it again."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.kept_post = None
        return self.get_response(request)

    def offer(self, request):
        kept = request.session.get(KEPT_POST)
        if not kept:
            return
        if str(request.user.pk) != kept["user"] or _age(kept) > KEPT_FOR:
            del request.session[KEPT_POST]  # another account signed in, or too old: dropped unseen
        elif request.path == kept["path"]:
            del request.session[KEPT_POST]
            request.kept_post = kept["fields"]
            messages.warning(
                request,
                "Votre session avait expiré : ce que vous aviez saisi a été remis dans le formulaire"
                + (" (sauf les fichiers joints, à joindre de nouveau)" if kept["files"] else "")
                + ". Relisez-le, puis enregistrez.",
            )

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.method == "GET" and request.user.is_authenticated:
            self.offer(request)
        if request.method != "POST" or request.user.is_authenticated:
            return None
        if not getattr(view_func, "login_required", True):
            return None  # the login form itself, the password reset…
        owner = _expired_session_owner(request)
        if owner is None:
            return None
        fields = {
            name: values
            for name, values in request.POST.lists()
            if not any(secret in name.lower() for secret in NOT_KEPT)
        }
        if sum(len(value) for values in fields.values() for value in values) > KEPT_MAX_CHARACTERS:
            return None
        request.session[KEPT_POST] = {
            "user": str(owner),
            "path": request.path,
            "fields": fields,
            "files": bool(request.FILES),
            "at": timezone.now().isoformat(),
        }
        return None


def _age(kept):
    return timezone.now() - datetime.datetime.fromisoformat(kept["at"])


class FrenchErrorPagesMiddleware:
    """With DEBUG on (the demo), Django answers a missing page or a crash with its English technical page: the
    French pages are shown in every mode instead; the traceback still goes to the console (the `django.request`
    logger)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if settings.DEBUG and response.status_code == 404 and response.get("Content-Type", "").startswith("text/html"):
            return defaults.page_not_found(request, Http404())
        return response

    def process_exception(self, request, exception):
        if not settings.DEBUG or isinstance(exception, Http404 | PermissionDenied):
            return None
        logging.getLogger("django.request").error(
            "Internal Server Error: %s", request.path, exc_info=exception, extra={"request": request}
        )
        from .views import server_error  # plie.views reads SESSION_KEY from here

        return server_error(request)
