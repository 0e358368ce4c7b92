"""One formula neutraliser for every export (OWASP CSV injection): the Django admin's, the dashboard's, the funding
table's. A text cell starting with = + - @, a tab or a carriage return is written as text, however many there are;
numbers stay numbers."""

import csv
import io

import pytest
from django.contrib import admin
from django.urls import reverse
from import_export.admin import ExportMixin
from openpyxl import load_workbook

from imports.resources import NeutralisedFormulae
from plie.spreadsheet import FORMULA_STARTS, safe
from tests.factories import ReferentFactory, ReferentPeriodFactory, StructureFactory, UserFactory
from tests.factories.participants import ParticipantFactory, make_parcours, profile

pytestmark = pytest.mark.django_db

ATTACKS = ['==HYPERLINK("http://x";"y")', "=+1", "+cmd|' /C calc'!A0", "-1+1", "@SUM(A1)", "\t=1", "\r=1", "--1"]
YEAR = "?kind=year&year=2023"


def dangerous(cell):
    return isinstance(cell, str) and cell.startswith(FORMULA_STARTS)


def csv_cells(content):
    return [cell for row in csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=";") for cell in row]


def xlsx_cells(content):
    workbook = load_workbook(io.BytesIO(content))
    return [cell.value for sheet in workbook.worksheets for row in sheet.iter_rows() for cell in row]


@pytest.mark.parametrize("text", ATTACKS)
def test_every_formula_start_is_neutralised_repeated_or_not(text):
    assert safe(text) == "'" + text


def test_numbers_stay_numbers():
    assert (safe(-2), safe(-1.5), safe(0), safe(None)) == (-2, -1.5, 0, None)


def test_every_admin_export_goes_through_the_neutraliser():
    exporting = [model_admin for model_admin in admin.site._registry.values() if isinstance(model_admin, ExportMixin)]
    assert exporting
    for model_admin in exporting:
        for fmt in model_admin.get_export_formats():
            assert issubclass(fmt, NeutralisedFormulae), (model_admin, fmt)


@pytest.mark.parametrize("fmt", ["0", "1"])  # FrenchCSV, XLSX
def test_the_admin_export_of_parcours_neutralises_every_attack(client, plie, operation, animation, referent_a, fmt):
    for attack in ATTACKS:
        person = ParticipantFactory(plie=plie, last_name=attack, first_name=attack)
        make_parcours(person, operation=operation, referent=profile(referent_a), by=animation)
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    response = client.post(
        reverse("admin:participants_parcours_export"),
        {"format": fmt, "resource": "0", "parcoursresource_last_name": "on", "parcoursresource_first_name": "on"},
    )
    assert response.status_code == 200
    cells = xlsx_cells(response.content) if fmt == "1" else csv_cells(response.content)
    assert "'" + ATTACKS[0] in cells and "'@SUM(A1)" in cells
    assert not [cell for cell in cells if dangerous(cell)]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_dashboard_export_neutralises_names(client_of, plie, operation, animation, fmt):
    structure = StructureFactory(plie=plie, name="@structure")
    for attack in ATTACKS:
        referent = ReferentFactory(plie=plie, last_name=attack, first_name="", structure=structure)
        ReferentPeriodFactory(referent=referent, operation=operation)
    response = client_of(animation).get(reverse("dashboard_export", args=[fmt]) + YEAR)
    cells = xlsx_cells(response.content) if fmt == "xlsx" else csv_cells(response.content)
    assert "'@structure" in cells
    assert not [cell for cell in cells if dangerous(cell)]
