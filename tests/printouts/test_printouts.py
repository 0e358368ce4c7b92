"""Pre-filled documents to print and sign: what they say, who may print them, and that each printing is journalled."""

import subprocess

import pytest
from django.urls import reverse

from participants.models import CRITERIA, FileAccess
from tests.factories.participants import ParticipantFactory, make_parcours, profile

pytestmark = pytest.mark.django_db

PRINTS = ["print_contract", "print_questionnaire", "print_summary"]


@pytest.fixture
def followed(plie, operation, referent_a, animation):
    person = ParticipantFactory(
        plie=plie, last_name="Lefèvre", first_name="Hélène", rsa=True, employment_status="unemployed", disability="yes"
    )
    return make_parcours(person, "active", by=animation, operation=operation, referent=profile(referent_a))


def pdf_text(response):
    assert response["Content-Type"] == "application/pdf"
    done = subprocess.run(["pdftotext", "-layout", "-", "-"], input=response.content, capture_output=True, check=True)
    return done.stdout.decode()


def test_the_contrat_has_the_parcours_and_three_places_to_sign(client_of, referent_a, followed):
    text = pdf_text(client_of(referent_a).get(reverse("print_contract", args=[followed.participant.pk])))
    for expected in (
        "Contrat d’engagement dans le parcours PLIE",
        "LEFÈVRE Hélène",
        "Rachida Benali",
        "20/01/2023",  # admitted by the commission
        "01/02/2023",  # entry
        "FO1",
        "La personne accompagnée",
        "Le référent de parcours",
        "La direction du PLIE",
    ):
        assert expected in text, expected


def test_the_questionnaire_is_pre_filled_from_the_file(client_of, animation, followed):
    text = pdf_text(client_of(animation).get(reverse("print_questionnaire", args=[followed.participant.pk])))
    assert "Questionnaire d’entrée FSE+" in text and "Ne souhaite pas répondre" in text
    assert "Bénéficiaire du RSA" in text and "Situation de handicap" in text
    # Each question's boxes go down the first column, then the second: of nine answers, five and four.
    lines = text.splitlines()
    assert any("Niveau 1 –" in line and "Niveau 6 –" in line for line in lines)
    assert any("Niveau 4 –" in line and "Ne souhaite pas répondre" in line for line in lines)
    assert all(label[:15] in text for _, label in CRITERIA)


def test_the_summary_lists_the_parcours(client_of, referent_a, followed):
    text = pdf_text(client_of(referent_a).get(reverse("print_summary", args=[followed.participant.pk])))
    assert "LEFÈVRE Hélène" in text and "En parcours" in text


@pytest.mark.parametrize("name", PRINTS)
def test_never_for_the_copil_a_colleague_or_another_plie(client_of, copil, referent_b, outsider, followed, name):
    url = reverse(name, args=[followed.participant.pk])
    for user in (copil, referent_b, outsider):
        assert client_of(user).get(url).status_code == 404


def test_each_printing_is_journalled(client_of, referent_a, followed):
    client_of(referent_a).get(reverse("print_contract", args=[followed.participant.pk]))
    assert FileAccess.objects.filter(participant=followed.participant, what="impression contrat").count() == 1
