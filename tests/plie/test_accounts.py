import pytest
from django.core import mail
from django.test import override_settings
from django.urls import reverse

from plie.models import Role
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


def test_a_user_logs_in_with_an_email_and_lands_on_the_plie_home(client, animation):
    response = client.post(
        reverse("login"), {"username": "animation@pessac.fr", "password": "mot-de-passe-de-test"}, follow=True
    )
    assert response.redirect_chain[-1][0] == reverse("home")
    assert "PLIE de Pessac" in response.content.decode()


def test_a_wrong_password_is_refused_in_french(client, animation):
    response = client.post(reverse("login"), {"username": "animation@pessac.fr", "password": "faux"})
    assert "Adresse e-mail ou mot de passe incorrect." in response.content.decode()


def test_password_reset_sends_a_french_email_through_the_task_queue(
    client, animation, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("password_reset"), {"email": "animation@pessac.fr"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    assert mail.outbox[0].subject == "Choisir un nouveau mot de passe"
    assert "/mot-de-passe/nouveau/" in mail.outbox[0].body


def test_password_reset_says_the_same_thing_for_an_unknown_email(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("password_reset"), {"email": "inconnu@exemple.fr"}, follow=True)
    assert "Si un compte existe pour cette adresse" in response.content.decode()
    assert mail.outbox == []


def test_logout_is_a_post(client_of, animation):
    client = client_of(animation)
    assert client.post(reverse("logout")).status_code == 302
    assert client.get(reverse("home")).status_code == 302


class TestPlieSwitcher:
    def test_a_member_of_two_plies_switches_between_them(self, client_of, animation, other_plie):
        MembershipFactory(user=animation, plie=other_plie, role=Role.COPIL)
        client = client_of(animation)
        assert "Changer de PLIE" in client.get(reverse("home")).content.decode()
        response = client.post(reverse("switch_plie"), {"plie": other_plie.pk, "next": "/"}, follow=True)
        assert "Vous travaillez maintenant pour le PLIE du Marmandais." in response.content.decode().replace(
            "&#x27;", "’"
        )
        assert response.context["current_plie"] == other_plie
        assert response.context["current_role"] == Role.COPIL

    def test_an_outsider_cannot_switch_to_a_plie_it_does_not_belong_to(self, client_of, outsider, plie):
        client = client_of(outsider)
        response = client.post(reverse("switch_plie"), {"plie": plie.pk}, follow=True)
        assert "Vous n’êtes pas membre de ce PLIE." in response.content.decode().replace("&#x27;", "’")
        assert response.context["current_plie"] != plie

    def test_the_next_url_must_stay_on_the_site(self, client_of, animation, plie):
        response = client_of(animation).post(reverse("switch_plie"), {"plie": plie.pk, "next": "https://evil.example/"})
        assert response.url == reverse("home")


def test_a_user_without_plie_is_told_so(client_of, db):
    from tests.factories import UserFactory

    response = client_of(UserFactory()).get(reverse("home"))
    assert "n’est rattaché à aucun PLIE" in response.content.decode().replace("&#x27;", "’")


def test_the_admin_is_in_french(client_of, admin_user):
    admin_user.is_staff = admin_user.is_superuser = True
    admin_user.save()
    page = client_of(admin_user).get(reverse("admin:index")).content.decode()
    assert "Fiches opération" in page and "Administration PLIE" in page


@override_settings(DEBUG=False)
def test_error_pages_are_in_french(client_of, copil):
    response = client_of(copil).get(reverse("participant_list"))
    assert response.status_code == 404
    assert "Page introuvable" in response.content.decode()
