import gc
import json
from io import StringIO

import pytest
from django.core.management import call_command

from imports.engine import Source, run_batch
from imports.kinds.participants import ParticipantsImporter
from imports.models import ColumnMapping, ImportRun
from operations.models import Referent, ReferentPeriod, Structure
from participants.models import Entretien, Parcours, Participant, ReferentAssignment, Status
from steps.models import Step, Validation
from tests.imports.files import ENTRETIENS, PARTICIPANTS, REFERENTS, STEPS, changed, csv_bytes, xlsx_bytes

MODELS = [Structure, Referent, ReferentPeriod, Participant, Parcours, ReferentAssignment, Step, Entretien]


def snapshot():
    """Every row an import may write, history included, so that "nothing was written" can be checked."""
    state = {}
    for model in MODELS:
        state[model.__name__] = sorted(map(repr, model.objects.values_list()))
        state[f"history of {model.__name__}"] = model.history.count()
    return state


def run(plie, *files, by=None, **options):
    sources = [Source(name, data) for name, data in files]
    return {result.name: result for result in run_batch(plie, sources, by=by, **options)}


def everything():
    return [
        ("referents.csv", csv_bytes(REFERENTS)),
        ("participants.csv", csv_bytes(PARTICIPANTS, encoding="cp1252")),
        ("etapes.csv", csv_bytes(STEPS)),
        ("entretiens.csv", csv_bytes(ENTRETIENS, separator=",", encoding="utf-8", newline="\n")),
    ]


@pytest.fixture
def imported(plie, operation, admin_user):
    results = run(plie, *everything(), by=admin_user)
    assert all(not r.errors for r in results.values()), [r.errors for r in results.values()]
    return results


def test_files_are_recognised_and_imported_in_order_whatever_the_order_given(plie, operation, admin_user):
    results = run(plie, *reversed(everything()), by=admin_user)

    assert [r.kind for r in results.values()] == ["référents", "participants", "étapes", "entretiens"]
    assert results["participants.csv"].description == "CSV, encodage Windows-1252, séparateur point-virgule"
    assert results["entretiens.csv"].description == "CSV, encodage UTF-8, séparateur virgule"
    assert results["referents.csv"].description == "CSV, encodage UTF-8 (avec BOM), séparateur point-virgule"
    assert {name: r.created for name, r in results.items()} == {
        "referents.csv": 2,
        "participants.csv": 3,
        "etapes.csv": 3,
        "entretiens.csv": 4,
    }


def test_an_import_writes_people_parcours_assignments_steps_and_entretiens_with_their_author(
    imported, plie, admin_user
):
    lea = Participant.objects.get(plie=plie, external_id="P1")
    assert (lea.last_name, lea.first_name, lea.sex, lea.qpv, lea.rsa, lea.qualification_level) == (
        "Martin",
        "Léa",
        "F",
        True,
        True,
        3,
    )
    assert lea.commune_id == "33318"
    parcours = lea.parcours.get()
    assert (parcours.external_id, parcours.status, parcours.exit_reason.label) == ("PA1", Status.EXITED, "CDI")
    assert parcours.prescriber == "france_travail"
    assert parcours.exit_validated_by == admin_user
    assert parcours.operation.code == "FO1"
    assignment = parcours.assignments.get()
    assert (assignment.referent.full_name, assignment.start, assignment.end) == (
        "Marie Dupont",
        parcours.entry_date,
        parcours.exit_date,
    )
    step = Step.objects.get(external_id="S1")
    assert (step.validation, step.decided_by, step.partner) == (Validation.VALIDATED, admin_user, "Boulangerie Lafon")
    assert Step.objects.get(external_id="S3").status == "proposed"
    assert Entretien.objects.get(external_id="E1").referent.full_name == "Marie Dupont"
    assert Participant.objects.get(external_id="P2").qualification_level == 1
    assert ReferentPeriod.objects.get(referent__last_name="Martin").etp == pytest.approx(0.5)
    report = json.dumps(imported["participants.csv"].as_report(), ensure_ascii=False)
    assert "Léa" not in report and "Diallo" not in report  # reports outlive erasures: identifiers only
    record = lea.history.get()
    assert (record.history_type, record.history_user, record.history_change_reason) == (
        "+",
        admin_user,
        "Import : participants.csv",
    )


def test_importing_the_same_files_twice_changes_nothing_the_second_time(imported, plie, admin_user):
    before = snapshot()
    results = run(plie, *everything(), by=admin_user)

    assert {name: (r.created, r.updated, r.unchanged) for name, r in results.items()} == {
        "referents.csv": (0, 0, 2),
        "participants.csv": (0, 0, 3),
        "etapes.csv": (0, 0, 3),
        "entretiens.csv": (0, 0, 4),
    }
    assert all(row["status"] == "unchanged" for r in results.values() for row in r.rows)
    assert snapshot() == before


def test_a_corrected_file_updates_only_the_rows_that_changed(imported, plie, admin_user):
    corrected = changed(PARTICIPANTS, 3, "Nom", "Durand-Lopez")
    corrected = changed(corrected, 4, "Date de sortie", "31/10/2023")
    corrected = changed(corrected, 4, "Motif de sortie", "Formation qualifiante")

    result = run(plie, ("participants.csv", csv_bytes(corrected)), by=admin_user)["participants.csv"]

    assert (result.created, result.updated, result.unchanged) == (0, 2, 1)
    assert [row["status"] for row in result.rows] == ["unchanged", "update", "update"]
    assert Participant.objects.get(external_id="P2").last_name == "Durand-Lopez"
    awa = Parcours.objects.get(external_id="PA3")
    assert (awa.exit_date.isoformat(), awa.status, awa.assignments.get().end.isoformat()) == (
        "2023-10-31",
        Status.EXITED,
        "2023-10-31",
    )
    assert Participant.objects.get(external_id="P1").history.count() == 1
    assert Participant.objects.get(external_id="P2").history.latest().history_type == "~"


def test_an_xlsx_extract_is_read_from_its_first_sheet_and_formulas_are_refused(plie, operation, admin_user):
    run(plie, ("referents.csv", csv_bytes(REFERENTS)), by=admin_user)
    result = run(plie, ("participants.xlsx", xlsx_bytes(PARTICIPANTS)), by=admin_user)["participants.xlsx"]
    assert (result.kind, result.created, result.errors) == ("participants", 3, [])

    with_formula = changed(PARTICIPANTS, 2, "Nom", '=HYPERLINK("http://x","y")')
    result = run(plie, ("encore.xlsx", xlsx_bytes(with_formula)), by=admin_user)["encore.xlsx"]
    assert result.errors[0]["line"] == 2 and result.errors[0]["column"] == "Nom"
    assert "formule" in result.errors[0]["message"]


def test_headers_are_matched_ignoring_case_accents_spaces_and_apostrophes(plie, operation, admin_user):
    run(plie, ("referents.csv", csv_bytes(REFERENTS)), by=admin_user)
    headers = [
        " id PARTICIPANT ",
        "Id Parcours",
        "NOM",
        "prenom",
        "sexe",
        "date de   naissance",
        "code insee",
        "qpv",
        "rsa",
        "niveau de formation",
        "prescripteur",
        "Date d’entrée",
        "DATE DE SORTIE",
        "motif de sortie",
        "REFERENT",
        "Commentaire interne",
    ]
    result = run(plie, ("p.csv", csv_bytes([headers, *PARTICIPANTS[1:]], encoding="cp1252")))["p.csv"]

    assert (result.kind, result.created, result.errors) == ("participants", 3, [])
    assert result.ignored == ["Commentaire interne"]


def test_a_saved_mapping_lets_a_plie_use_its_own_header(plie, operation, admin_user):
    run(plie, ("referents.csv", csv_bytes(REFERENTS)), by=admin_user)
    own = changed(PARTICIPANTS, 1, "Référent", "Conseiller référent")
    result = run(plie, ("p.csv", csv_bytes(own)))["p.csv"]
    assert result.errors == [
        {"line": 1, "column": "Référent", "value": "", "message": "Colonne obligatoire absente : « Référent »."}
    ]

    ColumnMapping.objects.create(plie=plie, kind="participants", header="conseiller referent", column="Référent")
    result = run(plie, ("p.csv", csv_bytes(own)))["p.csv"]
    assert (result.created, result.errors) == (3, [])
    assert {"header": "Conseiller référent", "column": "Référent", "how": "mapping"} in result.matched


def test_a_dry_run_reports_exactly_what_an_import_would_do_and_writes_nothing(plie, operation, admin_user):
    before = snapshot()
    results = run(plie, *everything(), by=admin_user, dry_run=True)

    assert [r.created for r in results.values()] == [2, 3, 3, 4]
    assert snapshot() == before


def test_missing_referents_are_created_on_request(plie, operation, admin_user):
    result = run(plie, ("p.csv", csv_bytes(PARTICIPANTS)), by=admin_user, create_referents=True)["p.csv"]

    assert result.errors == []
    assert set(Referent.objects.filter(plie=plie).values_list("last_name", flat=True)) >= {"Dupont", "Martin"}
    assert Referent.objects.get(plie=plie, last_name="Dupont").history.get().history_user == admin_user


BAD = [
    ("participants", "Date de naissance", "31/02/2023", "date qui existe"),
    ("participants", "Date de naissance", "2023-13-01", "date qui existe"),
    ("participants", "Date d'entrée", "hier", "JJ/MM/AAAA"),
    ("participants", "Sexe", "X", "F, H ou NB"),
    ("participants", "Motif de sortie", "", "motif obligatoire"),
    ("participants", "Motif de sortie", "Trouvé un emploi", "motif inconnu"),
    ("participants", "Référent", "Jeanne Inconnue", "référent inconnu"),
    ("participants", "ID parcours", "PA1", "en double : déjà à la ligne 2"),
    ("participants", "Nom", "=1+1", "formule"),
    ("participants", "Code INSEE", "99999", "commune inconnue"),
    ("étapes", "Type d'étape", "Stage de plongée", "type d’étape inconnu"),
    ("étapes", "ID participant", "P404", "ni dans le fichier des participants"),
    ("étapes", "ID étape", "S1", "en double : déjà à la ligne 2"),
    ("étapes", "Date de début", "01/01/2021", "aucun parcours"),
    ("étapes", "Statut", "Prévue", "« En cours » ou « Réalisée »"),
    ("référents", "ETP", "1,5", "supérieur à 0 et au plus égal à 1"),
    ("référents", "ETP", "0", "supérieur à 0 et au plus égal à 1"),
    ("référents", "Opération", "FO9", "opération inconnue"),
    ("référents", "Date de début", "01/06/2023", "chevauche"),
]
SOURCES = {"participants": PARTICIPANTS, "étapes": STEPS, "référents": REFERENTS}


@pytest.mark.parametrize(("kind", "column", "value", "expected"), BAD)
def test_an_invalid_row_rejects_its_whole_file_with_line_column_value_and_what_is_expected(
    imported, plie, admin_user, kind, column, value, expected
):
    rows = SOURCES[kind]
    line = 3
    if column == "Statut":
        line = 2  # S1 is validated
    damaged = changed(rows, line, column, value)
    if kind == "référents" and column == "Date de début":
        damaged = changed(damaged, 3, "Référent", "Marie Dupont")
        damaged = changed(damaged, 3, "Structure", "Association Relais")
    if column == "Motif de sortie" and value == "":
        damaged = changed(damaged, 3, "Date de sortie", "30/06/2023")
    before = snapshot()

    result = run(plie, ("fichier.csv", csv_bytes(damaged)), by=admin_user)["fichier.csv"]

    assert result.errors, "the file should have been refused"
    error = next(e for e in result.errors if e["column"] == column)
    assert error["line"] == line
    assert error["value"] == value
    assert expected in error["message"]
    assert (result.created, result.updated, result.unchanged) == (0, 0, 0)
    assert snapshot() == before


def test_overlapping_parcours_of_one_person_are_refused_in_the_file_and_against_the_database(imported, plie):
    rows = [
        *PARTICIPANTS,
        [
            "P1",
            "PA9",
            "Martin",
            "Léa",
            "F",
            "12/03/1985",
            "33318",
            "Oui",
            "Oui",
            "Niveau 3",
            "CCAS",
            "01/09/2023",
            "",
            "",
            "Marie Dupont",
        ],
    ]
    before = snapshot()
    result = run(plie, ("p.csv", csv_bytes(rows)))["p.csv"]
    assert result.errors == [
        {
            "line": 5,
            "column": "Date d'entrée",
            "value": "01/09/2023",
            "message": "ce parcours chevauche la ligne 2 du même participant (entré le 15/01/2023, sorti le 30/09/2023)",
        }
    ]
    only_new = [PARTICIPANTS[0], rows[-1]]
    result = run(plie, ("p.csv", csv_bytes(only_new)))["p.csv"]
    assert "chevauche un parcours déjà enregistré" in result.errors[0]["message"]
    assert snapshot() == before


def test_an_exit_without_date_but_with_reason_and_an_entry_after_exit_are_refused(imported, plie):
    rows = changed(PARTICIPANTS, 4, "Motif de sortie", "CDI")
    rows = changed(rows, 2, "Date de sortie", "01/01/2023")
    messages = {e["message"] for e in run(plie, ("p.csv", csv_bytes(rows)))["p.csv"].errors}
    assert messages == {"un motif de sortie demande une date de sortie", "la sortie ne peut pas précéder l’entrée"}


def test_a_person_whose_rows_disagree_on_identity_is_refused(imported, plie):
    rows = [
        *PARTICIPANTS,
        [
            "P1",
            "PA9",
            "Martin",
            "Lea",
            "F",
            "12/03/1985",
            "33318",
            "Oui",
            "Oui",
            "Niveau 3",
            "CCAS",
            "01/10/2023",
            "",
            "",
            "Marie Dupont",
        ],
    ]
    errors = run(plie, ("p.csv", csv_bytes(rows)))["p.csv"].errors
    assert errors == [
        {"line": 5, "column": "Prénom", "value": "Lea", "message": "diffère de la ligne 2 pour le même participant"}
    ]


def test_an_entretien_nobody_can_be_attributed_to_is_refused(imported, plie):
    rows = [*ENTRETIENS, ["E9", "P2", "01/12/2023", "", ""]]
    errors = run(plie, ("e.csv", csv_bytes(rows)))["e.csv"].errors
    assert errors[0]["line"] == 6 and "pas de parcours actif" in errors[0]["message"]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", "Le fichier est vide."),
        (b"   \r\n", "Le fichier est vide."),
        (b"ID participant;Nom;Pr\xc3\xa9nom\r\n", "ne contient que la ligne d’en-tête"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), "contenu binaire"),
        (b"%PDF-1.7\n\x00\x01\x02\x03binary", "contenu binaire"),
        (b"PK\x03\x04not really a workbook", "pas un classeur .xlsx lisible"),
        (b"Colonne A;Colonne B\r\n1;2\r\n", "Type de fichier non reconnu"),
        (b"\xef\xbb\xbfNom;Pr\xe9nom\r\nA;B\r\n", "se dit en UTF-8 mais l’octet n° 10 n’en est pas"),
    ],
)
def test_unreadable_files_are_refused_with_a_french_message(plie, operation, data, expected):
    before = snapshot()
    result = run(plie, ("fichier.csv", data))["fichier.csv"]
    assert expected in result.errors[0]["message"]
    assert snapshot() == before


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(plie, operation, settings, tmp_path):
    settings.IMPORT_MAX_MEGABYTES = 50
    huge = tmp_path / "enorme.csv"
    with huge.open("wb") as handle:
        handle.truncate(200 * 1024 * 1024)  # sparse: 200 MB announced, nothing read
    out = StringIO()
    with pytest.raises(SystemExit) as exit_:
        call_command("import_extract", "--plie", "pessac", "--json", str(huge), stdout=out)
    assert exit_.value.code == 1
    [entry] = json.loads(out.getvalue())["files"]
    assert entry["errors"][0]["message"].startswith("Fichier trop volumineux (200 Mo)")


def test_a_rejected_file_does_not_stop_the_others(plie, operation, admin_user):
    bad_steps = changed(STEPS, 2, "Type d'étape", "Inconnu")
    results = run(
        plie,
        ("r.csv", csv_bytes(REFERENTS)),
        ("p.csv", csv_bytes(PARTICIPANTS)),
        ("s.csv", csv_bytes(bad_steps)),
        by=admin_user,
    )
    assert [bool(r.errors) for r in results.values()] == [False, False, True]
    assert Participant.objects.filter(plie=plie).count() == 3
    assert not Step.objects.exists()


def test_the_import_of_a_plies_extracts_gives_the_bilan_that_indicators_md_defines(imported, plie):
    out = StringIO()
    call_command(
        "bilan",
        "--plie",
        "pessac",
        "--operation",
        "FO1",
        "--start",
        "2023-01-01",
        "--end",
        "2023-12-31",
        "--json",
        stdout=out,
    )
    totals = json.loads(out.getvalue())["totals"]

    # Marie Dupont 1 ETP and Paul Martin 0,5 ETP all year.
    assert totals["etp_moyen"] == pytest.approx(1.5)
    # Active days in 2023: Léa 15/01–30/09 (259), Éric 01/02–31/05 (120), Awa all year (365).
    assert totals["file_active_moyenne"] == pytest.approx((259 + 120 + 365) / 365, abs=1e-4)
    assert totals["participants_accompagnes"] == 3
    assert totals["nouvelles_integrations"] == 2  # Awa entered in 2022
    assert totals["etapes_validees"] == 2  # S3 is only planned
    assert totals["sorties"] == 2
    assert totals["sorties_positives"] == 1  # Léa's CDI; Éric moved away
    assert totals["entretiens"] == 3  # E3 was in 2022


def test_the_command_follows_the_interface_contract(plie, operation, tmp_path):
    paths = []
    for name, data in everything():
        path = tmp_path / name
        path.write_bytes(data)
        paths.append(str(path))
    out = StringIO()
    call_command("import_extract", "--plie", "pessac", "--json", *paths, stdout=out)
    report = json.loads(out.getvalue())
    assert report["files"][0] == {
        "file": "referents.csv",
        "kind": "référents",
        "created": 2,
        "updated": 0,
        "unchanged": 0,
        "errors": [],
    }
    run_ = ImportRun.objects.get(plie=plie)
    assert run_.created_by is None and run_.files.count() == 4

    out = StringIO()
    call_command("import_extract", "--plie", "pessac", "--dry-run", *paths, stdout=out)
    assert "referents.csv (référents) : serait importé — 0 à créer, 0 à mettre à jour, 2 inchangé(s)." in out.getvalue()
    assert ImportRun.objects.count() == 1


def test_the_command_exits_1_when_a_file_is_rejected_and_2_on_usage_errors(plie, operation, tmp_path):
    path = tmp_path / "vide.csv"
    path.write_bytes(b"")
    out = StringIO()
    with pytest.raises(SystemExit) as exit_:
        call_command("import_extract", "--plie", "pessac", str(path), stdout=out)
    assert exit_.value.code == 1
    assert "vide.csv (type non reconnu) : refusé, rien n’a été écrit. 1 erreur(s) :" in out.getvalue()

    from django.core.management.base import CommandError

    with pytest.raises(CommandError) as error:
        call_command("import_extract", "--plie", "nulle-part", str(path))
    assert error.value.returncode == 2
    with pytest.raises(CommandError) as error:
        call_command("import_extract", "--plie", "pessac", str(tmp_path / "absent.csv"))
    assert error.value.returncode == 2


def test_a_person_erased_at_their_request_is_not_brought_back_by_an_import(plie, operation, admin_user):
    import datetime

    from participants.erasure import identity_hash
    from participants.models import ErasureRecord

    run(plie, ("r.csv", csv_bytes(REFERENTS)), by=admin_user)
    ErasureRecord.objects.create(
        plie=plie,
        kind="erasure",
        identity_hash=identity_hash("pessac", "DURAND", "Eric", datetime.date(1970, 7, 1)),
        reason="Demande de la personne",
    )
    errors = run(plie, ("p.csv", csv_bytes(PARTICIPANTS)))["p.csv"].errors
    assert [(e["line"], e["column"]) for e in errors] == [(3, "ID participant")]
    assert "effacée à sa demande" in errors[0]["message"]
    assert not Participant.objects.exists()


def test_a_person_whose_processing_is_restricted_is_not_updated_by_an_import(imported, plie):
    from django.utils import timezone

    Participant.objects.filter(external_id="P1").update(restricted_at=timezone.now())
    errors = run(plie, ("p.csv", csv_bytes(changed(PARTICIPANTS, 2, "Nom", "Autre"))))["p.csv"].errors
    assert [(e["line"], e["column"]) for e in errors] == [(2, "ID participant")]
    assert "traitement limité" in errors[0]["message"]


def test_a_file_given_with_its_kind_is_read_as_that_kind(plie, operation):
    [result] = run_batch(plie, [Source("r.csv", csv_bytes(PARTICIPANTS), kind="référents")], by=None)
    assert result.kind == "référents"
    assert result.missing == ["Structure", "Opération", "ETP", "Date de début"]


def test_labels_match_the_nomenclature_whatever_the_apostrophe(plie, operation, admin_user):
    """The nomenclature writes « Création d’entreprise »; extracts from other software have the straight one."""
    participants = changed(PARTICIPANTS, 2, "Motif de sortie", "CREATION D'ENTREPRISE")
    steps = changed(STEPS, 4, "Type d'étape", "Garde d'enfants")
    files = [("r.csv", csv_bytes(REFERENTS)), ("p.csv", csv_bytes(participants)), ("s.csv", csv_bytes(steps))]
    results = run(plie, *files, by=admin_user)

    assert [r.errors for r in results.values()] == [[], [], []]
    assert Parcours.objects.get(external_id="PA1").exit_reason.label == "Création d’entreprise"
    assert Step.objects.get(external_id="S3").step_type.label == "Garde d’enfants"


def test_the_cycle_collector_rests_during_an_import_and_comes_back_after_it_even_after_a_failure(
    plie, operation, admin_user, monkeypatch
):
    seen = []
    monkeypatch.setattr(ParticipantsImporter, "unchanged", lambda self: seen.append(gc.isenabled()) or set())
    run(plie, ("participants.csv", csv_bytes(PARTICIPANTS)), by=admin_user)
    assert seen == [False] and gc.isenabled()

    monkeypatch.setattr(ParticipantsImporter, "unchanged", lambda self: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        run(plie, ("participants.csv", csv_bytes(PARTICIPANTS)), by=admin_user)
    assert gc.isenabled()
