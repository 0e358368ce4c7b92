"""Entretiens: attached to the parcours active on their date, their referent the one named or the one assigned then."""

from collections import defaultdict
from types import SimpleNamespace

from participants.models import Entretien, Modality, ReferentAssignment

from ..columns import Kind
from ..results import CREATE
from .base import UNKNOWN_PARTICIPANT, Importer, active_on, parcours_index, participant_index

ENTRETIEN_FIELDS = ["id", "external_id", "participant_id", "parcours_id", "referent_id", "date", "modality", "signed"]
NO_REFERENT = (
    "le participant n’a pas de parcours actif à cette date et aucun référent n’est indiqué : "
    "impossible d’attribuer l’entretien"
)


class EntretiensImporter(Importer):
    kind = Kind.ENTRETIENS
    moves_attribution = False

    def label(self, row):
        date = row.get("Date")
        return f"Entretien de {row.get('ID participant') or '?'} du {date:%d/%m/%Y}" if date else "Entretien"

    def load(self, rows):
        known = SimpleNamespace(
            participants=participant_index(self.plie),
            parcours_of=parcours_index(self.plie),
            referents=self.referents_by_name(),
            assignments=defaultdict(list),
        )
        for a in ReferentAssignment.objects.filter(parcours__plie=self.plie).values(
            "parcours_id", "referent_id", "start", "end"
        ):
            known.assignments[a["parcours_id"]].append(a)
        known.existing = {
            e["external_id"]: e
            for e in Entretien.objects.filter(participant__plie=self.plie)
            .exclude(external_id="")
            .values(*ENTRETIEN_FIELDS)
        }
        return known

    def check_rows(self, rows, known):
        self.duplicates(rows, lambda r: r.get("ID entretien"), "ID entretien", "identifiant d’entretien")
        for row in rows:
            row["_participant"] = participant_id = known.participants.get(row.get("ID participant"))
            if row.get("ID participant") and participant_id is None:
                self.fail(row, "ID participant", UNKNOWN_PARTICIPANT)
            referent = self.resolve_referent(row, known.referents)
            row["_parcours"], row["_referent"] = None, None
            if participant_id and row.get("Date"):
                self.attribute(row, known, referent)
            if referent is not None:
                row["_referent"] = referent

    def attribute(self, row, known, referent):
        """The parcours active on the day, and its referent then unless the row names one."""
        day, named = row["Date"], row.get("Référent")
        own = known.parcours_of.get(row["_participant"], [])
        parcours = active_on(own, day)
        if parcours is not None and referent is None and not named:
            row["_referent"] = next(
                (
                    a["referent_id"]
                    for a in known.assignments[parcours["id"]]
                    if a["start"] <= day and (a["end"] is None or day <= a["end"])
                ),
                None,
            )
        elif parcours is None and not named:
            self.fail(row, "Date", NO_REFERENT)
        elif parcours is None:
            before = [p for p in own if p["entry_date"] <= day]
            parcours = before[-1] if before else (own[0] if own else None)
            if parcours is None:
                self.fail(row, "ID participant", "ce participant n’a aucun parcours auquel rattacher l’entretien")
        row["_parcours"] = parcours

    def plan(self, rows, known):
        creates, updates = [], {}
        for row in rows:
            if row.get("_failed"):
                continue
            wanted = {
                "participant_id": row["_participant"],
                "parcours_id": row["_parcours"]["id"],
                "referent_id": row["_referent"],
                "date": row["Date"],
            }
            if "Modalité" in self.present:
                wanted["modality"] = row.get("Modalité") or Modality.IN_PERSON
            if "Émargement" in self.present:
                wanted["signed"] = bool(row.get("Émargement"))
            current = known.existing.get(row["ID entretien"])
            if current is None:
                creates.append({**wanted, "external_id": row["ID entretien"], "created_by_id": self.by_id})
                row["_status"] = CREATE
            else:
                changes = self.diff(current, wanted)
                if changes:
                    updates[current["id"]] = changes
                row["_status"] = self.status_of(changes)
        return SimpleNamespace(rows=rows, creates=creates, updates=updates)

    def write(self, plan):
        self.create_new_referents(plan.rows)
        self.write_rows(Entretien, plan.creates, plan.updates)
