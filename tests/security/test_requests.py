"""What a request must not do: leave a list of people unlogged, put a searched name in a URL, answer 500 to an id that
is not one, run for a minute on a thousand-year period, or let a fiche code write into a response header."""

import datetime
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.urls import reverse

from participants.models import FileAccess
from reporting.models import BilanRequest
from tests.factories.participants import ParticipantFactory, isolate_private_storage, make_parcours, profile

pytestmark = pytest.mark.django_db


@pytest.fixture
def followed(plie, operation, animation, referent_a):
    return make_parcours(
        ParticipantFactory(plie=plie, last_name="Canari", first_name="Zoé"),
        "exit_pending",
        by=animation,
        operation=operation,
        referent=profile(referent_a),
    )


class TestListsAreLogged:
    @pytest.mark.parametrize(
        ("name", "query"),
        [
            ("participant_list", ""),
            ("portfolio", ""),
            ("commission_agenda", ""),
            ("exits_to_validate", ""),
            ("validation_queue", ""),
            ("behind_figure", "participants_accompagnes"),
        ],
    )
    def test_a_page_listing_people_leaves_a_line_in_the_consultation_journal(
        self, client_of, animation, followed, name, query
    ):
        url = reverse(name, args=[query] if query else [])
        assert client_of(animation).get(url).status_code == 200
        access = FileAccess.objects.get()
        assert (access.user, access.plie, access.participant) == (animation, followed.participant.plie, None)
        assert access.detail.startswith(url)

    def test_a_search_is_logged_without_what_was_searched(self, client_of, animation, followed):
        response = client_of(animation).post(reverse("participant_list"), {"q": "Canari"})
        assert "Zoé" in response.content.decode()
        access = FileAccess.objects.get()
        assert access.what == "recherche" and "Canari" not in access.detail and "1 affiché" in access.detail

    def test_the_archive_list_is_logged(self, client_of, admin_user, plie):
        client_of(admin_user).get(reverse("archive_list"))
        assert FileAccess.objects.get().what == "archives"

    def test_downloading_a_bilan_with_the_nominative_annex_is_logged(
        self, monkeypatch, tmp_path, client_of, animation, operation
    ):
        storage = isolate_private_storage(monkeypatch, tmp_path)
        monkeypatch.setattr(BilanRequest._meta.get_field("file"), "storage", storage)
        bilans = {}
        for annex in (True, False):
            bilan = BilanRequest.objects.create(
                plie=operation.plie,
                operation=operation,
                start=operation.start,
                end=operation.end,
                with_annex=annex,
                requested_by=animation,
                status="done",
            )
            bilan.file.save("bilan.pdf", ContentFile(b"%PDF-1.4\n%%EOF\n"))
            bilans[annex] = bilan
        client = client_of(animation)

        def download(bilan):
            response = client.get(reverse("bilan_download", args=[bilan.pk]))
            b"".join(response.streaming_content)  # read to the end: the test client then closes the file
            return response.status_code

        assert download(bilans[False]) == 200
        assert not FileAccess.objects.exists()
        assert download(bilans[True]) == 200
        access = FileAccess.objects.get()
        assert (access.what, access.user, access.plie) == ("bilan avec annexe", animation, operation.plie)


class TestSearchTermsStayOutOfUrls:
    def test_the_search_form_posts_its_words(self, client_of, animation, followed):
        page = client_of(animation).get(reverse("participant_list")).content.decode()
        assert '<form method="post" class="row g-2 mb-3" role="search">' in page

    def test_a_name_in_the_query_string_searches_nothing(self, client_of, animation, followed):
        ParticipantFactory(plie=followed.participant.plie, last_name="Pinson")
        response = client_of(animation).get(reverse("participant_list"), {"q": "Canari"})
        assert response.context["query"] == "" and len(response.context["participants"]) == 2

    def test_gunicorn_logs_paths_without_their_query_string(self):
        config = {}
        exec((Path(settings.BASE_DIR) / "gunicorn.conf.py").read_text(), config)
        assert "%(U)s" in config["access_log_format"]
        assert not {"%(r)s", "%(q)s", "{raw_uri}"} & {part for part in config["access_log_format"].split()}

    def test_the_base_image_is_pinned(self):
        base = next(
            line.split()[1]
            for line in (Path(settings.BASE_DIR) / "Dockerfile").read_text().splitlines()
            if line.startswith("FROM ")
        )
        name, _, tag = base.partition(":")
        assert "@sha256:" in base or tag.count(".") == 2, base  # python:3.12.12-slim-bookworm, not python:3.12-slim


class TestIdsThatAreNotIds:
    @pytest.mark.parametrize(
        "url",
        [
            "/tableau-de-bord/?operation=abc",
            "/tableau-de-bord/export.csv?operation=1x",
            "/tableau-de-bord/graphiques/mois.svg?operation=%00",
            "/portefeuille/?referent=abc",
        ],
    )
    def test_a_malformed_id_in_a_query_string_is_not_found(self, client_of, animation, operation, url):
        assert client_of(animation).get(url).status_code == 404

    def test_switching_to_a_malformed_plie_changes_nothing(self, client_of, animation):
        response = client_of(animation).post(reverse("switch_plie"), {"plie": "abc"})
        assert response.status_code == 302


class TestPeriods:
    def test_a_thousand_year_period_is_refused_with_a_french_error(self, client_of, animation, operation):
        query = {"operation": operation.pk, "kind": "custom", "start": "1000-01-01", "end": "2999-12-31", "year": 2023}
        response = client_of(animation).get(reverse("dashboard"), query)
        assert response.status_code == 200
        assert "La période ne peut pas dépasser 6 ans." in response.context["period_form"].non_field_errors()
        assert response.context["period"].start == operation.start  # the fiche's own period instead

    def test_six_years_are_allowed(self, client_of, animation, operation):
        query = {"operation": operation.pk, "kind": "custom", "start": "2021-01-01", "end": "2026-12-31", "year": 2023}
        response = client_of(animation).get(reverse("dashboard"), query)
        assert response.context["period"].start == datetime.date(2021, 1, 1)

    def test_a_custom_export_period_is_bounded_too(self, client_of, animation, operation):
        query = {"operation": operation.pk, "kind": "custom", "start": "1000-01-01", "end": "2999-12-31", "year": 2023}
        response = client_of(animation).get(reverse("dashboard_export", args=["csv"]), query)
        assert f"{operation.start:%Y%m%d}" in response["Content-Disposition"]


class TestDownloadNames:
    def test_a_fiche_code_cannot_add_a_parameter_to_content_disposition(self, client_of, animation, operation):
        operation.code = 'F"; name=x.exe'
        operation.save()
        for url in (
            reverse("dashboard_export", args=["csv"]) + f"?operation={operation.pk}",
            reverse("funding_export", args=[operation.pk]),
        ):
            header = client_of(animation).get(url)["Content-Disposition"]
            assert header.count('"') == 2 and header.count(";") == 1 and "x.exe" not in header, header
            assert "-F-name-x-exe" in header
