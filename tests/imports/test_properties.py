"""Property-based: damaged extract files are either imported whole or refused with nothing written; the plain split
of a CSV gives the csv module's rows."""

import csv
import io

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imports.engine import Source, run_batch
from imports.reading import _split_plain
from tests.imports.files import PARTICIPANTS, REFERENTS, STEPS, csv_bytes, xlsx_bytes
from tests.imports.test_engine import snapshot

NASTY = [
    "",
    " ",
    "31/02/2023",
    "2023-13-01",
    "hier",
    "0",
    "1,5",
    "X",
    "=1+1",
    "=cmd|' /C calc'!A0",
    "+33 6",
    "@SUM(A1)",
    "Inconnu Nulle",
    "P1",
    "PA1",
    "S1",
    "01/01/1900",
    "99/99/9999",
    "Oui",
    "peut-être",
    "é" * 300,
    '"',
    ";",
    "\t",
]
cells = st.one_of(st.sampled_from(NASTY), st.text(st.characters(exclude_categories=["Cc", "Cs"]), max_size=12))


@st.composite
def damaged(draw):
    kind = draw(st.sampled_from(["participants", "étapes"]))
    rows = [list(row) for row in (PARTICIPANTS if kind == "participants" else STEPS)]
    for _ in range(draw(st.integers(1, 4))):
        damage = draw(st.sampled_from(["cell", "drop_column", "duplicate_row", "shuffle_header", "truncate"]))
        if damage in ("cell", "duplicate_row") and len(rows) < 2:
            continue
        if damage == "cell":
            line = draw(st.integers(1, len(rows) - 1))
            column = draw(st.integers(0, len(rows[0]) - 1))
            rows[line][column] = draw(cells)
        elif damage == "drop_column" and len(rows[0]) > 1:
            column = draw(st.integers(0, len(rows[0]) - 1))
            rows = [row[:column] + row[column + 1 :] for row in rows]
        elif damage == "duplicate_row":
            rows.append(list(rows[draw(st.integers(1, len(rows) - 1))]))
        elif damage == "shuffle_header":
            rows[0] = draw(st.permutations(rows[0]))
        elif damage == "truncate":
            rows = rows[: draw(st.integers(1, len(rows)))]
    form = draw(st.sampled_from(["cp1252", "utf-8-sig", "xlsx"]))
    if form == "xlsx":
        return kind, xlsx_bytes(rows)
    data = csv_bytes(rows, encoding="utf-8-sig") if form == "utf-8-sig" else _cp1252(rows)
    if draw(st.booleans()):
        cut = draw(st.integers(0, len(data)))
        data = data[:cut]
    return kind, data


def _cp1252(rows):
    return csv_bytes(rows, encoding="utf-8").decode("utf-8").encode("cp1252", errors="replace")


@pytest.fixture
def base(plie, operation, admin_user):
    """The PLIE with its referents and, for steps files, the participants imported."""
    run_batch(plie, [Source("r.csv", csv_bytes(REFERENTS)), Source("p.csv", csv_bytes(PARTICIPANTS))], by=admin_user)
    return plie, admin_user


@settings(
    max_examples=80,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(damaged())
def test_a_damaged_file_is_imported_whole_or_refused_with_nothing_written(base, kind_and_data):
    plie, admin_user = base
    _, data = kind_and_data
    with transaction.atomic():
        before = snapshot()
        [result] = run_batch(plie, [Source("abime.csv", data)], by=admin_user)
        if result.errors:
            assert snapshot() == before, result.errors
            assert (result.created, result.updated, result.unchanged) == (0, 0, 0)
            for error in result.errors:
                assert (
                    error["message"]
                    and error["message"][0] in "ABCDEFGHIJKLMNOPQRSTUVWXYZÉÀabcdefghijklmnopqrstuvwxyzéàô«"
                )
        else:
            assert result.created + result.updated + result.unchanged >= 1
        transaction.set_rollback(True)


@settings(max_examples=300, deadline=None, database=None)
@given(
    # Besides quotes, NUL and carriage returns: characters that other parts of Python take for line breaks.
    st.text(
        st.sampled_from(["a", "é", " ", "=", ";", ",", "\t", "\n", "\r", '"', "\x00", "\x0c", "\x85", "\u2028"]),
        max_size=40,
    ),
    st.sampled_from([";", ",", "\t"]),
)
def test_a_text_split_at_c_speed_gives_the_rows_the_csv_module_gives(text, separator):
    fast = _split_plain(text, separator)
    if fast is not None:
        assert fast == list(csv.reader(io.StringIO(text, newline=""), delimiter=separator, quotechar='"'))
    else:
        assert {'"', "\x00"} & set(text) or "\r" in text.replace("\r\n", "\n")
