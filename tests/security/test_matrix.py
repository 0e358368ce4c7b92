"""The authorization matrix (OWASP ASVS V4, access control): every URL pattern of the project, asked by every persona
for its own objects, a colleague's and another PLIE's, answers as the role allows — and no response ever shows a
canary string the persona must not see (HTML, CSV, XLSX, justificatifs, bilan PDFs, headers).

The world (tests/security/personas.py) is built once per module inside a transaction that is rolled back at the end;
each test runs in its own savepoint and each request in one more, rolled back at once, so that every persona asks the
same world (a validation or a deletion by the admin does not change what the copil gets next).

A URL pattern without an entry in RULES fails test_every_url_pattern_has_an_entry: add its expectations."""

import contextlib
import html
import io
import logging
import subprocess
import zipfile
from dataclasses import dataclass

import pytest
from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.db import transaction
from django.test import Client, override_settings
from django.urls import URLResolver, get_resolver, reverse
from openpyxl import load_workbook

from imports.models import ImportFile
from operations.models import ExitReason
from participants.models import Document
from plie.middleware import SESSION_KEY
from plie.models import User
from reporting.models import BilanRequest
from steps.models import Attendance
from tests.database import built_once
from tests.security.personas import CANARY, HOME, OTHER, PERSONAS, build_world, person_canary, plie_canary

pytestmark = pytest.mark.django_db

LOGIN = "login"  # a redirect to the login page
PK_COLUMNS = ("admin", "animation", "follower", "referent", "copil", "outside")
PLAIN_COLUMNS = ("admin", "animation", "referent", "copil")


def codes(statuses):
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


EVERYONE = codes("200 200 200 200")
EDITORS = codes("200 200 403 403")
EVERY_MEMBER = codes("200 200 200 200 200 404")
EDIT_IN_PLIE = codes("200 200 403 403 403 404")
FOLLOWED = codes("200 200 200 404 404 404")  # the person's file: the team and the referent who follows them
TEAM_ON_FOLLOWED = codes("200 200 403 404 404 404")  # team steps of a parcours: the referent sees the file, may not act
ADMIN_ONLY = codes("200 403 403 403")
ANNEX = codes("200 200 404 404 404 404")  # a bilan with the nominative annex is invisible outside the team
TEAM_CONTROL = codes("200 200 403 403 404 404")  # what the FSE+ controller receives: team only, copil 404
COPIL_DOCUMENT = codes("200 200 404 404 200 404")  # a bilan written for the copil: not for referents

# url name → Rule, or a list of Rules (one per kind of object). Columns: PK_COLUMNS for rules with a kind, else
# PLAIN_COLUMNS (each persona asks in the PLIE it works in).
RULES = {
    "home": Rule(get=codes("200 200 200 302")),  # the copil's home is the dashboard
    "configuration": Rule(get=EVERYONE),
    "login": Rule(get=codes("302 302 302 302"), anonymous=200),  # redirect_authenticated_user
    "logout": Rule(get=codes("405 405 405 405")),  # POST only; logging out is tested apart (it ends the session)
    "password_reset": Rule(get=EVERYONE, anonymous=200),
    "password_reset_done": Rule(get=EVERYONE, anonymous=200),
    "password_reset_confirm": Rule(get=EVERYONE, args=(("MQ", "faux-jeton"),), anonymous=200),
    "password_reset_complete": Rule(get=EVERYONE, anonymous=200),
    "password_change": Rule(get=EVERYONE),
    "password_change_done": Rule(get=EVERYONE),
    "switch_plie": Rule(post=codes("302 302 302 302")),
    "privacy": Rule(get=EVERYONE, anonymous=200),
    "mfa_setup": Rule(get=EVERYONE),  # one's own authenticator (MFA_REQUIRED is off in the tests: see below)
    "mfa_verify": Rule(get=EVERYONE),
    "mfa_enrol": Rule(get=codes("404 404 404 404"), args=(("faux-jeton",),)),  # the e-mailed link, for its account
    # operations (plie/urls.py)
    "operation_create": Rule(get=EDITORS),
    "operation_detail": Rule("operation", EVERY_MEMBER),
    "operation_edit": Rule("operation", EDIT_IN_PLIE),
    "operation_renew": Rule("operation", EDIT_IN_PLIE),
    "operation_participations": Rule("operation", codes("200 200 403 403 403 404")),
    "participation_correct": Rule("participation", codes("200 200 403 404 404 404")),
    "operation_retention": Rule("operation", codes("200 403 403 403 403 404")),  # legal hold: the PLIE admin only
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
    "period_delete": Rule("period", post=codes("302 302 403 403 403 404")),
    # participants
    "participant_list": Rule(get=codes("200 200 200 404")),
    "participant_create": Rule(get=EDITORS),
    "participant_detail": Rule("participant", FOLLOWED),
    "participant_edit": Rule("participant", FOLLOWED),
    "participant_history": Rule("participant", TEAM_ON_FOLLOWED),
    "prescription_create": Rule("participant", TEAM_ON_FOLLOWED),
    "entretien_create": Rule("participant", FOLLOWED),
    "document_create": Rule("participant", FOLLOWED),
    "document_download": Rule("document", FOLLOWED),
    "participant_export": Rule("participant", codes("200 403 403 404 404 404")),  # right of access: the admin only
    "participant_erase": Rule("participant", codes("200 403 403 404 404 404")),  # art. 17: the admin only
    "participant_legal_hold": Rule("participant", post=codes("302 403 403 404 404 404")),  # the admin only
    "participant_restrict": Rule("participant", codes("200 403 403 404 404 404")),  # art. 18: the admin only
    "participant_lift_restriction": Rule("participant", codes("200 403 403 404 404 404")),
    "archive_list": Rule(get=ADMIN_ONLY),
    "archive_detail": Rule("archived_participant", codes("200 404 404 404 404 404")),  # read by the admin alone
    "parcours_reception": Rule("parcours", TEAM_ON_FOLLOWED),
    "parcours_commission": Rule("parcours", TEAM_ON_FOLLOWED),
    "parcours_integration": Rule("parcours", TEAM_ON_FOLLOWED),
    "parcours_assignment": Rule("parcours", TEAM_ON_FOLLOWED),
    "parcours_contract": Rule("parcours", TEAM_ON_FOLLOWED),
    "parcours_waiver": Rule("parcours", TEAM_ON_FOLLOWED),
    "parcours_employment": Rule("parcours", FOLLOWED),
    "parcours_exit": Rule("parcours", FOLLOWED),
    "parcours_validate_exit": Rule(
        "parcours", get=codes("200 200 403 404 404 404"), post=codes("302 302 403 404 404 404")
    ),
    "portfolio": Rule(get=codes("200 200 200 404")),
    "team_portfolios": Rule(get=EDITORS),
    "commission_agenda": Rule(get=EDITORS),
    "exits_to_validate": Rule(get=EDITORS),
    # steps
    "step_create": Rule("parcours", FOLLOWED),
    "validation_queue": Rule(get=EDITORS),
    "nomenclature": Rule(get=EVERYONE),
    "step_type_create": Rule(get=ADMIN_ONLY),
    "step_type_edit": Rule("step_type", codes("200 403 403 403 403 404")),
    "step_category_create": Rule(get=ADMIN_ONLY),
    "grid": Rule(get=EVERYONE),
    "grid_version_create": Rule(get=ADMIN_ONLY),
    "grid_version_detail": Rule("grid_version", EVERY_MEMBER),
    "step_detail": Rule("step", FOLLOWED),
    "step_edit": Rule("step", FOLLOWED),
    "step_proof_add": Rule("step", post=codes("302 302 302 404 404 404")),
    "step_submit": Rule("step", post=codes("302 302 302 404 404 404")),
    "step_validate": Rule("step", post=codes("302 302 403 404 404 404")),
    "step_refuse": Rule("step", post=codes("302 302 403 404 404 404")),
    "session_list": Rule(get=codes("200 200 200 404")),
    "session_create": Rule(get=codes("200 200 200 404")),
    "session_detail": Rule("session", codes("200 200 200 200 404 404")),
    "session_presence": Rule("session", post=codes("302 302 302 302 404 404")),
    "session_steps": Rule("session", post=codes("302 302 403 403 404 404")),
    # reporting: the dashboard pages take the fiche as ?operation=
    "dashboard": Rule("operation", EVERY_MEMBER, query=True),
    "dashboard_chart": Rule("operation", EVERY_MEMBER, args=(("objectifs",),), query=True),
    "behind_figure": Rule("operation", ANNEX, args=(("participants_accompagnes",),), query=True),
    "dashboard_export": Rule("operation", EVERY_MEMBER, args=(("csv",), ("xlsx",)), query=True),
    "definitions": Rule(get=EVERYONE),
    "mdfse_export": Rule("operation", codes("200 200 403 403 403 404")),
    "mdfse_columns": Rule(get=ADMIN_ONLY),
    "bilan_list": Rule(get=EVERYONE),
    # a bilan is written for its audience (reporting/disclosure.py): the copil's for the copil and the team
    "bilan_detail": [Rule("bilan", COPIL_DOCUMENT), Rule("bilan_annex", ANNEX)],
    "bilan_status": [Rule("bilan", COPIL_DOCUMENT), Rule("bilan_annex", ANNEX)],
    "bilan_download": [Rule("bilan", COPIL_DOCUMENT), Rule("bilan_annex", ANNEX)],
    "bilan_retry": [  # only a failed bilan is asked again (403 otherwise), by whoever may see it
        Rule("bilan", post=codes("403 403 404 404 403 404")),
        Rule("bilan_annex", post=codes("403 403 404 404 404 404")),
        Rule("failed_bilan", post=codes("302 302 404 404 404 404")),
        Rule("failed_bilan_annex", post=codes("302 302 404 404 404 404")),
    ],
    # applications
    "funding": Rule("operation", EVERY_MEMBER),
    "funding_export": Rule("operation", EVERY_MEMBER),
    "financial_bilan": Rule("operation", EVERY_MEMBER, post=codes("200 200 403 403 403 404")),  # POST = an expense
    "eligibility_rules": Rule("operation", EVERY_MEMBER, post=codes("200 200 403 403 403 404")),
    # The contrôle de service fait names people: the team only; the copil does not even learn the page exists.
    "completeness": Rule("operation", TEAM_CONTROL),
    "audit_pack_request": Rule("operation", TEAM_CONTROL),
    "staff_time": Rule("operation", TEAM_CONTROL),
    "staff_time_upload": Rule("period", TEAM_CONTROL),
    # Packs and staff time proofs are not in the world (tests/controls/test_controls.py checks them by role).
    "staff_time_download": Rule(get=codes("404 404 404 404"), args=((999999,),)),
    "audit_pack_detail": Rule(get=codes("404 404 404 404"), args=((999999,),)),
    "audit_pack_download": Rule(get=codes("404 404 404 404"), args=((999999,),)),
    "application_create": Rule("operation", EDIT_IN_PLIE),
    "regulation_create": Rule("operation", EDIT_IN_PLIE),
    "application_detail": Rule("application", EVERY_MEMBER, post=codes("200 200 403 403 403 404")),  # POST = decision
    "application_edit": Rule("application", EDIT_IN_PLIE),
    # imports: whole files of personal data, the PLIE administrator's business only
    "import_list": Rule(get=ADMIN_ONLY),
    "import_create": Rule(get=ADMIN_ONLY),
    "import_detail": Rule("import_run", codes("200 404 404 404 404 404")),
    "import_status": Rule("import_run", codes("200 404 404 404 404 404")),
    "import_start": Rule("import_run", post=codes("302 404 404 404 404 404")),
    # agenda, commission sessions, entretien page, printouts
    "agenda": Rule(get=codes("200 200 200 404")),
    "appointment_create": Rule(get=codes("200 200 200 404")),
    "appointment_detail": Rule("appointment", FOLLOWED),
    "appointment_edit": Rule("appointment", FOLLOWED),
    "appointment_outcome": Rule("appointment", post=codes("302 302 302 404 404 404")),
    "feed_settings": Rule(get=codes("404 404 200 404")),  # a referent's own calendar
    "calendar_feed": Rule(get=codes("404 404 404 404"), args=(("faux-jeton",),), anonymous=404),
    "commission_session_list": Rule(get=EDITORS),
    "commission_session_create": Rule(get=EDITORS),
    "commission_session_detail": Rule("commission_session", ANNEX),
    "commission_session_edit": Rule("commission_session", ANNEX),
    "commission_session_minutes": Rule("commission_session", ANNEX),
    "entretien_detail": Rule("entretien", FOLLOWED),
    "entretien_edit": Rule("entretien", FOLLOWED),
    "print_contract": Rule("participant", FOLLOWED),
    "print_questionnaire": Rule("participant", FOLLOWED),
    "print_summary": Rule("participant", FOLLOWED),
    "import_mapping": Rule("import_file", post=codes("302 404 404 404 404 404")),
}


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


def zip_text(raw):
    parts = []
    with zipfile.ZipFile(io.BytesIO(raw)) as archive:
        for member in archive.namelist():
            content = archive.read(member)
            parts += [member, pdf_text(content) if content.startswith(b"%PDF") else content.decode("utf-8", "replace")]
    return "\n".join(parts)


def text_of(response):
    """Headers and body as text: HTML and CSV decoded, XLSX cells, PDF text (streamed downloads read to the end)."""
    raw = b"".join(response.streaming_content) if response.streaming else response.content
    kind = response.get("Content-Type", "")
    if kind.startswith("application/pdf"):
        body = pdf_text(raw)
    elif "spreadsheetml" in kind:
        body = xlsx_text(raw)
    elif kind.startswith("application/zip"):
        body = zip_text(raw)
    else:
        body = html.unescape(raw.decode("utf-8", "replace"))
    headers = "\n".join(f"{header}: {value}" for header, value in response.items())
    return f"{headers}\n{body}"


def outcome_of(response):
    """The status, or LOGIN for a redirect to the login page."""
    if response.status_code == 302 and response.url.startswith(reverse("login")):
        return LOGIN
    return response.status_code


def ask(client, method, url, data=None, check=None):
    """One request whose every write is rolled back at once (`check(response)` runs before the rollback);
    returns (outcome, text, response)."""
    with transaction.atomic():
        response = getattr(client, method)(url, data or {})
        text = text_of(response)
        if check:
            check(response)
        transaction.set_rollback(True)
    client.cookies.pop("messages", None)  # a message left by a rolled-back action would show on the next page
    return outcome_of(response), text, response


def leaked(world, persona, text):
    upper = text.upper()
    return sorted(canary for canary in world.forbidden(persona) if canary in upper)


# ---------------------------------------------------------------------------------------------------------------


@contextlib.contextmanager
def quiet(*names):
    """Thousands of expected 403/404 would each log a warning with its traceback: only errors are kept."""
    loggers = {logging.getLogger(name): logging.getLogger(name).level for name in names}
    for logger in loggers:
        logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        for logger, level in loggers.items():
            logger.setLevel(level)


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory):
    """The personas and their objects, built once for the module (tests/database.py's `built_once`)."""
    storage = FileSystemStorage(location=tmp_path_factory.mktemp("private"), base_url=None)
    with pytest.MonkeyPatch.context() as patch, quiet("django.request", "django.security", "axes", "celery"):
        patch.setattr(Document._meta.get_field("file"), "storage", storage)
        patch.setattr(BilanRequest._meta.get_field("file"), "storage", storage)
        patch.setattr(ImportFile._meta.get_field("content"), "storage", storage)
        with built_once(django_db_blocker, build_world) as built:
            yield built


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
        """…and every page a form-filling persona gets renders each field of its forms (see below)."""
        wrong, leaks = [], []
        for persona, method, url, what, want in requests_of(world, name):
            got, text, response = ask(persona.client, method, url)
            if got != want and not (method == "post" and want in (403, 404) and got == 405):
                wrong.append(f"{persona.key} {method.upper()} {url} [{what}]: {got}, expected {want}")
            if found := leaked(world, persona, text):
                leaks.append(f"{persona.key} {method.upper()} {url} [{what}] ({got}) shows {found}")
            if method == "get" and got == 200 and persona.key in FORM_FILLERS:
                wrong += [f"{persona.key} GET {url}: {form}" for form in forms_missing_fields(response, text)]
        assert not wrong + leaks, "\n".join(wrong + leaks)


def client_of_persona_gets(world, persona, url):
    got, _, _ = ask(world.personas[persona].client, "get", url)
    return got


def target_of(world, kind, slug=HOME):
    return next(t for t in world.targets[kind] if t.plie == slug)


def formset_management(prefix, total=1):
    return {f"{prefix}-TOTAL_FORMS": total, f"{prefix}-INITIAL_FORMS": 0}


# Form fields naming an object of the other PLIE (or a person the referent does not follow) must refuse it as a
# choice: (persona, url name, object of the PLIE de Pessac in the URL, data(here, there), fields that must refuse).
# A field is "form.name", or "formset.index.name" for a form of an inline formset.
FOREIGN_CHOICES = [
    ("animation", "parcours_integration", "parcours_NONE",
     lambda h, t: {"entry_date": "2023-02-01", "operation": t["operation"].pk, "referent": t["referent_A"].pk},
     ["form.operation", "form.referent"]),
    ("animation", "parcours_assignment", "parcours_A",
     lambda h, t: {"referent": t["referent_A"].pk, "on": "2023-04-01", "reason": "rebalancing"}, ["form.referent"]),
    ("referent_a", "parcours_exit", "parcours_A",
     lambda h, t: {"exit_date": "2023-06-30", "reason": exit_reason(t["plie"]).pk}, ["form.reason"]),
    ("referent_a", "step_create", "parcours_A", lambda h, t: {"step_type": t["step_type"].pk}, ["form.step_type"]),
    ("referent_a", "step_edit", "step_A", lambda h, t: {"step_type": t["step_type"].pk}, ["form.step_type"]),
    ("animation", "operation_edit", "operation",
     lambda h, t: {"zones": t["zone"].pk, "neutralised_exit_reasons": exit_reason(t["plie"]).pk},
     ["form.zones", "form.neutralised_exit_reasons"]),
    ("animation", "zone_create", None, lambda h, t: {"name": "Zone", "communes": commune_of(t)}, ["form.communes"]),
    ("animation", "participant_create", None, lambda h, t: {"commune": commune_of(t)}, ["form.commune"]),
    ("animation", "referent_create", None, lambda h, t: {"structure": t["structure"].pk}, ["form.structure"]),
    ("animation", "period_create", "referent_A",
     lambda h, t: {"operation": t["operation"].pk, "zone": t["zone"].pk}, ["form.operation", "form.zone"]),
    ("animation", "application_create", "operation",
     lambda h, t: {"structure": t["structure"].pk, "zones_requested": t["zone"].pk, **formset_management("referents"),
                   "referents-0-last_name": "Nom", "referents-0-zone": t["zone"].pk},
     ["form.structure", "form.zones_requested", "referents.0.zone"]),
    ("animation", "application_edit", "application",
     lambda h, t: {"structure": t["structure"].pk, "zones_requested": t["zone"].pk, **formset_management("referents"),
                   "referents-0-last_name": "Nom", "referents-0-zone": t["zone"].pk},
     ["form.structure", "form.zones_requested", "referents.0.zone"]),
    ("animation", "application_detail", "application", lambda h, t: {"zones": t["zone"].pk}, ["form.zones"]),
    ("animation", "regulation_create", "operation", lambda h, t: {"structure": t["structure"].pk}, ["form.structure"]),
    ("admin", "step_type_create", None, lambda h, t: {"category": t["category"].pk}, ["form.category"]),
    ("animation", "session_create", None, lambda h, t: {"step_type": t["step_type"].pk}, ["form.step_type"]),
    ("referent_a", "session_detail", "session", lambda h, t: {"participant": t["person_A"].pk}, ["form.participant"]),
    ("referent_a", "session_detail", "session", lambda h, t: {"participant": h["person_B"].pk}, ["form.participant"]),
    ("animation", "bilan_list", None,
     lambda h, t: {"operation": t["operation"].pk, "start": "2023-01-01", "end": "2023-12-31"}, ["form.operation"]),
]  # fmt: skip


def commune_of(things):
    return things["zone"].communes.get().pk


def exit_reason(plie):
    return ExitReason.objects.get(plie=plie, label="CDI")


def field_errors(response, spec):
    name, *index, field = spec.split(".")
    form = response.context[name]
    if index:
        form = form.forms[int(index[0])]
    return form.errors.get(field)


@pytest.fixture
def forget_messages(world):
    """For tests whose requests are not rolled back one by one: their messages do not outlive them (the session
    itself comes back with the test's rollback)."""
    yield
    for persona in world.personas.values():
        persona.client.cookies.pop("messages", None)


class TestAroundTheMatrix:
    """What the status codes cannot say: the admin site, the session, the second factor, query strings and form
    fields naming another PLIE's objects, and proof that the canary search reads every format."""

    def test_the_django_admin_is_for_staff_only(self, world):
        url = reverse("admin:index")
        for persona in world.personas.values():
            response = persona.client.get(url)
            logins = {reverse("admin:login")} if persona.user else {reverse("admin:login"), reverse("login")}
            assert response.status_code == 302, persona.key
            assert response.url.split("?")[0] in logins, (persona.key, response.url)
        staff = User.objects.create_user("technique@matrice.example.fr", is_staff=True, is_superuser=True)
        client = Client()
        client.force_login(staff)
        assert client.get(url).status_code == 200  # the check above is not a broken admin

    def test_logging_out_ends_the_session(self, world):
        client = Client()
        client.force_login(world.personas["animation"].user)
        assert client.get(reverse("home")).status_code == 200
        response = client.post(reverse("logout"))
        assert (response.status_code, response.url) == (302, reverse("login"))
        assert outcome_of(client.get(reverse("home"))) == LOGIN

    def test_without_its_second_factor_a_session_reaches_only_the_mfa_pages(self, world):
        open_pages = {"mfa_setup", "mfa_enrol", "mfa_verify", "logout", "privacy"}
        client = world.personas["admin"].client  # logged in, no device: MFA_REQUIRED sends it to set one up
        wrong = []
        with override_settings(MFA_REQUIRED=True):
            for name in RULES:
                rule = rules_of(name)[0]
                url = url_for(name, rule, rule.args[0], target_of(world, rule.kind) if rule.kind else None)
                _, text, response = ask(client, "get" if rule.get is not None else "post", url)
                to_mfa = response.status_code == 302 and response.url.startswith(reverse("mfa_setup"))
                if to_mfa == (name in open_pages):
                    wrong.append(f"{name}: {response.status_code} {response.get('Location', '')}")
                if name not in open_pages and (found := leaked(world, "anonymous", text)):
                    wrong.append(f"{name} shows {found}")
        assert not wrong, wrong

    @pytest.mark.parametrize(
        ("persona", "name", "obj", "data", "fields"), FOREIGN_CHOICES, ids=[f"{c[1]}-{c[0]}" for c in FOREIGN_CHOICES]
    )
    def test_a_form_refuses_a_choice_outside_what_the_persona_may_use(self, world, persona, name, obj, data, fields):
        here, there = world.things[HOME], world.things[OTHER]
        client = world.personas[persona].client
        url = reverse(name, args=[here[obj].pk] if obj else [])
        got, _, response = ask(client, "post", url, data(here, there))
        assert got == 200, f"{name}: {got} — the foreign choice was accepted"
        assert all(field_errors(response, field) for field in fields), {f: field_errors(response, f) for f in fields}
        if data(here, here) != data(here, there):  # control: the same form takes the PLIE's own objects
            got, _, response = ask(client, "post", url, data(here, here))
            assert got == 302 or not any(field_errors(response, field) for field in fields), name

    def test_a_referent_signs_in_only_the_people_they_follow(self, world):
        here = world.things[HOME]
        mine, colleague_s = here["attendance_A"], here["attendance_B"]  # present, absent

        def only_mine_changed(response):
            assert Attendance.objects.get(pk=mine.pk).present is False  # unticked: the form is taken into account
            assert Attendance.objects.get(pk=colleague_s.pk).present is False  # ticked, but not theirs to sign

        url = reverse("session_presence", args=[here["session"].pk])
        client = world.personas["referent_a"].client
        assert ask(client, "post", url, {"present": [colleague_s.pk]}, only_mine_changed)[0] == 302

    @pytest.mark.parametrize("persona", ["admin", "animation"])
    def test_the_portfolio_of_another_plie_s_referent_is_not_found(self, world, persona):
        other = world.things[OTHER]["referent_A"]
        got, text, _ = ask(world.personas[persona].client, "get", f"{reverse('portfolio')}?referent={other.pk}")
        assert got == 404
        assert not leaked(world, persona, text)

    def test_a_referent_naming_a_colleague_in_the_query_string_still_gets_their_own_portfolio(self, world):
        colleague = world.things[HOME]["referent_B"]
        for query in (f"?referent={colleague.pk}", f"?referent={colleague.pk}&statut=active"):
            got, text, _ = ask(world.personas["referent_a"].client, "get", reverse("portfolio") + query)
            assert got == 200
            assert person_canary(HOME, "A") in text.upper()
            assert not leaked(world, "referent_a", text)
        got, text, _ = ask(world.personas["animation"].client, "get", f"{reverse('portfolio')}?referent={colleague.pk}")
        assert person_canary(HOME, "B") in text.upper()  # the team does open a colleague's portfolio

    @pytest.mark.parametrize("persona", [p for p in PERSONAS if p != "anonymous"])
    def test_searching_for_the_canaries_finds_only_what_the_persona_may_see(self, world, persona):
        for method, url, data in (
            ("post", reverse("participant_list"), {"q": CANARY}),
            ("get", f"{reverse('validation_queue')}?referent={world.things[OTHER]['referent_A'].pk}", None),
            ("get", f"{reverse('validation_queue')}?referent={world.things[HOME]['referent_B'].pk}", None),
        ):
            _, text, _ = ask(world.personas[persona].client, method, url, data)
            assert not leaked(world, persona, text), url

    def test_switching_to_a_plie_one_is_not_a_member_of_changes_nothing(self, world, forget_messages):
        client = world.personas["animation"].client
        response = client.post(reverse("switch_plie"), {"plie": world.plies[OTHER].pk, "next": "https://evil.example/"})
        assert (response.status_code, response.url) == (302, reverse("home"))
        assert client.session.get(SESSION_KEY) is None
        for name in ("home", "participant_list", "dashboard", "session_list"):
            text = text_of(client.get(reverse(name)))
            assert plie_canary(HOME) in text.upper(), name
            assert not leaked(world, "animation", text), name

    def test_a_member_of_two_plies_has_in_each_the_rights_of_their_role_there(self, world, forget_messages):
        client = world.personas["admin_here_copil_there"].client
        assert client.post(reverse("switch_plie"), {"plie": world.plies[OTHER].pk}).status_code == 302
        for name, want in (("participant_list", 404), ("portfolio", 404), ("team_portfolios", 403), ("home", 302)):
            response = client.get(reverse(name))
            assert response.status_code == want, name
            assert not leaked(world, "admin_here_copil_there", text_of(response)), name
        assert person_canary(HOME, "A") not in text_of(client.get(reverse("dashboard"))).upper()

        client = world.personas["copil_here_animation_there"].client
        assert client.post(reverse("switch_plie"), {"plie": world.plies[OTHER].pk}).status_code == 302
        text = text_of(client.get(reverse("participant_list")))
        assert person_canary(OTHER, "B") in text.upper()
        assert not leaked(world, "copil_here_animation_there", text)

    def test_a_referent_s_bilan_has_no_annex_even_when_asked(self, world, django_capture_on_commit_callbacks):
        persona = world.personas["referent_a"]
        operation = world.operations[HOME]
        data = {"operation": operation.pk, "start": "2023-01-01", "end": "2023-12-31", "with_annex": "on"}
        with django_capture_on_commit_callbacks(execute=True):
            assert persona.client.post(reverse("bilan_list"), data).status_code == 302
        bilan = BilanRequest.objects.filter(requested_by=persona.user).get()
        assert (bilan.status, bilan.with_annex) == ("done", False)
        assert bilan.audience == "referent"
        text = text_of(persona.client.get(reverse("bilan_download", args=[bilan.pk])))
        assert plie_canary(HOME) in text  # the PDF is read: its own referent line is named in it
        assert not leaked(world, "referent_a", text)  # and no person, no colleague's figures
        assert client_of_persona_gets(world, "referent_b", reverse("bilan_download", args=[bilan.pk])) == 404

    # Positive controls: each format is read, so that finding no canary means something.
    @pytest.mark.parametrize(
        ("persona", "name", "kind", "query", "must_show"),
        [
            ("referent_a", "participant_detail", "participant", "", person_canary(HOME, "A")),
            ("referent_a", "document_download", "document", "", f"% {person_canary(HOME, 'A')}"),  # the file itself
            ("admin", "participant_export", "participant", "", f"% {person_canary(HOME, 'A')}"),  # its files
            ("admin", "archive_detail", "archived_participant", "", person_canary(HOME, "ARCHIVED")),
            ("admin", "archive_list", None, None, person_canary(HOME, "ARCHIVED")),
            ("animation", "bilan_download", "bilan_annex", "", person_canary(HOME, "B")),
            ("copil", "bilan_download", "bilan", "", plie_canary(HOME)),
            ("animation", "dashboard_export", None, "csv", plie_canary(HOME)),
            ("animation", "dashboard_export", None, "xlsx", plie_canary(HOME)),
            ("copil", "dashboard_export", None, "xlsx", plie_canary(HOME)),
        ],
    )
    def test_the_canary_search_reads_the_format(self, world, persona, name, kind, query, must_show):
        url = reverse(name, args=[target_of(world, kind).pk] if kind else [query] if query is not None else [])
        got, text, _ = ask(world.personas[persona].client, "get", url)
        assert got == 200
        assert must_show in text.upper()
        assert not leaked(world, persona, text)


# ---------------------------------------------------------------------------------------------------------------
# The Django admin. It sees every PLIE at once: what is about people (PersonalDataAdmin) is a technical superuser's
# alone — not a staff account's, whatever its permissions — and each of its pages and exports is journalled.


def admin_requests(world):
    """(model label, method, url, data) of every admin URL of a model about people: list, add, page, history,
    deletion and, where there is one, the export (its form and the file)."""
    from django.contrib import admin

    from plie.admin import PersonalDataAdmin

    for model, model_admin in admin.site._registry.items():
        if not isinstance(model_admin, PersonalDataAdmin):
            continue
        info = model._meta.app_label, model._meta.model_name
        label = model._meta.label
        yield label, "get", reverse("admin:{}_{}_changelist".format(*info)), None
        yield label, "get", reverse("admin:{}_{}_add".format(*info)), None
        obj = model._default_manager.order_by("pk").first()
        if obj is not None:
            for view in ("change", "history", "delete"):
                yield label, "get", reverse(f"admin:{info[0]}_{info[1]}_{view}", args=[obj.pk]), None
        if hasattr(model_admin, "export_action"):
            url = reverse("admin:{}_{}_export".format(*info))
            yield label, "get", url, None
            resource = model_admin.resource_classes[0]
            fields = {f"{resource.__name__.lower()}_{name}": "on" for name in resource._meta.fields}
            yield label, "post", url, {"format": "0", "resource": "0", **fields}


def staff_client(world, *, with_permissions):
    """A staff account of the PLIE de Pessac (its animation team), with every permission of the project or none."""
    from django.contrib.auth.models import Permission

    from plie.models import Membership, Role

    user = User.objects.create_user(f"staff-{with_permissions}@matrice.example.fr", is_staff=True)
    Membership.objects.create(user=user, plie=world.plies[HOME], role=Role.ANIMATION)
    if with_permissions:
        user.user_permissions.set(Permission.objects.all())
    client = Client()
    client.force_login(user)
    return client


class TestAdminMatrix:
    def test_every_model_about_people_has_a_personal_data_admin(self):
        from django.contrib import admin

        from plie.admin import JournalledExport, PersonalDataAdmin
        from tests.plie.test_audit_completeness import PERSONAL

        people = PERSONAL | {"participants.FileAccess", "imports.ImportRun", "steps.CollectiveSession"}
        wrong = [
            model._meta.label
            for model, model_admin in admin.site._registry.items()
            if (model._meta.label in people and not isinstance(model_admin, PersonalDataAdmin))
            or (hasattr(model_admin, "export_action") and not isinstance(model_admin, JournalledExport))
        ]
        assert not wrong, wrong

    def test_members_of_a_plie_who_are_not_staff_are_sent_to_the_admin_login(self, world):
        wrong = []
        for _label, method, url, data in admin_requests(world):
            for persona in ("anonymous", "admin", "animation", "copil"):
                got, text, response = ask(world.personas[persona].client, method, url, data)
                if not (got == 302 and response.url.startswith(reverse("admin:login"))) and got != LOGIN:
                    wrong.append(f"{persona} {method.upper()} {url}: {got}")
                if found := leaked(world, persona, text):
                    wrong.append(f"{persona} {method.upper()} {url} shows {found}")
        assert not wrong, "\n".join(wrong)

    @pytest.mark.parametrize("with_permissions", [False, True], ids=["no-permission", "every-permission"])
    def test_a_staff_account_is_refused_every_page_and_export_about_people(self, world, with_permissions):
        from participants.models import FileAccess

        client = staff_client(world, with_permissions=with_permissions)
        wrong = []
        for label, method, url, data in admin_requests(world):
            got, text, _ = ask(client, method, url, data)
            if got != 403:
                wrong.append(f"{label} {method.upper()} {url}: {got}, expected 403")
            if found := [c for c in world.canaries if c != plie_canary(HOME) and c in text.upper()]:
                wrong.append(f"{label} {method.upper()} {url} shows {found}")
        index = text_of(client.get(reverse("admin:index")))
        assert "Parcours" not in index and "Participants" not in index  # not even offered
        assert not FileAccess.objects.filter(what="administration").exists()
        assert not wrong, "\n".join(wrong)

    def test_the_technical_superuser_reads_them_and_each_reading_is_journalled(self, world):
        from participants.models import FileAccess

        superuser = User.objects.create_user("technique@matrice.example.fr", is_staff=True, is_superuser=True)
        client = Client()
        client.force_login(superuser)
        wrong = []
        asked = 0
        for label, method, url, data in admin_requests(world):
            if url.endswith("/delete/") or (method == "get" and url.endswith("/export/")):
                continue  # a confirmation page, and the export's form (django-import-export leaves a variable undefined)
            with transaction.atomic():
                before = FileAccess.objects.filter(user=superuser).count()
                response = getattr(client, method)(url, data or {})
                logged = FileAccess.objects.filter(user=superuser).count() - before
                transaction.set_rollback(True)
            asked += 1
            # the journal and the participations (synced from attribution) are written by the application alone
            if label in ("participants.FileAccess", "participants.Participation") and url.endswith("/add/"):
                assert response.status_code == 403
            elif response.status_code != 200:
                wrong.append(f"{label} {method.upper()} {url}: {response.status_code}")
            elif logged != (0 if url.endswith("/add/") else 1):
                wrong.append(f"{label} {method.upper()} {url}: {logged} line(s) in the journal")
        assert asked > 20 and not wrong, "\n".join(wrong)
        text = text_of(client.get(reverse("admin:participants_participant_changelist")))
        assert person_canary(HOME, "A") in text.upper() and person_canary(OTHER, "A") in text.upper()


# ---------------------------------------------------------------------------------------------------------------
# Forms take only what their page shows: a field the page does not render is posted empty, and the save clears it
# (a fiche opération lost its legal hold and its last-payment year that way).


def model_forms_in(context):
    """Every ModelForm of a template context, those of formsets included."""
    from django.forms import BaseFormSet, BaseModelForm

    seen = []
    for template_context in context:
        for layer in template_context:
            for value in layer.values():
                if isinstance(value, BaseModelForm) and value not in seen:
                    seen.append(value)
                elif isinstance(value, BaseFormSet):
                    seen.extend(f for f in value.forms if isinstance(f, BaseModelForm) and f not in seen)
    return seen


def unrendered_fields(form, page):
    """Names of the form's fields that have no input, select or textarea of that name in the page."""
    from django.forms import CheckboxSelectMultiple, RadioSelect
    from django.forms.models import InlineForeignKeyField

    missing = []
    for bound in form:
        if isinstance(bound.field, InlineForeignKeyField):
            continue  # an inline formset's link to its parent, taken from the parent, never posted
        widget = bound.field.widget
        if isinstance(widget, (CheckboxSelectMultiple, RadioSelect)) and not list(bound.field.choices):
            continue  # no choice, no input: nothing to post, nothing lost
        if f'name="{bound.html_name}"' not in page:
            missing.append(bound.html_name)
    return missing


FORM_FILLERS = ("admin", "animation", "referent_a")  # the personas who fill the project's forms


def forms_missing_fields(response, page):
    """`FormClass [names]` for each ModelForm of the response with a field its page does not render."""
    if not response.context:
        return []
    return [
        f"{type(form).__name__} {missing}"
        for form in model_forms_in(response.context)
        if (missing := unrendered_fields(form, page))
    ]


class TestFormsMatchTheirPages:
    """The matrix checks the form fields of every page its form-filling personas get; here, that it does see the
    forms that once lost a field (a check that found no form would pass for nothing)."""

    @pytest.mark.parametrize("name", ["operation_edit", "participant_edit", "step_edit", "application_edit"])
    def test_the_check_reads_the_forms_of_the_edit_pages(self, world, name):
        rule = rules_of(name)[0]
        url = url_for(name, rule, rule.args[0], target_of(world, rule.kind))
        got, page, response = ask(world.personas["animation"].client, "get", url)
        assert got == 200
        assert model_forms_in(response.context), f"{name}: no ModelForm in the context"
        assert not forms_missing_fields(response, page)

    def test_the_check_finds_a_field_missing_from_its_page(self, world):
        rule = rules_of("operation_edit")[0]
        url = url_for("operation_edit", rule, rule.args[0], target_of(world, rule.kind))
        _, page, response = ask(world.personas["animation"].client, "get", url)
        form = model_forms_in(response.context)[0]
        name = next(iter(form.fields))
        assert forms_missing_fields(response, page.replace(f'name="{form[name].html_name}"', 'name="autre"'))
