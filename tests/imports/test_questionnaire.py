"""The FSE+ entry questionnaire and the situation upon leaving, imported from the optional columns of
shared/spec/import-format.md: answers on the participant, exit answers on the participations that ended that day."""

import pytest
from django.db import connection

from imports.engine import Source, run_batch
from participants.models import Answer, EmploymentStatus, Nationality, Participant, Participation
from plie import dataversion
from tests.imports.files import REFERENTS, csv_bytes

HEADER = [
    "ID participant", "Nom", "Prénom", "Sexe", "Date de naissance", "Date d'entrée", "Date de sortie",
    "Motif de sortie", "Référent", "Situation emploi à l'entrée", "Sans emploi depuis", "Handicap",
    "Ressortissant pays tiers", "Origine étrangère", "Sans domicile", "Sortie : en emploi", "Sortie : en formation",
]  # fmt: skip
ROWS = [
    ["Q1", "Martin", "Léa", "F", "12/03/1985", "15/01/2023", "30/09/2023", "CDI", "Marie Dupont", "Chômeur",
     "01/06/2021", "Non", "Oui", "NSPR", "Non", "Oui", "Non"],
    ["Q2", "Durand", "Éric", "H", "01/07/1970", "01/02/2023", "", "", "Marie Dupont", "Ne souhaite pas répondre",
     "", "Oui", "Non", "Non", "", "", ""],
]  # fmt: skip


def run(plie, rows, by):
    sources = [Source("referents.csv", csv_bytes(REFERENTS)), Source("participants.csv", csv_bytes([HEADER, *rows]))]
    return {result.name: result for result in run_batch(plie, sources, by=by)}


def state():
    return (
        sorted(map(repr, Participant.objects.values_list())),
        sorted(map(repr, Participation.objects.values_list())),
        Participant.history.count(),
        Participation.history.count(),
    )


def test_the_questionnaire_columns_fill_the_file_and_the_exit_situation(plie, operation, admin_user):
    results = run(plie, ROWS, admin_user)
    assert not results["participants.csv"].errors

    lea = Participant.objects.get(external_id="Q1")
    assert (lea.employment_status, str(lea.unemployed_since), lea.disability) == ("unemployed", "2021-06-01", "no")
    assert (lea.nationality, lea.foreign_background, lea.homeless) == (Nationality.OUTSIDE_EU, "declined", "no")
    eric = Participant.objects.get(external_id="Q2")
    assert (eric.employment_status, eric.nationality, eric.homeless) == (
        EmploymentStatus.DECLINED,
        Nationality.FRANCE_OR_EU,
        "",
    )
    participation = Participation.objects.get(participant=lea, operation=operation)
    assert participation.long_term_unemployed is True  # 19 months without a job on 15/01/2023
    assert (participation.exit_employment, participation.exit_training, participation.exit_qualification) == (
        Answer.YES,
        Answer.NO,
        "",
    )
    assert participation.exit_recorded_by == admin_user


def test_importing_the_same_file_again_changes_nothing(plie, operation, admin_user):
    run(plie, ROWS, admin_user)
    before = state()
    results = run(plie, ROWS, admin_user)
    assert results["participants.csv"].unchanged == 2 and results["participants.csv"].updated == 0
    assert state() == before


@pytest.mark.parametrize(
    ("column", "value", "expected"),
    [
        ("Situation emploi à l'entrée", "Retraité", "Chômeur, Inactif, En emploi ou Ne souhaite pas répondre"),
        ("Handicap", "Peut-être", "Oui, Non ou Ne souhaite pas répondre"),
        ("Sans emploi depuis", "31/02/2021", "JJ/MM/AAAA"),
        ("Sortie : en emploi", "Bientôt", "Oui, Non ou Ne souhaite pas répondre"),
    ],
)
def test_a_bad_answer_is_refused_with_its_line_column_and_value_and_nothing_is_written(
    plie, operation, admin_user, column, value, expected
):
    before = state()
    rows = [list(row) for row in ROWS]
    rows[1][HEADER.index(column)] = value
    errors = run(plie, rows, admin_user)["participants.csv"].errors
    assert [(e["line"], e["column"], e["value"]) for e in errors] == [(3, column, value)]
    assert expected in errors[0]["message"]
    assert state() == before


def test_an_exit_situation_without_an_exit_date_is_refused(plie, operation, admin_user):
    rows = [list(row) for row in ROWS]
    rows[1][HEADER.index("Sortie : en emploi")] = "Oui"
    errors = run(plie, rows, admin_user)["participants.csv"].errors
    assert [(e["line"], e["column"]) for e in errors] == [(3, "Sortie : en emploi")]
    assert "demande une date de sortie" in errors[0]["message"]


def test_a_new_exit_situation_alone_is_recorded_and_renews_the_data_version(plie, operation, admin_user):
    run(plie, ROWS, admin_user)
    for _, func, _ in list(connection.run_on_commit):  # the commit of the first import
        if hasattr(func, "dataversion_of") and not func.done:
            func()
    rows = [[*ROWS[0][:-2], "Non", "Oui"], ROWS[1]]

    result = run(plie, rows, admin_user)["participants.csv"]

    assert (result.created, result.updated, result.unchanged) == (0, 0, 2)
    participation = Participation.objects.get(participant__external_id="Q1", operation=operation)
    assert (participation.exit_employment, participation.exit_training) == (Answer.NO, Answer.YES)
    assert dataversion.written(plie.pk)
