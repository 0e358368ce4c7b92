"""Justificatifs: type read from the content, size limit, private storage, downloads only through a checked view."""

import pathlib

import pytest
from django import forms
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse

from participants.models import Document, DocumentKind, FileAccess
from plie.storage import private_storage
from plie.uploads import check_upload
from tests.factories.participants import (
    JPEG,
    PDF,
    PNG,
    ParticipantFactory,
    fake_pdf,
    isolate_private_storage,
    jpeg,
    make_parcours,
    pdf,
    png,
    profile,
    reason,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def private_files(monkeypatch, tmp_path):
    return isolate_private_storage(monkeypatch, tmp_path)


@pytest.fixture
def followed(plie, operation, referent_a, animation):
    participant = ParticipantFactory(plie=plie, last_name="Durand", first_name="Léa")
    return make_parcours(participant, "active", by=animation, operation=operation, referent=profile(referent_a))


def upload(client, participant, file, kind=DocumentKind.IDENTITY):
    return client.post(reverse("document_create", args=[participant.pk]), {"kind": kind, "file": file})


def download(client, document):
    response = client.get(reverse("document_download", args=[document.pk]))
    # Reading the stream to its end closes the file; closing the response again would close the test's database
    # connection on PostgreSQL (the request_finished signal).
    content = b"".join(response.streaming_content) if response.streaming else None
    return response, content


class TestContentSniffing:
    @pytest.mark.parametrize(
        ("file", "content_type"),
        [
            (SimpleUploadedFile("a.pdf", PDF), "application/pdf"),
            (SimpleUploadedFile("a.png", PNG), "image/png"),
            (SimpleUploadedFile("a.jpg", JPEG), "image/jpeg"),
            # the name and the announced type are never trusted, in either direction
            (SimpleUploadedFile("scan.txt", PDF, content_type="text/plain"), "application/pdf"),
            (SimpleUploadedFile("photo", PNG, content_type="application/octet-stream"), "image/png"),
        ],
    )
    def test_pdf_jpeg_and_png_are_recognised_by_their_first_bytes(self, file, content_type):
        assert check_upload(file).sniffed_type == content_type
        assert file.tell() == 0  # the file is read again from its start when it is saved

    @pytest.mark.parametrize(
        "file",
        [
            SimpleUploadedFile("contrat.pdf", b"Ceci n'est pas un PDF.\n", content_type="application/pdf"),
            SimpleUploadedFile("photo.png", b"<html><script>alert(1)</script></html>", content_type="image/png"),
            SimpleUploadedFile("contrat.docx", b"PK\x03\x04" + b"\x00" * 20),
            SimpleUploadedFile("vide.pdf", b""),
            SimpleUploadedFile("tronque.pdf", b"%PD"),
        ],
        ids=["text-named-pdf", "html-named-png", "zip", "empty", "truncated-signature"],
    )
    def test_anything_else_is_refused_in_french(self, file):
        with pytest.raises(forms.ValidationError) as error:
            check_upload(file)
        assert error.value.messages == [
            "Ce fichier n’est ni un PDF, ni une image JPEG ou PNG (son contenu a été vérifié, pas seulement son nom)."
        ]

    def test_no_file_is_fine_where_the_file_is_optional(self):
        assert check_upload(None) is None


class TestSizeLimit:
    @override_settings(MAX_UPLOAD_SIZE=2_000_000)
    def test_a_file_over_the_limit_is_refused_with_its_size(self):
        big = SimpleUploadedFile("gros.pdf", PDF + b"\x00" * (2_500_000 - len(PDF)))
        with pytest.raises(forms.ValidationError) as error:
            check_upload(big)
        assert error.value.messages == ["Le fichier fait 2,5 Mo : la limite est de 2 Mo."]

    @override_settings(MAX_UPLOAD_SIZE=2_500_000)
    def test_the_limit_is_printed_as_it_is(self):
        with pytest.raises(forms.ValidationError) as error:
            check_upload(SimpleUploadedFile("gros.pdf", PDF + b"\x00" * 3_000_000))
        assert error.value.messages == ["Le fichier fait 3,0 Mo : la limite est de 2,5 Mo."]

    @override_settings(MAX_UPLOAD_SIZE=1000)
    def test_a_file_of_exactly_the_limit_is_accepted(self):
        assert check_upload(SimpleUploadedFile("juste.pdf", PDF + b"\x00" * (1000 - len(PDF)))).sniffed_type

    def test_the_default_limit_is_ten_megabytes(self):
        assert settings.MAX_UPLOAD_SIZE == 10_000_000

    @override_settings(MAX_UPLOAD_SIZE=1_000_000)
    def test_the_web_form_refuses_a_big_file_and_saves_nothing(self, client_of, referent_a, followed):
        big = SimpleUploadedFile("gros.png", PNG + b"\x00" * 1_200_000, content_type="image/png")
        response = upload(client_of(referent_a), followed.participant, big, kind=DocumentKind.CERTIFICATE)
        assert response.status_code == 200
        assert "Le fichier fait 1,2 Mo : la limite est de 1 Mo." in response.content.decode()
        assert 'value="attestation" selected' in response.content.decode()  # the kind chosen is kept
        assert not Document.objects.exists()


class TestStorage:
    def test_justificatifs_are_stored_outside_the_public_folders(self):
        location = pathlib.Path(private_storage.location)
        assert location == pathlib.Path(settings.PRIVATE_STORAGE_ROOT).resolve()
        for public in (settings.MEDIA_ROOT, settings.STATIC_ROOT):
            assert not location.is_relative_to(pathlib.Path(public).resolve())
        assert Document._meta.get_field("file").storage is not None

    def test_an_upload_is_kept_under_an_anonymous_name_with_what_was_sniffed(
        self, client_of, referent_a, followed, private_files
    ):
        response = upload(client_of(referent_a), followed.participant, pdf("Pièce d'identité Léa Durand.txt"))
        assert response.status_code == 302
        document = Document.objects.get()
        plie_id, participant_id, name = document.file.name.split("/")
        assert (int(plie_id), int(participant_id)) == (followed.participant.plie_id, followed.participant_id)
        assert len(name) == 32 and "Durand" not in document.file.name
        assert (document.original_name, document.content_type, document.size) == (
            "Pièce d'identité Léa Durand.txt",
            "application/pdf",
            len(PDF),
        )
        assert (document.kind, document.parcours, document.uploaded_by) == (DocumentKind.IDENTITY, followed, referent_a)
        assert private_files.exists(document.file.name)
        with private_files.open(document.file.name) as stored:
            assert stored.read() == PDF

    def test_a_text_file_named_pdf_is_refused_and_nothing_is_written(
        self, client_of, referent_a, followed, private_files, tmp_path
    ):
        response = upload(client_of(referent_a), followed.participant, fake_pdf())
        assert response.status_code == 200
        assert "Ce fichier n’est ni un PDF, ni une image JPEG ou PNG" in response.content.decode()
        assert not Document.objects.exists()
        assert not any(path.is_file() for path in tmp_path.rglob("*"))

    def test_the_detail_page_links_the_download_view_never_the_stored_file(
        self, client_of, animation, referent_a, followed
    ):
        upload(client_of(referent_a), followed.participant, png())
        document = Document.objects.get()
        page = client_of(animation).get(followed.participant.get_absolute_url()).content.decode()
        assert reverse("document_download", args=[document.pk]) in page
        assert document.file.name not in page


class TestDownload:
    @pytest.fixture
    def document(self, client_of, referent_a, followed):
        upload(client_of(referent_a), followed.participant, jpeg("attestation employeur.jpg"), DocumentKind.CERTIFICATE)
        return Document.objects.get()

    @pytest.mark.parametrize("persona", ["admin_user", "animation", "referent_a"])
    def test_the_team_and_the_referent_download_the_file_as_an_attachment(self, request, client_of, document, persona):
        response, content = download(client_of(request.getfixturevalue(persona)), document)
        assert response.status_code == 200
        assert content == JPEG
        assert response["Content-Type"] == "image/jpeg"
        assert response["Content-Disposition"].startswith("attachment;")
        assert "attestation" in response["Content-Disposition"]

    @pytest.mark.parametrize("persona", ["referent_b", "copil", "outsider"])
    def test_anyone_else_gets_404_and_leaves_no_trace(self, request, client_of, document, persona):
        response, _ = download(client_of(request.getfixturevalue(persona)), document)
        assert response.status_code == 404
        assert not FileAccess.objects.exists()

    def test_a_download_is_recorded_as_an_access_to_the_file(self, client_of, animation, document):
        download(client_of(animation), document)
        access = FileAccess.objects.get()
        assert (access.participant, access.user, access.what) == (document.participant, animation, "justificatif")

    def test_an_unknown_document_gets_404(self, client_of, animation):
        response, _ = download(client_of(animation), Document(pk=999_999))
        assert response.status_code == 404


class TestUploadsAlongTheWorkflow:
    def test_the_prescription_form_is_kept_with_the_new_parcours(self, plie, client_of, animation):
        participant = ParticipantFactory(plie=plie)
        data = {"prescriber": "ccas", "prescription_date": "2023-01-05", "prescription_form": png("fiche.png")}
        assert client_of(animation).post(reverse("prescription_create", args=[participant.pk]), data).status_code == 302
        document = participant.documents.get()
        assert (document.kind, document.parcours, document.content_type) == (
            DocumentKind.PRESCRIPTION,
            participant.parcours.get(),
            "image/png",
        )

    def test_a_bad_prescription_form_refuses_the_whole_prescription(self, plie, client_of, animation):
        participant = ParticipantFactory(plie=plie)
        data = {
            "prescriber": "ccas",
            "prescriber_detail": "CCAS de Pessac",
            "prescription_date": "2023-01-05",
            "prescription_form": fake_pdf("fiche.pdf"),
        }
        response = client_of(animation).post(reverse("prescription_create", args=[participant.pk]), data)
        assert response.status_code == 200
        assert "Ce fichier n’est ni un PDF" in response.content.decode()
        assert 'value="CCAS de Pessac"' in response.content.decode()
        assert not participant.parcours.exists() and not participant.documents.exists()

    def test_a_bad_signed_contract_refuses_the_integration(self, plie, operation, client_of, animation, referent_a):
        parcours = make_parcours(ParticipantFactory(plie=plie), "accepted", by=animation)
        data = {
            "entry_date": "2023-03-01",
            "operation": operation.pk,
            "referent": profile(referent_a).pk,
            "signed_contract": fake_pdf("contrat.pdf"),
        }
        response = client_of(animation).post(reverse("parcours_integration", args=[parcours.pk]), data)
        assert response.status_code == 200
        assert "Ce fichier n’est ni un PDF" in response.content.decode()
        assert 'value="2023-03-01"' in response.content.decode()
        parcours.refresh_from_db()
        assert parcours.status == "accepted" and not parcours.documents.exists()

    def test_the_exit_proof_counts_as_a_certificate(self, plie, client_of, referent_a, followed):
        data = {
            "exit_date": "2023-06-30",
            "reason": reason(plie, "CDD de moins de 6 mois").pk,
            "proof": pdf("attestation.pdf"),
        }
        assert client_of(referent_a).post(reverse("parcours_exit", args=[followed.pk]), data).status_code == 302
        assert followed.documents.get().kind == DocumentKind.CERTIFICATE
