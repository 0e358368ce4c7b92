"""Personas: the team of one PLIE (admin, animation, two referents, copil) and an outsider from another PLIE."""

import gc
import threading

import pytest
from django.core import management
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.utils import timezone

from plie.models import Role
from tests.database import SEED, migrate_from_template, restore_template_on_serialized_rollback, uses_template
from tests.factories import (
    CofinancingCapFactory,
    MembershipFactory,
    OperationFactory,
    PlieFactory,
    ReferentFactory,
    ReferentPeriodFactory,
    TargetFactory,
    with_territory,
)

PESSAC, CESTAS, CANEJAN, AGEN, MARMANDE = "33318", "33122", "33090", "47001", "47157"


def pytest_configure(config):
    """The ORM, the templates and WeasyPrint make millions of short-lived objects: at CPython's default threshold
    (700 allocations) the collector ran 8,220 times in a third of the suite, 6 % of its time. Run 70 times less often,
    it still frees every cycle; that third takes 7 % less time, the whole suite 4 % less processor (README)."""
    gc.set_threshold(50_000, 20, 100)


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings):
    """An in-memory SQLite test database is copied from a template instead of migrated (tests/database.py)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(management, "call_command", migrate_from_template(management.call_command))
        yield


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Every test database holds the 11 fiches of 2023 (the SEED, already in a SQLite template), as an installation
    does after `make run`. Transactional tests (`serialized_rollback=True`) get them back with the communes."""
    with django_db_blocker.unblock():
        if uses_template(connection):
            restore_template_on_serialized_rollback(connection)
        else:
            call_command("loaddata", *SEED, verbosity=0)
            connection._test_serialized_contents = connection.creation.serialize_db_to_string()


@pytest.fixture
def plie(db):
    return with_territory(PlieFactory(slug="pessac", name="PLIE de Pessac"), PESSAC, CESTAS, CANEJAN)


@pytest.fixture
def other_plie(db):
    return with_territory(PlieFactory(slug="marmandais", name="PLIE du Marmandais"), MARMANDE)


@pytest.fixture
def operation(plie):
    operation = OperationFactory(plie=plie, code="FO1", title="Accompagnement renforcé PLIE de Pessac")
    TargetFactory(operation=operation, kind="file_active", value_min=70, qualifier="approx")
    TargetFactory(operation=operation, kind="etapes", value_min="1.5", basis="file_active_moyenne")
    TargetFactory(operation=operation, kind="taux_sorties_positives", value_min=50)
    CofinancingCapFactory(operation=operation, rate=85)
    return operation


@pytest.fixture
def other_operation(other_plie):
    return OperationFactory(plie=other_plie, code="FO1", title="Accompagnement des participants du PLIE du Marmandais")


def member(plie, role, **user_fields):
    return MembershipFactory(plie=plie, role=role, **{f"user__{k}": v for k, v in user_fields.items()}).user


@pytest.fixture
def admin_user(plie):
    return member(plie, Role.ADMIN, email="admin@pessac.fr")


@pytest.fixture
def animation(plie):
    return member(plie, Role.ANIMATION, email="animation@pessac.fr")


@pytest.fixture
def referent_a(plie, operation):
    user = member(plie, Role.REFERENT, email="referent.a@pessac.fr", first_name="Rachida", last_name="Benali")
    referent = ReferentFactory(plie=plie, first_name="Rachida", last_name="Benali", user=user)
    ReferentPeriodFactory(referent=referent, operation=operation)
    return user


@pytest.fixture
def referent_b(plie):
    return member(plie, Role.REFERENT, email="referent.b@pessac.fr")


@pytest.fixture
def copil(plie):
    return member(plie, Role.COPIL, email="copil@pessac.fr")


@pytest.fixture
def outsider(other_plie):
    return member(other_plie, Role.ANIMATION, email="animation@marmandais.fr")


def logged_in(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def client_of():
    return logged_in


@pytest.fixture
def afternoon(time_machine):
    """Today at 14:00, Paris time, the clock running: a rendez-vous an hour ago and one in three hours fall on the
    same day whenever the suite runs (a CI run at 20:40 once put « in three hours » on tomorrow)."""
    time_machine.move_to(timezone.localtime().replace(hour=14, minute=0, second=0, microsecond=0), tick=True)


@pytest.fixture(autouse=True)
def erasure_journal(settings, tmp_path):
    """The journal of erasures of each test is its own file, never var/journal-effacements.jsonl."""
    settings.ERASURE_JOURNAL_PATH = tmp_path / "journal-effacements.jsonl"
    return settings.ERASURE_JOURNAL_PATH


@pytest.fixture(autouse=True)
def forget_rate_limits():
    """Rate limits count in the cache (plie/identity.py): each test starts with none."""
    cache.clear()


@pytest.fixture(scope="session")
def live_server(live_server):
    """pytest-django's live server, answering one request at a time. On the in-memory SQLite database its request
    threads share the test's connection: a select2 search still running beside a form's POST once released the
    POST's savepoint (« no such savepoint », a 503 in the browser test). A single worker would serve them in turn."""
    server, lock = live_server.thread.httpd, threading.Lock()
    application = server.get_app()

    def one_at_a_time(environ, start_response):
        with lock:
            return application(environ, start_response)

    server.set_app(one_at_a_time)
    return live_server


@pytest.fixture
def page():
    """A headless Chromium page (tests marked `browser`). Every page it opens must go through
    `tests.browser.check_page` (axe-core, widths): the test fails at teardown otherwise."""
    import os
    import shutil
    from pathlib import Path

    from tests.browser import path_of

    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(chromium).exists():
        if os.environ.get("REQUIRE_BROWSER"):
            pytest.fail(f"Chromium est introuvable ({chromium}).")
        pytest.skip("Chromium n’est pas installé (paquets Debian chromium et chromium-driver).")
    # Playwright's sync API runs an event loop in this thread; the ORM calls of the test itself stay synchronous.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium,
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        page = browser.new_page(locale="fr-FR", viewport={"width": 1440, "height": 900})
        page.checked_paths, visited = set(), []
        page.on("framenavigated", lambda frame: frame == page.main_frame and visited.append(path_of(frame.url)))
        yield page
        browser.close()
    unchecked = sorted(set(visited) - page.checked_paths)
    assert not unchecked, f"Pages opened without tests.browser.check_page(page): {unchecked}"
