import datetime
import io
import json
import zipfile

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from participants.models import FileAccess
from tests.factories.participants import (
    ParticipantFactory,
    add_entretien,
    isolate_private_storage,
    make_parcours,
    pdf,
    profile,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def followed(plie, operation, referent_a, animation, monkeypatch, tmp_path):
    isolate_private_storage(monkeypatch, tmp_path)
    parcours = make_parcours(
        ParticipantFactory(plie=plie, last_name="Moreau", first_name="Inès"),
        "active",
        by=animation,
        operation=operation,
        referent=profile(referent_a),
    )
    add_entretien(parcours, datetime.date(2023, 3, 1), summary="Point sur le projet.")
    return parcours


def test_the_plie_admin_exports_everything_held_about_a_person(client_of, admin_user, referent_a, followed):
    participant = followed.participant
    client_of(referent_a).post(
        reverse("document_create", args=[participant.pk]), {"kind": "piece_identite", "file": pdf("identite.pdf")}
    )
    response = client_of(admin_user).get(reverse("participant_export", args=[participant.pk]))
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    data = json.loads(archive.read("donnees.json"))
    assert data["participant"][0]["fields"]["last_name"] == "Moreau"
    assert len(data["parcours"]) == 1 and len(data["entretiens"]) == 1 and len(data["affectations"]) == 1
    assert any(name.startswith("justificatifs/") and name.endswith("identite.pdf") for name in archive.namelist())
    assert FileAccess.objects.filter(participant=participant, user=admin_user, what="export").exists()


@pytest.mark.parametrize(
    ("persona", "status"), [("animation", 403), ("referent_a", 403), ("copil", 404), ("outsider", 404)]
)
def test_only_the_plie_admin_exports_a_whole_file(request, client_of, followed, persona, status):
    url = reverse("participant_export", args=[followed.participant.pk])
    assert client_of(request.getfixturevalue(persona)).get(url).status_code == status


def test_access_logs_are_kept_twelve_months_then_purged(followed, animation):
    old = FileAccess.objects.create(participant=followed.participant, user=animation)
    FileAccess.objects.filter(pk=old.pk).update(at=timezone.now() - datetime.timedelta(days=370))
    recent = FileAccess.objects.create(participant=followed.participant, user=animation)
    out = io.StringIO()
    call_command("purge_access_logs", stdout=out)
    assert "Simulation : 1 trace" in out.getvalue() and FileAccess.objects.count() == 2
    call_command("purge_access_logs", "--appliquer", stdout=out)
    assert list(FileAccess.objects.all()) == [recent]


def test_the_plie_admin_alone_freezes_a_file_with_their_name_in_its_history(
    client_of, admin_user, animation, referent_a, followed
):
    participant = followed.participant
    url = reverse("participant_legal_hold", args=[participant.pk])
    assert client_of(animation).post(url, {"on": "1"}).status_code == 403
    assert client_of(referent_a).post(url, {"on": "1"}).status_code == 403
    participant.refresh_from_db()
    assert not participant.legal_hold
    assert client_of(admin_user).post(url, {"on": "1"}).status_code == 302
    participant.refresh_from_db()
    assert participant.legal_hold and participant.history.first().history_user == admin_user
    assert (
        "Lever le gel"
        in client_of(admin_user).get(reverse("participant_history", args=[participant.pk])).content.decode()
    )
    client_of(admin_user).post(url, {"on": "0"})
    participant.refresh_from_db()
    assert not participant.legal_hold
