"""The authorization matrix (OWASP ASVS V4, access control): every URL pattern of the project, asked by every persona
for its own objects, a colleague's and another PLIE's, answers as the role allows — and no response ever shows a
canary string the persona must not see (HTML, CSV, XLSX, justificatifs, bilan PDFs, headers).

The world (tests/security_personas.py) is built once per class inside a transaction that is rolled back at the end;
each test runs in its own savepoint and each request in one more, rolled back at once, so that every persona asks the
same world (a validation or a deletion by the admin does not change what the copil gets next).

A URL pattern without an entry in RULES fails test_every_url_pattern_has_an_entry: add its expectations."""

import html
import io
import subprocess
from dataclasses import dataclass

import pytest
from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.db import transaction
from django.test import Client
from django.urls import URLResolver, get_resolver, reverse
from openpyxl import load_workbook

from participants.models import Document
from plie.models import User
from reporting.models import BilanRequest

from .security_personas import HOME, OTHER, PERSONAS, build_world, person_canary, plie_canary

pytestmark = pytest.mark.django_db

LOGIN = "login"  # a redirect to the login page
PK_COLUMNS = ("admin", "animation", "follower", "referent", "copil", "outside")
PLAIN_COLUMNS = ("admin", "animation", "referent", "copil")


def S(statuses):
    """ "200 200 403 404 404 404" → (200, 200, 403, 404, 404, 404): per column, see PK_COLUMNS / PLAIN_COLUMNS."""
    return tuple(int(s) for s in statuses.split())


@dataclass(frozen=True)
class Rule:
    """What a URL answers. `kind`: the kind of object its pk names (None: no pk; with `query`, the pk is given as
    `?operation=` instead). `get`: the statuses of a GET per column (None: the view takes POST only, so a GET is 405).
    `post`: the statuses of a POST with empty data (None for a page: whoever is refused a GET is refused a POST the
    same way, or 405). `args`: the fixed arguments to try, each a tuple. `anonymous`: what a visitor gets."""

    kind: str | None = None
    get: tuple | None = None
    post: tuple | None = None
    args: tuple = ((),)
    query: bool = False
    anonymous: object = LOGIN


EVERYONE = S("200 200 200 200")
EDITORS = S("200 200 403 403")
EVERY_MEMBER = S("200 200 200 200 200 404")
EDIT_IN_PLIE = S("200 200 403 403 403 404")
FOLLOWED = S("200 200 200 404 404 404")  # the person's file: the team and the referent who follows them
TEAM_ON_FOLLOWED = S("200 200 403 404 404 404")  # team steps of a parcours: the referent sees the file, may not act
ADMIN_ONLY = S("200 403 403 403")
ANNEX = S("200 200 404 404 404 404")  # a bilan with the nominative annex is invisible outside the team

# url name → Rule, or a list of Rules (one per kind of object). Columns: PK_COLUMNS for rules with a kind, else
# PLAIN_COLUMNS (each persona asks in the PLIE it works in).
RULES = {
    "home": Rule(get=EVERYONE),
    "login": Rule(get=S("302 302 302 302"), anonymous=200),  # redirect_authenticated_user
    "logout": Rule(get=S("405 405 405 405")),  # POST only; logging out is tested apart (it ends the session)
    "password_reset": Rule(get=EVERYONE, anonymous=200),
    "password_reset_done": Rule(get=EVERYONE, anonymous=200),
    "password_reset_confirm": Rule(get=EVERYONE, args=(("MQ", "faux-jeton"),), anonymous=200),
    "password_reset_complete": Rule(get=EVERYONE, anonymous=200),
    "password_change": Rule(get=EVERYONE),
    "password_change_done": Rule(get=EVERYONE),
    "switch_plie": Rule(post=S("302 302 302 302")),
    # operations (plie/urls.py)
    "operation_create": Rule(get=EDITORS),
    "operation_detail": Rule("operation", EVERY_MEMBER),
    "operation_edit": Rule("operation", EDIT_IN_PLIE),
    "zone_create": Rule(get=EDITORS),
    "zone_edit": Rule("zone", EDIT_IN_PLIE),
    "structure_list": Rule(get=EVERYONE),
    "structure_create": Rule(get=EDITORS),
    "structure_edit": Rule("structure", EDIT_IN_PLIE),
    "referent_create": Rule(get=EDITORS),
    "referent_detail": Rule("referent", EVERY_MEMBER),
    "referent_edit": Rule("referent", EDIT_IN_PLIE),
    "period_create": Rule("referent", EDIT_IN_PLIE),
    "period_edit": Rule("period", EDIT_IN_PLIE),
    "period_delete": Rule("period", post=S("302 302 403 403 403 404")),
    # participants
    "participant_list": Rule(get=S("200 200 200 404")),
    "participant_create": Rule(get=EDITORS),
    "participant_detail": Rule("participant", FOLLOWED),
    "participant_edit": Rule("participant", FOLLOWED),
    "participant_history": Rule("participant", TEAM_ON_FOLLOWED),
    "prescription_create": Rule("participant", TEAM_ON_FOLLOWED),
    "entretien_create": Rule("participant", FOLLOWED),
    "document_create": Rule("participant", FOLLOWED),
    "document_download": Rule("document", FOLLOWED),
    "parcours_reception": Rule("parcours", TEAM_ON_FOLLOWED),
    "parcours_commission": Rule("parcours", TEAM_ON_FOLLOWED),
    "parcours_integration": Rule("parcours", TEAM_ON_FOLLOWED),
    "parcours_assignment": Rule("parcours", TEAM_ON_FOLLOWED),
    "parcours_employment": Rule("parcours", FOLLOWED),
    "parcours_exit": Rule("parcours", FOLLOWED),
    "parcours_validate_exit": Rule("parcours", post=S("302 302 403 404 404 404")),
    "portfolio": Rule(get=S("200 200 200 404")),
    "team_portfolios": Rule(get=EDITORS),
    "commission_agenda": Rule(get=EDITORS),
    "exits_to_validate": Rule(get=EDITORS),
    # steps
    "step_create": Rule("parcours", FOLLOWED),
    "validation_queue": Rule(get=EDITORS),
    "nomenclature": Rule(get=EVERYONE),
    "step_type_create": Rule(get=ADMIN_ONLY),
    "step_type_edit": Rule("step_type", S("200 403 403 403 403 404")),
    "step_category_create": Rule(get=ADMIN_ONLY),
    "grid": Rule(get=EVERYONE),
    "grid_version_create": Rule(get=ADMIN_ONLY),
    "grid_version_detail": Rule("grid_version", EVERY_MEMBER),
    "step_detail": Rule("step", FOLLOWED),
    "step_edit": Rule("step", FOLLOWED),
    "step_proof_add": Rule("step", post=S("302 302 302 404 404 404")),
    "step_submit": Rule("step", post=S("302 302 302 404 404 404")),
    "step_validate": Rule("step", post=S("302 302 403 404 404 404")),
    "step_refuse": Rule("step", post=S("302 302 403 404 404 404")),
    "session_list": Rule(get=S("200 200 200 404")),
    "session_create": Rule(get=S("200 200 200 404")),
    "session_detail": Rule("session", S("200 200 200 200 404 404")),
    "session_presence": Rule("session", post=S("302 302 302 302 404 404")),
    "session_steps": Rule("session", post=S("302 302 403 403 404 404")),
    # reporting: the dashboard pages take the fiche as ?operation=
    "dashboard": Rule("operation", EVERY_MEMBER, query=True),
    "dashboard_chart": Rule("operation", EVERY_MEMBER, args=(("objectifs",), ("mois",)), query=True),
    "behind_figure": Rule("operation", ANNEX, args=(("participants_accompagnes",), ("sorties",)), query=True),
    "dashboard_export": Rule("operation", EVERY_MEMBER, args=(("csv",), ("xlsx",)), query=True),
    "definitions": Rule(get=EVERYONE),
    "bilan_list": Rule(get=EVERYONE),
    "bilan_detail": [Rule("bilan", EVERY_MEMBER), Rule("bilan_annex", ANNEX)],
    "bilan_status": [Rule("bilan", EVERY_MEMBER), Rule("bilan_annex", ANNEX)],
    "bilan_download": [Rule("bilan", EVERY_MEMBER), Rule("bilan_annex", ANNEX)],
    "bilan_retry": [  # only a failed bilan is asked again (403 otherwise), by whoever may see it
        Rule("bilan", post=S("403 403 403 403 403 404")),
        Rule("bilan_annex", post=S("403 403 404 404 404 404")),
        Rule("failed_bilan", post=S("302 302 302 302 302 404")),
        Rule("failed_bilan_annex", post=S("302 302 404 404 404 404")),
    ],
    # applications
    "funding": Rule("operation", EVERY_MEMBER),
    "funding_export": Rule("operation", EVERY_MEMBER),
    "application_create": Rule("operation", EDIT_IN_PLIE),
    "regulation_create": Rule("operation", EDIT_IN_PLIE),
    "application_detail": Rule("application", EVERY_MEMBER, post=S("200 200 403 403 403 404")),  # POST = decision
    "application_edit": Rule("application", EDIT_IN_PLIE),
}

# Known faults of the application, each with a strict xfail test below: (url name, persona) → reason.
# The matrix still checks their status codes; it only leaves their canaries to the xfail test.
KNOWN_LEAKS = {}


def rules_of(name):
    rules = RULES[name]
    return rules if isinstance(rules, list) else [rules]


def url_patterns():
    """{name: route} of every URL pattern, the Django admin and static files left out (unnamed: by route)."""
    found = {}
    skipped = tuple(p.lstrip("/") for p in (settings.STATIC_URL, settings.MEDIA_URL) if p)

    def walk(patterns, prefix, namespace):
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                inner = ":".join(n for n in (namespace, pattern.namespace) if n)
                walk(pattern.url_patterns, route, inner)
            elif not (namespace.split(":")[0] == "admin" or route.startswith(skipped)):
                name = pattern.name and (f"{namespace}:{pattern.name}" if namespace else pattern.name)
                found[name or route] = route

    walk(get_resolver().url_patterns, "", "")
    return found


# ---------------------------------------------------------------------------------------------------------------
# Reading a response: everything a person could read in it, whatever its format.


def pdf_text(raw):
    done = subprocess.run(["pdftotext", "-q", "-layout", "-", "-"], input=raw, capture_output=True, check=False)
    text = done.stdout.decode("utf-8", "replace") if done.returncode == 0 else raw.decode("latin-1")
    return text + "\n" + "".join(text.split())  # a canary wrapped over two lines of a table cell is still found


def xlsx_text(raw):
    workbook = load_workbook(io.BytesIO(raw), read_only=True)
    cells = []
    for sheet in workbook.worksheets:
        cells.append(sheet.title)
        for row in sheet.iter_rows(values_only=True):
            cells.extend(str(value) for value in row if value is not None)
    workbook.close()
    return "\n".join(cells)


def text_of(response):
    """Headers and body as text: HTML and CSV decoded, XLSX cells, PDF text (streamed downloads read to the end)."""
    raw = b"".join(response.streaming_content) if response.streaming else response.content
    kind = response.get("Content-Type", "")
    if kind.startswith("application/pdf"):
        body = pdf_text(raw)
    elif "spreadsheetml" in kind:
        body = xlsx_text(raw)
    else:
        body = html.unescape(raw.decode("utf-8", "replace"))
    headers = "\n".join(f"{header}: {value}" for header, value in response.items())
    return f"{headers}\n{body}"


def ask(client, method, url, data=None):
    """One request whose every write is rolled back at once; returns (outcome, text). Outcome: the status, or
    LOGIN for a redirect to the login page."""
    with transaction.atomic():
        response = getattr(client, method)(url, data or {})
        text = text_of(response)
        transaction.set_rollback(True)
    client.cookies.pop("messages", None)  # a message left by a rolled-back action would show on the next page
    outcome = response.status_code
    if outcome == 302 and response.url.startswith(reverse("login")):
        outcome = LOGIN
    return outcome, text


def leaked(world, persona, text):
    upper = text.upper()
    return sorted(canary for canary in world.forbidden(persona) if canary in upper)


# ---------------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="class")
def world(django_db_setup, django_db_blocker, tmp_path_factory):
    """The personas and their objects, built once for the class in a transaction rolled back afterwards."""
    storage = FileSystemStorage(location=tmp_path_factory.mktemp("private"), base_url=None)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Document._meta.get_field("file"), "storage", storage)
        patch.setattr(BilanRequest._meta.get_field("file"), "storage", storage)
        with django_db_blocker.unblock():
            outer = transaction.atomic()
            outer.__enter__()
            try:
                built = build_world()
            except BaseException:
                transaction.set_rollback(True)
                outer.__exit__(None, None, None)
                raise
        try:
            yield built
        finally:
            with django_db_blocker.unblock():
                transaction.set_rollback(True)
                outer.__exit__(None, None, None)


def expected(statuses, column, rule):
    if column == "anonymous":
        return rule.anonymous
    if rule.kind is None:
        return statuses[PLAIN_COLUMNS.index(column)]
    return statuses[PK_COLUMNS.index(column)]


def url_for(name, rule, args, target):
    if target is None:
        return reverse(name, args=args)
    if rule.query:
        return f"{reverse(name, args=args)}?operation={target.pk}"
    return reverse(name, args=[*args, target.pk])


def requests_of(world, name):
    """Every (persona, method, url, what, expected outcome) the matrix asks for one URL name."""
    for rule in rules_of(name):
        targets = world.targets[rule.kind] if rule.kind else [None]
        for args in rule.args:
            for target in targets:
                url = url_for(name, rule, args, target)
                what = target.label if target else "—"
                for persona in world.personas.values():
                    column = persona.relation(target) if target else (persona.current_role or "anonymous")
                    column = str(column)
                    if rule.get is None:  # POST only: a GET is refused before anything is looked up
                        yield persona, "get", url, what, LOGIN if column == "anonymous" else 405
                        yield persona, "post", url, what, expected(rule.post, column, rule)
                        continue
                    want = expected(rule.get, column, rule)
                    yield persona, "get", url, what, want
                    if rule.post is not None:
                        yield persona, "post", url, what, expected(rule.post, column, rule)
                    elif want in (403, 404, LOGIN):  # refused a page, refused its form as well
                        yield persona, "post", url, what, want


class TestMatrix:
    def test_every_url_pattern_has_an_entry(self):
        patterns = url_patterns()
        missing = sorted(set(patterns) - set(RULES))
        assert not missing, "new URL without an entry in RULES: " + ", ".join(f"{n} ({patterns[n]})" for n in missing)
        stale = sorted(set(RULES) - set(patterns))
        assert not stale, f"entries of RULES for URLs that no longer exist: {stale}"

    @pytest.mark.parametrize("name", sorted(RULES))
    def test_each_persona_gets_what_its_role_allows_and_no_canary(self, world, name):
        wrong, leaks = [], []
        for persona, method, url, what, want in requests_of(world, name):
            got, text = ask(persona.client, method, url)
            if got != want and not (method == "post" and want in (403, 404) and got == 405):
                wrong.append(f"{persona.key} {method.upper()} {url} [{what}]: {got}, expected {want}")
            if (name, persona.key) not in KNOWN_LEAKS and (found := leaked(world, persona, text)):
                leaks.append(f"{persona.key} {method.upper()} {url} [{what}] ({got}) shows {found}")
        assert not wrong + leaks, "\n".join(wrong + leaks)
