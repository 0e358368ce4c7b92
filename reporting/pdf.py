"""The bilan as the PDF document an FSE+ auditor receives (WeasyPrint)."""

import warnings

from django.template.loader import render_to_string
from django.utils import timezone

from plie.models import Role
from plie.pdf import render_document

from .charts import monthly_chart, targets_chart
from .definitions import indicator_rows
from .report import report_for

# Bilans and the auditor's index are archived documents an FSE+ controller may open years later: PDF/A-3b (fonts
# embedded, an sRGB output intent, XMP metadata naming the PDF/A part and conformance).
PDF_VARIANT = "pdf/a-3b"


def write_archival_pdf(html, *, title, progress=None):
    """The PDF/A bytes of `html` and its page count."""
    document = render_document(html)
    document.metadata.title = title
    if progress:
        progress(90)
    with warnings.catch_warnings():
        # WeasyPrint 70 opens its sRGB profile for the PDF/A output intent and never closes it.
        warnings.filterwarnings("ignore", category=ResourceWarning, message=r"unclosed file .*sRGB2014\.icc")
        return document.write_pdf(pdf_variant=PDF_VARIANT), len(document.pages)


def render_bilan_html(report, *, requested_by=None):
    return render_to_string(
        "reporting/bilan_pdf.html",
        {
            **report,
            "indicator_rows": indicator_rows(report["totals"]),
            "targets_svg": targets_chart(report["lines"]),
            "monthly_svg": monthly_chart(report["months"]),
            "generated_at": timezone.localtime(),
            "requested_by": requested_by,
        },
    )


def render_bilan_pdf(
    operation, start, end, user=None, *, with_annex=False, role=Role.ANIMATION, referent_ids=(), progress=None
):
    """The PDF bytes and the number of pages, as a viewer with `role` may read them (reporting/disclosure.py);
    `progress(percent)` is called along the way."""
    progress = progress or (lambda percent: None)
    report = report_for(operation, start, end, role=role, referent_ids=referent_ids, persons=with_annex)
    progress(40)
    html = render_bilan_html(report, requested_by=user)
    progress(60)
    return write_archival_pdf(
        html, title=f"Bilan {operation.code} {operation.years} — {operation.plie.name}", progress=progress
    )
