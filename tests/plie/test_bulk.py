"""plie.bulk writes rows past the ORM (COPY on PostgreSQL): they must be the rows, defaults and history records that
the ORM and django-simple-history would have written."""

import datetime
from decimal import Decimal

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


def test_copy_lines_format_each_value_as_its_own_type_even_where_equal_values_of_other_types_share_a_column():
    rows = [
        (1, "tab\there", None, True, datetime.date(2023, 1, 2), Decimal("1.0")),
        (2, "back\\slash\nnew line", 3, 1, datetime.datetime(2023, 1, 2), 1),
        (3, "", None, False, None, {"a": 1}),
    ]

    assert bulk._copy_lines(rows) == [
        "1\ttab\\there\t\\N\tTrue\t2023-01-02\t1.0",
        "2\tback\\\\slash\\nnew line\t3\t1\t2023-01-02 00:00:00\t1",
        "3\t\t\\N\tFalse\t\\N\t{'a': 1}",
    ]
