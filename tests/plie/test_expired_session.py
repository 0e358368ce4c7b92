"""A form sent after the session expired: what was typed comes back after signing in again, to the same account only."""

import datetime
import html
import json
import re

import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.factories.participants import isolate_private_storage
from tests.participants.test_views import followed  # noqa: F401 — a fixture

REPORT = "Compte rendu de trente-cinq minutes : projet de formation d’aide-soignante, visite du centre le 12."


@pytest.fixture(autouse=True)
def private_files(monkeypatch, tmp_path):
    return isolate_private_storage(monkeypatch, tmp_path)


def expired_client(user):
    """A browser whose session was open for `user` and has now expired (its cookie is still sent)."""
    client = Client()
    client.force_login(user)
    Session.objects.update(expire_date=timezone.now() - datetime.timedelta(minutes=5))
    return client


def kept(page):
    found = re.search(r'<script id="kept-post" type="application/json">(.*?)</script>', page, re.S)
    return json.loads(found.group(1)) if found else None


def send_report(client, participant):
    url = reverse("entretien_create", args=[participant.pk])
    data = {"date": "2023-03-01", "modality": "physique", "duration": "35", "summary": REPORT, "password": "x"}
    return url, client.post(url, data)


def test_the_report_comes_back_in_the_form_after_signing_in_again(referent_a, followed):  # noqa: F811
    participant = followed[0].participant
    client = expired_client(referent_a)
    url, response = send_report(client, participant)
    assert response.status_code == 302 and response.url.startswith(reverse("login"))
    assert not participant.entretiens.exists(), "nothing is saved without a session"

    client.force_login(referent_a)
    page = html.unescape(client.get(url).content.decode())
    assert "Votre session avait expiré : ce que vous aviez saisi a été remis dans le formulaire" in page
    assert kept(page) == {"date": ["2023-03-01"], "modality": ["physique"], "duration": ["35"], "summary": [REPORT]}
    assert kept(client.get(url).content.decode()) is None, "offered once"


def test_another_account_signing_in_on_that_browser_never_sees_it(referent_a, animation, followed):  # noqa: F811
    participant = followed[0].participant
    client = expired_client(referent_a)
    url, _ = send_report(client, participant)
    client.force_login(animation)
    assert kept(client.get(url).content.decode()) is None
    client.force_login(referent_a)
    assert kept(client.get(url).content.decode()) is None, "dropped, not kept for later"


def test_a_browser_without_a_previous_session_keeps_nothing(referent_a, followed):  # noqa: F811
    client = Client()
    url, response = send_report(client, followed[0].participant)
    assert response.status_code == 302
    assert "kept_post" not in client.session
