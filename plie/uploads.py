"""Justificatifs: the type is read from the file's first bytes, never trusted from its name or browser."""

from django import forms
from django.conf import settings

SIGNATURES = {
    b"%PDF-": ("application/pdf", "PDF"),
    b"\xff\xd8\xff": ("image/jpeg", "JPEG"),
    b"\x89PNG\r\n\x1a\n": ("image/png", "PNG"),
}


def sniff(uploaded):
    head = uploaded.read(16)
    uploaded.seek(0)
    return next((kind for signature, kind in SIGNATURES.items() if head.startswith(signature)), None)


def megabytes(size):
    return f"{size / 1_000_000:.1f}".replace(".", ",").removesuffix(",0")


def check_upload(uploaded):
    """Returns the file with its real content type in `uploaded.sniffed_type`, or refuses it in French."""
    if not uploaded:
        return uploaded
    limit = settings.MAX_UPLOAD_SIZE
    if uploaded.size > limit:
        raise forms.ValidationError(
            "Le fichier fait %(size)s Mo : la limite est de %(limit)s Mo.",
            params={"size": f"{uploaded.size / 1_000_000:.1f}".replace(".", ","), "limit": megabytes(limit)},
            code="too_large",
        )
    kind = sniff(uploaded)
    if kind is None:
        raise forms.ValidationError(
            "Ce fichier n’est ni un PDF, ni une image JPEG ou PNG (son contenu a été vérifié, pas seulement son nom).",
            code="bad_type",
        )
    uploaded.sniffed_type = kind[0]
    return uploaded
