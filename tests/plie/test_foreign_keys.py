"""plie/foreign_keys.py: where an import's COPY runs with PostgreSQL's foreign-key triggers silenced, every foreign
key of every table it writes is still checked, and the parents stay locked until commit."""

import psycopg
import pytest
from django.db import IntegrityError, connection, transaction

from operations.models import Structure, StructureKind
from participants.models import Participant
from plie import bulk, foreign_keys
from plie.foreign_keys import check as check_batch
from tests.imports.test_engine import everything, run

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="COPY and its triggers are PostgreSQL's")

DANGLING = {int: -1, str: "ZZZZZ"}  # no id is negative; no INSEE code has letters only


@pytest.fixture
def batches(monkeypatch):
    """Every (table, columns, rows, shared values) an import checks per batch, and every table it copies into."""
    checked, copied = [], []
    check, silence = foreign_keys.check, foreign_keys.checked_per_batch

    def recording_check(cursor, table, columns, rows, extra=()):
        checked.append((table, columns, rows, extra))
        return check(cursor, table, columns, rows, extra)

    def recording_silence(cursor, tables):
        copied.extend(tables)
        return silence(cursor, tables)

    monkeypatch.setattr(foreign_keys, "check", recording_check)
    monkeypatch.setattr(foreign_keys, "checked_per_batch", recording_silence)
    return checked, copied


def foreign_keys_of(table):
    """{name: columns} of the table's foreign keys, read by Django's introspection rather than by the module tested."""
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
    return {name: c["columns"] for name, c in constraints.items() if c["foreign_key"]}


def with_dangling(columns, rows, extra, key_columns):
    """The first row and the shared values with every column of a key pointing nowhere."""
    values = [*rows[0], *extra]
    for column in key_columns:
        index = columns.index(column)
        kinds = {type(v) for v in (values[index], *(r[index] for r in rows if index < len(r))) if v is not None}
        values[index] = DANGLING[kinds.pop() if kinds else int]
    return tuple(values[: len(rows[0])]), tuple(values[len(rows[0]) :])


def test_every_foreign_key_of_every_table_an_import_writes_is_checked_once_per_batch(
    plie, operation, admin_user, batches, monkeypatch
):
    checked, copied = batches
    results = run(plie, *everything(), by=admin_user)
    assert all(not r.errors for r in results.values())

    tables = {table for table, *_ in checked}
    assert tables == set(copied), "a table was copied into without its batch check"
    assert {"participants_participant", "participants_parcours", "steps_step", "participants_entretien"} <= tables
    assert {"participants_participation", "participants_historicalparcours", "steps_historicalstep"} <= tables
    tried = set()
    with connection.cursor() as cursor:
        for table, columns, rows, extra in list(checked):
            listed = foreign_keys.foreign_keys(cursor, table)
            assert {key[0] for key in listed} == set(foreign_keys_of(table))
            for key in listed:  # one key at a time: a dangling participant breaks the composite key as well
                name, key_columns = key[0], key[2]
                row, shared = with_dangling(columns, rows, extra, key_columns)
                with monkeypatch.context() as patch, pytest.raises(IntegrityError, match=f'constraint "{name}"'):
                    patch.setattr(foreign_keys, "foreign_keys", lambda cursor, table, key=key: [key])
                    check_batch(cursor, table, columns, [*rows, row] if shared == extra else [row], shared)
                tried.add(name)
            check_batch(cursor, table, columns, rows, extra)
    assert {"step_same_plie", "parcours_same_plie"} <= tried  # the composite keys too
    assert len(tried) >= 25


def new_structure(plie, **fields):
    return {"plie_id": plie.pk, "name": "Association du banc", "kind": StructureKind.ASSOCIATION, **fields}


def test_a_batch_whose_parent_is_missing_is_refused_and_leaves_nothing(plie, animation, batches):
    _, copied = batches
    with pytest.raises(IntegrityError, match="operations_structure_plie_id"), transaction.atomic():
        bulk.create(
            Structure, [new_structure(plie), new_structure(plie, plie_id=plie.pk + 1000)], by=animation, reason="x"
        )
    assert copied == ["operations_structure", "operations_historicalstructure"]
    assert not Structure.objects.exists() and not Structure.history.exists()


def test_without_the_privilege_the_triggers_check_at_commit_as_before(plie, animation, monkeypatch):
    monkeypatch.setattr(foreign_keys, "may_silence", lambda cursor, tables: False)
    with pytest.raises(IntegrityError, match="operations_structure_plie_id"), transaction.atomic():
        bulk.create(Structure, [new_structure(plie, plie_id=plie.pk + 1000)], by=animation, reason="x")
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def test_the_triggers_fire_again_for_every_write_after_the_batch(plie, animation):
    [pk] = bulk.create(Structure, [new_structure(plie)], by=animation, reason="x")
    with connection.cursor() as cursor:
        cursor.execute("SHOW session_replication_role")
        assert cursor.fetchone() == ("origin",)
        with pytest.raises(IntegrityError, match="operations_structure_plie_id"), transaction.atomic():
            Structure.objects.filter(pk=pk).update(plie_id=plie.pk + 1000)
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def test_a_parent_checked_by_a_batch_cannot_be_deleted_by_another_transaction_before_commit(plie, animation):
    """The committed commune a new participant lives in is locked as the trigger would lock it."""
    [pk] = bulk.create(
        Participant,
        [
            {
                "plie_id": plie.pk,
                "last_name": "Banc",
                "first_name": "Léa",
                "sex": "F",
                "birth_date": "1990-01-01",
                "commune_id": "33318",
            }
        ],
        by=animation,
        reason="x",
    )
    assert Participant.objects.get(pk=pk).commune_id == "33318"
    settings = connection.settings_dict
    other = psycopg.connect(
        dbname=settings["NAME"], user=settings["USER"], host=settings["HOST"], port=settings["PORT"] or 5432
    )
    try:
        other.execute("SET lock_timeout = '300ms'")
        with pytest.raises(psycopg.errors.LockNotAvailable):
            other.execute("SELECT FROM territories_commune WHERE code_insee = '33318' FOR UPDATE")
    finally:
        other.rollback()
        other.close()
