"""HTTP hardening, the second factor, account lock-out and the production settings."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.core import mail
from django.test import override_settings
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

ROOT = Path(__file__).resolve().parents[2]

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


def enrolment_link(mailbox):
    """The link of the last invitation e-mailed."""
    body = mailbox[-1].body
    return next(line.strip() for line in body.splitlines() if "/securite/double-authentification/activer/" in line)


def enrol(client):
    """Opens the invitation sent to the account and pairs the application; returns the recovery codes."""
    client.get(reverse("mfa_setup"))
    client.get(enrolment_link(mail.outbox))
    device = TOTPDevice.objects.get(pk=client.session["mfa_enrolment_device"])
    return client.post(reverse("mfa_setup"), {"token": code_for(device)}).context["codes"]


@pytest.fixture
def mailbox(monkeypatch):
    """Mails are jobs sent on commit; here they are sent at once (the test's transaction never commits)."""
    from plie import jobs

    monkeypatch.setattr(jobs.transaction, "on_commit", lambda callback, **kwargs: callback())
    return mail.outbox


class TestSecondFactor:
    @override_settings(MFA_REQUIRED=True)
    def test_without_a_second_factor_a_session_reaches_only_the_mfa_setup(self, client_of, animation):
        client = client_of(animation)
        response = client.get(reverse("home"))
        assert response.url == reverse("mfa_setup")
        assert client.get(reverse("dashboard")).url == reverse("mfa_setup")
        assert client.get(reverse("mfa_setup")).status_code == 200

    @override_settings(MFA_REQUIRED=True)
    def test_the_password_alone_does_not_show_the_secret_it_mails_a_link_to_the_owner(
        self, client_of, animation, django_capture_on_commit_callbacks
    ):
        client = client_of(animation)
        with django_capture_on_commit_callbacks(execute=True):
            page = client.get(reverse("mfa_setup")).content.decode()
        assert "data:image/svg+xml;base64," not in page and "Clé" not in page
        assert "ouvrez le lien envoyé à votre adresse" in page.replace("&#x27;", "’")
        assert [m.to for m in mail.outbox] == [["animation@pessac.fr"]]
        assert mail.outbox[0].subject == "Activer la double authentification"
        with django_capture_on_commit_callbacks(execute=True):
            client.get(reverse("mfa_setup"))  # coming back sends no other mail
        assert len(mail.outbox) == 1
        assert client.post(reverse("mfa_setup"), {"token": "123456"}).status_code == 302  # a new link, not a pairing
        assert not TOTPDevice.objects.filter(user=animation, confirmed=True).exists()

    @override_settings(MFA_REQUIRED=True)
    def test_pairing_from_the_link_opens_the_session_with_a_new_key_and_ten_recovery_codes(
        self, client_of, animation, mailbox
    ):
        client = client_of(animation)
        client.get(reverse("mfa_setup"))
        assert client.get(enrolment_link(mailbox)).url == reverse("mfa_setup")
        page = client.get(reverse("mfa_setup")).content.decode()
        assert "data:image/svg+xml;base64," in page
        device = TOTPDevice.objects.get(user=animation, confirmed=False)
        before = client.session.session_key
        response = client.post(reverse("mfa_setup"), {"token": code_for(device)})
        assert len(response.context["codes"]) == 10
        assert client.session.session_key != before
        assert client.get(reverse("home")).status_code == 200

    @override_settings(MFA_REQUIRED=True)
    def test_the_link_serves_once_for_its_own_account_and_not_after_its_time(
        self, client_of, animation, referent_b, mailbox, settings
    ):
        client_of(animation).get(reverse("mfa_setup"))
        link = enrolment_link(mailbox)
        assert client_of(referent_b).get(link).status_code == 404  # another account: nothing
        owner = client_of(animation)
        assert owner.get(link).status_code == 302
        assert client_of(animation).get(link).status_code == 404  # spent: a second session cannot reopen it
        owner.post(reverse("mfa_setup"))  # another link: the first one is dropped with its device
        settings.MFA_INVITATION_SECONDS = -1
        assert client_of(animation).get(enrolment_link(mailbox)).status_code == 404

    @override_settings(MFA_REQUIRED=True)
    def test_a_wrong_code_is_refused_in_french(self, client_of, animation, mailbox):
        client = client_of(animation)
        client.get(reverse("mfa_setup"))
        client.get(enrolment_link(mailbox))
        response = client.post(reverse("mfa_setup"), {"token": "000000"})
        assert "Ce code ne correspond pas" in response.content.decode()
        assert not TOTPDevice.objects.filter(user=animation, confirmed=True).exists()

    @override_settings(MFA_REQUIRED=True)
    def test_a_recovery_code_works_once_and_renews_the_session_key(self, client_of, animation, mailbox):
        codes = enrol(client_of(animation))
        second = client_of(animation)
        assert second.get(reverse("home")).url == reverse("mfa_verify")
        before = second.session.session_key
        assert second.post(reverse("mfa_verify"), {"token": codes[0]}).status_code == 302
        assert second.session.session_key != before
        assert second.get(reverse("home")).status_code == 200
        third = client_of(animation)
        assert (
            "Code incorrect ou déjà utilisé." in third.post(reverse("mfa_verify"), {"token": codes[0]}).content.decode()
        )
        assert StaticToken.objects.filter(device__user=animation).count() == 9

    def test_the_demo_may_go_without_a_second_factor(self, client_of, animation):
        assert client_of(animation).get(reverse("home")).status_code == 200


class TestIdentity:
    SPELLINGS = ["animation@pessac.fr", "ANIMATION@pessac.fr", " animation@pessac.fr ", "Animation@Pessac.FR\t",
                 "ａｎｉｍａｔｉｏｎ@pessac.fr"]  # fmt: skip

    @pytest.mark.parametrize("spelling", SPELLINGS)
    def test_every_spelling_of_the_address_logs_in(self, client, animation, spelling):
        response = client.post(reverse("login"), {"username": spelling, "password": "mot-de-passe-de-test"})
        assert response.status_code == 302

    def test_the_lock_out_counts_every_spelling_together(self, client, animation):
        for attempt in range(10):
            spelling = self.SPELLINGS[attempt % len(self.SPELLINGS)]
            client.post(reverse("login"), {"username": spelling, "password": "mauvais"})
        for spelling in self.SPELLINGS:
            response = client.post(reverse("login"), {"username": spelling, "password": "mot-de-passe-de-test"})
            assert response.status_code == 429, spelling

    def test_a_password_reset_reaches_the_account_whatever_the_spelling(self, client, animation, mailbox):
        client.post(reverse("password_reset"), {"email": "  ANIMATION@Pessac.fr "})
        assert [m.to for m in mailbox] == [["animation@pessac.fr"]]

    def test_an_account_receives_three_reset_mails_an_hour_and_the_page_says_nothing_more(
        self, client, animation, mailbox
    ):
        for attempt in range(15):
            spelling = self.SPELLINGS[attempt % len(self.SPELLINGS)]
            response = client.post(reverse("password_reset"), {"email": spelling}, REMOTE_ADDR=f"10.0.0.{attempt}")
            assert response.status_code == 302
        assert len(mailbox) == 3

    def test_one_address_may_ask_twenty_resets_an_hour(self, client, animation, mailbox):
        for n in range(20):
            assert client.post(reverse("password_reset"), {"email": f"inconnu{n}@exemple.fr"}).status_code == 302
        response = client.post(reverse("password_reset"), {"email": "animation@pessac.fr"})
        assert response.status_code == 429 and "Trop de demandes" in response.content.decode()
        assert mailbox == []

    def test_accounts_are_created_with_the_normalised_address(self, db):
        from plie.models import User

        user = User.objects.create_user(" ＡＮＮＥ@Exemple.FR ", "mot-de-passe-de-test")
        assert user.email == "anne@exemple.fr"
        assert User.objects.get_by_natural_key("Anne@exemple.fr ") == user


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


def production_check(**settings):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DEBUG", "DJANGO_", "EMAIL_", "SECURE_", "CACHE_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="plie.settings",
        ENV_FILE="/nonexistent",
        DEBUG="off",
        SECRET_KEY=secrets.token_urlsafe(60),
        ALLOWED_HOSTS="plie.example.org",
        CACHE_URL="redis://127.0.0.1:6379/2",
    )
    env.update(settings)
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


def test_check_deploy_warns_when_each_web_process_would_keep_its_own_figures():
    result = production_check(CACHE_URL="locmemcache://")
    assert result.returncode != 0
    assert "plie.W001" in result.stderr + result.stdout


def test_production_sessions_expire_after_thirty_idle_minutes():
    code = (
        "from django.conf import settings as s; "
        "print(s.SESSION_COOKIE_AGE, 'plie.middleware.IdleTimeoutMiddleware' in s.MIDDLEWARE, s.MFA_REQUIRED)"
    )
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
