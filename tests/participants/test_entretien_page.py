"""An entretien's page: the whole compte rendu, its audited corrections with the previous text, its signed sheet."""

import datetime

import pytest
from django.urls import reverse

from participants.models import Document, DocumentKind
from tests.factories.participants import (
    ParticipantFactory,
    add_entretien,
    isolate_private_storage,
    make_parcours,
    pdf,
    profile,
)

pytestmark = pytest.mark.django_db

LONG = "Madame souhaite se former au métier d’aide-soignante. " * 8


@pytest.fixture
def entretien(plie, operation, referent_a, animation):
    person = ParticipantFactory(plie=plie, last_name="Lefèvre", first_name="Hélène")
    parcours = make_parcours(person, "active", by=animation, operation=operation, referent=profile(referent_a))
    return add_entretien(parcours, datetime.date(2023, 3, 1), summary=LONG, referent=profile(referent_a))


def test_the_whole_compte_rendu_is_read_on_its_page(client_of, referent_a, entretien):
    detail = client_of(referent_a).get(reverse("participant_detail", args=[entretien.participant.pk])).content.decode()
    assert "Lire la suite" in detail
    page = client_of(referent_a).get(reverse("entretien_detail", args=[entretien.pk])).content.decode()
    assert LONG.strip().replace("’", "&#x27;") in page.replace("’", "&#x27;")


def test_a_correction_keeps_the_previous_text_and_its_author(client_of, referent_a, entretien):
    client = client_of(referent_a)
    response = client.post(
        reverse("entretien_edit", args=[entretien.pk]),
        {"modality": "physique", "summary": "Projet : aide-soignante.", "reason": "Reformulation factuelle"},
    )
    assert response.url == reverse("entretien_detail", args=[entretien.pk])
    entretien.refresh_from_db()
    assert entretien.summary == "Projet : aide-soignante."
    page = client.get(response.url)
    [correction] = page.context["corrections"]
    assert correction["previous"].summary == LONG
    assert (correction["version"].history_user, correction["version"].history_change_reason) == (
        referent_a,
        "Reformulation factuelle",
    )
    assert "Texte avant cette correction" in page.content.decode()


def test_a_correction_needs_a_reason(client_of, referent_a, entretien):
    response = client_of(referent_a).post(
        reverse("entretien_edit", args=[entretien.pk]), {"modality": "physique", "summary": "Autre"}
    )
    assert response.status_code == 200 and "reason" in response.context["form"].errors


def test_the_signed_sheet_is_stored_privately_and_served_with_access_checks(
    client_of, referent_a, referent_b, entretien, monkeypatch, tmp_path
):
    isolate_private_storage(monkeypatch, tmp_path)
    client = client_of(referent_a)
    response = client.post(reverse("entretien_detail", args=[entretien.pk]), {"sheet": pdf("emargement.pdf")})
    assert response.status_code == 302
    sheet = Document.objects.get(entretien=entretien, kind=DocumentKind.ATTENDANCE)
    entretien.refresh_from_db()
    assert entretien.signed and "emargement" not in sheet.file.name
    download = client.get(sheet.get_absolute_url())
    assert b"".join(download.streaming_content).startswith(b"%PDF")
    assert client_of(referent_b).get(sheet.get_absolute_url()).status_code == 404


@pytest.mark.parametrize("name", ["entretien_detail", "entretien_edit"])
def test_a_colleague_the_copil_and_another_plie_never_open_it(client_of, referent_b, copil, outsider, entretien, name):
    for user in (referent_b, copil, outsider):
        assert client_of(user).get(reverse(name, args=[entretien.pk])).status_code == 404
