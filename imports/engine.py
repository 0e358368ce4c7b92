"""Import a batch of extract files into one PLIE: recognise, check every row, then write each file all or nothing.

Checking reads the database in a handful of queries per file (the PLIE's participants, parcours, referents…) and
works in memory; writing is set-based (imports/bulk.py). A dry run imports for real inside a transaction that is
rolled back, so that its report is exactly the one a real import would give, later files seeing earlier ones.
"""

import contextlib
import hashlib
from collections import defaultdict
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import NOT_PROVIDED
from django.utils import timezone
from simple_history.utils import bulk_update_with_history

from operations.models import ExitReason, Operation, Referent, ReferentPeriod, Structure, StructureKind
from participants.erasure import external_id_hash, identity_hash
from participants.models import (
    AssignmentReason,
    Entretien,
    ErasureRecord,
    Modality,
    Nationality,
    Parcours,
    Participant,
    Participation,
    Prescriber,
    ReferentAssignment,
    Status,
    folded_name,
)
from participants.participations import sync_participations
from plie.audit import save_as
from steps.models import Step, StepStatus, StepType, Validation
from territories.models import Commune, Zone

from . import bulk, values
from .columns import COLUMNS, EXIT_SITUATION_COLUMNS, KIND_ORDER, Kind, normalize, recognise
from .models import ColumnMapping
from .reading import RejectedFileError, Table, read_table

CREATE, UPDATE, UNCHANGED, ERROR = "create", "update", "unchanged", "error"
ERASED = "personne effacée à sa demande (RGPD, journal des effacements) : elle ne peut pas être réimportée"
UNKNOWN_PARTICIPANT = "participant inconnu : il n’est ni dans le fichier des participants de cet import ni dans la base"
RESTRICTED = "traitement limité à la demande de la personne (RGPD) : ses données ne sont plus mises à jour"
PREVIEW_ROWS = 500


@dataclass
class Source:
    name: str
    data: bytes
    kind: str | None = None

    @property
    def checksum(self):
        return hashlib.sha256(self.data).hexdigest()


@dataclass
class FileResult:
    name: str
    kind: str | None = None
    description: str = ""
    matched: list = field(default_factory=list)
    ignored: list = field(default_factory=list)
    missing: list = field(default_factory=list)
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list = field(default_factory=list)
    rows: list = field(default_factory=list)

    @property
    def rejected(self):
        return bool(self.errors)

    def error(self, line, column, value, message):
        self.errors.append({"line": line, "column": column, "value": value, "message": message})

    def as_json(self):
        """The file's entry of `import_extract --json` (shared/spec/interfaces.md)."""
        return {
            "file": self.name,
            "kind": self.kind,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "errors": self.errors,
        }

    def as_report(self):
        return {
            **self.as_json(),
            "description": self.description,
            "matched": self.matched,
            "ignored": self.ignored,
            "missing": self.missing,
            "rows": self.rows,
        }


def run_batch(plie, sources, *, by, dry_run=False, create_referents=False, mappings=None, progress=None):
    """Import `sources` into `plie`; returns one FileResult per source, in import order."""
    progress = progress or (lambda fraction, label: None)
    if mappings is None:
        mappings = mappings_of(plie)
    prepared = []
    for source in sources:
        result = FileResult(name=source.name)
        try:
            table = read_table(source.data)
        except RejectedFileError as rejection:
            result.kind = source.kind
            result.error(None, "", "", str(rejection))
            prepared.append((result, None, None))
            continue
        recognition = recognise(table.headers, mappings, kind=source.kind)
        result.kind, result.description = recognition.kind, table.description
        result.matched = [{"header": h, "column": c, "how": how} for h, c, how in recognition.matched]
        result.ignored, result.missing = recognition.ignored, recognition.missing
        if recognition.kind is None:
            result.error(1, "", "", "Type de fichier non reconnu : aucun en-tête ne correspond aux colonnes attendues.")
        for name in recognition.missing:
            result.error(1, name, "", f"Colonne obligatoire absente : « {name} ».")
        prepared.append((result, table, recognition))
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


def mappings_of(plie):
    """{kind: {normalized header: canonical column}} saved for the PLIE."""
    mappings = defaultdict(dict)
    for kind, header, column in ColumnMapping.objects.filter(plie=plie).values_list("kind", "header", "column"):
        mappings[kind][header] = column
    return mappings


class NewReferent:
    """A referent named in a file, to be created when the file is written (the check phase writes nothing)."""

    def __init__(self, name, structure):
        self.name, self.structure, self.pk = name, structure, None


class Importer:
    kind = None
    parsers = {}

    def __init__(self, plie, *, by, create_referents, result):
        self.plie, self.by, self.create_referents, self.result = plie, by, create_referents, result
        self.now = timezone.now()
        self.reason = f"Import : {result.name}"[:100]

    def run(self, table: Table, recognition, report):
        self.headers = {name: table.headers[index].strip() for name, index in recognition.positions.items()}
        self.present = set(recognition.positions)
        self.positions = recognition.positions
        report(0, "lecture des lignes")
        rows = self.parse(table, recognition.positions)
        report(0.3, "contrôle des lignes")
        plan = self.check(rows)
        statuses = {row["_line"]: row.get("_status", UNCHANGED) for row in rows}
        for error in self.result.errors:
            statuses[error["line"]] = ERROR
        counts = defaultdict(int)
        for status in statuses.values():
            counts[status] += 1
        self.result.created, self.result.updated, self.result.unchanged = (
            counts[CREATE],
            counts[UPDATE],
            counts[UNCHANGED],
        )
        self.result.rows = [
            {"line": row["_line"], "status": statuses[row["_line"]], "label": self.label(row)}
            for row in rows[:PREVIEW_ROWS]
        ]
        self.result.errors.sort(key=lambda e: e["line"] or 0)
        if self.result.rejected:
            self.result.created = self.result.updated = self.result.unchanged = 0
            return
        report(0.6, "écriture")
        with transaction.atomic():
            self.write(plan)
            # Rows went in by COPY, past the signals: the FSE+ participations follow attribution here.
            sync_participations(self.plie.pk, by=self.by)
            self.after_sync(plan)

    def after_sync(self, plan):
        """What a file says of the participations, once they follow the rows just written."""

    def parse(self, table, positions):
        required = {c.name for c in COLUMNS[self.kind] if c.required}
        columns = [
            (name, index, self.parsers.get(name, values.text), name in required) for name, index in positions.items()
        ]
        width = max(positions.values(), default=-1) + 1
        rows = []
        for offset, cells in enumerate(table.rows):
            if not any(cells) or not any(cell.strip() for cell in cells):
                continue
            if len(cells) < width:
                cells = cells + [""] * (width - len(cells))
            row = {"_line": offset + 2, "_cells": cells}
            for name, index, parse, is_required in columns:
                raw = cells[index].strip()
                if not raw:
                    row[name] = None
                    if is_required:
                        self.fail(row, name, "valeur obligatoire manquante")
                elif raw[0] == "=":
                    row[name] = None
                    self.fail(row, name, "formule de tableur refusée : enregistrez la valeur calculée, pas la formule")
                else:
                    try:
                        row[name] = parse(raw)
                    except values.InvalidCellError as invalid:
                        row[name] = None
                        self.fail(row, name, f"valeur attendue : {invalid}")
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
        """The fields of `wanted` whose value differs from `current`."""
        return {name: value for name, value in wanted.items() if current.get(name) != _pk(value)}

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
                values_["referent_id"] = _pk(values_["referent_id"])
        ids = bulk.allocate_ids(model, len(creates))
        if creates:
            columns, rows = full_rows(model, creates, ids)
            history = ("+", self.by, self.reason) if hasattr(model, "history") else None
            bulk.insert(model, columns, rows, history=history)
        by_columns = defaultdict(list)
        for pk, changes in updates.items():
            names = tuple(sorted(changes))
            by_columns[names].append((pk, *(changes[c] for c in names)))
        for names, rows in by_columns.items():
            bulk.update(model, [model._meta.get_field(n).column for n in names], rows)
        if updates and hasattr(model, "history"):
            bulk.record_history(model, list(updates), "~", by=self.by, reason=self.reason)
        return ids

    def label(self, row):
        return ""


def overlaps(items):
    """(start, end, row, next row) of each (start, end or None, row or None) that the next one overlaps."""
    items.sort(key=lambda item: item[0])
    for (start1, end1, row1), (start2, _, row2) in zip(items, items[1:], strict=False):
        if end1 is None or start2 <= end1:
            yield start1, end1, row1, row2


def _pk(value):
    return value.pk if isinstance(value, NewReferent | Referent) else value


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
    rows = [(pk, *[d.get(name, default) for name, default in pairs]) for pk, d in zip(ids, dicts, strict=True)]
    return columns, rows


def _choices(choices, extra=None):
    options = {normalize(label): value for value, label in choices}
    options.update({normalize(value): value for value, _ in choices})
    options.update(extra or {})
    return options


PRESCRIBERS = _choices(Prescriber.choices, {"pole emploi": Prescriber.FRANCE_TRAVAIL, "ft": Prescriber.FRANCE_TRAVAIL})


def third_country(value):
    answer = values.answer(value)
    return {"yes": Nationality.OUTSIDE_EU, "no": Nationality.FRANCE_OR_EU, "declined": Nationality.DECLINED}[answer]


def prescriber(value):
    key = normalize(value)
    return (PRESCRIBERS[key], "") if key in PRESCRIBERS else (Prescriber.OTHER, value.strip()[:200])


class ParticipantsImporter(Importer):
    kind = Kind.PARTICIPANTS
    parsers = {
        "Sexe": values.sex,
        "Date de naissance": values.date,
        "Code INSEE": values.insee,
        "Code postal": values.postal_code,
        "QPV": values.boolean,
        "Niveau de formation": values.qualification_level,
        "RSA": values.boolean,
        "RQTH": values.boolean,
        "DELD": values.boolean,
        "BPI": values.boolean,
        "Prescripteur": prescriber,
        "Date d'entrée": values.date,
        "Date de sortie": values.date,
        "Situation emploi à l'entrée": values.employment_status,
        "Sans emploi depuis": values.date,
        "Handicap": values.answer,
        "Ressortissant pays tiers": third_country,
        "Origine étrangère": values.answer,
        "Sans domicile": values.answer,
        **dict.fromkeys(EXIT_SITUATION_COLUMNS, values.answer),
    }
    PERSON = {
        "Nom": "last_name",
        "Prénom": "first_name",
        "Sexe": "sex",
        "Date de naissance": "birth_date",
        "Code postal": "postal_code",
        "QPV": "qpv",
        "Niveau de formation": "qualification_level",
        "RSA": "rsa",
        "RQTH": "rqth",
        "DELD": "deld",
        "BPI": "bpi",
        "Situation emploi à l'entrée": "employment_status",
        "Sans emploi depuis": "unemployed_since",
        "Handicap": "disability",
        "Ressortissant pays tiers": "nationality",
        "Origine étrangère": "foreign_background",
        "Sans domicile": "homeless",
    }
    BOOLEANS = {"qpv", "rsa", "rqth", "deld", "bpi"}
    # An empty answer is « non renseigné », stored as an empty string like the application's forms do.
    ANSWERS = {"employment_status", "disability", "nationality", "foreign_background", "homeless"}

    def label(self, row):
        # Identifiers and dates, no name: reports stay in the history, and an erased person must not stay in them.
        entry = row.get("Date d'entrée")
        parcours = f", parcours {row['ID parcours']}" if row.get("ID parcours") else ""
        return f"Participant {row.get('ID participant') or '?'}{parcours}" + (
            f", entré le {entry:%d/%m/%Y}" if entry else ""
        )

    def check(self, rows):
        plie = self.plie
        referents = self.referents_by_name()
        reasons = {normalize(r.label): r for r in ExitReason.objects.filter(plie=plie)}
        codes = {row["Code INSEE"] for row in rows if row.get("Code INSEE")}
        communes = set(Commune.objects.filter(code_insee__in=codes).values_list("code_insee", flat=True))
        by_name = defaultdict(list)
        if "Commune" in self.present and any(row.get("Commune") and not row.get("Code INSEE") for row in rows):
            for code, name in Commune.objects.values_list("code_insee", "name"):
                by_name[normalize(name)].append(code)
        periods = defaultdict(list)
        for referent_id, operation_id, start, end in ReferentPeriod.objects.filter(referent__plie=plie).values_list(
            "referent_id", "operation_id", "start", "end"
        ):
            periods[referent_id].append((start, end, operation_id))

        person_fields = [f for f in self.PERSON.values()] + ["commune_id"]
        people = {
            p["external_id"]: p
            for p in Participant.objects.filter(plie=plie)
            .exclude(external_id="")
            .values("id", "external_id", "restricted_at", *person_fields)
        }
        erased = set()
        for identity, external in ErasureRecord.objects.filter(plie=plie).values_list(
            "identity_hash", "external_id_hash"
        ):
            erased.update({identity, external} - {""})
        parcours_of = defaultdict(list)
        for p in Parcours.objects.filter(participant__plie=plie).values(
            "id",
            "participant_id",
            "external_id",
            "entry_date",
            "exit_date",
            "exit_reason_id",
            "prescriber",
            "prescriber_detail",
            "prescription_date",
            "status",
            "exit_validated_at",
            "exit_validated_by_id",
        ):
            parcours_of[p["participant_id"]].append(p)
        assignments = defaultdict(list)
        for a in ReferentAssignment.objects.filter(parcours__participant__plie=plie).values(
            "id", "parcours_id", "referent_id", "start", "end"
        ):
            assignments[a["parcours_id"]].append(a)

        self.duplicates(rows, lambda r: r.get("ID parcours"), "ID parcours", "identifiant de parcours")
        self.duplicates(
            [r for r in rows if not r.get("ID parcours")],
            lambda r: (
                (r["ID participant"], r["Date d'entrée"])
                if r.get("ID participant") and r.get("Date d'entrée")
                else None
            ),
            "Date d'entrée",
            "parcours du même participant à la même date d’entrée",
        )

        first_row_of = {}
        for row in rows:
            person = {self.PERSON[c]: row.get(c) for c in self.PERSON if c in self.present}
            for name in self.BOOLEANS & set(person):
                person[name] = bool(person[name])
            if "postal_code" in person:
                person["postal_code"] = person["postal_code"] or ""
            for name in self.ANSWERS & set(person):
                person[name] = person[name] or ""
            known = people.get(row.get("ID participant"), {}).get("nationality")
            if person.get("nationality") == Nationality.FRANCE_OR_EU and known in (Nationality.FRANCE, Nationality.EU):
                person["nationality"] = known  # « Non » to the third-country question keeps the precise answer
            row["_exit_situation"] = {
                field: row.get(column) or ""
                for column, field in EXIT_SITUATION_COLUMNS.items()
                if column in self.present
            }
            if any(row["_exit_situation"].values()) and not row.get("Date de sortie"):
                column = next(c for c, f in EXIT_SITUATION_COLUMNS.items() if row["_exit_situation"].get(f))
                self.fail(row, column, "une situation à la sortie demande une date de sortie")
            if "Code INSEE" in self.present or "Commune" in self.present:
                person["commune_id"] = self.commune(row, communes, by_name)
            row["_person"] = person
            ext = row.get("ID participant")
            if ext in first_row_of:
                first = first_row_of[ext]
                for column, name in [*self.PERSON.items(), ("Code INSEE", "commune_id")]:
                    if name in person and person[name] != first["_person"].get(name) and not first.get("_failed"):
                        self.fail(row, column, f"diffère de la ligne {first['_line']} pour le même participant")
            elif ext:
                first_row_of[ext] = row

            entry, exit_date = row.get("Date d'entrée"), row.get("Date de sortie")
            if exit_date and entry and exit_date < entry:
                self.fail(row, "Date de sortie", "la sortie ne peut pas précéder l’entrée")
            if row.get("Date de naissance") and entry and row["Date de naissance"] >= entry:
                self.fail(row, "Date de naissance", "la naissance doit précéder l’entrée dans le PLIE")
            reason_label = row.get("Motif de sortie")
            row["_reason"] = None
            if exit_date and not reason_label:
                self.fail(row, "Motif de sortie", "motif obligatoire quand une date de sortie est indiquée")
            elif reason_label and not exit_date:
                self.fail(row, "Motif de sortie", "un motif de sortie demande une date de sortie")
            elif reason_label:
                row["_reason"] = reasons.get(normalize(reason_label))
                if row["_reason"] is None:
                    known = ", ".join(sorted(r.label for r in reasons.values()))
                    self.fail(row, "Motif de sortie", f"motif inconnu du PLIE ; motifs possibles : {known}")
            row["_referent"] = self.resolve_referent(row, referents, row.get("Structure"))

        new_people, person_updates, new_parcours, parcours_updates = [], {}, [], {}
        new_assignments, assignment_updates = [], {}
        matched_parcours = set()
        intervals = defaultdict(list)
        for row in rows:
            if row.get("_failed"):
                continue
            ext = row["ID participant"]
            current = people.get(ext)
            if current is None and erased and self.erased(row, erased):
                self.fail(row, "ID participant", ERASED)
                continue
            if current is not None and current["restricted_at"]:
                self.fail(row, "ID participant", RESTRICTED)
                continue
            person_changes = self.diff(current, row["_person"]) if current else {}
            if first_row_of[ext] is row and current is None:
                new_people.append({"plie_id": self.plie.pk, "external_id": ext, **row["_person"]})
                new_people[-1]["folded_name"] = folded_name(new_people[-1]["last_name"], new_people[-1]["first_name"])
            elif first_row_of[ext] is row and person_changes:
                person_updates[current["id"]] = person_changes
                if {"last_name", "first_name"} & person_changes.keys():
                    names = {**current, **person_changes}
                    person_changes["folded_name"] = folded_name(names["last_name"], names["first_name"])
            existing = self.match_parcours(row, parcours_of.get(current["id"], []) if current else [])
            wanted = self.parcours_values(row, existing, periods)
            if existing is None:
                new_parcours.append((row, wanted))
                row["_status"] = CREATE
            else:
                matched_parcours.add(existing["id"])
                changes = self.diff(existing, wanted)
                if changes:
                    parcours_updates[existing["id"]] = changes
                own = assignments.get(existing["id"], [])
                assignment_changed = self.plan_assignment(row, existing["id"], own, new_assignments, assignment_updates)
                row["_status"] = self.status_of(person_changes or changes or assignment_changed)
            if current is None:
                row["_status"] = CREATE
            intervals[ext].append((row["Date d'entrée"], row.get("Date de sortie"), row))

        for ext, items in intervals.items():
            current = people.get(ext)
            for p in parcours_of.get(current["id"], []) if current else []:
                if p["id"] not in matched_parcours and p["entry_date"]:
                    items.append((p["entry_date"], p["exit_date"], None))
            for start1, end1, row1, row2 in overlaps(items):
                other = f"la ligne {row1['_line']}" if row1 and row2 else "un parcours déjà enregistré"
                self.fail(
                    row2 or row1,
                    "Date d'entrée",
                    f"ce parcours chevauche {other} du même participant "
                    f"(entré le {start1:%d/%m/%Y}{f', sorti le {end1:%d/%m/%Y}' if end1 else ', toujours en cours'})",
                )
        return {
            "rows": rows,
            "people": people,
            "new_people": new_people,
            "person_updates": person_updates,
            "new_parcours": new_parcours,
            "parcours_updates": parcours_updates,
            "new_assignments": new_assignments,
            "assignment_updates": assignment_updates,
        }

    @staticmethod
    def plan_assignment(row, parcours_id, own, new_assignments, assignment_updates):
        """The file names the referent of the whole parcours: that sets its one assignment, or makes it. A parcours
        reassigned in the application since (several assignments) is left as it is. Returns whether it changes."""
        if not own:
            new_assignments.append((parcours_id, row["_referent"], row))
            return True
        wanted = {"referent_id": row["_referent"], "start": row["Date d'entrée"], "end": row.get("Date de sortie")}
        if len(own) > 1 or not Importer.diff(own[0], wanted):
            return False
        assignment_updates[own[0]["id"]] = wanted
        return True

    def erased(self, row, erased):
        slug = self.plie.slug
        return external_id_hash(slug, row["ID participant"]) in erased or (
            identity_hash(slug, row["Nom"], row["Prénom"], row["Date de naissance"]) in erased
        )

    def commune(self, row, communes, by_name):
        code = row.get("Code INSEE")
        if code:
            if code not in communes:
                self.fail(
                    row, "Code INSEE", "commune inconnue de la base (communes de Dordogne, Gironde, Lot-et-Garonne)"
                )
                return None
            return code
        name = row.get("Commune")
        if name:
            codes = by_name.get(normalize(name), [])
            if len(codes) != 1:
                self.fail(
                    row,
                    "Commune",
                    "commune inconnue" if not codes else "plusieurs communes portent ce nom : indiquez le code INSEE",
                )
                return None
            return codes[0]
        return None

    def match_parcours(self, row, existing):
        ext = row.get("ID parcours")
        if ext:
            for p in existing:
                if p["external_id"] == ext:
                    return p
        for p in existing:
            if p["entry_date"] == row["Date d'entrée"] and (not ext or not p["external_id"]):
                return p
        return None

    def parcours_values(self, row, existing, periods):
        entry, exit_date = row["Date d'entrée"], row.get("Date de sortie")
        wanted = {
            "entry_date": entry,
            "exit_date": exit_date,
            "exit_reason_id": row["_reason"].pk if row["_reason"] else None,
        }
        if row.get("ID parcours"):
            wanted["external_id"] = row["ID parcours"]
        if "Prescripteur" in self.present and row.get("Prescripteur"):
            wanted["prescriber"], wanted["prescriber_detail"] = row["Prescripteur"]
        if existing is None:
            wanted.setdefault("prescriber", Prescriber.OTHER)
            operation_id = next(
                (
                    op
                    for start, end, op in periods.get(row["_referent"].pk, [])
                    if start <= entry and (end is None or entry <= end)
                ),
                None,
            )
            wanted.update(prescription_date=entry, reception_date=entry, operation_id=operation_id)
        elif existing["prescription_date"] and entry < existing["prescription_date"]:
            wanted["prescription_date"] = entry
        if exit_date:
            wanted["status"] = Status.EXITED
        elif existing is None or existing["status"] == Status.EXITED:
            wanted["status"] = Status.ACTIVE
        if exit_date and (
            existing is None or existing["exit_date"] != exit_date or existing["status"] != Status.EXITED
        ):
            # Exits in an extract are final: their 6-month follow-up was validated in the tool they come from.
            wanted.update(exit_validated_at=self.now, exit_validated_by_id=self.by.pk if self.by else None)
        elif not exit_date and existing and existing["exit_date"]:
            wanted.update(exit_validated_at=None, exit_validated_by_id=None)
        return wanted

    def write(self, plan):
        self.create_new_referents(plan["rows"])
        new_ids = self.write_rows(Participant, plan["new_people"], plan["person_updates"])
        ids = {p["external_id"]: pk for p, pk in zip(plan["new_people"], new_ids, strict=True)}
        ids.update({ext: p["id"] for ext, p in plan["people"].items()})
        parcours = [{**wanted, "participant_id": ids[row["ID participant"]]} for row, wanted in plan["new_parcours"]]
        parcours_ids = self.write_rows(Parcours, parcours, plan["parcours_updates"])
        new = [(pk, row["_referent"], row) for (row, _), pk in zip(plan["new_parcours"], parcours_ids, strict=True)]
        assignments = [
            {
                "parcours_id": parcours_id,
                "referent_id": referent,
                "start": row["Date d'entrée"],
                "end": row.get("Date de sortie"),
                "reason": AssignmentReason.INTEGRATION,
                "assigned_by_id": self.by.pk if self.by else None,
            }
            for parcours_id, referent, row in new + plan["new_assignments"]
        ]
        self.write_rows(ReferentAssignment, assignments, plan["assignment_updates"])

    def after_sync(self, plan):
        """The situation upon leaving given on a row is that of the participations that ended on its exit date."""
        wanted = {
            (row["ID participant"], row["Date de sortie"]): row["_exit_situation"]
            for row in plan["rows"]
            if not row.get("_failed") and any(row.get("_exit_situation", {}).values())
        }
        if not wanted:
            return
        ids = _participant_index(self.plie)
        by_key = {(ids[ext], day): answers for (ext, day), answers in wanted.items() if ext in ids}
        changed = []
        for participation in Participation.objects.filter(
            participant_id__in={pk for pk, _ in by_key}, last_day__in={day for _, day in by_key}
        ):
            answers = by_key.get((participation.participant_id, participation.last_day))
            if answers and any(getattr(participation, f) != v for f, v in answers.items()):
                for field, value in answers.items():
                    setattr(participation, field, value)
                participation.exit_recorded_at, participation.exit_recorded_by = timezone.now(), self.by
                changed.append(participation)
        fields = [*Participation.EXIT_FIELDS, "exit_recorded_at", "exit_recorded_by"]
        bulk_update_with_history(
            changed, Participation, fields, default_user=self.by, default_change_reason=self.reason
        )


STEP_STATUSES = _choices(StepStatus.choices, {"prevue": StepStatus.PROPOSED, "proposee": StepStatus.PROPOSED})


def _participant_index(plie):
    return dict(Participant.objects.filter(plie=plie).exclude(external_id="").values_list("external_id", "id"))


def _parcours_index(plie):
    parcours_of = defaultdict(list)
    for p in (
        Parcours.objects.filter(participant__plie=plie)
        .exclude(entry_date=None)
        .values("id", "participant_id", "external_id", "entry_date", "exit_date")
        .order_by("entry_date")
    ):
        parcours_of[p["participant_id"]].append(p)
    return parcours_of


def _active_on(parcours, day):
    return next(
        (p for p in parcours if p["entry_date"] <= day and (p["exit_date"] is None or day <= p["exit_date"])), None
    )


class StepsImporter(Importer):
    kind = Kind.STEPS
    parsers = {
        "Date de début": values.date,
        "Date de fin": values.date,
        "Statut": values.choice(STEP_STATUSES, "Prévue, En cours, Réalisée ou Abandonnée"),
        "Validée": values.boolean,
    }

    def label(self, row):
        step_type = row.get("Type d'étape") or "?"
        return f"{step_type} de {row.get('ID participant') or '?'} ({row.get('ID étape') or '?'})"

    def check(self, rows):
        types = {}
        for pk, label in (
            StepType.objects.filter(category__plie=self.plie)
            .order_by("-is_active", "category__position", "pk")
            .values_list("id", "label")
        ):
            types.setdefault(normalize(label), pk)
        participants = _participant_index(self.plie)
        parcours_of = _parcours_index(self.plie)
        existing = {
            s["external_id"]: s
            for s in Step.objects.filter(parcours__participant__plie=self.plie)
            .exclude(external_id="")
            .values(
                "id", "external_id", "parcours_id", "step_type_id", "start", "end", "status", "validation", "partner"
            )
        }
        self.duplicates(rows, lambda r: r.get("ID étape"), "ID étape", "identifiant d’étape")
        creates, updates = [], {}
        for row in rows:
            participant_id = participants.get(row.get("ID participant"))
            if row.get("ID participant") and participant_id is None:
                self.fail(
                    row,
                    "ID participant",
                    UNKNOWN_PARTICIPANT,
                )
            type_id = types.get(normalize(row.get("Type d'étape") or ""))
            if row.get("Type d'étape") and type_id is None:
                self.fail(
                    row, "Type d'étape", "type d’étape inconnu de la nomenclature du PLIE (menu Étapes › Nomenclature)"
                )
            start, end = row.get("Date de début"), row.get("Date de fin")
            if start and end and end < start:
                self.fail(row, "Date de fin", "la fin de l’étape ne peut pas précéder son début")
            status = row.get("Statut") or StepStatus.IN_PROGRESS
            if row.get("Validée") and status not in (StepStatus.IN_PROGRESS, StepStatus.DONE):
                column = "Statut" if row.get("Statut") else "Validée"
                self.fail(row, column, "une étape validée doit être « En cours » ou « Réalisée »")
            parcours = None
            if participant_id and start:
                own = parcours_of.get(participant_id, [])
                if row.get("ID parcours"):
                    parcours = next((p for p in own if p["external_id"] == row["ID parcours"]), None)
                    if parcours is None:
                        self.fail(row, "ID parcours", "parcours inconnu pour ce participant")
                else:
                    parcours = _active_on(own, start)
                    if parcours is None:
                        self.fail(row, "Date de début", "aucun parcours de ce participant ne couvre cette date")
            if row.get("_failed"):
                continue
            wanted = {"parcours_id": parcours["id"], "step_type_id": type_id, "start": start, "end": end}
            if "Statut" in self.present:
                wanted["status"] = status
            if "Organisme" in self.present:
                wanted["partner"] = (row.get("Organisme") or "")[:200]
            current = existing.get(row["ID étape"])
            if "Validée" in self.present:
                validated = bool(row.get("Validée"))
                was_validated = current is not None and current["validation"] == Validation.VALIDATED
                if validated and not was_validated:
                    wanted.update(
                        validation=Validation.VALIDATED,
                        decided_at=self.now,
                        decided_by_id=self.by.pk if self.by else None,
                    )
                elif not validated and was_validated:
                    wanted.update(validation=Validation.DRAFT, decided_at=None, decided_by_id=None)
            if current is None:
                wanted.setdefault("status", status)
                creates.append(
                    {**wanted, "external_id": row["ID étape"], "created_by_id": self.by.pk if self.by else None}
                )
                row["_status"] = CREATE
            else:
                changes = self.diff(current, wanted)
                if changes:
                    updates[current["id"]] = changes
                row["_status"] = self.status_of(changes)
        return {"creates": creates, "updates": updates}

    def write(self, plan):
        self.write_rows(Step, plan["creates"], plan["updates"])


MODALITIES = _choices(Modality.choices, {"telephonique": Modality.PHONE, "visioconference": Modality.VIDEO})


class EntretiensImporter(Importer):
    kind = Kind.ENTRETIENS
    parsers = {
        "Date": values.date,
        "Modalité": values.choice(MODALITIES, "Physique, Téléphone, Visio ou Collectif"),
        "Émargement": values.boolean,
    }

    def label(self, row):
        date = row.get("Date")
        return f"Entretien de {row.get('ID participant') or '?'} du {date:%d/%m/%Y}" if date else "Entretien"

    def check(self, rows):
        participants = _participant_index(self.plie)
        parcours_of = _parcours_index(self.plie)
        referents = self.referents_by_name()
        assignments = defaultdict(list)
        for a in ReferentAssignment.objects.filter(parcours__participant__plie=self.plie).values(
            "parcours_id", "referent_id", "start", "end"
        ):
            assignments[a["parcours_id"]].append(a)
        existing = {
            e["external_id"]: e
            for e in Entretien.objects.filter(participant__plie=self.plie)
            .exclude(external_id="")
            .values("id", "external_id", "participant_id", "parcours_id", "referent_id", "date", "modality", "signed")
        }
        self.duplicates(rows, lambda r: r.get("ID entretien"), "ID entretien", "identifiant d’entretien")
        creates, updates = [], {}
        for row in rows:
            participant_id = participants.get(row.get("ID participant"))
            if row.get("ID participant") and participant_id is None:
                self.fail(
                    row,
                    "ID participant",
                    UNKNOWN_PARTICIPANT,
                )
            referent = self.resolve_referent(row, referents)
            day = row.get("Date")
            parcours = referent_id = None
            if participant_id and day:
                own = parcours_of.get(participant_id, [])
                parcours = _active_on(own, day)
                if parcours is not None and referent is None and not row.get("Référent"):
                    referent_id = next(
                        (
                            a["referent_id"]
                            for a in assignments[parcours["id"]]
                            if a["start"] <= day and (a["end"] is None or day <= a["end"])
                        ),
                        None,
                    )
                elif parcours is None and not row.get("Référent"):
                    self.fail(
                        row,
                        "Date",
                        "le participant n’a pas de parcours actif à cette date et aucun référent n’est indiqué : "
                        "impossible d’attribuer l’entretien",
                    )
                elif parcours is None:
                    before = [p for p in own if p["entry_date"] <= day]
                    parcours = before[-1] if before else (own[0] if own else None)
                    if parcours is None:
                        self.fail(
                            row, "ID participant", "ce participant n’a aucun parcours auquel rattacher l’entretien"
                        )
            if referent is not None:
                referent_id = referent
            if row.get("_failed"):
                continue
            wanted = {
                "participant_id": participant_id,
                "parcours_id": parcours["id"],
                "referent_id": referent_id,
                "date": day,
            }
            if "Modalité" in self.present:
                wanted["modality"] = row.get("Modalité") or Modality.IN_PERSON
            if "Émargement" in self.present:
                wanted["signed"] = bool(row.get("Émargement"))
            current = existing.get(row["ID entretien"])
            if current is None:
                creates.append(
                    {**wanted, "external_id": row["ID entretien"], "created_by_id": self.by.pk if self.by else None}
                )
                row["_status"] = CREATE
            else:
                changes = self.diff(current, wanted)
                if changes:
                    updates[current["id"]] = changes
                row["_status"] = self.status_of(changes)
        return {"rows": rows, "creates": creates, "updates": updates}

    def write(self, plan):
        self.create_new_referents(plan["rows"])
        self.write_rows(Entretien, plan["creates"], plan["updates"])


def etp(value):
    number = values.decimal(value)
    if not 0 < number <= 1:
        raise values.InvalidCellError("un ETP supérieur à 0 et au plus égal à 1, par exemple 0,8")
    if number != number.quantize(values.Decimal("0.01")):
        raise values.InvalidCellError("un ETP avec au plus deux décimales, par exemple 0,75")
    return number


class ReferentsImporter(Importer):
    kind = Kind.REFERENTS
    parsers = {"ETP": etp, "Date de début": values.date, "Date de fin": values.date, "Email": values.email}

    def label(self, row):
        return f"{row.get('Référent') or '?'} sur {row.get('Opération') or '?'}"

    def check(self, rows):
        codes = dict(Operation.objects.filter(plie=self.plie).values_list("id", "code"))
        fiches = defaultdict(list)  # fiches are annual: a code names the fiche in force on the period's start
        for pk, code, fiche_start, fiche_end in Operation.objects.filter(plie=self.plie).values_list(
            "id", "code", "start", "end"
        ):
            fiches[normalize(code)].append((fiche_start, fiche_end, pk))
        zones = {}
        for pk, name, number in Zone.objects.filter(plie=self.plie).values_list("id", "name", "number"):
            zones[normalize(name)] = pk
            if number is not None:
                zones.setdefault(str(number), pk)
        structures = {
            normalize(name): pk for pk, name in Structure.objects.filter(plie=self.plie).values_list("id", "name")
        }
        referents = {
            normalize(f"{r['first_name']} {r['last_name']}"): r
            for r in Referent.objects.filter(plie=self.plie).values(
                "id", "first_name", "last_name", "structure_id", "email"
            )
        }
        periods = defaultdict(list)
        for p in ReferentPeriod.objects.filter(referent__plie=self.plie).values(
            "id", "referent_id", "operation_id", "start", "end", "etp", "zone_id"
        ):
            periods[(p["referent_id"], p["operation_id"])].append(p)

        first_row_of = {}
        for row in rows:
            candidates = fiches.get(normalize(row.get("Opération") or ""), [])
            start = row.get("Date de début")
            row["_operation"] = next(
                (pk for first, last, pk in candidates if start is None or first <= start <= last),
                None,
            )
            if row.get("Opération") and not candidates:
                known = ", ".join(sorted(set(codes.values())))
                self.fail(row, "Opération", f"opération inconnue dans ce PLIE ; codes possibles : {known}")
            elif row.get("Opération") and row["_operation"] is None:
                years = ", ".join(f"du {a:%d/%m/%Y} au {b:%d/%m/%Y}" for a, b, _ in sorted(candidates))
                self.fail(row, "Date de début", f"aucune fiche de ce code ne couvre cette date ; fiches : {years}")
            row["_zone"] = zones.get(normalize(row.get("Zone") or ""))
            if row.get("Zone") and row["_zone"] is None:
                self.fail(row, "Zone", "zone inconnue dans ce PLIE (nom ou numéro de zone)")
            end = row.get("Date de fin")
            if start and end and end < start:
                self.fail(row, "Date de fin", "la fin de la période ne peut pas précéder son début")
            name = row.get("Référent")
            if name and len(name.split()) < 2:
                self.fail(row, "Référent", "indiquez le prénom et le nom, par exemple « Marie Dupont »")
            key = normalize(name or "")
            if key in first_row_of:
                first = first_row_of[key]
                for column in ("Structure", "Email"):
                    if column in self.present and normalize(row.get(column) or "") != normalize(
                        first.get(column) or ""
                    ):
                        self.fail(row, column, f"diffère de la ligne {first['_line']} pour le même référent")
            elif key:
                first_row_of[key] = row
        self.duplicates(
            rows,
            lambda r: (
                (normalize(r["Référent"]), r["_operation"], r["Date de début"])
                if r.get("Référent") and r.get("Date de début") and r["_operation"]
                else None
            ),
            "Date de début",
            "période du même référent sur la même opération et à la même date",
        )

        new_structures, new_referents, referent_updates = {}, {}, {}
        for key, row in first_row_of.items():
            if row.get("_failed"):
                continue
            structure_key = normalize(row["Structure"])
            if structure_key not in structures and structure_key not in new_structures:
                new_structures[structure_key] = {
                    "plie_id": self.plie.pk,
                    "name": row["Structure"],
                    "kind": StructureKind.ASSOCIATION,
                }
            current = referents.get(key)
            if current is None:
                first, _, last = row["Référent"].strip().partition(" ")
                new_referents[key] = {
                    "plie_id": self.plie.pk,
                    "first_name": first,
                    "last_name": last.strip(),
                    "email": row.get("Email") or "",
                    "_structure": structure_key,
                }
            else:
                wanted = {"structure_id": structures.get(structure_key)}
                if row.get("Email"):
                    wanted["email"] = row["Email"]
                changes = self.diff(current, wanted)
                if changes or structure_key in new_structures:
                    referent_updates[current["id"]] = (changes, structure_key)

        new_periods, period_updates = [], {}
        intervals = defaultdict(list)
        matched = set()
        for row in rows:
            if row.get("_failed"):
                continue
            key = normalize(row["Référent"])
            current = referents.get(key)
            existing = None
            if current:
                existing = next(
                    (p for p in periods[(current["id"], row["_operation"])] if p["start"] == row["Date de début"]), None
                )
            wanted = {"etp": row["ETP"], "end": row.get("Date de fin")}
            if "Zone" in self.present:
                wanted["zone_id"] = row["_zone"]
            if existing is None:
                new_periods.append((row, wanted))
                row["_status"] = CREATE
            else:
                matched.add(existing["id"])
                changes = self.diff(existing, wanted)
                if changes:
                    period_updates[existing["id"]] = changes
                row["_status"] = self.status_of(changes or (current["id"] in referent_updates))
            if current is None:
                row["_status"] = CREATE
            intervals[(key, row["_operation"])].append((row["Date de début"], row.get("Date de fin"), row))
        for (key, operation_id), items in intervals.items():
            current = referents.get(key)
            if current:
                items += [
                    (p["start"], p["end"], None)
                    for p in periods[(current["id"], operation_id)]
                    if p["id"] not in matched
                ]
            for _, _, row1, row2 in overlaps(items):
                other = f"la ligne {row1['_line']}" if row1 and row2 else "une période déjà enregistrée"
                self.fail(
                    row2 or row1,
                    "Date de début",
                    f"cette période chevauche {other} du même référent sur cette opération",
                )
        return {
            "structures": structures,
            "new_structures": new_structures,
            "referents": referents,
            "new_referents": new_referents,
            "referent_updates": referent_updates,
            "new_periods": new_periods,
            "period_updates": period_updates,
        }

    def write(self, plan):
        structures = dict(plan["structures"])
        keys = list(plan["new_structures"])
        ids = self.write_rows(Structure, [plan["new_structures"][k] for k in keys], {})
        structures.update(zip(keys, ids, strict=True))
        keys = list(plan["new_referents"])
        creates = []
        for key in keys:
            values_ = dict(plan["new_referents"][key])
            values_["structure_id"] = structures[values_.pop("_structure")]
            creates.append(values_)
        ids = self.write_rows(Referent, creates, {})
        referent_ids = {key: r["id"] for key, r in plan["referents"].items()}
        referent_ids.update(zip(keys, ids, strict=True))
        updates = {}
        for pk, (changes, structure_key) in plan["referent_updates"].items():
            changes = {**changes, "structure_id": structures[structure_key]}
            updates[pk] = changes
        self.write_rows(Referent, [], updates)
        periods = [
            {
                **wanted,
                "referent_id": referent_ids[normalize(row["Référent"])],
                "operation_id": row["_operation"],
                "start": row["Date de début"],
            }
            for row, wanted in plan["new_periods"]
        ]
        self.write_rows(ReferentPeriod, periods, plan["period_updates"])


IMPORTERS = {
    Kind.PARTICIPANTS: ParticipantsImporter,
    Kind.STEPS: StepsImporter,
    Kind.ENTRETIENS: EntretiensImporter,
    Kind.REFERENTS: ReferentsImporter,
}
