"""HTTP hardening, the second factor, account lock-out and the production settings."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import override_settings
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.django_db


def code_for(device):
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"


class TestHeaders:
    def test_pages_carry_a_strict_content_security_policy(self, client_of, animation):
        policy = client_of(animation).get(reverse("home"))["Content-Security-Policy"]
        for directive in ("default-src 'self'", "object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'"):
            assert directive in policy
        assert "unsafe-inline" not in policy

    def test_signed_in_pages_are_never_stored(self, client_of, animation, client):
        assert client_of(animation).get(reverse("home"))["Cache-Control"] == "no-store"
        assert client.get(reverse("login")).get("Cache-Control") != "no-store"

    def test_no_template_holds_an_inline_script_or_style_attribute(self):
        for path in (ROOT / "templates").rglob("*.html"):
            text = path.read_text()
            if path.name in ("bilan_pdf.html", "500.html"):  # the PDF is not served to a browser; 500 needs no CSS file
                continue
            assert "<script>" not in text and " style=" not in text, path


class TestSecondFactor:
    @override_settings(MFA_REQUIRED=True)
    def test_without_a_second_factor_a_session_reaches_only_the_mfa_setup(self, client_of, animation):
        client = client_of(animation)
        response = client.get(reverse("home"))
        assert response.url == reverse("mfa_setup")
        assert client.get(reverse("dashboard")).url == reverse("mfa_setup")
        assert client.get(reverse("mfa_setup")).status_code == 200

    @override_settings(MFA_REQUIRED=True)
    def test_pairing_an_application_opens_the_session_and_gives_ten_recovery_codes(self, client_of, animation):
        client = client_of(animation)
        page = client.get(reverse("mfa_setup")).content.decode()
        assert "data:image/svg+xml;base64," in page
        device = TOTPDevice.objects.get(user=animation, confirmed=False)
        response = client.post(reverse("mfa_setup"), {"token": code_for(device)})
        assert len(response.context["codes"]) == 10
        assert client.get(reverse("home")).status_code == 200

    @override_settings(MFA_REQUIRED=True)
    def test_a_wrong_code_is_refused_in_french(self, client_of, animation):
        client = client_of(animation)
        client.get(reverse("mfa_setup"))
        response = client.post(reverse("mfa_setup"), {"token": "000000"})
        assert "Ce code ne correspond pas" in response.content.decode()
        assert not TOTPDevice.objects.filter(user=animation, confirmed=True).exists()

    @override_settings(MFA_REQUIRED=True)
    def test_a_recovery_code_works_once(self, client_of, animation):
        client = client_of(animation)
        client.get(reverse("mfa_setup"))
        codes = client.post(reverse("mfa_setup"), {"token": code_for(TOTPDevice.objects.get(user=animation))}).context[
            "codes"
        ]
        second = client_of(animation)
        assert second.get(reverse("home")).url == reverse("mfa_verify")
        assert second.post(reverse("mfa_verify"), {"token": codes[0]}).status_code == 302
        assert second.get(reverse("home")).status_code == 200
        third = client_of(animation)
        assert (
            "Code incorrect ou déjà utilisé." in third.post(reverse("mfa_verify"), {"token": codes[0]}).content.decode()
        )
        assert StaticToken.objects.filter(device__user=animation).count() == 9

    def test_the_demo_may_go_without_a_second_factor(self, client_of, animation):
        assert client_of(animation).get(reverse("home")).status_code == 200


class TestLockOut:
    def test_ten_wrong_passwords_lock_the_account_even_for_the_right_one(self, client, animation):
        for _ in range(10):
            client.post(reverse("login"), {"username": animation.email, "password": "mauvais"})
        response = client.post(reverse("login"), {"username": animation.email, "password": "mot-de-passe-de-test"})
        assert response.status_code == 429
        assert "Compte temporairement verrouillé" in response.content.decode()

    def test_a_success_before_the_limit_resets_the_count(self, client, animation):
        for _ in range(9):
            client.post(reverse("login"), {"username": animation.email, "password": "mauvais"})
        assert (
            client.post(reverse("login"), {"username": animation.email, "password": "mot-de-passe-de-test"}).status_code
            == 302
        )


def production_check():
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DEBUG", "DJANGO_", "EMAIL_", "SECURE_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="plie.settings",
        ENV_FILE="/nonexistent",
        DEBUG="off",
        SECRET_KEY=secrets.token_urlsafe(60),
        ALLOWED_HOSTS="plie.example.org",
    )
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )


def test_check_deploy_with_production_settings_has_nothing_to_say():
    result = production_check()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_sessions_expire_after_thirty_idle_minutes():
    code = "from django.conf import settings as s; print(s.SESSION_COOKIE_AGE, s.SESSION_SAVE_EVERY_REQUEST, s.MFA_REQUIRED)"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "plie.settings",
        "ENV_FILE": "/nonexistent",
        "SECRET_KEY": "x",
        "DEBUG": "off",
    }
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.stdout.split() == ["1800", "True", "True"]


def test_the_privacy_notice_is_public_and_tells_about_the_fse(client):
    text = client.get(reverse("privacy")).content.decode()
    assert "Protection des données personnelles" in text
    assert "Fonds social européen plus" in text and "CNIL" in text
