"""The keys of the erasure journal (ErasureRecord): a person is found again by keyed hashes of their identity, never
by their name. Written by privacy.erasure, read by the imports, which refuse to bring an erased person back."""

import hashlib
import hmac

from django.conf import settings

from plie.text import fold


def _normalized(text):
    return "".join(c for c in fold(text or "") if c.isalnum())


def _keyed_hash(*parts):
    key = (settings.ERASURE_JOURNAL_KEY or settings.SECRET_KEY).encode()
    return hmac.new(key, "|".join(parts).encode(), hashlib.sha256).hexdigest()


def identity_hash(plie_slug, last_name, first_name, birth_date):
    """The same person whatever the accents, case, spaces or hyphens of the name."""
    return _keyed_hash(plie_slug, _normalized(last_name), _normalized(first_name), birth_date.isoformat())


def external_id_hash(plie_slug, external_id):
    return _keyed_hash(plie_slug, "viesion", external_id.strip()) if external_id.strip() else ""


def hashes_of(participant):
    slug = participant.plie.slug
    return (
        identity_hash(slug, participant.last_name, participant.first_name, participant.birth_date),
        external_id_hash(slug, participant.external_id),
    )
