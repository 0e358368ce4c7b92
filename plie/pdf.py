"""Printable documents (commission minutes, contrat, questionnaire) rendered by WeasyPrint; their templates extend
printouts/_pdf.html."""

from django.template.loader import render_to_string
from django.utils import timezone


def render_pdf(template, context):
    from weasyprint import HTML  # imported here: it needs Pango, which only PDF generation requires

    html = render_to_string(template, {**context, "printed_at": timezone.localtime()})
    return HTML(string=html).write_pdf()
