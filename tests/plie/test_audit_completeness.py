"""Every model that holds personal data keeps its history, and a write leaves exactly one record with its author."""

import datetime

import pytest
from django.apps import apps

from participants import services
from participants.models import Participant
from tests.factories.participants import ParticipantFactory

pytestmark = pytest.mark.django_db

# Models whose rows say something about a person (participants, prospects, referents).
PERSONAL = {
    "participants.Participant", "participants.Parcours", "participants.CommissionDecision",
    "participants.ReferentAssignment", "participants.Entretien", "participants.Document", "participants.Participation",
    "steps.Step", "steps.Attendance", "operations.Referent", "operations.ReferentPeriod",
    "applications.Application", "agenda.Appointment",
}  # fmt: skip
# Models that refer to a participant but are themselves the journal, or hold no personal data.
NOT_PERSONAL = {"participants.FileAccess", "reporting.BilanRequest"}


def test_every_model_pointing_at_a_participant_is_listed():
    participant = apps.get_model("participants", "Participant")
    pointing = {
        model._meta.label
        for model in apps.get_models()
        if not model.__name__.startswith("Historical")
        and any(getattr(f, "related_model", None) is participant for f in model._meta.get_fields() if f.concrete)
    }
    assert pointing <= PERSONAL | NOT_PERSONAL, pointing - PERSONAL - NOT_PERSONAL


@pytest.mark.parametrize("label", sorted(PERSONAL))
def test_each_personal_model_keeps_a_history(label):
    assert hasattr(apps.get_model(label), "history"), f"{label} n’est pas historisé"


def test_a_write_leaves_exactly_one_record_with_its_author(plie, animation):
    participant = ParticipantFactory(plie=plie)
    parcours = services.prescribe(
        participant=participant, prescriber="ccas", prescription_date=datetime.date(2023, 1, 5), by=animation
    )
    assert [(r.history_type, r.history_user) for r in parcours.history.all()] == [("+", animation)]
    services.record_reception(
        parcours=parcours, date=datetime.date(2023, 1, 10), kind="entretien_accueil", by=animation
    )
    assert [(r.history_type, r.history_user) for r in parcours.history.all()] == [("~", animation), ("+", animation)]
    assert Participant.history.filter(id=participant.pk).count() == 1


def test_the_erasure_journal_holds_no_personal_field_and_points_at_nobody():
    """It must outlive the people it names: only keyed hashes of who they were, never a link or a name."""
    erasure_record = apps.get_model("participants", "ErasureRecord")
    fields = {f.name for f in erasure_record._meta.get_fields() if f.concrete}
    assert fields == {
        "id", "uuid", "plie", "kind", "identity_hash", "external_id_hash", "recorded_at", "reason", "by",
        "documents_deleted",
    }  # fmt: skip
