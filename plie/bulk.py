"""Set-based writes for large batches (imports, FSE+ participations): COPY and UPDATE … FROM on PostgreSQL,
executemany elsewhere.

The ORM's bulk_create builds a model instance and a parameter list per row; for hundreds of thousands of rows that
is most of an import's time (see `manage.py bench_imports`). These helpers take plain tuples or dicts instead, and
write the audit trail (django-simple-history's tables) with the actor: created rows are copied there from the same
tuples, updated rows with one INSERT … SELECT per batch.
"""

from operator import methodcaller

from django.db import connection
from django.db.models import NOT_PROVIDED
from django.utils import timezone

from . import foreign_keys

_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_lines(rows):
    """Rows in COPY's text format. str() suits ints, decimals, dates, datetimes and booleans ("True" is valid).
    Column by column, each distinct value formatted once and the lines joined by map and zip: at C speed, where a
    loop over hundreds of thousands of rows and their cells was most of an import's formatting time."""
    if not rows:
        return []
    columns = []
    for column in zip(*rows, strict=True):
        # Keyed by type too when types mix: True and 1, or Decimal("1.0") and 1, are equal keys but not the same text.
        keys = (
            column
            if len(set(map(type, column)) - {type(None)}) <= 1
            else list(zip(map(type, column), column, strict=True))
        )
        try:
            texts = {key: _text(key if keys is column else key[1]) for key in set(keys)}
        except TypeError:  # an unhashable value (JSON): formatted cell by cell
            columns.append(list(map(_text, column)))
            continue
        columns.append(list(map(texts.__getitem__, keys)))
    return list(map("\t".join, zip(*columns, strict=True)))


def _text(value):
    if value is None:
        return "\\N"
    return value.translate(_ESCAPES) if value.__class__ is str else str(value)


def _copy(cursor, sql, lines, suffix="", chunk=20_000):
    """COPY … FROM STDIN with lines formatted here: psycopg's per-row adaptation is the slower half of a COPY."""
    with cursor.cursor.copy(sql) as copy:
        for start in range(0, len(lines), chunk):
            copy.write("".join(line + suffix + "\n" for line in lines[start : start + chunk]))


def _is_postgres():
    return connection.vendor == "postgresql"


def _quote(name):
    return connection.ops.quote_name(name)


def allocate_ids(model, count):
    """Reserve `count` primary keys, so that children can refer to rows before they are written.

    On PostgreSQL, one nextval per row: no table lock, so that a preview or an import never blocks the team's own
    edits (a setval block would need one)."""
    if count == 0:
        return []
    table = model._meta.db_table
    with connection.cursor() as cursor:
        if _is_postgres():
            # The sequence named once: pg_get_serial_sequence inside the aggregate would run once per row, and take
            # nine tenths of the time.
            cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
            [sequence] = cursor.fetchone()
            cursor.execute("SELECT array_agg(nextval(%s::regclass)) FROM generate_series(1, %s)", [sequence, count])
            return cursor.fetchone()[0]
        # SQLite (demo and tests): the write lock is taken below, inside the caller's transaction.
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {_quote(table)}")
        start = cursor.fetchone()[0]
        cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
        row = cursor.fetchone()
        start = max(start, row[0] if row else 0)
        return list(range(start + 1, start + 1 + count))


def insert(model, columns, rows, *, history=None):
    """Insert `rows` (tuples in the order of `columns`, ids included) into the model's table, and with
    `history=(type, by, reason)` their historical records, from the same tuples: no second read of the table."""
    if not rows:
        return
    tables = [(model._meta.db_table, columns, ())]
    if history:
        history_type, by, reason = history
        extra = (timezone.now(), reason[:100], history_type, by.pk if by else None)
        history_columns = [*columns, "history_date", "history_change_reason", "history_type", "history_user_id"]
        tables.append((model.history.model._meta.db_table, history_columns, extra))
    with connection.cursor() as cursor:
        if _is_postgres():
            _copy_checked(cursor, tables, rows)
            return
        for table, names, extra in tables:
            sql_names = ", ".join(_quote(c) for c in names)
            marks = ", ".join(["%s"] * len(names))
            cursor.executemany(
                f"INSERT INTO {_quote(table)} ({sql_names}) VALUES ({marks})", [(*row, *extra) for row in rows]
            )


def _copy_checked(cursor, tables, rows):
    """COPY into each (table, columns, constant trailing values); where allowed, the foreign keys are checked once
    for the batch rather than row by row (plie/foreign_keys.py)."""
    lines = _copy_lines(rows)
    with foreign_keys.checked_per_batch(cursor, [table for table, _, _ in tables]) as silenced:
        for table, names, extra in tables:
            suffix = "\t" + _copy_lines([extra])[0] if extra else ""
            _copy(cursor, f"COPY {_quote(table)} ({', '.join(map(_quote, names))}) FROM STDIN", lines, suffix)
    if silenced:
        for table, names, extra in tables:
            foreign_keys.check(cursor, table, names, rows, extra)


def update(model, columns, rows):
    """Update the given columns of existing rows: `rows` are tuples (id, *values in the order of `columns`)."""
    if not rows:
        return
    table = _quote(model._meta.db_table)
    with connection.cursor() as cursor:
        if _is_postgres():
            names = ", ".join(_quote(c) for c in columns)
            cursor.execute(
                f"CREATE TEMP TABLE import_staging ON COMMIT DROP AS SELECT id, {names} FROM {table} WITH NO DATA"
            )
            _copy(cursor, f"COPY import_staging (id, {names}) FROM STDIN", _copy_lines(rows))
            assignments = ", ".join(f"{_quote(c)} = s.{_quote(c)}" for c in columns)
            cursor.execute(f"UPDATE {table} AS t SET {assignments} FROM import_staging AS s WHERE t.id = s.id")
            cursor.execute("DROP TABLE import_staging")
        else:
            assignments = ", ".join(f"{_quote(c)} = %s" for c in columns)
            cursor.executemany(f"UPDATE {table} SET {assignments} WHERE id = %s", [(*row[1:], row[0]) for row in rows])


def record_history(model, ids, history_type, *, by, reason):
    """One historical record per row, as django-simple-history writes it on save(): '+' created, '~' changed."""
    if not ids:
        return
    historical = model.history.model
    columns = [f.column for f in model._meta.concrete_fields]
    table, history_table = _quote(model._meta.db_table), _quote(historical._meta.db_table)
    names = ", ".join(_quote(c) for c in columns)
    with connection.cursor() as cursor:
        if _is_postgres():
            cursor.execute("CREATE TEMP TABLE import_ids (id bigint) ON COMMIT DROP")
            _copy(cursor, "COPY import_ids (id) FROM STDIN", [str(pk) for pk in ids])
        else:
            cursor.execute("CREATE TEMP TABLE import_ids (id integer)")
            cursor.executemany("INSERT INTO import_ids (id) VALUES (%s)", [(pk,) for pk in ids])
        cursor.execute(
            f"INSERT INTO {history_table} ({names}, history_date, history_change_reason, history_type, history_user_id)"
            f" SELECT {names}, %s, %s, %s, %s FROM {table} WHERE id IN (SELECT id FROM import_ids)",
            [timezone.now(), reason[:100], history_type, by.pk if by else None],
        )
        cursor.execute("DROP TABLE import_ids")


def create(model, dicts, *, by, reason):
    """Insert rows given as dicts of field values (attnames), completed with the fields' defaults as the ORM would,
    with their '+' historical records when the model keeps a history. Returns the new ids, in order."""
    ids = allocate_ids(model, len(dicts))
    if dicts:
        columns, rows = full_rows(model, dicts, ids)
        history = ("+", by, reason) if hasattr(model, "history") else None
        insert(model, columns, rows, history=history)
    return ids


def full_rows(model, dicts, ids):
    """Complete rows for a table: the given values, then the field defaults, as the ORM would fill them."""
    now = timezone.now()
    pairs = []
    for f in model._meta.concrete_fields:
        if f.primary_key:
            continue
        if getattr(f, "auto_now_add", False) or getattr(f, "auto_now", False):
            default = now
        elif f.default is not NOT_PROVIDED:
            default = f.default() if callable(f.default) else f.default
        else:
            default = None if f.null else ""
        pairs.append((f.attname, default))
    columns = ["id", *(model._meta.get_field(name).column for name, _ in pairs)]
    # Field by field (methodcaller runs dict.get at C speed), then zipped into rows.
    values = [list(map(methodcaller("get", name, default), dicts)) for name, default in pairs]
    return columns, list(zip(ids, *values, strict=True))
