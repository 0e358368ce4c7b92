"""Search and the duplicate check fold case, accents, spaces and hyphens, the same on SQLite and PostgreSQL.

Prescription forms come typed in capitals without accents: « LEFEVRE Helene » is « Lefèvre Hélène »."""

import html
from datetime import date as D  # noqa: N812

import pytest
from django.urls import reverse

from participants.models import Participant, folded_name
from tests.factories.participants import ParticipantFactory


def page(response):
    return html.unescape(response.content.decode())


def participant_data(**changes):
    return {"sex": "F", "commune": "33318", **changes}


@pytest.fixture
def helene(plie):
    return ParticipantFactory(plie=plie, last_name="Lefèvre", first_name="Hélène", birth_date=D(1984, 5, 2))


@pytest.fixture
def others(plie):
    ParticipantFactory(plie=plie, last_name="Fabre", first_name="Élodie", birth_date=D(1979, 3, 4))
    ParticipantFactory(plie=plie, last_name="Le Goff-Noël", first_name="Jean-Pierre", birth_date=D(1990, 1, 1))
    ParticipantFactory(plie=plie, last_name="Martin", first_name="Paul", birth_date=D(1978, 2, 3))


def test_the_folded_name_drops_accents_case_spaces_hyphens_and_apostrophes():
    assert folded_name("Lefèvre", "Hélène") == folded_name("LEFEVRE", "helene") == "lefevre helene"
    assert folded_name("Le Goff-Noël", "Jean Pierre") == folded_name("LEGOFF NOEL", "Jean-Pierre")
    assert folded_name("D’Aubigné", "Œdipe") == folded_name("d'aubigne", "OEDIPE") == "daubigne oedipe"


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("helene", "LEFÈVRE Hélène"),
        ("Lefevre", "LEFÈVRE Hélène"),
        ("LEFEVRE Helene", "LEFÈVRE Hélène"),
        ("lefèvre", "LEFÈVRE Hélène"),
        ("Elodie", "FABRE Élodie"),
        ("noel", "LE GOFF-NOËL Jean-Pierre"),
        ("legoff jean pierre", "LE GOFF-NOËL Jean-Pierre"),
        ("jean-pierre", "LE GOFF-NOËL Jean-Pierre"),
    ],
)
def test_the_search_finds_a_name_typed_without_accents_case_or_hyphens(
    client_of, animation, helene, others, query, found
):
    text = page(client_of(animation).post(reverse("participant_list"), {"q": query}))
    assert found in text
    assert "MARTIN Paul" not in text


def test_same_person_typed_in_capitals_without_accents_is_flagged_as_a_duplicate(plie, client_of, animation, helene):
    data = participant_data(last_name="LEFEVRE", first_name="Helene", birth_date="1984-05-02")
    response = client_of(animation).post(reverse("participant_create"), data)
    assert response.status_code == 200
    assert "Un dossier existe déjà pour Helene LEFEVRE" in page(response)
    assert helene.get_absolute_url() in page(response)
    assert Participant.objects.filter(plie=plie).count() == 1


def test_the_folded_name_follows_every_write(plie, helene):
    helene.last_name = "Lefebvre"
    helene.save(update_fields=["last_name"])
    assert Participant.objects.get(pk=helene.pk).folded_name == "lefebvre helene"

    [bulk] = Participant.objects.bulk_create(
        [Participant(plie=plie, last_name="Éléonore", first_name="Zoé", sex="F", birth_date=D(1980, 1, 1))]
    )
    assert Participant.objects.get(pk=bulk.pk).folded_name == "eleonore zoe"

    bulk.first_name = "Chloé"
    Participant.objects.bulk_update([bulk], ["first_name"])
    assert Participant.objects.get(pk=bulk.pk).folded_name == "eleonore chloe"

    Participant.objects.filter(pk=bulk.pk).update(last_name="Bénard")  # a write that bypasses the model
    assert Participant.objects.filter(plie=plie).refold() == 1
    assert Participant.objects.get(pk=bulk.pk).folded_name == "benard chloe"


def test_the_search_is_one_query_on_the_folded_column(plie, helene, django_assert_num_queries):
    with django_assert_num_queries(1) as captured:
        assert list(Participant.objects.filter(plie=plie).search("HELENE lefevre")) == [helene]
    assert "folded_name" in captured.captured_queries[0]["sql"]


def test_an_import_fills_the_folded_name_of_the_people_it_creates_and_renames(plie, operation, admin_user):
    """The import writes by COPY, past save(): it computes the folded name itself (imports/engine.py)."""
    from imports.engine import Source, run_batch
    from tests.imports.files import PARTICIPANTS, REFERENTS, changed, csv_bytes

    run_batch(plie, [Source("r.csv", csv_bytes(REFERENTS)), Source("p.csv", csv_bytes(PARTICIPANTS))], by=admin_user)
    assert Participant.objects.filter(plie=plie).exclude(folded_name="").count() == len(PARTICIPANTS) - 1
    assert Participant.objects.filter(plie=plie).refold() == 0

    renamed = changed(PARTICIPANTS, 3, "Nom", "Durand-Lopez")
    run_batch(plie, [Source("p.csv", csv_bytes(renamed))], by=admin_user)
    assert Participant.objects.get(external_id="P2").folded_name.startswith("durandlopez ")
    assert Participant.objects.filter(plie=plie).refold() == 0


def test_french_collation_sorts_communes_as_a_reader_expects():
    from plie.text import french_key

    names = ["Bon-Encontre", "Écoyeux", "Boé", "Agen", "Estillac", "Le Passage"]
    assert sorted(names, key=french_key) == ["Agen", "Boé", "Bon-Encontre", "Écoyeux", "Estillac", "Le Passage"]


def test_gender_and_elision_in_the_interface():
    from plie.text import gendered, of

    assert (of("Hélène"), of("Léa"), of("Yves")) == ("d’Hélène", "de Léa", "d’Yves")
    assert (gendered("F", "né", "née"), gendered("H", "né", "née"), gendered("NB", "né", "née")) == (
        "née",
        "né",
        "né·e",
    )
