"""The error pages are French in every mode, the demo's DEBUG included; the menu marks the page shown."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("debug", [False, True])
def test_a_missing_page_is_said_in_french_whatever_the_mode(client_of, animation, settings, debug):
    settings.DEBUG = debug
    response = client_of(animation).get("/cette-page-n-existe-pas/")
    assert response.status_code == 404
    text = response.content.decode()
    assert "Page introuvable" in text and "Retour à l’accueil" in text
    assert "Using the URLconf" not in text and "Page not found" not in text


@pytest.mark.parametrize("debug", [False, True])
def test_an_object_outside_the_users_scope_is_a_french_404_too(client_of, outsider, plie, settings, debug):
    from tests.factories.participants import ParticipantFactory

    settings.DEBUG = debug
    participant = ParticipantFactory(plie=plie)
    response = client_of(outsider).get(participant.get_absolute_url())
    assert response.status_code == 404 and "Page introuvable" in response.content.decode()


def test_a_crash_with_debug_on_shows_the_french_500_page(rf, settings, caplog):
    from plie.middleware import FrenchErrorPagesMiddleware

    settings.DEBUG = True
    middleware = FrenchErrorPagesMiddleware(lambda request: None)
    response = middleware.process_exception(rf.get("/"), RuntimeError("boom"))
    assert response.status_code == 500 and "Une erreur est survenue" in response.content.decode()
    assert "boom" in caplog.text  # the traceback still reaches the console
    settings.DEBUG = False
    assert middleware.process_exception(rf.get("/"), RuntimeError("boom")) is None  # Django's handler500 answers


def test_the_menu_says_which_page_is_shown(client_of, animation):
    text = client_of(animation).get(reverse("validation_queue")).content.decode()
    assert f'href="{reverse("validation_queue")}" aria-current="page"' in text
    assert text.count('aria-current="page"') == 1
