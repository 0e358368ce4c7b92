"""PDF documents rendered by WeasyPrint: the printouts (commission minutes, contrat, questionnaire), whose templates
extend printouts/_pdf.html, and the archived bilans and control packs (reporting/pdf.py)."""

import ssl

from django.template.loader import render_to_string
from django.utils import timezone


def html_document(html):
    """WeasyPrint's document for markup of ours. Everything our templates show is inline (styles, SVG charts), so the
    fetcher refuses every URL: no document reads a file or the network, whatever its text holds. Its HTTPS handler is
    given a bare context, which it never uses: by default each document loaded the system's certificates (30 ms)."""
    from weasyprint import HTML  # imported here: it needs Pango, which only PDF generation requires
    from weasyprint.urls import URLFetcher

    fetcher = URLFetcher(allowed_protocols=(), ssl_context=ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT))
    return HTML(string=html, url_fetcher=fetcher)


def render_pdf(template, context):
    html = render_to_string(template, {**context, "printed_at": timezone.localtime()})
    return html_document(html).write_pdf()
