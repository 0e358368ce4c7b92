"""Who an e-mail address designates, in one place: the login, the lock-out (django-axes), the password reset and the
invitations all read an address through `normalize_email`, so that « Anne@X.fr », « anne@x.fr » and « ａｎｎｅ@x.fr »
are one account with one count of failures, not three."""

import hashlib
import unicodedata

from django.conf import settings
from django.core.cache import cache


def normalize_email(value):
    """Unicode NFKC (full-width letters, ligatures), surrounding spaces removed, lower case."""
    return unicodedata.normalize("NFKC", value or "").strip().lower()


def axes_username(request, credentials=None):
    """AXES_USERNAME_CALLABLE: the lock-out counts failures per normalised address."""
    if credentials:
        value = credentials.get(settings.AXES_USERNAME_FORM_FIELD)
    else:
        value = getattr(request, "data", request.POST).get(settings.AXES_USERNAME_FORM_FIELD)
    return normalize_email(value)


def client_ip(request):
    """The address of the client; behind the host's reverse proxy, the one it appended last to X-Forwarded-For."""
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if settings.SECURE_PROXY_SSL_HEADER and forwarded:
        return forwarded.split(",")[-1].strip()
    return request.META.get("REMOTE_ADDR", "")


def over_limit(kind, key, *, limit, seconds):
    """Counts one more request of `kind` for `key` within a window of `seconds`; True once beyond `limit`. The key is
    hashed: addresses do not sit in the cache."""
    name = f"limit:{kind}:{hashlib.sha256(key.encode()).hexdigest()}"
    cache.add(name, 0, timeout=seconds)
    try:
        count = cache.incr(name)
    except ValueError:  # expired between add and incr
        cache.set(name, 1, timeout=seconds)
        count = 1
    return count > limit
