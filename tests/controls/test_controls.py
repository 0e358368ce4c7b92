"""Ready for the FSE+ « contrôle de service fait » (#17): the eligibility gate, dated proofs, completeness against the
35 % threshold, the bilan financier to the cent, the auditor's pack (index PDF/A, proofs, lists), who may reach it,
and how long it is kept."""

import csv
import datetime
import io
import re
import subprocess
import zipfile
from decimal import Decimal

import pikepdf
import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from applications.finance import financial_bilan
from applications.models import Expense, ExpenseCategory
from applications.services import record_expense
from controls import completeness, services
from controls.models import AuditPack, PackStatus, SampleMode
from operations.models import EligibilityRule, Operation, ProofType, StaffProofKind, StaffTimeProof
from operations.services import renew_operation
from participants import services as parcours_services
from participants.models import Document, DocumentKind, Entretien, Parcours, Participation
from participants.participations import sync_participations
from plie.models import Role
from privacy.retention import forget_person_everywhere
from tests.applications.test_checks import candidature, decide
from tests.factories import MembershipFactory, ReferentFactory, ReferentPeriodFactory, UserFactory
from tests.factories.participants import ParticipantFactory, isolate_private_storage, make_parcours, pdf, profile
from tests.reporting.test_indicators import enrol

pytestmark = pytest.mark.django_db

D = datetime.date
TODAY = D(2026, 12, 3)


def sources():
    return Operation.objects.select_related("plie").get(plie__slug="sources", code="FO1", start=D(2023, 1, 1))


def proof(plie, code):
    return ProofType.objects.get(plie=plie, code=code)


def attach(participant, kind, *, by, proof_type=None, attests_on=None, parcours=None, name="piece.pdf"):
    return Document.objects.create(
        participant=participant,
        parcours=parcours,
        kind=kind,
        proof_type=proof_type,
        attests_on=attests_on,
        file=pdf(name),
        original_name=name,
        content_type="application/pdf",
        size=15,
        uploaded_by=by,
    )


@pytest.fixture
def storage(monkeypatch, tmp_path):
    from operations.models import StaffTimeProof

    isolate_private_storage(monkeypatch, tmp_path)
    store = Document._meta.get_field("file").storage
    for model, name in [(StaffTimeProof, "file"), (AuditPack, "file"), (Expense, "proof")]:
        monkeypatch.setattr(model._meta.get_field(name), "storage", store)
    return store


# --- The eligibility gate, on the seed fiche of the PLIE des Sources.


@pytest.fixture
def candidate(db):
    """Someone admitted by the Sources commission, on RSA, waiting for the contrat d'engagement."""
    operation = sources()
    team = MembershipFactory(plie=operation.plie, role=Role.ANIMATION).user
    referent = ReferentFactory(plie=operation.plie)
    ReferentPeriodFactory(referent=referent, operation=operation)
    participant = ParticipantFactory(plie=operation.plie, rsa=True)
    parcours = make_parcours(participant, "accepted", by=team)
    return operation, team, referent, parcours


ENTRY_ON = D(2023, 2, 1)


def integrate(candidate, on=ENTRY_ON):
    operation, team, referent, parcours = candidate
    return parcours_services.integrate(
        parcours=parcours, entry_date=on, operation=operation, referent=referent, by=team
    )


def refusal(excinfo):
    return [message for error in excinfo.value.error_list for message in error.messages]


def test_the_seed_fiches_list_the_proofs_of_each_criterion_they_accept():
    rules = EligibilityRule.objects.filter(operation=sources())
    assert {(r.criterion, r.proof_type.code) for r in rules} >= {
        ("", "piece-identite"),
        ("rsa", "attestation-rsa"),
        ("deld", "attestation-france-travail"),
        ("rqth", "notification-rqth"),
        ("qpv", "justificatif-domicile"),
    }
    assert proof(sources().plie, "attestation-rsa").validity_months == 3
    assert Operation.objects.filter(eligibility_rules__isnull=False).distinct().count() == 11


def test_integration_is_refused_naming_each_missing_proof(storage, candidate):
    with pytest.raises(ValidationError) as excinfo:
        integrate(candidate)
    messages = refusal(excinfo)
    assert messages[0].startswith("Intégration impossible")
    assert "Pièce d’identité ou titre de séjour en cours de validité : pièce manquante" in messages
    assert any("Critère « Bénéficiaire du RSA » — Attestation de droits au RSA" in m for m in messages)
    parcours = candidate[3]
    parcours.refresh_from_db()
    assert (parcours.status, parcours.entry_date) == ("accepted", None)


def test_a_proof_dated_outside_its_validity_does_not_open_the_gate(storage, candidate):
    operation, team, _, parcours = candidate
    participant = parcours.participant
    attach(participant, DocumentKind.IDENTITY, by=team, proof_type=proof(operation.plie, "piece-identite"),
           attests_on=D(2020, 5, 1))  # fmt: skip
    attach(participant, DocumentKind.ELIGIBILITY, by=team, proof_type=proof(operation.plie, "attestation-rsa"),
           attests_on=D(2022, 10, 31))  # fmt: skip
    with pytest.raises(ValidationError) as excinfo:
        integrate(candidate)
    assert any("datée du 31/10/2022, hors de sa validité" in m for m in refusal(excinfo))
    attach(participant, DocumentKind.ELIGIBILITY, by=team, proof_type=proof(operation.plie, "attestation-rsa"),
           attests_on=D(2023, 1, 12))  # fmt: skip
    parcours = integrate(candidate)
    assert (parcours.status, parcours.eligibility_basis) == ("active", "rsa")


def test_a_person_without_any_accepted_criterion_is_refused(storage, candidate):
    operation, team, _, parcours = candidate
    parcours.participant.rsa = False
    parcours.participant.save()
    attach(parcours.participant, DocumentKind.IDENTITY, by=team, proof_type=proof(operation.plie, "piece-identite"),
           attests_on=D(2023, 1, 10))  # fmt: skip
    with pytest.raises(ValidationError) as excinfo:
        integrate(candidate)
    assert any(m.startswith("Aucun critère d’éligibilité accepté par la fiche") for m in refusal(excinfo))


def test_a_waiver_signed_by_the_direction_opens_the_gate_and_is_kept_as_the_proof(storage, candidate):
    operation, team, _, parcours = candidate
    letter = attach(parcours.participant, DocumentKind.WAIVER, by=team, attests_on=D(2023, 1, 25))
    parcours_services.grant_waiver(
        parcours=parcours, reason="Attestation CAF en cours de délivrance", signatory="Mme la directrice",
        signed_on=D(2023, 1, 25), document=letter, by=team,
    )  # fmt: skip
    parcours = integrate(candidate)
    assert parcours.eligibility_basis == "derogation"
    assert parcours.waiver.document == letter


def test_a_fiche_without_rules_lets_anyone_in_and_a_renewed_fiche_keeps_its_rules(operation, animation, referent_a):
    parcours = make_parcours(ParticipantFactory(plie=operation.plie), "active", by=animation, operation=operation,
                             referent=profile(referent_a))  # fmt: skip
    assert parcours.eligibility_basis == ""
    seed = sources()
    renewed = renew_operation(operation=seed, start=D(2024, 1, 1), end=D(2024, 12, 31), by=animation)
    assert renewed.eligibility_rules.count() == seed.eligibility_rules.count() == 13


def test_the_contract_signatures_and_the_fse_notice_are_recorded_with_their_dates(operation, animation, referent_a):
    parcours = make_parcours(ParticipantFactory(plie=operation.plie), "active", by=animation, operation=operation,
                             referent=profile(referent_a))  # fmt: skip
    assert parcours.missing_contract_signatures == ["le participant", "le référent", "la direction du PLIE"]
    parcours_services.record_contract(
        parcours=parcours, participant_on=D(2023, 2, 1), referent_on=D(2023, 2, 1), direction_on=D(2023, 2, 6),
        fse_notice_on=D(2023, 2, 1), by=animation,
    )  # fmt: skip
    parcours.refresh_from_db()
    assert parcours.missing_contract_signatures == []
    assert parcours.history.first().history_user == animation
    with pytest.raises(ValidationError):
        parcours_services.record_contract(
            parcours=parcours, participant_on=D(2022, 1, 1), referent_on=None, direction_on=None,
            fse_notice_on=None, by=animation,
        )  # fmt: skip


# --- Completeness, on a fixture with known gaps.


def complete_file(parcours, by, commune):
    """Everything the controller asks, for this person."""
    participant = parcours.participant
    participant.phone, participant.address, participant.commune = "06 11 22 33 44", "3 rue des Écoles", commune
    participant.questionnaire_date, participant.employment_status = parcours.entry_date, "unemployed"
    participant.qualification_level, participant.disability, participant.nationality = 3, "no", "fr"
    participant.foreign_background, participant.homeless = "no", "declined"
    participant.save()
    for kind in (DocumentKind.IDENTITY, DocumentKind.QUESTIONNAIRE, DocumentKind.ELIGIBILITY, DocumentKind.CONTRACT):
        attach(participant, kind, by=by, attests_on=parcours.entry_date, parcours=parcours)
    Parcours.objects.filter(pk=parcours.pk).update(
        contract_signed_by_participant_on=parcours.entry_date,
        contract_signed_by_referent_on=parcours.entry_date,
        contract_signed_by_direction_on=parcours.entry_date,
        fse_notice_on=parcours.entry_date,
    )
    Entretien.objects.create(participant=participant, parcours=parcours, date=parcours.entry_date, signed=True)
    if parcours.exit_date:
        attach(participant, DocumentKind.EMPLOYMENT_CONTRACT, by=by, attests_on=parcours.exit_date, parcours=parcours)


@pytest.fixture
def gaps(storage, operation, animation, referent_a):
    """Four people of the fiche: one complete; one without phone nor e-mail and an entretien not signed; one without
    commune, whose contract lacks the direction's signature and who left without an exit proof; one with only the
    identity fields and a document, still in the parcours."""
    referent = profile(referent_a)
    commune = operation.plie.communes.first()
    people = {
        "complete": enrol(referent, D(2023, 2, 1), D(2023, 9, 30), "CDI"),
        "no_contact": enrol(referent, D(2023, 3, 1)),
        "no_exit_proof": enrol(referent, D(2023, 4, 3), D(2023, 10, 31), "CDI"),
        "bare": enrol(referent, D(2023, 5, 2)),
    }
    for name in ("complete", "no_contact", "no_exit_proof"):
        complete_file(people[name], animation, commune)
    people["no_contact"].participant.__class__.objects.filter(pk=people["no_contact"].participant_id).update(phone="")
    Entretien.objects.create(
        participant=people["no_contact"].participant, parcours=people["no_contact"], date=D(2023, 6, 1), signed=False
    )
    people["no_exit_proof"].participant.__class__.objects.filter(pk=people["no_exit_proof"].participant_id).update(
        commune=None
    )
    Parcours.objects.filter(pk=people["no_exit_proof"].pk).update(contract_signed_by_direction_on=None)
    Document.objects.filter(
        participant=people["no_exit_proof"].participant, kind=DocumentKind.EMPLOYMENT_CONTRACT
    ).delete()
    bare = people["bare"].participant
    bare.phone, bare.address, bare.commune = "05 56 00 00 00", "1 place de la Mairie", commune
    bare.save()
    attach(bare, DocumentKind.IDENTITY, by=animation, attests_on=D(2023, 5, 2))
    sync_participations(operation.plie_id, today=TODAY)
    return people


def rows_by_name(operation, people):
    rows = {row.participant_id: row for row in completeness.annotated(operation, TODAY)}
    return {name: rows[parcours.participant_id] for name, parcours in people.items()}


def test_each_participant_gets_the_list_of_what_is_missing_and_a_score(gaps, operation):
    rows = rows_by_name(operation, gaps)
    missing = {name: completeness.missing_items(row) for name, row in rows.items()}
    assert missing["complete"] == []
    assert missing["no_contact"] == [
        "Coordonnées (téléphone ou e-mail, adresse et commune)",
        "Émargements des entretiens",
    ]
    assert missing["no_exit_proof"] == [
        "Coordonnées (téléphone ou e-mail, adresse et commune)",
        "Contrat d’engagement signé des trois parties",
        "Justificatif de sortie",
    ]
    assert missing["bare"] == [
        "Questionnaire d’entrée FSE+ complet",
        "Questionnaire d’entrée FSE+ signé",
        "Preuve d’éligibilité",
        "Contrat d’engagement signé des trois parties",
        "Notice d’information FSE+ remise",
        "Émargements des entretiens",
    ]
    # The exit proof counts only for those who left: 9 items then, 8 otherwise.
    assert [completeness.score(rows[n]) for n in ("complete", "no_contact", "no_exit_proof", "bare")] == [
        100, 75, 67, 25
    ]  # fmt: skip


def test_the_fiche_figures_give_the_rate_of_incomplete_contact_details_against_35_percent(gaps, operation):
    summary = completeness.summary(operation, TODAY)
    assert (summary["total"], summary["complete"]) == (4, 1)
    assert summary["contact_incomplete_rate"] == Decimal("50.0")
    assert summary["contact_over_threshold"] is True
    by_item = {item["name"]: (item["required"], item["missing"]) for item in summary["items"]}
    assert by_item == {
        "identity": (4, 0), "contact": (4, 2), "questionnaire": (4, 1), "questionnaire_signed": (4, 1),
        "eligibility": (4, 1), "contract": (4, 2), "fse_notice": (4, 1), "attendance": (4, 2), "exit_proof": (2, 1),
    }  # fmt: skip


def test_the_completeness_page_shows_the_team_the_figures_and_what_is_missing_in_constant_queries(
    gaps, operation, animation, client_of, django_assert_max_num_queries
):
    client = client_of(animation)
    with django_assert_max_num_queries(14):
        response = client.get(reverse("completeness", args=[operation.pk]))
    page = response.content.decode()
    assert response.status_code == 200
    assert "50\u00a0%" in page and "Au-delà de 35 %" in page
    assert str(gaps["bare"].participant) in page and "Notice d’information FSE+ remise" in page
    more = [enrol(profile_of(operation), D(2023, 6, 1)) for _ in range(5)]
    sync_participations(operation.plie_id, today=TODAY)
    assert len(more) == 5
    with django_assert_max_num_queries(14):
        assert client.get(reverse("completeness", args=[operation.pk])).status_code == 200


def profile_of(operation):
    return operation.referent_periods.first().referent


# --- The bilan financier of a seed fiche, to the cent.


def test_the_bilan_financier_of_a_seed_fiche_reconciles_to_the_cent_with_its_accepted_applications(storage):
    operation = sources()  # 175 200,00 € of FSE+ at most
    by = UserFactory()
    first = candidature(operation, fse="85000.00", salaries="80000.00", other_costs="8000.00")  # 100 000,00 €
    second = candidature(operation, fse="70000.00", salaries="71234.57", other_costs="1000.01")
    refused = candidature(operation, fse="10000.00", salaries="20000.00", other_costs="0")
    decide(first)
    decide(second, fse_granted=Decimal("70000.00"))
    decide(refused, outcome="refused")
    first.refresh_from_db()
    second.refresh_from_db()
    for application, category, amount in [
        (first, ExpenseCategory.SALARIES, "40000.00"), (first, ExpenseCategory.SALARIES, "20000.01"),
        (first, ExpenseCategory.OTHER, "3333.33"), (second, ExpenseCategory.SALARIES, "71234.57"),
        (second, ExpenseCategory.OTHER, "2500.00"),
    ]:  # fmt: skip
        record_expense(application=application, category=category, label="Salaires", amount=Decimal(amount),
                       paid_on=D(2023, 6, 30), proof=None, by=by)  # fmt: skip
    bilan = financial_bilan(operation)
    lines = {line.application.pk: line for line in bilan.lines}
    assert set(lines) == {first.pk, second.pk}
    one = lines[first.pk]
    assert (one.accepted_cost, one.fse_granted, one.accepted_rate) == (
        Decimal("100000.00"), Decimal("85000.00"), Decimal("85.00")
    )  # fmt: skip
    # 60 000,01 € of salaries + 15 % = 9 000,00 € (9 000,0015 rounded) + 3 333,33 € = 72 333,34 € realised.
    assert (one.realised_indirect, one.realised_cost) == (Decimal("9000.00"), Decimal("72333.34"))
    assert one.fse_due == Decimal("61483.34")  # 72 333,34 × 85 000 / 100 000 = 61 483,339 → 61 483,34
    two = lines[second.pk]
    # Realised above the accepted cost: the FSE+ due stops at the grant.
    assert two.accepted_cost == Decimal("71234.57") + Decimal("10685.19") + Decimal("1000.01")
    assert two.fse_due == Decimal("70000.00")
    totals = bilan.totals
    assert totals["forecast_cost"] == first.eligible_cost + second.eligible_cost
    assert totals["fse_granted"] == first.fse_granted + second.fse_granted == Decimal("155000.00")
    assert totals["fse_due"] == Decimal("131483.34") == bilan.fse_payable
    assert totals["realised_cost"] == sum(
        (e.amount for e in Expense.objects.filter(application__operation=operation)), Decimal(0)
    ) + Decimal("9000.00") + Decimal("10685.19")
    assert not bilan.capped_by_ceiling and bilan.fse_payable <= operation.fse_ceiling


def test_a_bilan_financier_above_the_ceiling_is_brought_back_to_it(operation):
    operation.fse_ceiling = Decimal("50000.00")
    operation.save()
    application = candidature(operation, fse="85000.00")
    Operation.objects.filter(pk=operation.pk).update(fse_ceiling=Decimal("175200.00"))
    decide(application)
    Operation.objects.filter(pk=operation.pk).update(fse_ceiling=Decimal("50000.00"))
    record_expense(application=application, category=ExpenseCategory.OTHER, label="Loyer", amount=Decimal("88000"),
                   paid_on=D(2023, 12, 31), proof=None, by=UserFactory())  # fmt: skip
    operation.refresh_from_db()
    bilan = financial_bilan(operation)
    assert bilan.total("fse_due") == Decimal("74800.00")
    assert (bilan.fse_payable, bilan.capped_by_ceiling) == (Decimal("50000.00"), True)


def test_an_expense_needs_an_accepted_application(operation):
    application = candidature(operation, fse="85000.00")
    with pytest.raises(ValidationError):
        record_expense(application=application, category=ExpenseCategory.OTHER, label="Loyer", amount=Decimal(10),
                       paid_on=D(2023, 6, 1), proof=None, by=UserFactory())  # fmt: skip


# --- The auditor's pack.


@pytest.fixture
def prepare(django_capture_on_commit_callbacks):
    """Requests a pack and runs its job as the worker would once the request is committed."""

    def request(**kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return services.request_pack(**kwargs)

    return request


@pytest.fixture
def audited(gaps, operation, animation, referent_a):
    """Twelve people on the fiche (the four with known gaps and eight complete files), a month of staff time proven,
    an accepted application with an expense without its proof."""
    referent = profile(referent_a)
    commune = operation.plie.communes.first()
    for month in range(8):
        complete_file(enrol(referent, D(2023, 1 + month, 2)), animation, commune)
    sync_participations(operation.plie_id, today=TODAY)
    period = operation.referent_periods.get()
    StaffTimeProof.objects.create(period=period, month=D(2023, 1, 1), kind=StaffProofKind.PAY_SLIP, file=pdf("bulletin.pdf"),
                                  original_name="bulletin.pdf", content_type="application/pdf", uploaded_by=animation)  # fmt: skip
    application = candidature(operation, fse="85000.00")
    decide(application)
    record_expense(application=application, category=ExpenseCategory.SALARIES, label="Salaires de janvier",
                   amount=Decimal("5000"), paid_on=D(2023, 1, 31), proof=None, by=animation)  # fmt: skip
    return gaps


def pdf_text(content, tmp_path, name="index.pdf"):
    path = tmp_path / name
    path.write_bytes(content)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout


def says(text, phrase):
    """The phrase is in the text, whatever the line breaks of the PDF's layout."""
    return re.search(r"\s+".join(map(re.escape, phrase.split())), text) is not None


def assert_pdf_a(content, title_start):
    with pikepdf.open(io.BytesIO(content)) as document:
        metadata = document.open_metadata()
        assert metadata["pdfaid:part"] == "3" and metadata["pdfaid:conformance"] == "B"
        assert metadata["dc:title"].startswith(title_start)
        assert document.Root.OutputIntents[0].S == "/GTS_PDFA1"
        fonts = 0
        for page in document.pages:
            for font in page.Resources.get("/Font", {}).values():
                descriptor = (font.DescendantFonts[0] if "/DescendantFonts" in font else font).FontDescriptor
                assert any(key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3")), font
                fonts += 1
        assert fonts


def test_a_pack_for_a_random_sample_of_10_lists_every_required_piece_with_its_state(audited, prepare, operation, animation,
                                                                                    tmp_path):  # fmt: skip
    pack = prepare(operation=operation, by=animation, size=10, seed=20231231)
    pack.refresh_from_db()
    assert (pack.status, pack.error, pack.progress, pack.mode) == (PackStatus.DONE, "", 100, SampleMode.RANDOM)
    ids = list(Participation.objects.filter(operation=operation).order_by("pk").values_list("pk", flat=True))
    assert pack.sample == services.draw(ids, 10, 20231231) and pack.population == 12  # the draw can be redone
    with pack.file.open("rb") as handle, zipfile.ZipFile(handle) as archive:
        names = archive.namelist()
        index = archive.read("index.pdf")
        participants_list = archive.read("liste-des-participants.csv").decode("utf-8-sig")
        bilan, finance = archive.read("bilan.pdf"), archive.read("bilan-financier.pdf")
    assert {"index.pdf", "liste-des-participants.csv", "bilan.pdf", "bilan-financier.pdf"} <= set(names)
    assert any(
        name.startswith("temps-des-referents/") and name.endswith("2023-01-bulletin-de-paie.pdf") for name in names
    )
    assert len(list(csv.reader(io.StringIO(participants_list), delimiter=";"))) == 13
    text = pdf_text(index, tmp_path)
    rows = {row.pk: row for row in completeness.annotated(operation, TODAY)}
    expected_missing = 0
    for number, pk in enumerate(pack.sample, start=1):
        row = rows[pk]
        assert f"{number}. {row.participant}" in text
        expected_missing += len(completeness.missing_items(row))
    for _, label in completeness.ITEMS:
        assert len(re.findall(re.escape(label[:15]), text)) >= 10, label  # the table wraps long labels
    states = re.findall(r"\b(présent|manquant|sans objet)\b", text)
    # One state per item and participant, one per month of staff time, one per expense (plus the legend's three).
    months = 12
    assert len(states) == 10 * len(completeness.ITEMS) + months + 1 + 3
    staff_missing, expense_missing = months - 1, 1
    assert pack.missing == expected_missing + staff_missing + expense_missing
    assert states.count("manquant") == pack.missing + 1
    assert_pdf_a(index, "Contrôle de service fait")
    assert_pdf_a(bilan, "Bilan FO1")
    assert_pdf_a(finance, "Bilan financier FO1")


def test_a_missing_piece_of_the_controllers_list_appears_as_missing(audited, prepare, operation, animation, tmp_path):
    chosen = Participation.objects.filter(participant=audited["no_exit_proof"].participant)
    pack = prepare(operation=operation, by=animation, participations=chosen, reference="CSF 2024-17")
    pack.refresh_from_db()
    with pack.file.open("rb") as handle, zipfile.ZipFile(handle) as archive:
        text = pdf_text(archive.read("index.pdf"), tmp_path)
        proofs = [n for n in archive.namelist() if n.startswith("justificatifs/01-")]
    assert says(text, "Justificatif de sortie manquant")
    assert says(text, "Contrat d’engagement signé manquant")  # the table wraps the rest of the label
    assert says(text, "signé par la direction du PLIE : signature non enregistrée")
    assert says(text, "Pièce d’identité présent")
    assert len(proofs) == 4  # identity, questionnaire, eligibility, contract: the documents themselves
    assert pack.mode == SampleMode.LIST and pack.seed is None and "CSF 2024-17" in text


def test_the_pack_page_and_the_download_are_the_teams_only(audited, prepare, operation, animation, admin_user, referent_a,
                                                           copil, outsider, client_of):  # fmt: skip
    pack = prepare(operation=operation, by=animation, size=3, seed=1)
    pages = [reverse("completeness", args=[operation.pk]), reverse("audit_pack_request", args=[operation.pk]),
             reverse("staff_time", args=[operation.pk]), pack.get_absolute_url(),
             reverse("audit_pack_download", args=[pack.pk])]  # fmt: skip
    expected = {animation: 200, admin_user: 200, referent_a: 403, copil: 404, outsider: 404}
    for user, status in expected.items():
        client = client_of(user)
        for url in pages:
            response = client.get(url)
            # The ZIP's file handle. Not response.close(): it also sends request_finished, which closes the test's
            # database connection on PostgreSQL.
            for close in response._resource_closers:
                close()
            # A pack is not even listed for a referent: not found.
            status_here = 404 if url.startswith("/controle/") and status == 403 else status
            assert response.status_code == status_here, (user.email, url, response.status_code)
            if response.status_code != 200:
                assert str(audited["bare"].participant) not in response.content.decode(errors="ignore")


def test_nominative_content_never_reaches_the_copil(audited, prepare, operation, animation, copil, client_of):
    prepare(operation=operation, by=animation, size=3, seed=1)
    names = [str(p.participant) for p in audited.values()] + [p.participant.last_name for p in audited.values()]
    client = client_of(copil)
    for url in [reverse("financial_bilan", args=[operation.pk]), reverse("funding", args=[operation.pk])]:
        response = client.get(url)
        assert response.status_code == 200
        page = response.content.decode()
        assert not [name for name in names if name in page]
    assert AuditPack.objects.for_user(copil).count() == 0
    assert (
        client.post(
            reverse("audit_pack_request", args=[operation.pk]), {"mode": "random", "tirage-size": 2}
        ).status_code
        == 404
    )
    assert AuditPack.objects.count() == 1


def test_the_team_draws_a_sample_from_the_page_and_follows_it(
    audited, operation, animation, client_of, django_capture_on_commit_callbacks
):
    client = client_of(animation)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("audit_pack_request", args=[operation.pk]), {"mode": "random", "tirage-size": 10}
        )
    pack = AuditPack.objects.get()
    assert response.status_code == 302 and response.url == pack.get_absolute_url()
    state = client.get(pack.get_absolute_url(), headers={"Accept": "application/json"}).json()
    assert (state["status"], state["ready"], state["progress"]) == ("done", True, 100)
    download = client.get(reverse("audit_pack_download", args=[pack.pk]))
    assert download["Content-Type"] == "application/zip"
    assert zipfile.ZipFile(io.BytesIO(b"".join(download.streaming_content))).testzip() is None
    download.close()


def test_retention_deletes_the_pack_file_after_its_date_and_keeps_the_record_of_the_draw(
    audited, prepare, operation, animation
):
    pack = prepare(operation=operation, by=animation, size=2, seed=7)
    pack.refresh_from_db()
    name = pack.file.name
    assert pack.file.storage.exists(name)
    assert services.purge_expired_packs(today=pack.expires_on) == 0
    assert services.purge_expired_packs(today=pack.expires_on + datetime.timedelta(days=1)) == 1
    pack.refresh_from_db()
    assert (pack.status, pack.file.name, pack.seed, len(pack.sample)) == (PackStatus.PURGED, "", 7, 2)
    assert not pack.file.storage.exists(name)
    assert services.purge_expired_packs(today=pack.expires_on + datetime.timedelta(days=1)) == 0


def test_a_pack_is_kept_no_longer_than_the_fiches_archiving_deadline(operation, settings):
    settings.AUDIT_PACK_RETENTION_DAYS = 180
    assert services.expiry(operation, D(2026, 1, 1)) == D(2026, 6, 30)
    operation.audit_deadline = D(2026, 3, 31)
    assert services.expiry(operation, D(2026, 1, 1)) == D(2026, 3, 31)


def test_a_person_forgotten_takes_the_packs_holding_their_proofs_with_them(audited, prepare, operation, animation):
    person = audited["bare"].participant
    chosen = Participation.objects.filter(participant=person)
    pack = prepare(operation=operation, by=animation, participations=chosen)
    other = prepare(
        operation=operation,
        by=animation,
        participations=Participation.objects.filter(participant=audited["complete"].participant),
    )
    forget_person_everywhere(person)
    pack.refresh_from_db()
    other.refresh_from_db()
    assert (pack.status, pack.file.name) == (PackStatus.PURGED, "")
    assert other.status == PackStatus.DONE


def test_the_nightly_retention_deletes_the_expired_packs(audited, prepare, operation, animation, capsys):
    from django.core.management import call_command

    pack = prepare(operation=operation, by=animation, size=2, seed=3)
    AuditPack.objects.filter(pk=pack.pk).update(expires_on=D(2026, 1, 1))
    call_command("apply_retention", "--json")  # a simulation changes nothing
    assert AuditPack.objects.get().status == PackStatus.DONE
    call_command("apply_retention", "--apply", "--json")
    assert '"audit_packs_deleted": 1' in capsys.readouterr().out
    assert AuditPack.objects.get().status == PackStatus.PURGED


def test_the_team_edits_the_proofs_a_fiche_requires_and_others_only_read_them(client_of, copil, outsider):
    operation = sources()
    team = MembershipFactory(plie=operation.plie, role=Role.ANIMATION).user
    reader = MembershipFactory(plie=operation.plie, role=Role.COPIL).user
    url = reverse("eligibility_rules", args=[operation.pk])
    client = client_of(team)
    assert "Attestation de droits au RSA" in client.get(url).content.decode()
    response = client.post(url, {"add_type": "1", "label": "Attestation Cap emploi", "code": "cap-emploi",
                                 "validity_months": "6"})  # fmt: skip
    assert response.status_code == 302
    added = proof(operation.plie, "cap-emploi")
    client.post(url, {"add_rule": "1", "criterion": "rqth", "proof_type": added.pk})
    rule = EligibilityRule.objects.get(operation=operation, proof_type=added)
    assert rule.history.get().history_user == team
    client.post(url, {"delete_rule": rule.pk})
    assert not EligibilityRule.objects.filter(pk=rule.pk).exists()
    assert client_of(reader).get(url).status_code == 200
    assert (
        client_of(reader)
        .post(url, {"delete_rule": EligibilityRule.objects.filter(operation=operation).first().pk})
        .status_code
        == 403
    )
    assert client_of(outsider).get(url).status_code == 404
