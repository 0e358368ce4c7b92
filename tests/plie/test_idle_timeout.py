"""Sessions end thirty idle minutes after the last activity; the expiry moves with one write a minute at most."""

import datetime

from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse

from plie import middleware


def expiry(client):
    return Session.objects.get(session_key=client.session.session_key).expire_date


def test_pages_read_within_a_minute_of_signing_in_write_no_session(animation):
    client = Client()
    client.force_login(animation)
    signed_in = expiry(client)
    client.get(reverse("home"))
    client.get(reverse("home"))
    assert expiry(client) == signed_in


def test_a_page_a_minute_later_pushes_the_expiry_back(animation):
    client = Client()
    client.force_login(animation)
    session = client.session
    session[middleware.IDLE_REFRESHED_KEY] -= middleware.IDLE_REFRESH_SECONDS
    session.save()
    Session.objects.update(expire_date=expiry(client) - datetime.timedelta(minutes=5))
    before = expiry(client)
    client.get(reverse("home"))
    assert expiry(client) >= before + datetime.timedelta(minutes=5)


def test_an_anonymous_visit_creates_no_session_even_with_an_expired_cookie(animation):
    client = Client()
    client.get(reverse("login"))
    assert not Session.objects.exists()
    client.force_login(animation)
    Session.objects.all().delete()
    client.get(reverse("login"))
    assert not Session.objects.exists()
