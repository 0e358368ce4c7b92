"""Our PDF documents read no file and no URL, whatever their markup names, and share their thread's fonts
(plie/pdf.py)."""

import threading

from PIL import Image
from weasyprint import HTML

from plie.pdf import render_document


def test_a_document_embeds_no_file_its_markup_names(tmp_path):
    picture = tmp_path / "photo.png"
    Image.new("RGB", (8, 8), "red").save(picture)
    html = f'<p>Bilan</p><img src="{picture.as_uri()}" alt="">'
    assert b"/Image" in HTML(string=html).write_pdf()  # WeasyPrint's own fetcher reads it: the test can tell
    assert b"/Image" not in render_document(html).write_pdf()


def test_the_documents_of_a_thread_share_its_fonts_and_another_thread_has_its_own():
    first, second = render_document("<p>Un</p>"), render_document("<p>Deux</p>")
    elsewhere = []
    thread = threading.Thread(target=lambda: elsewhere.append(render_document("<p>Trois</p>")))
    thread.start()
    thread.join()
    assert first.font_config is second.font_config
    assert elsewhere[0].font_config is not first.font_config
