"""The foreign keys of a COPY checked once per batch, set-based, instead of once per row by PostgreSQL's triggers.

Each row a COPY writes queues one deferred trigger event per foreign key of its table; at commit, each event looks its
parent row up and locks it. For an import of 400,000 rows that is 4 million lookups, a fifth of the import's time
(`manage.py bench_imports`). Here the triggers are silenced for the COPY alone (`session_replication_role`), then each
foreign key of each table written is checked with one query over the distinct values the batch holds: the parent rows
are locked as the triggers would lock them (FOR KEY SHARE, so that no other transaction deletes one before this one
commits), and a value without its parent raises IntegrityError, as the trigger would have at commit.

Silencing takes a privilege that only a superuser has, or a role granted it (PostgreSQL 15:
`GRANT SET ON PARAMETER session_replication_role TO …`), and is done only when every trigger of the tables written is
a foreign key's: `replica` would silence any other trigger or rule too. Otherwise the triggers do the checking, as
before. tests/plie/test_foreign_keys.py proves that every foreign key of every table an import writes is checked.
"""

import contextlib
from operator import itemgetter

from django.db import IntegrityError, connection

FOREIGN_KEYS = """
SELECT c.conname, c.confrelid::regclass::text,
       array_agg(child.attname ORDER BY k.position), array_agg(parent.attname ORDER BY k.position),
       array_agg(format_type(parent.atttypid, parent.atttypmod) ORDER BY k.position)
FROM pg_constraint c
CROSS JOIN LATERAL unnest(c.conkey, c.confkey) WITH ORDINALITY AS k(child_number, parent_number, position)
JOIN pg_attribute child ON child.attrelid = c.conrelid AND child.attnum = k.child_number
JOIN pg_attribute parent ON parent.attrelid = c.confrelid AND parent.attnum = k.parent_number
WHERE c.contype = 'f' AND c.conrelid = %s::regclass
GROUP BY c.oid, c.conname, c.confrelid
ORDER BY c.conname
"""

# Every trigger a foreign key's (internal RI triggers), no rewrite rule, and the privilege to set the parameter.
MAY_SILENCE = """
SELECT NOT EXISTS (
           SELECT FROM pg_trigger t LEFT JOIN pg_constraint c ON c.oid = t.tgconstraint
           WHERE t.tgrelid = ANY(%s::regclass[]) AND c.contype IS DISTINCT FROM 'f')
   AND NOT EXISTS (SELECT FROM pg_rewrite WHERE ev_class = ANY(%s::regclass[]))
   AND (current_setting('is_superuser') = 'on' OR has_parameter_privilege('session_replication_role', 'SET'))
"""


def foreign_keys(cursor, table):
    """(name, parent table, child columns, parent columns, parent column types) of each foreign key of `table`."""
    cursor.execute(FOREIGN_KEYS, [table])
    return cursor.fetchall()


def may_silence(cursor, tables):
    """Called on PostgreSQL only (plie/bulk.py); has_parameter_privilege came with version 15."""
    if connection.pg_version < 150000 or not connection.in_atomic_block:
        return False
    cursor.execute(MAY_SILENCE, [list(tables), list(tables)])
    return cursor.fetchone()[0]


@contextlib.contextmanager
def checked_per_batch(cursor, tables):
    """Inside: the foreign-key triggers of `tables` do not fire (when allowed; yields whether they were silenced). The
    caller then checks the batch with `check`. A failed COPY leaves the setting as it is: the transaction is aborted,
    and rolling it back, or back to a savepoint taken before, undoes SET LOCAL too."""
    if not may_silence(cursor, tables):
        yield False
        return
    cursor.execute("SELECT current_setting('session_replication_role')")
    [previous] = cursor.fetchone()
    cursor.execute("SET LOCAL session_replication_role = replica")
    yield True
    cursor.execute("SELECT set_config('session_replication_role', %s, true)", [previous])


def check(cursor, table, columns, rows, extra=()):
    """Each foreign key of `table` holds for `rows` (tuples in the order of `columns`, followed by the values `extra`
    that every row shares): every value has its parent row, now locked FOR KEY SHARE until commit. A row with a NULL
    in a key's columns is not checked for that key (MATCH SIMPLE, PostgreSQL's default)."""
    for name, parent, child_columns, parent_columns, types in foreign_keys(cursor, table):
        keys = [key for key in distinct_keys(columns, rows, extra, child_columns) if None not in key]
        if not keys:
            continue
        arrays = [array_of(values, kind) for values, kind in zip(zip(*keys, strict=True), types, strict=True)]
        unnest = ", ".join(
            f"string_to_array(%s, ',')::{kind}[]" if kind in INTEGERS else f"%s::{kind}[]" for kind in types
        )
        names = ", ".join(f"k{index}" for index in range(len(types)))
        on = " AND ".join(f"p.{connection.ops.quote_name(c)} = k.k{i}" for i, c in enumerate(parent_columns))
        cursor.execute(
            f"SELECT count(*) FROM (SELECT FROM {parent} p JOIN unnest({unnest}) AS k({names}) ON {on}"
            " FOR KEY SHARE OF p) AS locked",
            arrays,
        )
        if cursor.fetchone()[0] != len(keys):
            cursor.execute(
                f"SELECT {names} FROM unnest({unnest}) AS k({names})"
                f" WHERE NOT EXISTS (SELECT FROM {parent} p WHERE {on}) LIMIT 1",
                arrays,
            )
            missing = ", ".join(map(str, cursor.fetchone()))
            raise IntegrityError(
                f'insert or update on table "{table}" violates foreign key constraint "{name}"\n'
                f'DETAIL:  Key ({", ".join(child_columns)})=({missing}) is not present in table "{parent}".'
            )


INTEGERS = {"smallint", "integer", "bigint"}


def array_of(values, kind):
    """Integers sent as one string, split by the server: psycopg would quote a list element by element (0.13 s for
    100,000 ids)."""
    return ",".join(map(str, values)) if kind in INTEGERS else list(values)


def distinct_keys(columns, rows, extra, key_columns):
    """The distinct tuples of `key_columns` values in the rows, at C speed (itemgetter) for the usual cases."""
    width = len(columns) - len(extra)
    positions = [columns.index(column) for column in key_columns]
    if all(p >= width for p in positions):
        return {tuple(extra[p - width] for p in positions)}
    if all(p < width for p in positions):
        if len(positions) == 1:
            return {(value,) for value in set(map(itemgetter(positions[0]), rows))}
        return set(map(itemgetter(*positions), rows))
    return {tuple(row[p] if p < width else extra[p - width] for p in positions) for row in rows}
