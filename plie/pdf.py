"""PDF documents rendered by WeasyPrint: the printouts (commission minutes, contrat, questionnaire), whose templates
extend printouts/_pdf.html, and the archived bilans and control packs (reporting/pdf.py)."""

import ssl
import threading

from django.template.loader import render_to_string
from django.utils import timezone

_thread = threading.local()


def render_document(html):
    """WeasyPrint's laid-out document for markup of ours.

    Everything our templates show is inline (styles, SVG charts), so the fetcher refuses every URL: no document reads
    a file or the network, whatever its text holds. Its HTTPS handler is given a bare context, which it never uses: by
    default each document loaded the system's certificates (30 ms).

    The documents of a thread share its fonts. Without a FontConfiguration given, WeasyPrint makes one per document,
    which loads the system's font configuration and fonts again: 13 to 28 ms a document (the contract printout took
    89 ms, now 72). Pango's font map is not thread-safe: each thread keeps its own. No document of ours can add a font
    to it (@font-face: the fetcher refuses every URL)."""
    from weasyprint import HTML  # imported here: it needs Pango, which only PDF generation requires
    from weasyprint.text.fonts import FontConfiguration
    from weasyprint.urls import URLFetcher

    if not hasattr(_thread, "fonts"):
        _thread.fonts = FontConfiguration()
    fetcher = URLFetcher(allowed_protocols=(), ssl_context=ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT))
    return HTML(string=html, url_fetcher=fetcher).render(font_config=_thread.fonts)


def render_pdf(template, context):
    html = render_to_string(template, {**context, "printed_at": timezone.localtime()})
    return render_document(html).write_pdf()
