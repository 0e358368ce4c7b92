"""Personas: the team of one PLIE (admin, animation, two referents, copil) and an outsider from another PLIE."""

import gc
import os
import shutil
import threading
from pathlib import Path

import pytest
from django.core import management
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection, connections
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


def chromium_path():
    """Chromium's headless shell (Debian's chromium-headless-shell; Playwright's own choice for headless runs): the
    same Blink without the desktop browser around it, and the browser tests take a quarter less processor time than
    with `chromium --headless`. /usr/bin/chromium-headless-shell is a shell script that starts the binary as its
    child: the binary itself is preferred. Debian's chromium otherwise."""
    candidates = ("/usr/lib/chromium/chromium-headless-shell", shutil.which("chromium-headless-shell"))
    return next((path for path in candidates if path and Path(path).exists()), shutil.which("chromium"))


@pytest.fixture(scope="session")
def browser():
    """One Playwright driver and one headless Chromium per test process; each test gets a context of its own
    (`page`). Started for each test, they took 0.5 s of processor time a test."""
    executable = chromium_path()
    if not executable:
        if os.environ.get("REQUIRE_BROWSER"):
            pytest.fail("Chromium est introuvable (paquet Debian chromium-headless-shell).")
        pytest.skip("Chromium n’est pas installé (paquet Debian chromium-headless-shell).")
    # Playwright's sync API runs an event loop in this thread; the ORM calls of the tests stay synchronous.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    own = {alias: connections[alias] for alias in connections}
    with sync_playwright() as playwright:
        # From here on asyncio sees that loop running, and Django's connection handler (asgiref's thread-critical
        # Local) would give the ORM new connections: on in-memory SQLite, new and empty databases. The tests keep
        # theirs. The loop stays open until the process ends: pytest-django runs the transactional tests, browser
        # tests included, after all the others.
        for alias, wrapper in own.items():
            connections[alias] = wrapper
        chromium = playwright.chromium.launch(
            executable_path=executable,
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
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    """A headless Chromium page (tests marked `browser`). Every page it opens must go through
    `tests.browser.check_page` (axe-core, widths): the test fails at teardown otherwise."""
    from axe_playwright_python.base import AXE_SCRIPT

    from tests.browser import path_of

    context = browser.new_context(locale="fr-FR", viewport={"width": 1440, "height": 900})
    # Given once, axe-core is in every document the context opens: sent with each check, its 500 kB went through
    # Playwright's driver to Chromium 60 times and was compiled each time.
    context.add_init_script(script=AXE_SCRIPT)
    page = context.new_page()
    page.checked_paths, visited = set(), []
    page.on("framenavigated", lambda frame: frame == page.main_frame and visited.append(path_of(frame.url)))
    yield page
    context.close()
    unchecked = sorted(set(visited) - page.checked_paths)
    assert not unchecked, f"Pages opened without tests.browser.check_page(page): {unchecked}"
