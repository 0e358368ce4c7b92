"""Referents and their ETP periods on the PLIE's fiches; their structures made on the way."""

from collections import defaultdict
from types import SimpleNamespace

from operations.models import Operation, Referent, ReferentPeriod, Structure, StructureKind
from territories.models import Zone

from ..columns import Kind
from ..results import CREATE
from ..values import normalize
from .base import Importer, overlaps


class ReferentsImporter(Importer):
    kind = Kind.REFERENTS

    def label(self, row):
        return f"{row.get('Référent') or '?'} sur {row.get('Opération') or '?'}"

    def load(self, rows):
        known = SimpleNamespace(codes={}, fiches=defaultdict(list), zones={}, periods=defaultdict(list))
        # Fiches are annual: a code names the fiche in force on the period's start.
        for pk, code, start, end in Operation.objects.filter(plie=self.plie).values_list("id", "code", "start", "end"):
            known.codes[pk] = code
            known.fiches[normalize(code)].append((start, end, pk))
        for pk, name, number in Zone.objects.filter(plie=self.plie).values_list("id", "name", "number"):
            known.zones[normalize(name)] = pk
            if number is not None:
                known.zones.setdefault(str(number), pk)
        known.structures = {
            normalize(name): pk for pk, name in Structure.objects.filter(plie=self.plie).values_list("id", "name")
        }
        known.referents = {
            normalize(f"{r['first_name']} {r['last_name']}"): r
            for r in Referent.objects.filter(plie=self.plie).values(
                "id", "first_name", "last_name", "structure_id", "email"
            )
        }
        for p in ReferentPeriod.objects.filter(referent__plie=self.plie).values(
            "id", "referent_id", "operation_id", "start", "end", "etp", "zone_id"
        ):
            known.periods[(p["referent_id"], p["operation_id"])].append(p)
        return known

    def check_rows(self, rows, known):
        known.first_row_of = {}
        for row in rows:
            self.check_operation(row, known)
            row["_zone"] = known.zones.get(normalize(row.get("Zone") or ""))
            if row.get("Zone") and row["_zone"] is None:
                self.fail(row, "Zone", "zone inconnue dans ce PLIE (nom ou numéro de zone)")
            start, end = row.get("Date de début"), row.get("Date de fin")
            if start and end and end < start:
                self.fail(row, "Date de fin", "la fin de la période ne peut pas précéder son début")
            name = row.get("Référent")
            if name and len(name.split()) < 2:
                self.fail(row, "Référent", "indiquez le prénom et le nom, par exemple « Marie Dupont »")
            self.check_same_referent(row, known.first_row_of)
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

    def check_operation(self, row, known):
        candidates = known.fiches.get(normalize(row.get("Opération") or ""), [])
        start = row.get("Date de début")
        row["_operation"] = next(
            (pk for first, last, pk in candidates if start is None or first <= start <= last),
            None,
        )
        if row.get("Opération") and not candidates:
            codes = ", ".join(sorted(set(known.codes.values())))
            self.fail(row, "Opération", f"opération inconnue dans ce PLIE ; codes possibles : {codes}")
        elif row.get("Opération") and row["_operation"] is None:
            years = ", ".join(f"du {a:%d/%m/%Y} au {b:%d/%m/%Y}" for a, b, _ in sorted(candidates))
            self.fail(row, "Date de début", f"aucune fiche de ce code ne couvre cette date ; fiches : {years}")

    def check_same_referent(self, row, first_row_of):
        """A referent's structure and email are repeated on each of their periods: they must agree with the first."""
        key = normalize(row.get("Référent") or "")
        if key in first_row_of:
            first = first_row_of[key]
            for column in ("Structure", "Email"):
                if column in self.present and normalize(row.get(column) or "") != normalize(first.get(column) or ""):
                    self.fail(row, column, f"diffère de la ligne {first['_line']} pour le même référent")
        elif key:
            first_row_of[key] = row

    def plan(self, rows, known):
        plan = SimpleNamespace(
            structures=known.structures,
            referents=known.referents,
            new_structures={},
            new_referents={},
            referent_updates={},
            new_periods=[],
            period_updates={},
        )
        for key, row in known.first_row_of.items():
            if not row.get("_failed"):
                self.plan_referent(key, row, known, plan)
        self.plan_periods(rows, known, plan)
        return plan

    def plan_referent(self, key, row, known, plan):
        structure_key = normalize(row["Structure"])
        if structure_key not in known.structures and structure_key not in plan.new_structures:
            plan.new_structures[structure_key] = {
                "plie_id": self.plie.pk,
                "name": row["Structure"],
                "kind": StructureKind.ASSOCIATION,
            }
        current = known.referents.get(key)
        if current is None:
            first, _, last = row["Référent"].strip().partition(" ")
            plan.new_referents[key] = {
                "plie_id": self.plie.pk,
                "first_name": first,
                "last_name": last.strip(),
                "email": row.get("Email") or "",
                "_structure": structure_key,
            }
            return
        wanted = {"structure_id": known.structures.get(structure_key)}
        if row.get("Email"):
            wanted["email"] = row["Email"]
        changes = self.diff(current, wanted)
        if changes or structure_key in plan.new_structures:
            plan.referent_updates[current["id"]] = (changes, structure_key)

    def plan_periods(self, rows, known, plan):
        intervals, matched = defaultdict(list), set()
        for row in rows:
            if row.get("_failed"):
                continue
            key = normalize(row["Référent"])
            current = known.referents.get(key)
            own = known.periods[(current["id"], row["_operation"])] if current else []
            existing = next((p for p in own if p["start"] == row["Date de début"]), None)
            wanted = {"etp": row["ETP"], "end": row.get("Date de fin")}
            if "Zone" in self.present:
                wanted["zone_id"] = row["_zone"]
            if existing is None:
                plan.new_periods.append((row, wanted))
                row["_status"] = CREATE
            else:
                matched.add(existing["id"])
                changes = self.diff(existing, wanted)
                if changes:
                    plan.period_updates[existing["id"]] = changes
                row["_status"] = self.status_of(changes or (current["id"] in plan.referent_updates))
            if current is None:
                row["_status"] = CREATE
            intervals[(key, row["_operation"])].append((row["Date de début"], row.get("Date de fin"), row))
        self.check_overlaps(intervals, known, matched)

    def check_overlaps(self, intervals, known, matched):
        for (key, operation_id), items in intervals.items():
            current = known.referents.get(key)
            if current:
                items += [
                    (p["start"], p["end"], None)
                    for p in known.periods[(current["id"], operation_id)]
                    if p["id"] not in matched
                ]
            for _, _, row1, row2 in overlaps(items):
                other = f"la ligne {row1['_line']}" if row1 and row2 else "une période déjà enregistrée"
                self.fail(
                    row2 or row1,
                    "Date de début",
                    f"cette période chevauche {other} du même référent sur cette opération",
                )

    def write(self, plan):
        structures = dict(plan.structures)
        keys = list(plan.new_structures)
        ids = self.write_rows(Structure, [plan.new_structures[k] for k in keys], {})
        structures.update(zip(keys, ids, strict=True))
        keys = list(plan.new_referents)
        creates = []
        for key in keys:
            values_ = dict(plan.new_referents[key])
            values_["structure_id"] = structures[values_.pop("_structure")]
            creates.append(values_)
        ids = self.write_rows(Referent, creates, {})
        referent_ids = {key: r["id"] for key, r in plan.referents.items()}
        referent_ids.update(zip(keys, ids, strict=True))
        updates = {
            pk: {**changes, "structure_id": structures[key]} for pk, (changes, key) in plan.referent_updates.items()
        }
        self.write_rows(Referent, [], updates)
        periods = [
            {
                **wanted,
                "referent_id": referent_ids[normalize(row["Référent"])],
                "operation_id": row["_operation"],
                "start": row["Date de début"],
            }
            for row, wanted in plan.new_periods
        ]
        self.write_rows(ReferentPeriod, periods, plan.period_updates)
