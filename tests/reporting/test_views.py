"""Dashboards, exports and bilans as each role sees them."""

import datetime
import html
import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from plie.spreadsheet import safe
from reporting.disclosure import HIDDEN
from reporting.models import BilanRequest
from tests.factories import ReferentFactory, ReferentPeriodFactory
from tests.factories.participants import ParticipantFactory, isolate_private_storage, make_parcours, profile

pytestmark = pytest.mark.django_db

YEAR = "?kind=year&year=2023"


@pytest.fixture
def followed(operation, referent_a, animation):
    """Two people followed on the fiche in 2023, one of whom left with a validated CDI."""
    colleague = ReferentFactory(plie=operation.plie, first_name="Hugo", last_name="Lambert")
    ReferentPeriodFactory(referent=colleague, operation=operation)
    first = make_parcours(
        ParticipantFactory(plie=operation.plie, last_name="Canari", first_name="Zoé"),
        "exited",
        by=animation,
        operation=operation,
        referent=profile(referent_a),
    )
    make_parcours(
        ParticipantFactory(plie=operation.plie, last_name="Pinson", first_name="Léon"),
        "active",
        by=animation,
        operation=operation,
        referent=colleague,
    )
    return first


@pytest.fixture
def private(monkeypatch, tmp_path):
    storage = isolate_private_storage(monkeypatch, tmp_path)
    monkeypatch.setattr(BilanRequest._meta.get_field("file"), "storage", storage)
    return storage


@pytest.fixture
def ask(django_capture_on_commit_callbacks):
    """Posts a bilan request and runs the job queued on commit, as the worker would."""

    def post(client, data):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(reverse("bilan_list"), data)

    return post


def page(response):
    return html.unescape(response.content.decode())


class TestBilanFromTheDashboard:
    def test_the_dashboard_hands_its_fiche_and_period_to_the_bilan_form(self, client_of, animation, operation):
        dashboard = page(client_of(animation).get(reverse("dashboard") + YEAR))
        link = f"{reverse('bilan_list')}?operation={operation.pk}&start=2023-01-01&end=2023-12-31"
        assert link.replace("&", "&amp;") in html.escape(dashboard, quote=False) or link in dashboard
        form = client_of(animation).get(reverse("bilan_list"), {"operation": operation.pk, "start": "2023-04-01"})
        assert form.context["form"].initial["operation"] == operation
        assert form.context["form"].initial["start"] == datetime.date(2023, 4, 1)
        assert 'data-busy="Préparation du bilan…"' in page(form)

    def test_no_message_says_a_state_the_page_contradicts(self, client_of, animation, operation, ask, private):
        data = {"operation": operation.pk, "start": "2023-01-01", "end": "2023-12-31"}
        client = client_of(animation)
        response = ask(client, data)
        text = page(client.get(response.url))
        assert "Votre demande de bilan est enregistrée." in text and "en préparation" not in text


class TestDashboard:
    @pytest.mark.parametrize(
        ("persona", "accompanied"),
        [("admin_user", 2), ("animation", 2), ("referent_a", 1), ("copil", HIDDEN)],  # a referent: their own only
    )
    def test_every_role_of_the_plie_sees_the_figures_it_may(self, request, client_of, followed, persona, accompanied):
        response = client_of(request.getfixturevalue(persona)).get(reverse("dashboard") + YEAR)
        assert response.status_code == 200
        assert response.context["totals"]["participants_accompagnes"] == accompanied
        assert "Participants accompagnés" in page(response)

    def test_the_copil_never_sees_a_name(self, client_of, copil, followed):
        text = page(client_of(copil).get(reverse("dashboard") + YEAR))
        for name in ("Canari", "Pinson", "Zoé", "Léon", "Rachida", "Hugo Lambert"):
            assert name not in text
        assert "< 5" in text  # small counts are hidden from the steering committee

    def test_the_animation_team_follows_a_figure_to_the_people_behind_it(self, client_of, animation, followed):
        response = client_of(animation).get(reverse("behind_figure", args=["sorties_positives"]) + YEAR)
        assert response.status_code == 200
        assert "CANARI Zoé" in page(response) and "PINSON" not in page(response)

    @pytest.mark.parametrize("persona", ["copil", "referent_a"])
    def test_people_behind_a_figure_are_for_the_team_only(self, request, client_of, followed, persona):
        url = reverse("behind_figure", args=["participants_accompagnes"]) + YEAR
        assert client_of(request.getfixturevalue(persona)).get(url).status_code == 404

    def test_a_referent_sees_only_their_own_line(self, client_of, referent_a, followed):
        response = client_of(referent_a).get(reverse("dashboard") + YEAR)
        assert [row["referent"] for row in response.context["referents"]] == ["Rachida Benali"]

    def test_the_period_selector_narrows_the_figures(self, client_of, animation, followed):
        response = client_of(animation).get(reverse("dashboard") + "?kind=quarter&year=2023&part=4")
        assert response.context["period"].start == datetime.date(2023, 10, 1)
        assert response.context["totals"]["sorties"] == 0

    def test_a_period_ending_before_it_starts_is_refused_in_french(self, client_of, animation, followed):
        response = client_of(animation).get(
            reverse("dashboard") + "?kind=custom&year=2023&start=2023-06-01&end=2023-05-01"
        )
        assert "La fin de la période ne peut pas précéder son début." in page(response)

    def test_charts_are_svg_images(self, client_of, copil, followed):
        for name in ("objectifs", "mois"):
            response = client_of(copil).get(reverse("dashboard_chart", args=[name]) + YEAR)
            assert response["Content-Type"] == "image/svg+xml"
            assert response.content.startswith(b"<svg")

    def test_an_outsider_gets_404(self, client_of, outsider, operation, followed):
        url = reverse("dashboard") + f"?operation={operation.pk}"
        assert client_of(outsider).get(url).status_code == 404
        assert (
            client_of(outsider)
            .get(reverse("dashboard_export", args=["csv"]) + f"?operation={operation.pk}")
            .status_code
            == 404
        )

    def test_query_count_does_not_grow_with_the_participants(
        self, client_of, animation, operation, referent_a, followed, django_assert_max_num_queries
    ):
        client = client_of(animation)
        with django_assert_max_num_queries(40) as before:
            client.get(reverse("dashboard") + YEAR)
        for index in range(6):
            make_parcours(
                ParticipantFactory(plie=operation.plie, last_name=f"Merle{index}"),
                "active",
                by=animation,
                operation=operation,
                referent=profile(referent_a),
            )
        with django_assert_max_num_queries(len(before.captured_queries)):
            client.get(reverse("dashboard") + YEAR)


class TestExports:
    def test_csv_is_for_french_excel(self, client_of, animation, followed):
        response = client_of(animation).get(reverse("dashboard_export", args=["csv"]) + YEAR)
        body = response.content.decode("utf-8")
        assert body.startswith("\ufeffIndicateurs")
        assert "Participants accompagnés;2" in body
        assert "Rachida Benali;" in body

    def test_headers_are_french_and_rates_are_percentages(self, client_of, animation, followed):
        body = client_of(animation).get(reverse("dashboard_export", args=["csv"]) + YEAR).content.decode("utf-8")
        assert "Structure;ETP moyen;File active moyenne;Participants accompagnés;" in body
        assert "Taux de sorties positives;100\u00a0%" in body  # one exit, positive
        response = client_of(animation).get(reverse("dashboard_export", args=["xlsx"]) + YEAR)
        sheet = load_workbook(io.BytesIO(response.content))["Indicateurs"]
        rate = next(row[1] for row in sheet.iter_rows(min_row=2) if row[0].value == "Taux de sorties positives")
        assert (rate.value, rate.number_format) == (1, "0.0 %")

    def test_the_copil_export_has_no_referent_line(self, client_of, copil, followed):
        body = client_of(copil).get(reverse("dashboard_export", args=["csv"]) + YEAR).content.decode("utf-8")
        assert "Par référent" not in body and "Rachida" not in body

    def test_a_referent_exports_only_their_own_line(self, client_of, referent_a, followed):
        body = client_of(referent_a).get(reverse("dashboard_export", args=["csv"]) + YEAR).content.decode("utf-8")
        assert "Rachida Benali;" in body and "Hugo Lambert" not in body

    def test_the_copil_export_hides_small_counts(self, client_of, copil, followed):
        body = client_of(copil).get(reverse("dashboard_export", args=["csv"]) + YEAR).content.decode("utf-8")
        assert "Participants;< 5;< 5;0;0" in body  # two people entered: 2 in all, 2 women, no man

    def test_xlsx_has_one_sheet_per_table(self, client_of, animation, followed):
        response = client_of(animation).get(reverse("dashboard_export", args=["xlsx"]) + YEAR)
        workbook = load_workbook(io.BytesIO(response.content))
        assert workbook.sheetnames[:3] == ["Indicateurs", "Objectifs et résultats", "Par référent"]

    @pytest.mark.parametrize("text", ["=1+1", "+33", "-2", "@SUM(A1)", "\tx", "\rx"])
    def test_a_cell_that_could_run_as_a_formula_is_neutralised(self, text):
        assert safe(text) == "'" + text

    def test_ordinary_text_and_numbers_are_kept(self):
        assert (safe("CCAS d’Agen"), safe(-2), safe(1.5)) == ("CCAS d’Agen", -2, 1.5)


class TestBilans:
    def test_the_copil_asks_for_a_bilan_and_downloads_it(self, client_of, copil, operation, followed, private, ask):
        client = client_of(copil)
        data = {"operation": operation.pk, "start": "2023-01-01", "end": "2023-12-31", "with_annex": "on"}
        response = ask(client, data)
        bilan = BilanRequest.objects.get()
        assert response.url == bilan.get_absolute_url()
        assert (bilan.status, bilan.progress, bilan.with_annex) == ("done", 100, False)
        status = client.get(reverse("bilan_status", args=[bilan.pk])).json()
        assert status["ready"] is True
        download = client.get(reverse("bilan_download", args=[bilan.pk]))
        assert b"".join(download.streaming_content).startswith(b"%PDF")
        assert bilan.pages >= 4

    def test_the_annex_is_for_the_team_only(
        self, client_of, animation, copil, referent_a, operation, followed, private
    ):
        data = {"operation": operation.pk, "start": "2023-01-01", "end": "2023-12-31", "with_annex": "on"}
        client_of(animation).post(reverse("bilan_list"), data)
        bilan = BilanRequest.objects.get()
        assert bilan.with_annex
        for persona in (copil, referent_a):
            assert client_of(persona).get(reverse("bilan_download", args=[bilan.pk])).status_code == 404

    def test_a_failing_bilan_tells_the_user(self, client_of, animation, operation, followed, private, monkeypatch, ask):
        def broken(*args, **kwargs):
            raise RuntimeError("police introuvable")

        monkeypatch.setattr("reporting.services.render_bilan_pdf", broken)
        ask(client_of(animation), {"operation": operation.pk, "start": "2023-01-01", "end": "2023-12-31"})
        bilan = BilanRequest.objects.get()
        assert bilan.status == "failed"
        assert "La génération a échoué : police introuvable" in page(client_of(animation).get(bilan.get_absolute_url()))

    @pytest.mark.parametrize(
        ("start", "end", "message"),
        [
            ("2023-06-01", "2023-05-01", "La fin de la période ne peut pas précéder son début."),
            ("2022-01-01", "2023-12-31", "La période dépasse celle de la fiche (du 01/01/2023 au 31/12/2023)."),
        ],
    )
    def test_bad_periods_are_refused(self, client_of, animation, operation, start, end, message):
        response = client_of(animation).post(
            reverse("bilan_list"), {"operation": operation.pk, "start": start, "end": end}
        )
        assert message in page(response)
        assert not BilanRequest.objects.exists()

    def test_an_outsider_gets_404(self, client_of, animation, outsider, operation, followed, private):
        client_of(animation).post(
            reverse("bilan_list"), {"operation": operation.pk, "start": "2023-01-01", "end": "2023-12-31"}
        )
        bilan = BilanRequest.objects.get()
        for name in ("bilan_detail", "bilan_status", "bilan_download"):
            assert client_of(outsider).get(reverse(name, args=[bilan.pk])).status_code == 404

    def test_the_definitions_page_explains_each_indicator(self, client_of, copil):
        text = page(client_of(copil).get(reverse("definitions")))
        assert 'id="file_active_moyenne"' in text and "Moyenne journalière" in text
