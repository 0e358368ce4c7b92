"""Participants and their parcours for the tests of the participants app.

Every date is fixed (the fiche FO1 of the `operation` fixture runs through 2023), so that alerts and the 6-month
follow-up are tested against a known `today`; the workflow itself goes through `participants.services`."""

import datetime

import factory
from django.core.files.uploadedfile import SimpleUploadedFile
from factory.django import DjangoModelFactory

from operations.models import ExitReason
from participants import services
from participants.models import (
    AssignmentReason,
    CommissionOutcome,
    ContractType,
    Document,
    DocumentKind,
    Entretien,
    Participant,
    Prescriber,
    ReceptionKind,
    Status,
)
from participants.participations import deferred
from plie.storage import WholeFileSystemStorage
from tests.factories import PlieFactory

PRESCRIBED_ON = datetime.date(2023, 1, 5)
RECEIVED_ON = datetime.date(2023, 1, 10)
COMMISSION_ON = datetime.date(2023, 1, 20)
ENTRY_ON = datetime.date(2023, 2, 1)
JOB_START = datetime.date(2023, 5, 2)
FOLLOW_UP_ENDS = datetime.date(2023, 11, 2)  # JOB_START + 6 months
EXIT_ON = datetime.date(2023, 6, 30)

PDF = b"%PDF-1.4\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 24
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 24

STAGES = ["prescribed", "received", "accepted", "active", "follow_up", "exit_pending", "exited"]


def pdf(name="contrat.pdf", content=PDF):
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def png(name="emargement.png"):
    return SimpleUploadedFile(name, PNG, content_type="image/png")


def jpeg(name="attestation.jpg"):
    return SimpleUploadedFile(name, JPEG, content_type="image/jpeg")


def fake_pdf(name="contrat.pdf"):
    """A text file that only pretends to be a PDF, by its name and its announced type."""
    return SimpleUploadedFile(name, b"Ceci n'est pas un PDF.\n", content_type="application/pdf")


def isolate_private_storage(monkeypatch, path):
    """Justificatifs written during a test land in `path` (pytest's tmp_path), never in var/private.

    `plie.storage.private_storage` is built from settings at import time, so override_settings cannot move
    it: the file field is given another storage for the test instead (monkeypatch puts the real one back)."""
    storage = WholeFileSystemStorage(location=path, base_url=None)
    monkeypatch.setattr(Document._meta.get_field("file"), "storage", storage)
    return storage


class ParticipantFactory(DjangoModelFactory):
    class Meta:
        model = Participant

    plie = factory.SubFactory(PlieFactory)
    last_name = factory.Sequence(lambda n: f"Martin{n}")
    first_name = "Camille"
    sex = "F"
    birth_date = datetime.date(1985, 4, 12)


def reason(plie, label="CDI"):
    """An exit reason of the PLIE's default nomenclature (positive: CDI; other: Abandon)."""
    return ExitReason.objects.get(plie=plie, label=label)


def profile(user):
    """The Referent profile linked to a user account (referent_a has one)."""
    return user.referent_profiles.get()


@deferred()  # the participations synced once, when the parcours has reached its stage
def make_parcours(
    participant,
    stage="active",
    *,
    by,
    operation=None,
    referent=None,
    prescribed_on=PRESCRIBED_ON,
    received_on=RECEIVED_ON,
    commission_on=COMMISSION_ON,
    entry_on=ENTRY_ON,
    job_start=JOB_START,
    exit_on=EXIT_ON,
    exit_label="CDI",
    validated_on=FOLLOW_UP_ENDS,
):
    """A parcours taken through the services up to `stage` (one of STAGES, or "refused" / "postponed")."""
    parcours = services.prescribe(
        participant=participant, prescriber=Prescriber.FRANCE_TRAVAIL, prescription_date=prescribed_on, by=by
    )
    if stage == "prescribed":
        return parcours
    services.record_reception(parcours=parcours, date=received_on, kind=ReceptionKind.INFO_SESSION, by=by)
    if stage == "received":
        return parcours
    if stage in ("refused", "postponed"):
        services.decide_admission(
            parcours=parcours, date=commission_on, outcome=stage, reason="Projet à préciser", by=by
        )
        return parcours
    services.decide_admission(
        parcours=parcours, date=commission_on, outcome=CommissionOutcome.ACCEPTED, reason="", by=by
    )
    if stage == "accepted":
        return parcours
    services.integrate(parcours=parcours, entry_date=entry_on, operation=operation, referent=referent, by=by)
    if stage == "active":
        return parcours
    if stage in ("follow_up", "exit_pending", "exited"):
        services.start_employment_follow_up(
            parcours=parcours, job_start=job_start, contract_type=ContractType.CDI, by=by
        )
    if stage == "follow_up":
        return parcours
    services.record_exit(parcours=parcours, exit_date=exit_on, reason=reason(participant.plie, exit_label), by=by)
    if stage == "exited" and parcours.status == Status.EXIT_PENDING:
        services.validate_exit(parcours=parcours, by=by, today=validated_on)
    return parcours


def reassign(parcours, referent, on, by):
    return services.assign_referent(parcours=parcours, referent=referent, on=on, reason=AssignmentReason.OTHER, by=by)


def add_entretien(parcours, day, **fields):
    return Entretien.objects.create(participant=parcours.participant, parcours=parcours, date=day, **fields)


def add_document(parcours, kind=DocumentKind.CONTRACT, *, by, name="document.pdf", entretien=None, stored=None):
    """A Document row; with `stored=None` no file is written (enough for alerts and query counts)."""
    return Document.objects.create(
        participant=parcours.participant,
        parcours=parcours,
        entretien=entretien,
        kind=kind,
        file=stored or f"{parcours.participant.plie_id}/{parcours.participant_id}/absent",
        original_name=name,
        content_type="application/pdf",
        size=len(PDF),
        uploaded_by=by,
    )
