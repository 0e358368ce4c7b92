"""The `bilan` management command (shared/spec/interfaces.md) on the PLIE des Sources' fiche FO1 of 2023."""

import datetime
import io
import json
import sys
import types
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from operations.models import Operation
from participants.models import Entretien, Parcours, ReferentAssignment, Status
from reporting.indicators import INDICATORS
from tests.factories import ReferentFactory, ReferentPeriodFactory, StructureFactory
from tests.factories.participants import ParticipantFactory, reason

D = datetime.date
PERIOD = ["--plie", "sources", "--operation", "FO1", "--start", "2023-01-01", "--end", "2023-12-31"]


def bilan(*args):
    out = io.StringIO()
    call_command("bilan", *args, stdout=out)
    return out.getvalue()


def enrol(referent, entry, exit=None, label="Abandon"):
    parcours = Parcours.objects.create(
        participant=ParticipantFactory(plie=referent.plie),
        status=Status.EXITED if exit else Status.ACTIVE,
        prescriber="france_travail",
        prescription_date=entry - datetime.timedelta(days=10),
        entry_date=entry,
        exit_date=exit,
        exit_reason=reason(referent.plie, label) if exit else None,
        job_start=entry if label == "CDI" and exit else None,
    )
    ReferentAssignment.objects.create(parcours=parcours, referent=referent, start=entry, end=exit, reason="integration")
    return parcours


@pytest.fixture
def sources(db):
    """FO1 of the Sources (1.5 steps per participant of the file active moyenne, moves out neutralised), with three
    referents of two structures and the small case of indicators.md in Hugo Lambert's portfolio."""
    operation = Operation.objects.select_related("plie").get(plie__slug="sources", code="FO1")
    plie = operation.plie
    ccas = StructureFactory(plie=plie, name="CCAS de Pessac")
    association = StructureFactory(plie=plie, name="Association Pessac Emploi")
    referents = {}
    for first_name, last_name, structure, etp in [
        ("Hugo", "Lambert", ccas, "1"),
        ("Camille", "Dupuy", association, "0.5"),
        ("Élodie", "Écuyer", association, "0.8"),
    ]:
        referent = ReferentFactory(plie=plie, first_name=first_name, last_name=last_name, structure=structure)
        ReferentPeriodFactory(referent=referent, operation=operation, etp=Decimal(etp))
        referents[last_name] = referent
    hugo = referents["Lambert"]
    enrol(hugo, D(2022, 6, 1))
    enrol(hugo, D(2023, 7, 1), D(2023, 9, 30), "CDI")
    enrol(hugo, D(2023, 12, 31))
    moved = enrol(referents["Dupuy"], D(2023, 3, 1), D(2023, 5, 31), "Déménagement")
    Entretien.objects.create(
        participant=moved.participant, parcours=moved, date=D(2023, 3, 15), referent=moved.assignments.get().referent
    )
    return operation, referents


def test_json_gives_the_contract_keys_and_the_referents_sorted_by_name(sources):
    operation, referents = sources

    data = json.loads(bilan(*PERIOD, "--json"))

    assert data["plie"] == "sources"
    assert data["operation"] == "FO1"
    assert data["period"] == {"start": "2023-01-01", "end": "2023-12-31", "days": 365}
    assert set(INDICATORS) <= set(data["totals"])
    assert [line["referent"] for line in data["referents"]] == ["Camille Dupuy", "Élodie Écuyer", "Hugo Lambert"]
    assert [line["structure"] for line in data["referents"]] == [
        "Association Pessac Emploi",
        "Association Pessac Emploi",
        "CCAS de Pessac",
    ]
    for line in data["referents"]:
        assert set(INDICATORS) <= set(line)
    dupuy, ecuyer, lambert = data["referents"]
    assert lambert["referent_id"] == referents["Lambert"].pk
    assert lambert["file_active_moyenne"] == pytest.approx(458 / 365)
    assert lambert["file_active_mensuelle"] == pytest.approx(16 / 12)
    assert lambert["participants_accompagnes"] == 3
    assert lambert["nouvelles_integrations"] == 2
    assert (lambert["sorties"], lambert["sorties_positives"], lambert["taux_sorties_positives"]) == (1, 1, 1.0)
    assert lambert["etapes_objectif"] == pytest.approx(1.5 * 458 / 365)
    assert (dupuy["sorties"], dupuy["sorties_neutralisees"], dupuy["taux_sorties_positives"]) == (1, 1, None)
    assert dupuy["taux_sorties_positives_brut"] == 0.0
    assert dupuy["entretiens"] == 1
    assert dupuy["taux_suivi_mensuel"] == pytest.approx(1 / 3)
    assert ecuyer["participants_accompagnes"] == 0
    assert ecuyer["taux_suivi_mensuel"] is None
    totals = data["totals"]
    assert totals["etp_moyen"] == pytest.approx(2.3)
    assert totals["participants_accompagnes"] == 4
    assert totals["sorties"] == 2
    assert totals["sorties_neutralisees"] == 1
    assert totals["taux_sorties_positives"] == 1.0
    assert totals["taux_sorties_positives_brut"] == 0.5
    assert totals["file_active_moyenne"] == pytest.approx((458 + 92) / 365)
    assert totals["etapes_objectif"] == pytest.approx(1.5 * 550 / 365)


def test_json_keeps_accents_readable(sources):
    assert "Élodie Écuyer" in bilan(*PERIOD, "--json")


def test_without_option_a_french_summary_is_printed(sources):
    text = bilan(*PERIOD)

    assert "Bilan PLIE des Sources — FO1 2023" in text
    assert "du 01/01/2023 au 31/12/2023 (365 jours)" in text
    assert "Participants accompagnés" in text
    assert "Taux de sorties positives" in text
    assert text.index("Camille Dupuy") < text.index("Élodie Écuyer") < text.index("Hugo Lambert")


def test_an_operation_without_referents_gives_an_empty_bilan(db):
    data = json.loads(
        bilan("--plie", "agen", "--operation", "FO1", "--start", "2023-01-01", "--end", "2023-06-30", "--json")
    )

    assert data["referents"] == []
    assert data["totals"]["etp_moyen"] == 0
    assert data["totals"]["taux_sorties_positives"] is None
    assert data["totals"]["etapes_objectif"] == 0  # the Agenais sets 4 steps per participant: 4 × 0
    assert "Aucun référent" in bilan(
        "--plie", "agen", "--operation", "FO1", "--start", "2023-01-01", "--end", "2023-06-30"
    )


@pytest.mark.parametrize(
    "args, message",
    [
        (["--plie", "nulle-part", "--operation", "FO1"], "PLIE inconnu : « nulle-part »"),
        (["--plie", "sources", "--operation", "FO7"], "Fiche opération inconnue"),
    ],
)
def test_unknown_plie_or_operation_is_a_usage_error(db, args, message):
    with pytest.raises(CommandError, match=message):
        bilan(*args, "--start", "2023-01-01", "--end", "2023-12-31", "--json")


@pytest.mark.parametrize("value", ["2023-13-01", "01/01/2023", "2023-1-1", "demain"])
def test_a_bad_date_is_a_usage_error(db, value):
    with pytest.raises(CommandError, match="Date invalide pour --start"):
        bilan("--plie", "sources", "--operation", "FO1", "--start", value, "--end", "2023-12-31", "--json")


def test_an_end_before_the_start_is_a_usage_error(db):
    with pytest.raises(CommandError, match="ne peut pas précéder son début"):
        bilan("--plie", "sources", "--operation", "FO1", "--start", "2023-12-31", "--end", "2023-01-01", "--json")


def test_json_and_pdf_exclude_each_other(db, tmp_path):
    with pytest.raises(CommandError):
        bilan(*PERIOD, "--json", "--pdf", str(tmp_path / "bilan.pdf"))


def test_pdf_writes_what_the_pdf_module_renders(sources, tmp_path, monkeypatch):
    calls = []

    def render_bilan_pdf(operation, start, end, user=None):
        calls.append((operation.code, start, end, user))
        return b"%PDF-1.7 bilan", 2  # the bytes and the number of pages, as reporting.pdf answers

    monkeypatch.setitem(sys.modules, "reporting.pdf", types.SimpleNamespace(render_bilan_pdf=render_bilan_pdf))
    target = tmp_path / "bilan.pdf"

    out = bilan(*PERIOD, "--pdf", str(target))

    assert target.read_bytes() == b"%PDF-1.7 bilan"
    assert calls == [("FO1", D(2023, 1, 1), D(2023, 12, 31), None)]
    assert "bilan.pdf (2 pages)" in out
