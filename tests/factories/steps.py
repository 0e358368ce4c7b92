"""Steps, proofs and validation grids for the tests of the steps app, written through `steps.services`.

Dates follow tests/factories/participants.py: a parcours enters on 01/02/2023 (ENTRY_ON) on the fiche FO1 2023.
The reference grid (`make_grid`) is approved on 01/01/2023 and asks, for a PMSMP, a convention and a bilan."""

import datetime

from django.core.files.uploadedfile import SimpleUploadedFile

from participants.models import DocumentKind
from steps import services
from steps.models import Step, StepStatus, StepType

from .participants import PDF

D = datetime.date

GRID_APPROVED_ON = D(2023, 1, 1)
STEP_START = D(2023, 3, 1)
STEP_END = D(2023, 3, 15)
PMSMP_CRITERIA = "Immersion d’au moins 5 jours chez un employeur, convention signée par les trois parties."

CONVENTION_LABEL = DocumentKind.CONVENTION.label  # "Convention (PMSMP, stage, formation)"
BILAN_LABEL = DocumentKind.ASSESSMENT.label  # "Bilan (de stage, de PMSMP, d’action)"


def step_type(plie, label="PMSMP"):
    """A type of the PLIE's own nomenclature (every PLIE starts with the default one of steps/defaults.py)."""
    return StepType.objects.get(category__plie=plie, label=label)


def make_grid(plie, *, by, approved_on=GRID_APPROVED_ON, rules=None, notes="Grille initiale"):
    """A grid version; by default the PMSMP needs a convention and a bilan, a CDI needs a work contract."""
    if rules is None:
        rules = {
            "PMSMP": (PMSMP_CRITERIA, [DocumentKind.CONVENTION, DocumentKind.ASSESSMENT]),
            "CDI": ("", [DocumentKind.EMPLOYMENT_CONTRACT]),
        }
    return services.create_grid_version(
        plie=plie,
        approved_on=approved_on,
        notes=notes,
        rules={step_type(plie, label): (criteria, kinds) for label, (criteria, kinds) in rules.items()},
        by=by,
    )


def make_step(
    parcours,
    label="PMSMP",
    *,
    by,
    start=STEP_START,
    end=STEP_END,
    status=StepStatus.IN_PROGRESS,
    partner="Boulangerie du Bourg",
    **fields,
):
    step = Step(
        parcours=parcours,
        step_type=step_type(parcours.participant.plie, label),
        start=start,
        end=end,
        status=status,
        partner=partner,
        **fields,
    )
    return services.save_step(step=step, by=by)


def upload(name="convention.pdf", content=PDF):
    """A file as ProofForm hands it to the service once checked (`sniffed_type` set by check_upload)."""
    uploaded = SimpleUploadedFile(name, content, content_type="application/pdf")
    uploaded.sniffed_type = "application/pdf"
    return uploaded


def add_proof(step, kind=DocumentKind.CONVENTION, *, by):
    """Attaches a small PDF through the service: call `isolate_private_storage` first."""
    return services.attach_proof(step=step, uploaded=upload(f"{kind}.pdf"), kind=kind, by=by)


def submitted_step(parcours, *, by, kinds=(DocumentKind.CONVENTION, DocumentKind.ASSESSMENT), **fields):
    """A PMSMP in progress with the proofs `kinds`, submitted by `by`."""
    step = make_step(parcours, by=by, **fields)
    for kind in kinds:
        add_proof(step, kind, by=by)
    return services.submit_step(step=step, by=by)
