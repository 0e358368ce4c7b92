"""Import a batch of extract files into one PLIE: recognise, check every row, then write each file all or nothing.

Checking reads the database in a handful of queries per file (the PLIE's participants, parcours, referents…) and
works in memory; writing is set-based (plie/bulk.py). Each kind of file has its importer (imports/kinds/). A dry
run imports for real inside a transaction that is rolled back, so that its report is exactly the one a real import
would give, later files seeing earlier ones.
"""

import contextlib
import gc
import hashlib
from collections import defaultdict
from dataclasses import dataclass

from django.db import transaction

from .columns import KIND_ORDER, Kind, recognise
from .kinds import IMPORTERS
from .models import ColumnMapping
from .reading import RejectedFileError, read_table
from .results import FileResult

__all__ = ["FileResult", "Source", "mappings_of", "run_batch"]


@dataclass
class Source:
    name: str
    data: bytes
    kind: str | None = None

    @property
    def checksum(self):
        return hashlib.sha256(self.data).hexdigest()


@contextlib.contextmanager
def collector_paused():
    """Python's cycle collector paused: the rows of an extract are millions of lists, tuples and dicts, none in a
    cycle, freed as usual when no longer used; yet each full collection walked all of them again (a quarter of the
    time of re-importing 400,000 unchanged rows)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@collector_paused()
def run_batch(plie, sources, *, by, dry_run=False, create_referents=False, mappings=None, progress=None):
    """Import `sources` into `plie`; returns one FileResult per source, in import order."""
    progress = progress or (lambda fraction, label: None)
    if mappings is None:
        mappings = mappings_of(plie)
    prepared = [prepare(source, mappings) for source in sources]
    prepared.sort(key=lambda item: KIND_ORDER.index(item[0].kind) if item[0].kind in KIND_ORDER else -1)

    total_rows = sum(len(table.rows) for _, table, _ in prepared if table) or 1
    done_rows = 0
    # A real import commits file by file, so that a worker's progress is visible; a dry run is rolled back whole.
    with transaction.atomic() if dry_run else contextlib.nullcontext():
        for result, table, recognition in prepared:
            if result.rejected:
                continue
            label = f"{result.name} ({Kind(result.kind).label.lower()})"
            importer = IMPORTERS[result.kind](plie, by=by, create_referents=create_referents, result=result)
            rows = len(table.rows)

            def report(fraction, step, done=done_rows, rows=rows, label=label):
                progress((done + fraction * rows) / total_rows, f"{label} : {step}")

            importer.run(table, recognition, report)
            done_rows += len(table.rows)
        if dry_run:
            transaction.set_rollback(True)
    progress(1, "Terminé")
    return [result for result, _, _ in prepared]


def prepare(source, mappings):
    """(result, table, recognition) of one file: read, its kind recognised from its headers, or refused whole."""
    result = FileResult(name=source.name)
    try:
        table = read_table(source.data)
    except RejectedFileError as rejection:
        result.kind = source.kind
        result.error(None, "", "", str(rejection))
        return result, None, None
    recognition = recognise(table.headers, mappings, kind=source.kind)
    result.kind, result.description = recognition.kind, table.description
    result.matched = [{"header": h, "column": c, "how": how} for h, c, how in recognition.matched]
    result.ignored, result.missing = recognition.ignored, recognition.missing
    if recognition.kind is None:
        result.error(1, "", "", "Type de fichier non reconnu : aucun en-tête ne correspond aux colonnes attendues.")
    for name in recognition.missing:
        result.error(1, name, "", f"Colonne obligatoire absente : « {name} ».")
    return result, table, recognition


def mappings_of(plie):
    """{kind: {normalized header: canonical column}} saved for the PLIE."""
    mappings = defaultdict(dict)
    for kind, header, column in ColumnMapping.objects.filter(plie=plie).values_list("kind", "header", "column"):
        mappings[kind][header] = column
    return mappings
