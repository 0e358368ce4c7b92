import pytest
from django.core.files.storage import FileSystemStorage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase
from django.urls import reverse

from imports.models import ColumnMapping, ImportFile, ImportRun, RunStatus
from participants.models import Participant
from tests.imports.files import PARTICIPANTS, REFERENTS, changed, csv_bytes


@pytest.fixture(autouse=True)
def private_files(monkeypatch, tmp_path):
    """Deposited files land in pytest's tmp_path, never in var/private."""
    monkeypatch.setattr(ImportFile._meta.get_field("content"), "storage", FileSystemStorage(location=tmp_path))


def upload(client, *files, create_referents=False):
    """Deposits files; their preview (a job of the worker) runs in-process once the request commits."""
    data = {"files": [SimpleUploadedFile(name, content) for name, content in files]}
    if create_referents:
        data["create_referents"] = "on"
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post(reverse("import_create"), data)


@pytest.fixture
def start(django_capture_on_commit_callbacks):
    """Confirms an import; the task runs in-process once the request's transaction commits."""

    def start(client, run):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(reverse("import_start", args=[run.pk]))

    return start


def own_headers():
    """A PLIE's own extract: Windows-1252, headers spelled its way, one of them unknown to the application."""
    rows = changed(PARTICIPANTS, 1, "Date d'entrée", "DATE D’ENTREE")
    rows = changed(rows, 1, "Référent", "Conseiller référent")
    rows = changed(rows, 1, "Prénom", "prenom")
    return rows


def test_the_admin_uploads_maps_a_column_previews_fixes_and_imports(client_of, admin_user, operation, plie, start):
    client = client_of(admin_user)
    upload(client, ("referents.csv", csv_bytes(REFERENTS)))
    start(client, ImportRun.objects.latest("pk"))

    bad = changed(own_headers(), 3, "Date de naissance", "31/02/1970")
    response = upload(client, ("extraction.csv", csv_bytes(bad, encoding="cp1252")))
    run = ImportRun.objects.latest("pk")
    assert response.url == run.get_absolute_url()
    page = client.get(response.url).content.decode()
    assert "CSV, encodage Windows-1252, séparateur point-virgule" in page
    assert "Colonnes obligatoires absentes : Référent." in page
    assert "Conseiller référent" in page and "— ignorer cette colonne —" in page

    import_file = run.files.get()
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(reverse("import_mapping", args=[import_file.pk]), {"h0": "Référent"})
    assert response.status_code == 302
    assert ColumnMapping.objects.get(plie=plie).header == "conseiller referent"
    page = client.get(run.get_absolute_url()).content.decode()
    assert "correspondance enregistrée" in page
    assert "valeur attendue : une date qui existe, au format JJ/MM/AAAA" in page
    assert "à créer" in page and "erreur" in page
    assert "Déposer les fichiers corrigés" in page
    assert not Participant.objects.exists()

    fixed = own_headers()
    response = upload(client, ("extraction-corrigee.csv", csv_bytes(fixed, encoding="cp1252")))
    run = ImportRun.objects.latest("pk")
    assert run.files.get().errors == []
    assert "Confirmer l’import" in client.get(run.get_absolute_url()).content.decode()
    start(client, run)
    run.refresh_from_db()
    assert (run.status, run.progress) == (RunStatus.DONE, 100)
    assert Participant.objects.filter(plie=plie).count() == 3
    page = client.get(run.get_absolute_url()).content.decode()
    assert "importé" in page and "créé" in page
    assert client.get(reverse("import_status", args=[run.pk])).json()["finished"] is True
    assert not run.files.get().content, "the file's content is deleted once imported"


def test_the_history_lists_who_imported_which_files_with_their_checksum(
    client_of, admin_user, operation, django_assert_max_num_queries
):
    client = client_of(admin_user)
    for _ in range(3):
        upload(client, ("referents.csv", csv_bytes(REFERENTS)), ("p.csv", csv_bytes(PARTICIPANTS)))
    with django_assert_max_num_queries(12):
        page = client.get(reverse("import_list")).content.decode()
    checksum = ImportFile.objects.first().checksum
    assert checksum[:12] in page
    assert page.count("referents.csv") == 3


def test_importing_again_through_the_web_shows_unchanged_rows(client_of, admin_user, operation, start):
    client = client_of(admin_user)
    for _ in range(2):
        upload(client, ("referents.csv", csv_bytes(REFERENTS)))
        run = ImportRun.objects.latest("pk")
        start(client, run)
    run.refresh_from_db()
    assert [(f.created, f.updated, f.unchanged) for f in run.files.all()] == [(0, 0, 2)]


def test_an_upload_over_the_limit_is_refused(client_of, admin_user, operation, settings):
    settings.IMPORT_MAX_MEGABYTES = 1
    response = upload(client_of(admin_user), ("gros.csv", b"a;b\n" * 300_000))
    assert "dépasse la taille maximale de 1 Mo" in response.content.decode()
    assert not ImportRun.objects.exists()


@pytest.mark.parametrize("persona", ["animation", "referent_a", "copil"])
def test_other_roles_cannot_reach_the_import_pages(request, client_of, admin_user, operation, persona):
    client = client_of(admin_user)
    upload(client, ("referents.csv", csv_bytes(REFERENTS)))
    run = ImportRun.objects.get()
    other = client_of(request.getfixturevalue(persona))
    assert other.get(reverse("import_list")).status_code == 403
    assert other.get(reverse("import_create")).status_code == 403
    assert other.get(run.get_absolute_url()).status_code == 404
    assert other.post(reverse("import_start", args=[run.pk])).status_code == 404
    assert "Imports d’extractions" not in other.get(reverse("home")).content.decode()


def test_an_outsider_admin_does_not_see_another_plies_imports(client_of, admin_user, operation, other_plie):
    from tests.conftest import member

    upload(client_of(admin_user), ("referents.csv", csv_bytes(REFERENTS)))
    run = ImportRun.objects.get()
    outsider = client_of(member(other_plie, "admin", email="admin@marmandais.fr"))
    assert outsider.get(run.get_absolute_url()).status_code == 404
    assert outsider.get(reverse("import_status", args=[run.pk])).status_code == 404
    assert "referents.csv" not in outsider.get(reverse("import_list")).content.decode()


def test_a_250_mb_upload_is_refused_before_its_body_is_read(client_of, admin_user, operation):
    response = client_of(admin_user).post(
        reverse("import_create"),
        data=b"x",
        content_type="multipart/form-data; boundary=x",
        CONTENT_LENGTH=str(250 * 1024 * 1024),
    )
    assert response.status_code == 413
    assert response.content.decode() == "Envoi trop volumineux (250 Mo) : la limite est de 200 Mo par envoi."


def test_deposits_never_confirmed_lose_their_files_after_two_days(client_of, admin_user, operation):
    import datetime
    from io import StringIO

    from django.core.management import call_command
    from django.utils import timezone

    upload(client_of(admin_user), ("referents.csv", csv_bytes(REFERENTS)))
    run = ImportRun.objects.get()
    out = StringIO()
    call_command("purge_imports", "--appliquer", stdout=out)
    assert "0 import(s) abandonné(s)" in out.getvalue()
    ImportRun.objects.filter(pk=run.pk).update(created_at=timezone.now() - datetime.timedelta(days=3))
    call_command("purge_imports", stdout=out)
    assert run.files.get().content
    call_command("purge_imports", "--appliquer", stdout=out)
    run.refresh_from_db()
    assert run.status == RunStatus.ABANDONED and not run.files.get().content
    assert "1 import(s) abandonné(s), 1 fichier(s) supprimé(s)," in out.getvalue()


def test_an_import_that_fails_says_so_and_keeps_no_file(client_of, admin_user, operation, start, monkeypatch, caplog):
    import imports.services

    client = client_of(admin_user)
    upload(client, ("referents.csv", csv_bytes(REFERENTS)))
    run = ImportRun.objects.get()

    def broken(*args, **kwargs):
        raise RuntimeError("disque plein")

    monkeypatch.setattr(imports.services, "run_batch", broken)
    start(client, run)
    run.refresh_from_db()
    assert (run.status, run.error) == (RunStatus.FAILED, "RuntimeError : disque plein")
    assert not run.files.get().content
    assert "Échec" in client.get(run.get_absolute_url()).content.decode()


def test_reports_older_than_a_year_keep_counts_and_messages_only(client_of, admin_user, operation, start):
    import datetime
    from io import StringIO

    from django.core.management import call_command
    from django.utils import timezone

    client = client_of(admin_user)
    upload(client, ("referents.csv", csv_bytes(changed(REFERENTS, 3, "ETP", "1,5"))))
    start(client, ImportRun.objects.get())
    ImportRun.objects.update(finished_at=timezone.now() - datetime.timedelta(days=400))
    call_command("purge_imports", "--appliquer", stdout=StringIO())
    import_file = ImportFile.objects.get()
    assert import_file.report["rows"] == []
    assert [(e["line"], e["column"], e["value"]) for e in import_file.errors] == [(3, "ETP", "")]
    assert "supérieur à 0" in import_file.errors[0]["message"]


def test_an_import_delivered_twice_runs_once(client_of, admin_user, operation):
    from imports.services import execute, queue

    upload(client_of(admin_user), ("referents.csv", csv_bytes(REFERENTS)))
    run = ImportRun.objects.get()
    queue(run=run)
    execute(run.pk)
    execute(run.pk)
    assert [(f.created, f.unchanged) for f in run.files.all()] == [(2, 0)]
