"""Participants and their parcours: one row per parcours, the person's columns repeated on each of them."""

from collections import defaultdict
from itertools import compress
from types import SimpleNamespace

from django.utils import timezone
from simple_history.utils import bulk_update_with_history

from operations.models import ExitReason, ReferentPeriod
from participants.erasure import external_id_hash, identity_hash
from participants.models import (
    AssignmentReason,
    ErasureRecord,
    Nationality,
    Parcours,
    Participant,
    Participation,
    Prescriber,
    ReferentAssignment,
    Status,
    folded_name,
)
from territories.models import Commune

from ..columns import COLUMNS, EXIT_SITUATION_COLUMNS, Kind
from ..results import CREATE
from ..values import normalize
from .base import Importer, overlaps, participant_index, repeated

ERASED = "personne effacée à sa demande (RGPD, journal des effacements) : elle ne peut pas être réimportée"
RESTRICTED = "traitement limité à la demande de la personne (RGPD) : ses données ne sont plus mises à jour"
PARCOURS_FIELDS = [
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
]


class ParticipantsImporter(Importer):
    kind = Kind.PARTICIPANTS
    # The person's columns (the column table's `field`): copied one-to-one into Participant.
    PERSON = {c.name: c.field for c in COLUMNS[Kind.PARTICIPANTS] if c.field}
    BOOLEANS = {"qpv", "rsa", "rqth", "deld", "bpi"}
    # An empty answer is « non renseigné », stored as an empty string like the application's forms do.
    ANSWERS = {"employment_status", "disability", "nationality", "foreign_background", "homeless"}

    def label(self, row):
        # Identifiers and dates, no name: reports stay in the history, and an erased person must not stay in them.
        entry = row.get("Date d’entrée")
        parcours = f", parcours {row['ID parcours']}" if row.get("ID parcours") else ""
        return f"Participant {row.get('ID participant') or '?'}{parcours}" + (
            f", entré le {entry:%d/%m/%Y}" if entry else ""
        )

    # Load -------------------------------------------------------------------------------------------------------

    def load(self, rows):
        plie = self.plie
        known = SimpleNamespace(referents=self.referents_by_name())
        known.reasons = {normalize(r.label): r for r in ExitReason.objects.filter(plie=plie)}
        codes = {row["Code INSEE"] for row in rows if row.get("Code INSEE")}
        known.communes = set(Commune.objects.filter(code_insee__in=codes).values_list("code_insee", flat=True))
        known.by_name = defaultdict(list)
        if "Commune" in self.present and any(row.get("Commune") and not row.get("Code INSEE") for row in rows):
            for code, name in Commune.objects.values_list("code_insee", "name"):
                known.by_name[normalize(name)].append(code)
        known.periods = defaultdict(list)
        for referent_id, operation_id, start, end in ReferentPeriod.objects.filter(referent__plie=plie).values_list(
            "referent_id", "operation_id", "start", "end"
        ):
            known.periods[referent_id].append((start, end, operation_id))
        person_fields = [*self.PERSON.values(), "commune_id"]
        known.people = {
            p["external_id"]: p
            for p in Participant.objects.filter(plie=plie)
            .exclude(external_id="")
            .values("id", "external_id", "restricted_at", *person_fields)
        }
        known.erased = set()
        for pair in ErasureRecord.objects.filter(plie=plie).values_list("identity_hash", "external_id_hash"):
            known.erased.update(set(pair) - {""})
        known.parcours_of = defaultdict(list)
        for p in Parcours.objects.filter(plie=plie).values(*PARCOURS_FIELDS):
            known.parcours_of[p["participant_id"]].append(p)
        known.assignments = defaultdict(list)
        for a in ReferentAssignment.objects.filter(parcours__plie=plie).values(
            "id", "parcours_id", "referent_id", "start", "end"
        ):
            known.assignments[a["parcours_id"]].append(a)
        return known

    # Rows that change nothing ------------------------------------------------------------------------------------

    def unchanged(self):
        """Rows whose person, parcours and assignment are stored with the values `plan` would want, found in bulk.
        A person is settled here only when all their rows are, so that the checks between a person's rows (same
        columns, overlapping parcours) see all of them or none. Rows without a parcours id, ids met twice, exit
        situations (written after the participations) and rows a check refuses are left to `check`."""
        stored = self.stored_rows()
        if not stored or "ID parcours" not in self.present:
            return set()
        who, parcours_ids = self.columns["ID participant"], self.columns["ID parcours"]
        twice = repeated(parcours_ids)
        wanted = zip(who, parcours_ids, self.people_wanted(), self.parcours_wanted(), strict=True)
        settled, unsettled = defaultdict(list), set()
        for index, (ext, parcours_ext, person, parcours) in enumerate(wanted):
            current = stored.get((ext, parcours_ext))
            if (
                current is None
                or parcours_ext in twice
                or index in self.invalid
                or person != current[0]
                or parcours is None
                or not same_parcours(parcours, current[1])
            ):
                unsettled.add(ext)
            else:
                settled[ext].append(index)
        return {index for ext, indexes in settled.items() if ext not in unsettled for index in indexes}

    def stored_rows(self):
        """{(participant id, parcours id): (person values, parcours values)} as `people_wanted` and `parcours_wanted`
        give them, for the parcours of people whose data may still be updated."""
        fields = self.person_fields()
        people = {
            p[0]: p[1:]
            for p in Participant.objects.filter(plie=self.plie, restricted_at=None)
            .exclude(external_id="")
            .order_by()
            .values_list("external_id", *fields)
        }
        if "nationality" in fields:
            # The file's « Non » to the third-country question stands for France or another EU country, which
            # `person` keeps: stored, they compare as that answer.
            at = fields.index("nationality")
            for ext, person in people.items():
                if person[at] in (Nationality.FRANCE, Nationality.EU):
                    people[ext] = (*person[:at], Nationality.FRANCE_OR_EU, *person[at + 1 :])
        assignments = defaultdict(list)
        for parcours_id, *assignment in (
            ReferentAssignment.objects.filter(parcours__plie=self.plie)
            .order_by()
            .values_list("parcours_id", "referent_id", "start", "end")
        ):
            assignments[parcours_id].append(tuple(assignment))
        stored, twice = {}, set()
        for ext, parcours_ext, pk, *parcours in (
            Parcours.objects.filter(plie=self.plie)
            .exclude(external_id="")
            .order_by()
            .values_list("participant__external_id", "external_id", "id", *STORED_PARCOURS)
        ):
            if ext in people:
                twice.update([(ext, parcours_ext)] if (ext, parcours_ext) in stored else [])
                stored[(ext, parcours_ext)] = (people[ext], (*parcours, assignments.get(pk, [])))
        for key in twice:
            del stored[key]
        return stored

    def person_fields(self):
        fields = [field for column, field in self.PERSON.items() if column in self.present]
        return fields + (["commune_id"] if {"Code INSEE", "Commune"} & self.present else [])

    def people_wanted(self):
        """Per row, the person's values as `person` gives them (None in place of a commune looked up by name)."""
        columns = []
        for column, field in self.PERSON.items():
            if column not in self.present:
                continue
            cells = self.columns[column]
            if field in self.BOOLEANS:
                cells = [bool(value) for value in cells]
            elif field in self.ANSWERS or field == "postal_code":
                cells = [value or "" for value in cells]
            columns.append(cells)
        if {"Code INSEE", "Commune"} & self.present:
            codes = {code for code in self.column("Code INSEE") if code.__class__ is str}
            known = set(Commune.objects.filter(code_insee__in=codes).values_list("code_insee", flat=True))
            columns.append(
                [
                    code if code in known else UNSETTLED if code or name else None
                    for code, name in zip(self.column("Code INSEE"), self.column("Commune"), strict=True)
                ]
            )
        return zip(*columns, strict=True) if columns else [()] * len(self.lines)

    def parcours_wanted(self):
        """Per row, (entry, exit, exit reason id, prescriber or None, referent id) as `parcours_values` and
        `plan_assignment` want them, or None where `check_rows` would refuse the row or leave it to `plan`."""
        reasons = {normalize(r.label): r.pk for r in ExitReason.objects.filter(plie=self.plie)}
        referents = {name: r.pk for name, r in self.referents_by_name().items()}
        every = range(len(self.lines))
        situated = {
            i
            for column in EXIT_SITUATION_COLUMNS
            if column in self.present
            for i in compress(every, self.columns[column])
        }
        wanted = []
        for index, (entry, exit_date, birth, reason, referent, prescriber) in enumerate(
            zip(
                self.columns["Date d’entrée"],
                self.column("Date de sortie"),
                self.columns["Date de naissance"],
                self.column("Motif de sortie"),
                self.columns["Référent"],
                self.column("Prescripteur"),
                strict=True,
            )
        ):
            refused = index in self.invalid or index in situated or (exit_date is None) != (reason is None)
            if refused or exit_date is not None and exit_date < entry or birth >= entry:
                wanted.append(None)
            else:
                reason_id = reasons.get(normalize(reason)) if reason else None
                referent_id = referents.get(normalize(referent))
                unknown = reason_id is None and reason or referent_id is None
                wanted.append(None if unknown else (entry, exit_date, reason_id, prescriber, referent_id))
        return wanted

    # Row checks -------------------------------------------------------------------------------------------------

    def check_rows(self, rows, known):
        self.duplicates(rows, lambda r: r.get("ID parcours"), "ID parcours", "identifiant de parcours")
        self.duplicates(
            [r for r in rows if not r.get("ID parcours")],
            lambda r: (
                (r["ID participant"], r["Date d’entrée"])
                if r.get("ID participant") and r.get("Date d’entrée")
                else None
            ),
            "Date d’entrée",
            "parcours du même participant à la même date d’entrée",
        )
        known.first_row_of = {}
        for row in rows:
            self.check_exit_situation(row)
            row["_person"] = self.person(row, known)
            self.check_same_person(row, known.first_row_of)
            self.check_dates(row)
            self.check_reason(row, known.reasons)
            row["_referent"] = self.resolve_referent(row, known.referents, row.get("Structure"))

    def person(self, row, known):
        person = {field: row.get(column) for column, field in self.PERSON.items() if column in self.present}
        for name in self.BOOLEANS & set(person):
            person[name] = bool(person[name])
        if "postal_code" in person:
            person["postal_code"] = person["postal_code"] or ""
        for name in self.ANSWERS & set(person):
            person[name] = person[name] or ""
        stored = known.people.get(row.get("ID participant"), {}).get("nationality")
        if person.get("nationality") == Nationality.FRANCE_OR_EU and stored in (Nationality.FRANCE, Nationality.EU):
            person["nationality"] = stored  # « Non » to the third-country question keeps the precise answer
        if "Code INSEE" in self.present or "Commune" in self.present:
            person["commune_id"] = self.commune(row, known.communes, known.by_name)
        return person

    def check_exit_situation(self, row):
        row["_exit_situation"] = {
            field: row.get(column) or "" for column, field in EXIT_SITUATION_COLUMNS.items() if column in self.present
        }
        if any(row["_exit_situation"].values()) and not row.get("Date de sortie"):
            column = next(c for c, f in EXIT_SITUATION_COLUMNS.items() if row["_exit_situation"].get(f))
            self.fail(row, column, "une situation à la sortie demande une date de sortie")

    def check_same_person(self, row, first_row_of):
        """A person's columns are repeated on each of their parcours: they must agree with the first."""
        ext, person = row.get("ID participant"), row["_person"]
        if ext in first_row_of:
            first = first_row_of[ext]
            for column, name in [*self.PERSON.items(), ("Code INSEE", "commune_id")]:
                if name in person and person[name] != first["_person"].get(name) and not first.get("_failed"):
                    self.fail(row, column, f"diffère de la ligne {first['_line']} pour le même participant")
        elif ext:
            first_row_of[ext] = row

    def check_dates(self, row):
        entry, exit_date = row.get("Date d’entrée"), row.get("Date de sortie")
        if exit_date and entry and exit_date < entry:
            self.fail(row, "Date de sortie", "la sortie ne peut pas précéder l’entrée")
        if row.get("Date de naissance") and entry and row["Date de naissance"] >= entry:
            self.fail(row, "Date de naissance", "la naissance doit précéder l’entrée dans le PLIE")

    def check_reason(self, row, reasons):
        exit_date, reason_label = row.get("Date de sortie"), row.get("Motif de sortie")
        row["_reason"] = None
        if exit_date and not reason_label:
            self.fail(row, "Motif de sortie", "motif obligatoire quand une date de sortie est indiquée")
        elif reason_label and not exit_date:
            self.fail(row, "Motif de sortie", "un motif de sortie demande une date de sortie")
        elif reason_label:
            row["_reason"] = reasons.get(normalize(reason_label))
            if row["_reason"] is None:
                labels = ", ".join(sorted(r.label for r in reasons.values()))
                self.fail(row, "Motif de sortie", f"motif inconnu du PLIE ; motifs possibles : {labels}")

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

    # Plan -------------------------------------------------------------------------------------------------------

    def plan(self, rows, known):
        plan = SimpleNamespace(
            rows=rows,
            people=known.people,
            new_people=[],
            person_updates={},
            new_parcours=[],
            parcours_updates={},
            new_assignments=[],
            assignment_updates={},
        )
        matched, intervals = set(), defaultdict(list)
        for row in rows:
            if row.get("_failed") or not self.allowed(row, known):
                continue
            self.plan_row(row, known, plan, matched)
            intervals[row["ID participant"]].append((row["Date d’entrée"], row.get("Date de sortie"), row))
        self.check_overlaps(intervals, known, matched)
        return plan

    def allowed(self, row, known):
        """An erased person is never imported again; a restricted one is no longer updated."""
        current = known.people.get(row["ID participant"])
        if current is None and known.erased and self.erased(row, known.erased):
            self.fail(row, "ID participant", ERASED)
            return False
        if current is not None and current["restricted_at"]:
            self.fail(row, "ID participant", RESTRICTED)
            return False
        return True

    def plan_row(self, row, known, plan, matched):
        ext = row["ID participant"]
        current = known.people.get(ext)
        person_changes = self.diff(current, row["_person"]) if current else {}
        if known.first_row_of[ext] is row and current is None:
            plan.new_people.append(with_folded_name({"plie_id": self.plie.pk, "external_id": ext, **row["_person"]}))
        elif known.first_row_of[ext] is row and person_changes:
            plan.person_updates[current["id"]] = with_folded_name(person_changes, current)
        existing = self.match_parcours(row, known.parcours_of.get(current["id"], []) if current else [])
        wanted = self.parcours_values(row, existing, known.periods)
        if existing is None:
            plan.new_parcours.append((row, wanted))
            row["_status"] = CREATE
        else:
            matched.add(existing["id"])
            changes = self.diff(existing, wanted)
            if changes:
                plan.parcours_updates[existing["id"]] = changes
            own = known.assignments.get(existing["id"], [])
            assignment_changed = self.plan_assignment(row, existing["id"], own, plan)
            row["_status"] = self.status_of(person_changes or changes or assignment_changed)
        if current is None:
            row["_status"] = CREATE

    def check_overlaps(self, intervals, known, matched):
        for ext, items in intervals.items():
            current = known.people.get(ext)
            for p in known.parcours_of.get(current["id"], []) if current else []:
                if p["id"] not in matched and p["entry_date"]:
                    items.append((p["entry_date"], p["exit_date"], None))
            for start1, end1, row1, row2 in overlaps(items):
                other = f"la ligne {row1['_line']}" if row1 and row2 else "un parcours déjà enregistré"
                self.fail(
                    row2 or row1,
                    "Date d’entrée",
                    f"ce parcours chevauche {other} du même participant "
                    f"(entré le {start1:%d/%m/%Y}{f', sorti le {end1:%d/%m/%Y}' if end1 else ', toujours en cours'})",
                )

    @staticmethod
    def plan_assignment(row, parcours_id, own, plan):
        """The file names the referent of the whole parcours: that sets its one assignment, or makes it. A parcours
        reassigned in the application since (several assignments) is left as it is. Returns whether it changes."""
        if not own:
            plan.new_assignments.append((parcours_id, row["_referent"], row))
            return True
        wanted = {"referent_id": row["_referent"], "start": row["Date d’entrée"], "end": row.get("Date de sortie")}
        if len(own) > 1 or not Importer.diff(own[0], wanted):
            return False
        plan.assignment_updates[own[0]["id"]] = wanted
        return True

    def erased(self, row, erased):
        slug = self.plie.slug
        return external_id_hash(slug, row["ID participant"]) in erased or (
            identity_hash(slug, row["Nom"], row["Prénom"], row["Date de naissance"]) in erased
        )

    def match_parcours(self, row, existing):
        ext = row.get("ID parcours")
        if ext:
            for p in existing:
                if p["external_id"] == ext:
                    return p
        for p in existing:
            if p["entry_date"] == row["Date d’entrée"] and (not ext or not p["external_id"]):
                return p
        return None

    def parcours_values(self, row, existing, periods):
        entry, exit_date = row["Date d’entrée"], row.get("Date de sortie")
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
        self.status_values(wanted, existing, exit_date)
        return wanted

    def status_values(self, wanted, existing, exit_date):
        if exit_date:
            wanted["status"] = Status.EXITED
        elif existing is None or existing["status"] == Status.EXITED:
            wanted["status"] = Status.ACTIVE
        if exit_date and (
            existing is None or existing["exit_date"] != exit_date or existing["status"] != Status.EXITED
        ):
            # Exits in an extract are final: their 6-month follow-up was validated in the tool they come from.
            wanted.update(exit_validated_at=self.now, exit_validated_by_id=self.by_id)
        elif not exit_date and existing and existing["exit_date"]:
            wanted.update(exit_validated_at=None, exit_validated_by_id=None)

    # Write ------------------------------------------------------------------------------------------------------

    def write(self, plan):
        self.create_new_referents(plan.rows)
        new_ids = self.write_rows(Participant, plan.new_people, plan.person_updates)
        ids = {p["external_id"]: pk for p, pk in zip(plan.new_people, new_ids, strict=True)}
        ids.update({ext: p["id"] for ext, p in plan.people.items()})
        parcours = [
            {**wanted, "participant_id": ids[row["ID participant"]], "plie_id": self.plie.pk}
            for row, wanted in plan.new_parcours
        ]
        parcours_ids = self.write_rows(Parcours, parcours, plan.parcours_updates)
        new = [(pk, row["_referent"], row) for (row, _), pk in zip(plan.new_parcours, parcours_ids, strict=True)]
        assignments = [
            {
                "parcours_id": parcours_id,
                "referent_id": referent,
                "start": row["Date d’entrée"],
                "end": row.get("Date de sortie"),
                "reason": AssignmentReason.INTEGRATION,
                "assigned_by_id": self.by_id,
            }
            for parcours_id, referent, row in new + plan.new_assignments
        ]
        self.write_rows(ReferentAssignment, assignments, plan.assignment_updates)

    def after_sync(self, plan):
        """The situation upon leaving given on a row is that of the participations that ended on its exit date."""
        wanted = {
            (row["ID participant"], row["Date de sortie"]): row["_exit_situation"]
            for row in plan.rows
            if not row.get("_failed") and any(row.get("_exit_situation", {}).values())
        }
        if not wanted:
            return 0
        ids = participant_index(self.plie)
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
        return len(changed)


UNSETTLED = object()  # equal to nothing: the row goes through `check`
STORED_PARCOURS = ["entry_date", "exit_date", "exit_reason_id", "prescriber", "prescriber_detail", "status"]


def same_parcours(wanted, stored):
    """Whether `plan` would leave the stored parcours (and its referent assignment) as they are."""
    entry, exit_date, reason_id, prescriber, referent_id = wanted
    stored_entry, stored_exit, stored_reason, stored_prescriber, detail, status, assignments = stored
    if (entry, exit_date, reason_id) != (stored_entry, stored_exit, stored_reason):
        return False
    if prescriber and prescriber != (stored_prescriber, detail):
        return False
    if (status == Status.EXITED) != (exit_date is not None):
        return False
    return len(assignments) > 1 or assignments == [(referent_id, entry, exit_date)]


def with_folded_name(values, current=None):
    """The search column follows the names: rows written by COPY or bulk update bypass Participant.save()."""
    if {"last_name", "first_name"} & values.keys():
        names = {**(current or {}), **values}
        values["folded_name"] = folded_name(names["last_name"], names["first_name"])
    return values
