"""Re-importing an extract: the rows equal to what is stored are told apart in bulk (Importer.unchanged) and never go
through the row checks; what they conclude must be exactly what the checks and the plan would have concluded."""

import pytest
from django.db import connection

from imports.kinds import IMPORTERS
from imports.kinds.base import Importer
from participants.models import Parcours, Participant, ReferentAssignment
from plie import dataversion
from steps.models import Step, StepStatus
from tests.imports.files import PARTICIPANTS, REFERENTS, STEPS, changed, csv_bytes
from tests.imports.test_engine import run, snapshot

# The steps extract as the source tool writes it: each step names its parcours.
STEPS_WITH_PARCOURS = [
    [*row[:2], parcours, *row[2:]] for row, parcours in zip(STEPS, ["ID parcours", "PA1", "PA3", "PA2"], strict=True)
]


def files(participants=PARTICIPANTS, steps=STEPS_WITH_PARCOURS):
    return [
        ("referents.csv", csv_bytes(REFERENTS)),
        ("participants.csv", csv_bytes(participants)),
        ("etapes.csv", csv_bytes(steps)),
    ]


@pytest.fixture
def imported(plie, operation, admin_user):
    results = run(plie, *files(), by=admin_user)
    assert all(not r.errors for r in results.values()), [r.errors for r in results.values()]
    settle_versions()


def settle_versions():
    """What the commit of the test's transaction would do for the data versions: run their pending renewals."""
    for _, func, _ in list(connection.run_on_commit):
        if hasattr(func, "dataversion_of") and not func.done:
            func()


@pytest.fixture
def checks(monkeypatch):
    """The rows that went through the row checks, by file kind."""
    seen = {}
    check = Importer.check

    def spy(self, rows):
        seen.setdefault(self.kind, []).extend(row["_line"] for row in rows)
        return check(self, rows)

    monkeypatch.setattr(Importer, "check", spy)
    return seen


def outcome(results):
    return {
        name: (r.created, r.updated, r.unchanged, r.errors, [(row["line"], row["status"]) for row in r.rows])
        for name, r in results.items()
    }


def test_an_unchanged_file_is_settled_in_bulk_writes_nothing_and_keeps_the_data_version(
    imported, plie, admin_user, checks
):
    before = snapshot()
    results = run(plie, *files()[1:], by=admin_user)

    assert {name: (r.created, r.updated, r.unchanged) for name, r in results.items()} == {
        "participants.csv": (0, 0, 3),
        "etapes.csv": (0, 0, 3),
    }
    assert [row["status"] for r in results.values() for row in r.rows] == ["unchanged"] * 6
    assert checks == {}  # no row needed the row-by-row checks
    assert snapshot() == before  # no row and no history row written
    # Nothing was written, so no figure can have changed: the cached reports of the PLIE stay valid.
    assert not dataversion.written(plie.pk)


def test_one_changed_row_updates_that_object_alone_with_one_history_row(imported, plie, admin_user, checks):
    steps = changed(STEPS_WITH_PARCOURS, 3, "Organisme", "GRETA Sud-Gironde")
    history = {step.external_id: step.history.count() for step in Step.objects.all()}

    result = run(plie, ("etapes.csv", csv_bytes(steps)), by=admin_user)["etapes.csv"]

    assert (result.created, result.updated, result.unchanged) == (0, 1, 2)
    assert checks == {"étapes": [3]}
    assert Step.objects.get(external_id="S2").partner == "GRETA Sud-Gironde"
    assert {step.external_id: step.history.count() for step in Step.objects.all()} == {
        **history,
        "S2": history["S2"] + 1,
    }
    assert Step.objects.get(external_id="S2").history.latest().history_type == "~"
    assert dataversion.written(plie.pk)


def test_new_rows_are_added_beside_the_unchanged_ones(imported, plie, admin_user, checks):
    people = [*PARTICIPANTS, changed(PARTICIPANTS, 2, "ID participant", "P4")[1]]
    people[4] = [*people[4][:1], "PA4", *people[4][2:]]
    steps = [*STEPS_WITH_PARCOURS, ["S4", "P4", "PA4", "Atelier TRE", "01/02/2023", "", "En cours", "Non", ""]]

    results = run(plie, *files(people, steps)[1:], by=admin_user)

    assert [(r.created, r.updated, r.unchanged) for r in results.values()] == [(1, 0, 3), (1, 0, 3)]
    assert checks == {"participants": [5], "étapes": [5]}
    assert Parcours.objects.get(external_id="PA4").participant.external_id == "P4"
    assert Step.objects.get(external_id="S4").parcours.external_id == "PA4"


def test_a_row_edited_in_the_application_since_is_brought_back_to_the_file(imported, plie, admin_user):
    Step.objects.filter(external_id="S1").update(status=StepStatus.ABANDONED)
    ReferentAssignment.objects.filter(parcours__external_id="PA2").update(end=None)

    results = run(plie, *files()[1:], by=admin_user)

    assert [(r.created, r.updated, r.unchanged) for r in results.values()] == [(0, 1, 2), (0, 1, 2)]
    assert Step.objects.get(external_id="S1").status == StepStatus.DONE
    assert ReferentAssignment.objects.get(parcours__external_id="PA2").end.isoformat() == "2023-05-31"


MUTATIONS = [
    (PARTICIPANTS, "participants.csv", 2, "Nom", "Martin-Roux"),
    (PARTICIPANTS, "participants.csv", 2, "Sexe", "H"),
    (PARTICIPANTS, "participants.csv", 2, "Sexe", "Z"),
    (PARTICIPANTS, "participants.csv", 2, "Date de naissance", "12/03/2030"),
    (PARTICIPANTS, "participants.csv", 2, "Code INSEE", "33122"),
    (PARTICIPANTS, "participants.csv", 2, "Code INSEE", "99999"),
    (PARTICIPANTS, "participants.csv", 2, "QPV", "Non"),
    (PARTICIPANTS, "participants.csv", 2, "Niveau de formation", "=A1"),
    (PARTICIPANTS, "participants.csv", 2, "Prescripteur", "CCAS"),
    (PARTICIPANTS, "participants.csv", 2, "Date d'entrée", "16/01/2023"),
    (PARTICIPANTS, "participants.csv", 2, "Date de sortie", ""),
    (PARTICIPANTS, "participants.csv", 2, "Date de sortie", "01/01/2023"),
    (PARTICIPANTS, "participants.csv", 2, "Motif de sortie", "Abandon"),
    (PARTICIPANTS, "participants.csv", 2, "Motif de sortie", "Inconnu"),
    (PARTICIPANTS, "participants.csv", 4, "Motif de sortie", "CDI"),
    (PARTICIPANTS, "participants.csv", 2, "Référent", "Paul Martin"),
    (PARTICIPANTS, "participants.csv", 2, "Référent", "Jeanne Inconnue"),
    (PARTICIPANTS, "participants.csv", 2, "ID parcours", ""),
    (PARTICIPANTS, "participants.csv", 2, "ID parcours", "PA2"),
    (STEPS_WITH_PARCOURS, "etapes.csv", 2, "ID participant", "P2"),
    (STEPS_WITH_PARCOURS, "etapes.csv", 2, "ID parcours", ""),
    (STEPS_WITH_PARCOURS, "etapes.csv", 2, "ID parcours", "PA9"),
    (STEPS_WITH_PARCOURS, "etapes.csv", 2, "Type d'étape", "Atelier TRE"),
    (STEPS_WITH_PARCOURS, "etapes.csv", 2, "Type d'étape", "Sieste"),
    (STEPS_WITH_PARCOURS, "etapes.csv", 2, "Date de fin", "01/01/2023"),
    (STEPS_WITH_PARCOURS, "etapes.csv", 2, "Statut", "Abandonnée"),
    (STEPS_WITH_PARCOURS, "etapes.csv", 2, "Validée", "Non"),
    (STEPS_WITH_PARCOURS, "etapes.csv", 4, "Validée", "Oui"),
    (STEPS_WITH_PARCOURS, "etapes.csv", 3, "ID étape", "S1"),
]


@pytest.mark.parametrize(("rows", "name", "line", "column", "value"), MUTATIONS)
def test_the_bulk_comparison_concludes_what_the_row_checks_conclude(
    imported, plie, admin_user, monkeypatch, rows, name, line, column, value
):
    source = [(name, csv_bytes(changed(rows, line, column, value)))]
    in_bulk = outcome(run(plie, *source, by=admin_user, dry_run=True))
    for importer in IMPORTERS.values():
        monkeypatch.setattr(importer, "unchanged", Importer.unchanged)
    row_by_row = outcome(run(plie, *source, by=admin_user, dry_run=True))

    assert in_bulk == row_by_row
    assert Participant.objects.filter(plie=plie).count() == 3
