import pytest
from django.urls import reverse
from django.db import connection
from django.test.utils import CaptureQueriesContext

from steps.models import CollectiveSession, Attendance
from .participants_factories import ParticipantFactory, make_parcours, profile, isolate_private_storage
from .steps_factories import make_grid, submitted_step, D

pytestmark = pytest.mark.django_db


def test_queue(plie, operation, animation, referent_a, client_of, monkeypatch, tmp_path):
    isolate_private_storage(monkeypatch, tmp_path)
    make_grid(plie, by=animation)
    c = client_of(animation)
    for n in (1, 4):
        for _ in range(n):
            p = make_parcours(ParticipantFactory(plie=plie), by=animation, operation=operation, referent=profile(referent_a))
            submitted_step(p, by=referent_a, kinds=())
        with CaptureQueriesContext(connection) as ctx:
            r = c.get(reverse("validation_queue"))
        print(n, len(ctx.captured_queries), r.status_code)
        for q in ctx.captured_queries: print("   ", q["sql"][:150])


def test_dup(plie, operation, animation, referent_a, client_of):
    p = make_parcours(ParticipantFactory(plie=plie), by=animation, operation=operation, referent=profile(referent_a))
    s = CollectiveSession.objects.create(plie=plie, kind="atelier_tre", theme="CV", date=D(2023,3,1), facilitator="X")
    c = client_of(animation)
    r = c.post(reverse("session_detail", args=[s.pk]), {"participant": p.participant_id})
    print(r.status_code)
    r = c.post(reverse("session_detail", args=[s.pk]), {"participant": p.participant_id})
    print(r.status_code, "déjà inscrit" in r.content.decode())
