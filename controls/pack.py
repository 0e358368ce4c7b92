"""The ZIP the controller receives: an index (PDF/A) that lists, per sampled participant, each required proof with
its state and date; the proofs themselves; the fiche's participants list; the bilan; the bilan financier; the staff
time proofs and the expense proofs. What is missing is written as missing in the index, never left out."""

import csv
import io
import mimetypes
import zipfile
from dataclasses import dataclass, field

from dateutil.relativedelta import relativedelta
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.text import slugify

from applications.finance import financial_bilan
from applications.models import Expense
from operations.models import ReferentPeriod, StaffTimeProof
from participants.models import Document, DocumentKind, Entretien, Parcours
from plie.models import Role
from reporting.pdf import render_bilan_pdf, write_archival_pdf

from . import completeness
from .models import SampleMode

PRESENT, MISSING, NOT_APPLICABLE = "présent", "manquant", "sans objet"

# Which documents stand behind each item of completeness.ITEMS.
ITEM_KINDS = {
    "identity": [DocumentKind.IDENTITY],
    "questionnaire_signed": [DocumentKind.QUESTIONNAIRE],
    "eligibility": [DocumentKind.ELIGIBILITY, DocumentKind.WAIVER],
    "contract": [DocumentKind.CONTRACT],
    "fse_notice": [DocumentKind.FSE_NOTICE],
    "attendance": [DocumentKind.ATTENDANCE],
    "exit_proof": completeness.EXIT_PROOF_KINDS,
}


@dataclass
class Entry:
    label: str
    state: str
    dates: str = ""
    files: list = field(default_factory=list)


def _extension(name, content_type):
    return (name.rsplit(".", 1)[-1].lower() if "." in name else "") or (mimetypes.guess_extension(content_type) or "")[
        1:
    ]


def _day(day):
    return f"{day:%d/%m/%Y}" if day else ""


def _participant_entries(row, documents, parcours, entretiens, folder, add_file):
    """The index lines of one participant, in the order of completeness.ITEMS."""
    entries = []
    by_item = {name: [] for name in ITEM_KINDS}
    for document in documents:
        for name, kinds in ITEM_KINDS.items():
            if document.kind in kinds or (name == "eligibility" and document.proof_type_id):
                by_item[name].append(document)
    for name, label in completeness.ITEMS:
        present = getattr(row, f"item_{name}")
        state = PRESENT if present else MISSING
        if name == "exit_proof" and not row.exit_needed:
            state = NOT_APPLICABLE
        dates, files = [], []
        for document in by_item.get(name, []):
            what = document.proof_type.label if document.proof_type_id else document.get_kind_display()
            dates.append(
                f"{what} : {_day(document.attests_on) or 'non datée'} (déposée le {_day(document.uploaded_at)})"
            )
            files.append(add_file(document, folder))
        if name == "questionnaire":
            dates.append(
                f"rempli le {_day(row.participant.questionnaire_date)}" if row.participant.questionnaire_date else ""
            )
        if name == "contract" and parcours:
            dates += [
                f"signé par {who} : {_day(getattr(parcours, f)) or 'signature non enregistrée'}"
                for f, who in Parcours.CONTRACT_SIGNATURES
            ]
        if name == "fse_notice" and parcours:
            dates.append(
                f"remise le {_day(parcours.fse_notice_on)}" if parcours.fse_notice_on else "remise non enregistrée"
            )
        if name == "eligibility" and parcours and parcours.eligibility_basis:
            dates.append(f"vérifiée à l’intégration ({parcours.eligibility_basis})")
        if name == "attendance":
            signed = sum(1 for e in entretiens if e.signed)
            dates.append(f"{len(entretiens)} entretien(s) sur la période, {signed} émargé(s)")
            dates += [f"non émargé : entretien du {_day(e.date)}" for e in entretiens if not e.signed]
        entries.append(Entry(label=label, state=state, dates=" ; ".join(d for d in dates if d), files=files))
    return entries


def _months(first, last):
    month = first.replace(day=1)
    while month <= last:
        yield month
        month += relativedelta(months=1)


def staff_time(operation, today):
    """Per ETP period counting for the fiche, each month up to today: its time sheet or pay slip, or missing."""
    periods = (
        ReferentPeriod.objects.counting_for(operation)
        .select_related("referent")
        .order_by("referent__last_name", "start")
    )
    proofs = {}
    for proof in StaffTimeProof.objects.filter(period__in=periods).order_by("month", "kind"):
        proofs.setdefault((proof.period_id, proof.month), []).append(proof)
    rows = []
    for period in periods:
        first, last = period.days_within(operation)
        for month in _months(first, min(last, today)):
            rows.append({"period": period, "month": month, "proofs": proofs.get((period.pk, month), [])})
    return rows


def render_index(context):
    html = render_to_string("controls/index_pdf.html", context)
    return write_archival_pdf(html, title=context["title"])[0]


def render_financial(operation, bilan, today):
    html = render_to_string(
        "controls/financial_pdf.html", {"operation": operation, "bilan": bilan, "generated_at": timezone.localtime()}
    )
    return write_archival_pdf(
        html, title=f"Bilan financier {operation.code} {operation.years} — {operation.plie.name}"
    )[0]


def participants_csv(rows, today):
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow(
        ["Nom", "Prénom", "Date de naissance", "Entrée dans l’opération", "Sortie de l’opération", "Référent"]
    )
    for row in rows:
        p = row.participant
        exit_date = row.exit_date(today)
        writer.writerow([p.last_name, p.first_name, _day(p.birth_date), _day(row.entry_date), _day(exit_date),
                         str(row.referent or "")])  # fmt: skip
    return ("\ufeff" + out.getvalue()).encode("utf-8")


class _Archive:
    """The ZIP being written, and the names already in it (a name is never written twice)."""

    def __init__(self, archive):
        self.archive, self.names = archive, set()

    def write(self, name, content):
        self.archive.writestr(name, content)
        self.names.add(name)
        return name

    def copy(self, field_file, name):
        with field_file.open("rb") as handle:
            return self.write(name, handle.read())

    def add_document(self, document, folder):
        base = f"{folder}/{slugify(document.get_kind_display())}-{document.attests_on or document.uploaded_at.date()}"
        extension = _extension(document.original_name, document.content_type)
        name, n = f"{base}.{extension}", 1
        while name in self.names:
            n += 1
            name = f"{base}-{n}.{extension}"
        return self.copy(document.file, name)


def _sample_files(participant_ids):
    """Documents, latest entered parcours and entretiens of the sampled people, in three queries."""
    documents = {}
    for document in (
        Document.objects.filter(participant_id__in=participant_ids)
        .select_related("proof_type")
        .order_by("uploaded_at", "pk")
    ):
        documents.setdefault(document.participant_id, []).append(document)
    parcours_of = {}
    for parcours in Parcours.objects.filter(participant_id__in=participant_ids, entry_date__isnull=False).order_by(
        "entry_date"
    ):
        parcours_of[parcours.participant_id] = parcours  # the latest entry
    entretiens = list(Entretien.objects.filter(participant_id__in=participant_ids).order_by("date"))
    return documents, parcours_of, entretiens


def _people(zipped, sampled, order):
    documents, parcours_of, entretiens = _sample_files([sampled[pk].participant_id for pk in order])
    people = []
    for number, pk in enumerate(order, start=1):
        row = sampled[pk]
        participant = row.participant
        folder = f"justificatifs/{number:02d}-{slugify(participant.last_name)}-{slugify(participant.first_name)}"
        mine = [
            e for e in entretiens if e.participant_id == participant.pk and row.entry_date <= e.date <= row.last_day
        ]
        entries = _participant_entries(
            row, documents.get(participant.pk, []), parcours_of.get(participant.pk), mine, folder, zipped.add_document
        )
        lacking = sum(1 for entry in entries if entry.state == MISSING)
        people.append(
            {"number": number, "row": row, "entries": entries, "score": completeness.score(row), "missing": lacking}
        )
    return people


def _staff(zipped, operation, today):
    staff = staff_time(operation, today)
    for line in staff:
        referent = line["period"].referent
        folder = f"temps-des-referents/{slugify(referent.last_name)}-{slugify(referent.first_name)}"
        line["files"] = [
            zipped.copy(
                proof.file,
                f"{folder}/{proof.month:%Y-%m}-{slugify(proof.get_kind_display())}."
                f"{_extension(proof.original_name, proof.content_type)}",
            )
            for proof in line["proofs"]
        ]
    return staff


def _expenses(zipped, operation):
    expenses = list(Expense.objects.filter(application__operation=operation).select_related("application__structure"))
    for expense in expenses:
        expense.zip_name = ""
        if expense.proof:
            extension = expense.proof.name.rsplit(".", 1)[-1] if "." in expense.proof.name else "pdf"
            name = f"depenses/{slugify(expense.application.structure.name)}/{expense.paid_on}-{expense.pk}.{extension}"
            expense.zip_name = zipped.copy(expense.proof, name)
    return expenses


def build_pack(pack, *, progress):
    """The ZIP's bytes and the number of missing pieces it lists."""
    operation, today = pack.operation, timezone.localdate()
    rows = list(completeness.annotated(operation, today))
    sampled = {row.pk: row for row in rows if row.pk in set(pack.sample)}
    order = [pk for pk in pack.sample if pk in sampled]
    progress(15)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        zipped = _Archive(archive)
        people = _people(zipped, sampled, order)
        missing = sum(person["missing"] for person in people)
        progress(45)
        staff, expenses = _staff(zipped, operation, today), _expenses(zipped, operation)
        staff_missing = sum(1 for line in staff if not line["proofs"])
        expenses_missing = sum(1 for expense in expenses if not expense.zip_name)
        progress(60)
        files = sorted(zipped.names)
        archive.writestr("liste-des-participants.csv", participants_csv(rows, today))
        bilan_pdf, _ = render_bilan_pdf(
            operation, operation.start, operation.end, pack.requested_by, with_annex=True, role=Role.ANIMATION
        )
        archive.writestr("bilan.pdf", bilan_pdf)
        progress(75)
        archive.writestr("bilan-financier.pdf", render_financial(operation, financial_bilan(operation), today))
        progress(85)
        context = {
            "title": f"Contrôle de service fait — {operation.code} {operation.years} — {operation.plie.name}",
            "operation": operation,
            "pack": pack,
            "random": pack.mode == SampleMode.RANDOM,
            "people": people,
            "missing": missing,
            "staff": staff,
            "staff_missing": staff_missing,
            "expenses": expenses,
            "expenses_missing": expenses_missing,
            "population": len(rows),
            "generated_at": timezone.localtime(),
            "contents": files + ["liste-des-participants.csv", "bilan.pdf", "bilan-financier.pdf"],
        }
        archive.writestr("index.pdf", render_index(context))
    return buffer.getvalue(), missing + staff_missing + expenses_missing
