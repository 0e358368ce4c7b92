"""plie.bulk writes rows past the ORM (COPY on PostgreSQL): they must be the rows, defaults and history records that
the ORM and django-simple-history would have written."""

import datetime

from operations.models import Structure, StructureKind
from plie import bulk
from plie.audit import save_as


def test_created_rows_and_their_history_are_those_the_orm_writes(plie, animation):
    by_orm = save_as(Structure(plie=plie, name="Par l’ORM", kind=StructureKind.ASSOCIATION), animation)
    [pk] = bulk.create(
        Structure,
        [{"plie_id": plie.pk, "name": "En bloc", "kind": StructureKind.ASSOCIATION}],
        by=animation,
        reason="Import",
    )

    written = Structure.objects.get(pk=pk)
    fields = [f.attname for f in Structure._meta.concrete_fields if f.attname not in ("id", "name")]
    assert [getattr(written, f) for f in fields] == [getattr(by_orm, f) for f in fields]
    [record] = Structure.history.filter(id=pk)
    assert (record.history_type, record.history_user, record.history_change_reason) == ("+", animation, "Import")
    assert record.name == "En bloc"
    assert abs(record.history_date - datetime.datetime.now(datetime.UTC)) < datetime.timedelta(minutes=1)


def test_an_empty_batch_writes_nothing(plie, animation):
    assert bulk.create(Structure, [], by=animation, reason="Import") == []
    assert not Structure.history.exists()
