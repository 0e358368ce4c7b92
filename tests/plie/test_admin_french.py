"""The Django admin in French, the installed packages' pages included: the project's locale (locale/fr) for the
strings they translate, French proxies (plie.models) for the names and texts they do not."""

import re

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from plie.admin import permission_label
from plie.models import User
from tests.factories.participants import ParticipantFactory, add_entretien, make_parcours, profile

pytestmark = pytest.mark.django_db

# What the packages print in English, and French that does not elide (« Ajout de utilisateur »; « de handicap » does).
ENGLISH = re.compile(
    r"\b(Can (add|change|delete|view)|historical|Historical|Access Log|Attempted Access|Failed access|TOTP device|"
    r"static device|User Agent|HTTP Accept|Session key|throttling|Timestamps|Throttling|Identity|Created|Updated|"
    r"Changes|Created by|Otp_|Axes)\b|\bde [aeiouéèêâîô]\w+"
)
TEXT = re.compile(r"<(script|style)\b.*?</\1>|<[^>]+>", re.S)


def admin_pages(client):
    yield reverse("admin:index")
    for model in admin.site._registry:
        opts = model._meta
        yield reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        yield reverse(f"admin:{opts.app_label}_{opts.model_name}_add")
        first = model._default_manager.order_by("pk").first()
        for view in ("change", "history", "delete") if first else ():
            try:
                yield reverse(f"admin:{opts.app_label}_{opts.model_name}_{view}", args=[first.pk])
            except NoReverseMatch:
                continue


@pytest.fixture
def technical_admin(plie, operation, referent_a):
    user = User.objects.create_user("technique@pessac.example.fr", is_staff=True, is_superuser=True)
    TOTPDevice.objects.create(user=user, name="Téléphone")
    StaticDevice.objects.create(user=user, name="Codes de secours")
    now = timezone.now()
    common = {"username": user.email, "ip_address": "10.0.0.1", "user_agent": "Firefox", "attempt_time": now}
    AccessAttempt.objects.create(**common, http_accept="*/*", path_info="/", failures_since_start=2)
    AccessLog.objects.create(**common, http_accept="*/*", path_info="/")
    AccessFailureLog.objects.create(**common, http_accept="*/*", path_info="/", locked_out=True)
    parcours = make_parcours(ParticipantFactory(plie=plie), by=user, operation=operation, referent=profile(referent_a))
    add_entretien(parcours, parcours.entry_date)
    return user


def test_every_admin_page_is_in_french(technical_admin):
    client = Client()
    client.force_login(technical_admin)
    english = []
    for url in admin_pages(client):
        response = client.get(url)
        if response.status_code == 403:  # an add page the admin does not offer (journals, devices)
            continue
        assert response.status_code == 200, url
        text = " ".join(TEXT.sub(" ", response.content.decode()).split())
        english += [f"{url}: {match.group(0)}" for match in ENGLISH.finditer(text)]
    assert english == [], "\n".join(english)


def test_second_factors_are_seen_and_deleted_never_typed_or_shown():
    """A device is made by its owner's enrolment (plie.mfa); the admin offers neither an add page nor the secret."""
    user = User.objects.create_user("technique@pessac.example.fr", is_staff=True, is_superuser=True)
    device = TOTPDevice.objects.create(user=user, name="Téléphone")
    client = Client()
    client.force_login(user)
    page = client.get(reverse("admin:plie_authenticatorapp_change", args=[device.pk])).content.decode()
    assert "Téléphone" in page and device.key not in page
    assert client.get(reverse("admin:plie_authenticatorapp_add")).status_code == 403
    assert reverse("admin:plie_authenticatorapp_delete", args=[device.pk]) in page


def test_permissions_are_named_in_french_without_the_history_tables():
    add_appointment = Permission.objects.get(codename="add_appointment")
    assert permission_label(add_appointment) == "Agenda et accueil | rendez-vous | peut ajouter"
    client = Client()
    client.force_login(User.objects.create_user("technique@pessac.example.fr", is_staff=True, is_superuser=True))
    page = client.get(reverse("admin:auth_group_add")).content.decode()
    assert "Agenda et accueil | rendez-vous | peut ajouter" in page
    assert "historical" not in page.lower()
