"""What every kind of extract shares: reading the cells column by column, reporting errors at their line and column,
comparing a row with what is stored, and writing the plan set-based (plie/bulk.py)."""

from collections import Counter, defaultdict
from itertools import compress, filterfalse

from django.db import transaction
from django.utils import timezone

from operations.models import Referent, Structure, StructureKind
from participants.models import Parcours, Participant
from participants.participations import sync_participations
from plie import bulk, dataversion
from plie.audit import save_as

from .. import values
from ..columns import COLUMNS
from ..results import PREVIEW_ROWS, UNCHANGED, UPDATE
from ..values import normalize

FORMULA = "formule de tableur refusée : enregistrez la valeur calculée, pas la formule"
MISSING = "valeur obligatoire manquante"
UNKNOWN_PARTICIPANT = "participant inconnu : il n’est ni dans le fichier des participants de cet import ni dans la base"


class Invalid:
    """A cell that could not be read: what was expected, said once for every cell that holds the same text."""

    __slots__ = ("message",)

    def __init__(self, message):
        self.message = message


def read_cell(raw, parse, required):
    """The value of one cell, None when empty, or Invalid(message)."""
    raw = raw.strip()
    if not raw:
        return Invalid(MISSING) if required else None
    if raw[0] == "=":
        return Invalid(FORMULA)
    if parse is values.text:
        return raw
    try:
        return parse(raw)
    except values.InvalidCellError as invalid:
        return Invalid(f"valeur attendue : {invalid}")


class NewReferent:
    """A referent named in a file, to be created when the file is written (the check phase writes nothing)."""

    def __init__(self, name, structure):
        self.name, self.structure, self.pk = name, structure, None


class Importer:
    """One file of one kind: parse, then `check` (load what is stored, check the rows, plan), then `write`."""

    kind = None
    # Whether the rows written can move attribution, which the FSE+ participations follow (participants/apps.py
    # lists what does): steps and entretiens do not, and a sync would only re-read every participation of the PLIE.
    moves_attribution = True

    def __init__(self, plie, *, by, create_referents, result):
        self.plie, self.by, self.create_referents, self.result = plie, by, create_referents, result
        self.by_id = by.pk if by else None
        self.now = timezone.now()
        self.reason = f"Import : {result.name}"[:100]

    def run(self, table, recognition, report):
        self.headers = {name: table.headers[index].strip() for name, index in recognition.positions.items()}
        self.present = set(recognition.positions)
        self.positions = recognition.positions
        report(0, "lecture des lignes")
        self.read_columns(table)
        # Rows identical to what is stored are told apart in bulk and never become dicts nor go through the checks:
        # re-importing the same extract costs its reading and one comparison (see `unchanged`).
        same = self.unchanged() if self.lines else set()
        rows = self.rows_at(list(filterfalse(same.__contains__, range(len(self.lines)))))
        report(0.3, "contrôle des lignes")
        plan = self.check(rows) if rows else None
        shown = self.rows_at(sorted(index for index in same if index < PREVIEW_ROWS))
        for row in shown:
            row["_status"] = UNCHANGED
        self.result.count(sorted(rows + shown, key=lambda row: row["_line"]), self.label, len(same) - len(shown))
        if self.result.rejected or plan is None:
            return
        report(0.6, "écriture")
        with transaction.atomic():
            written = bool(self.result.created or self.result.updated)
            if written:
                self.write(plan)
                if self.moves_attribution:
                    # Rows went in by COPY, past the signals: the FSE+ participations follow attribution here.
                    sync_participations(self.plie.pk, by=self.by)
            if self.after_sync(plan) or written:
                # COPY and bulk updates send no signal: cached reports must not outlive them. A file that changed
                # nothing keeps the version, and the reports computed under it.
                dataversion.bump(self.plie)

    def unchanged(self):
        """The indexes of the rows that would change nothing, found in bulk by comparing the file's values with the
        stored ones on the external ids. A kind that cannot tell returns none: every row then goes through `check`."""
        return set()

    def check(self, rows):
        known = self.load(rows)
        self.check_rows(rows, known)
        return self.plan(rows, known)

    def load(self, rows):
        """What the rows are compared with, read in a few queries."""
        return {}

    def check_rows(self, rows, known):
        """Errors that each row shows by itself or against the stored data."""

    def plan(self, rows, known):
        raise NotImplementedError

    def write(self, plan):
        raise NotImplementedError

    def after_sync(self, plan):
        """What a file says of the participations, once they follow the rows just written; how many it changed."""
        return 0

    def label(self, row):
        return ""

    def read_columns(self, table):
        """The non-blank lines (their numbers, their cells) and, per column, the value of every line, or Invalid.
        Column by column, and each distinct text of a column read once: an extract repeats its dates, answers and
        names."""
        width = max(self.positions.values(), default=-1) + 1
        filled = list(map(str.strip, map("".join, table.rows)))  # map and compress: loops at C speed
        self.numbers, rows = range(2, len(filled) + 2), table.rows
        if not all(filled):
            self.numbers, rows = list(compress(self.numbers, filled)), list(compress(rows, filled))
        if rows and min(map(len, rows)) < width:
            rows = [cells + [""] * (width - len(cells)) for cells in rows]
        self.lines = rows
        by_column = list(zip(*rows, strict=False)) if rows else [()] * width
        self.columns, self.invalid = {}, set()
        for column in COLUMNS[self.kind]:
            if column.name in self.positions:
                self.columns[column.name] = self.read_column(column, by_column[self.positions[column.name]])

    def read_column(self, column, texts):
        if column.parse is values.text:
            # Identifiers and names: as many texts as rows, and nothing to read but the spaces around them. A formula
            # is searched at C speed in the texts joined; a cell holding a line break may raise a false alarm, which
            # only sends the column through the cell-by-cell reading below.
            stripped = list(map(str.strip, texts))
            if "" not in stripped and "\n=" not in "\n" + "\n".join(stripped):
                return stripped
        read = {raw: read_cell(raw, column.parse, column.required) for raw in set(texts)}
        cells = list(map(read.__getitem__, texts))
        if Invalid in map(type, read.values()):
            self.invalid.update(i for i, value in enumerate(cells) if value.__class__ is Invalid)
        return cells

    def column(self, name):
        """The values of a column, or Nones when the file lacks it."""
        return self.columns.get(name) or [None] * len(self.lines)

    def rows_at(self, indexes):
        """Rows as dicts of values, with the errors of the cells that could not be read, in the file's column order
        (as they are reported within a line)."""
        rows = []
        for index in indexes:
            row = {"_line": self.numbers[index], "_cells": self.lines[index]}
            for name in self.positions:
                value = self.columns[name][index]
                row[name] = value
                if value.__class__ is Invalid:
                    row[name] = None
                    self.fail(row, name, value.message)
            rows.append(row)
        return rows

    def fail(self, row, column, message):
        index = self.positions.get(column)
        cells = row["_cells"]
        raw = cells[index].strip() if index is not None and index < len(cells) else ""
        self.result.error(row["_line"], self.headers.get(column, column), raw, message)
        row["_failed"] = True

    def duplicates(self, rows, key, column, what):
        seen = {}
        for row in rows:
            value = key(row)
            if value is None:
                continue
            if value in seen:
                self.fail(row, column, f"{what} en double : déjà à la ligne {seen[value]}")
            else:
                seen[value] = row["_line"]

    @staticmethod
    def status_of(changed):
        return UPDATE if changed else UNCHANGED

    @staticmethod
    def diff(current, wanted):
        """The fields of `wanted` whose value differs from `current` (a referent compared by its id)."""
        return {
            name: value
            for name, value in wanted.items()
            if current.get(name) != value and (value.__class__ not in REFERENTS or current.get(name) != value.pk)
        }

    def referents_by_name(self):
        return {
            normalize(f"{r.first_name} {r.last_name}"): r
            for r in Referent.objects.filter(plie=self.plie).only("id", "first_name", "last_name", "structure_id")
        }

    def resolve_referent(self, row, referents, structure_name=None):
        name = row.get("Référent")
        if name is None:
            return None
        referent = referents.get(normalize(name))
        if referent is None and self.create_referents:
            referent = referents[normalize(name)] = NewReferent(name, structure_name)
        if referent is None:
            self.fail(
                row,
                "Référent",
                "référent inconnu dans ce PLIE : importez d’abord le fichier des référents, "
                "ou demandez la création des référents manquants",
            )
        return referent

    def create_new_referents(self, rows):
        """The referents the file names and the PLIE lacks, created on request, with their structure."""
        pending = {id(r["_referent"]): r["_referent"] for r in rows if isinstance(r.get("_referent"), NewReferent)}
        for referent in pending.values():
            first, _, last = referent.name.strip().partition(" ")
            name = referent.structure or "Structure non renseignée"
            structure = Structure.objects.filter(plie=self.plie, name__iexact=name).first() or save_as(
                Structure(plie=self.plie, name=name, kind=StructureKind.ASSOCIATION), self.by
            )
            created = save_as(
                Referent(plie=self.plie, first_name=first, last_name=last.strip() or first, structure=structure),
                self.by,
            )
            referent.pk = created.pk

    def write_rows(self, model, creates, updates):
        """`creates`: dicts of field values; `updates`: {id: {field: value}} of changed fields only."""
        for values_ in [*creates, *updates.values()]:
            if "referent_id" in values_:
                values_["referent_id"] = pk_of(values_["referent_id"])
        ids = bulk.create(model, creates, by=self.by, reason=self.reason)
        by_columns = defaultdict(list)
        for pk, changes in updates.items():
            names = tuple(sorted(changes))
            by_columns[names].append((pk, *(changes[c] for c in names)))
        for names, rows in by_columns.items():
            bulk.update(model, [model._meta.get_field(n).column for n in names], rows)
        if updates and hasattr(model, "history"):
            bulk.record_history(model, list(updates), "~", by=self.by, reason=self.reason)
        return ids


def overlaps(items):
    """(start, end, row, next row) of each (start, end or None, row or None) that the next one overlaps."""
    items.sort(key=lambda item: item[0])
    for (start1, end1, row1), (start2, _, row2) in zip(items, items[1:], strict=False):
        if end1 is None or start2 <= end1:
            yield start1, end1, row1, row2


REFERENTS = (NewReferent, Referent)


def pk_of(value):
    return value.pk if value.__class__ in REFERENTS else value


def participant_index(plie):
    return dict(
        Participant.objects.filter(plie=plie).exclude(external_id="").order_by().values_list("external_id", "id")
    )


def parcours_index(plie):
    parcours_of = defaultdict(list)
    for p in (
        Parcours.objects.filter(plie=plie)
        .exclude(entry_date=None)
        .values("id", "participant_id", "external_id", "entry_date", "exit_date")
        .order_by("entry_date")
    ):
        parcours_of[p["participant_id"]].append(p)
    return parcours_of


def repeated(values):
    """The values met more than once; counted only when a set says there are some (an extract's ids rarely repeat)."""
    if len(set(values)) == len(values):
        return set()
    return {value for value, count in Counter(values).items() if count > 1}


def first_of(rows):
    """{(participant external id, parcours external id): parcours id} of rows in any order: a pair met twice is
    left out, as the lookup's choice between them would depend on the order of their entry dates."""
    found, twice = {}, set()
    for participant_ext, parcours_ext, pk in rows:
        key = (participant_ext, parcours_ext)
        if key in found:
            twice.add(key)
        found[key] = pk
    for key in twice:
        del found[key]
    return found


def active_on(parcours, day):
    return next(
        (p for p in parcours if p["entry_date"] <= day and (p["exit_date"] is None or day <= p["exit_date"])), None
    )
