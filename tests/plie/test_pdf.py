"""Our PDF documents read no file and no URL, whatever their markup names (plie/pdf.py)."""

from PIL import Image
from weasyprint import HTML

from plie.pdf import html_document


def test_a_document_embeds_no_file_its_markup_names(tmp_path):
    picture = tmp_path / "photo.png"
    Image.new("RGB", (8, 8), "red").save(picture)
    html = f'<p>Bilan</p><img src="{picture.as_uri()}" alt="">'
    assert b"/Image" in HTML(string=html).write_pdf()  # WeasyPrint's own fetcher reads it: the test can tell
    assert b"/Image" not in html_document(html).write_pdf()
