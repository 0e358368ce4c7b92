"""Steps (étapes): each attached to the participant's parcours named in the row, or to the one active on its start."""

from itertools import compress, repeat
from operator import eq, is_
from types import SimpleNamespace

from participants.models import Parcours
from steps.models import Step, StepStatus, StepType, Validation

from ..columns import COLUMNS, Kind
from ..results import CREATE
from ..values import normalize
from .base import UNKNOWN_PARTICIPANT, Importer, active_on, first_of, parcours_index, participant_index, repeated

# The format's columns in their order (imports/columns.py), unpacked by `unchanged`.
STEP_COLUMNS = [column.name for column in COLUMNS[Kind.STEPS]]
STEP_FIELDS = ["id", "external_id", "parcours_id", "step_type_id", "start", "end", "status", "validation", "partner"]


class StepsImporter(Importer):
    kind = Kind.STEPS
    moves_attribution = False

    def label(self, row):
        step_type = row.get("Type d’étape") or "?"
        return f"{step_type} de {row.get('ID participant') or '?'} ({row.get('ID étape') or '?'})"

    def step_types(self):
        """{normalized label: type id}, the active type first when an inactive one has the same label."""
        types = {}
        for pk, label in (
            StepType.objects.filter(category__plie=self.plie)
            .order_by("-is_active", "category__position", "pk")
            .values_list("id", "label")
        ):
            types.setdefault(normalize(label), pk)
        return types

    def load(self, rows):
        known = SimpleNamespace(types=self.step_types())
        known.participants = participant_index(self.plie)
        known.parcours_of = parcours_index(self.plie)
        known.existing = {
            s["external_id"]: s
            for s in Step.objects.filter(plie=self.plie).exclude(external_id="").values(*STEP_FIELDS)
        }
        return known

    def unchanged(self):
        """Rows whose step is stored with the values `plan` would want, compared column by column and pair by pair
        (map, zip: at C speed). The parcours is found as `parcours` finds it (the participant's parcours of that
        external id), the type as `check_rows` does. Steps and ids met twice, rows without a parcours id and rows
        that a check refuses are left to `check`, which reports them; a row equal to its stored step cannot end
        before it starts (a constraint of the table)."""
        if "ID parcours" not in self.present:
            return set()
        optional = [name in self.present for name in ("Statut", "Organisme", "Validée")]
        steps = list(
            Step.objects.filter(plie=self.plie)
            .exclude(external_id="")
            .order_by()
            .values_list(
                "external_id", "parcours_id", "step_type_id", "start", "end", "status", "partner", "validation"
            )
        )
        if not steps:
            return set()
        exts, *columns, status, partner, validation = zip(*steps, strict=True)
        validated = map(Validation.VALIDATED.__eq__, validation)
        stored = dict(
            zip(exts, zip(*columns, *compress((status, partner, validated), optional), strict=True), strict=True)
        )
        parcours = first_of(
            Parcours.objects.filter(plie=self.plie)
            .exclude(entry_date=None)
            .exclude(participant__external_id="")
            .order_by()
            .values_list("participant__external_id", "external_id", "id")
        )
        ids, who, parcours_ext, type_label, start, end, status, validated, partner = map(self.column, STEP_COLUMNS)
        types = self.step_types()
        types = {label: types.get(normalize(label)) for label in set(type_label) if label.__class__ is str}
        status = [value or StepStatus.IN_PROGRESS for value in status]
        wanted = [list(map(parcours.get, zip(who, parcours_ext, strict=True))), list(map(types.get, type_label))]
        optional_columns = (status, [(value or "")[:200] for value in partner], list(map(bool, validated)))
        equal = map(
            eq, zip(*wanted, start, end, *compress(optional_columns, optional), strict=True), map(stored.get, ids)
        )
        refused = {(s, True) for s in StepStatus.values if s not in (StepStatus.IN_PROGRESS, StepStatus.DONE)}
        every = range(len(ids))
        twice = repeated(exts) | repeated(ids)
        return set(compress(every, equal)).difference(
            self.invalid,
            compress(every, map(refused.__contains__, zip(status, validated, strict=True))),
            compress(every, map(is_, wanted[0], repeat(None))),
            compress(every, map(is_, wanted[1], repeat(None))),
            compress(every, map(twice.__contains__, ids)),
        )

    def check_rows(self, rows, known):
        self.duplicates(rows, lambda r: r.get("ID étape"), "ID étape", "identifiant d’étape")
        types = known.types
        for row in rows:
            participant_id = known.participants.get(row.get("ID participant"))
            if row.get("ID participant") and participant_id is None:
                self.fail(row, "ID participant", UNKNOWN_PARTICIPANT)
            row["_type"] = types.get(normalize(row.get("Type d’étape") or ""))
            if row.get("Type d’étape") and row["_type"] is None:
                self.fail(
                    row, "Type d’étape", "type d’étape inconnu de la nomenclature du PLIE (menu Étapes › Nomenclature)"
                )
            start, end = row.get("Date de début"), row.get("Date de fin")
            if start and end and end < start:
                self.fail(row, "Date de fin", "la fin de l’étape ne peut pas précéder son début")
            row["_step_status"] = status = row.get("Statut") or StepStatus.IN_PROGRESS
            if row.get("Validée") and status not in (StepStatus.IN_PROGRESS, StepStatus.DONE):
                column = "Statut" if row.get("Statut") else "Validée"
                self.fail(row, column, "une étape validée doit être « En cours » ou « Réalisée »")
            row["_parcours"] = self.parcours(row, known.parcours_of, participant_id, start)

    def parcours(self, row, parcours_of, participant_id, start):
        if not (participant_id and start):
            return None
        own = parcours_of.get(participant_id, [])
        if row.get("ID parcours"):
            parcours = next((p for p in own if p["external_id"] == row["ID parcours"]), None)
            if parcours is None:
                self.fail(row, "ID parcours", "parcours inconnu pour ce participant")
        else:
            parcours = active_on(own, start)
            if parcours is None:
                self.fail(row, "Date de début", "aucun parcours de ce participant ne couvre cette date")
        return parcours

    def plan(self, rows, known):
        creates, updates = [], {}
        for row in rows:
            if row.get("_failed"):
                continue
            current = known.existing.get(row["ID étape"])
            wanted = self.wanted(row, current)
            if current is None:
                wanted.setdefault("status", row["_step_status"])
                creates.append(
                    {**wanted, "plie_id": self.plie.pk, "external_id": row["ID étape"], "created_by_id": self.by_id}
                )
                row["_status"] = CREATE
            else:
                changes = self.diff(current, wanted)
                if changes:
                    updates[current["id"]] = changes
                row["_status"] = self.status_of(changes)
        return SimpleNamespace(creates=creates, updates=updates)

    def wanted(self, row, current):
        wanted = {
            "parcours_id": row["_parcours"]["id"],
            "step_type_id": row["_type"],
            "start": row["Date de début"],
            "end": row.get("Date de fin"),
        }
        if "Statut" in self.present:
            wanted["status"] = row["_step_status"]
        if "Organisme" in self.present:
            wanted["partner"] = (row.get("Organisme") or "")[:200]
        if "Validée" in self.present:
            validated = bool(row.get("Validée"))
            was_validated = current is not None and current["validation"] == Validation.VALIDATED
            if validated and not was_validated:
                wanted.update(validation=Validation.VALIDATED, decided_at=self.now, decided_by_id=self.by_id)
            elif not validated and was_validated:
                wanted.update(validation=Validation.DRAFT, decided_at=None, decided_by_id=None)
        return wanted

    def write(self, plan):
        self.write_rows(Step, plan.creates, plan.updates)
