"""The export for Ma Démarche FSE+: one row per participation, columns held as data, French dates, no formula."""

import datetime
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from participants.models import Answer, EmploymentStatus, Nationality, Participation
from participants.participations import record_exit_situations
from reporting import mdfse, services
from reporting.models import MdfseExport
from tests.factories import ReferentFactory, ReferentPeriodFactory
from tests.factories.participants import ParticipantFactory
from tests.reporting.test_indicators import enrol

D = datetime.date
TODAY = D(2026, 12, 3)
GOLDEN = "tests/golden/mdfse.csv"


@pytest.fixture
def participations(operation, admin_user):
    """A fixed data set: two people of FO1 2023, one left in September with her exit situation recorded."""
    referent = ReferentFactory(plie=operation.plie)
    ReferentPeriodFactory(referent=referent, operation=operation, etp=Decimal(1), start=operation.start, end=None)
    lea = ParticipantFactory(
        plie=operation.plie, external_id="V-001", last_name="Martin", first_name="Léa", birth_date=D(1985, 3, 12),
        postal_code="33600", commune_id="33318", employment_status=EmploymentStatus.UNEMPLOYED,
        unemployed_since=D(2021, 6, 1), qualification_level=3, disability=Answer.NO,
        nationality=Nationality.OUTSIDE_EU, foreign_background=Answer.DECLINED, homeless=Answer.NO,
    )  # fmt: skip
    eric = ParticipantFactory(
        plie=operation.plie, external_id="V-002", last_name="=HYPERLINK(\"http://x\")", first_name="Éric", sex="H",
        birth_date=D(1970, 7, 1), employment_status=EmploymentStatus.DECLINED,
    )  # fmt: skip
    enrol(referent, D(2023, 1, 15), D(2023, 9, 30), "CDI", participant=lea)
    enrol(referent, D(2023, 2, 1), participant=eric)
    left = Participation.objects.get(participant=lea)
    record_exit_situations(answers={left: {"exit_employment": Answer.YES, "exit_training": Answer.NO}}, by=admin_user)
    return lea, eric


def export(operation, user, file_format="csv"):
    return services.export_mdfse(operation=operation, file_format=file_format, by=user, today=TODAY)


def test_the_csv_matches_the_golden_file(operation, participations, admin_user):
    with open(GOLDEN, "rb") as golden:
        assert export(operation, admin_user) == golden.read()


def test_the_xlsx_opens_with_french_dates_and_no_formula(operation, participations, admin_user):
    sheet = load_workbook(io.BytesIO(export(operation, admin_user, "xlsx"))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("Identifiant", "Nom", "Prénom") and len(rows) == 3
    dates = [cell for cell in sheet[2] if isinstance(cell.value, datetime.datetime)]
    assert dates and all(cell.number_format == "DD/MM/YYYY" for cell in dates)
    assert not any(isinstance(v, str) and v.startswith(("=", "+", "-", "@")) for row in rows for v in row), (
        "a cell would run as a formula"
    )


def test_the_columns_are_data_the_admin_edits_and_the_next_export_follows(
    operation, participations, admin_user, client_of
):
    client = client_of(admin_user)
    data = {"col-TOTAL_FORMS": "3", "col-INITIAL_FORMS": "0", "col-0-header": "NUM_INDIVIDU",
            "col-0-source": "identifiant", "col-1-header": "DATE_ENTREE", "col-1-source": "date_entree",
            "col-2-header": "", "col-2-source": ""}  # fmt: skip
    assert client.post(reverse("mdfse_columns"), data).status_code == 302

    response = client.post(reverse("mdfse_export", args=[operation.pk]), {"format": "csv"})
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    assert text.splitlines()[0] == "NUM_INDIVIDU;DATE_ENTREE"
    assert "V-001;15/01/2023" in text
    logged = MdfseExport.objects.get()
    assert (logged.by, logged.operation, logged.rows, logged.file_format) == (admin_user, operation, 2, "csv")


def test_only_the_team_exports_and_never_free_text(operation, participations, client_of, referent_b, copil, outsider):
    url = reverse("mdfse_export", args=[operation.pk])
    assert client_of(referent_b).post(url, {"format": "csv"}).status_code == 403
    assert client_of(copil).post(url, {"format": "csv"}).status_code == 403
    assert client_of(outsider).post(url, {"format": "csv"}).status_code == 404
    assert not MdfseExport.objects.exists()
    assert not {"summary", "other_criterion_detail", "address"} & set(mdfse.SOURCES)


def test_the_export_takes_a_constant_number_of_queries(
    operation, participations, admin_user, django_assert_num_queries
):
    with django_assert_num_queries(5):  # columns, participations, journal, and the savepoint pair
        export(operation, admin_user)
    referent = Participation.objects.first().referent
    for index in range(5):
        enrol(referent, D(2023, 5, 1 + index))
    with django_assert_num_queries(5):
        export(operation, admin_user)
