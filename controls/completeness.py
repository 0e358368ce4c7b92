"""What the controller of the « contrôle de service fait » asks for each participant of a fiche, item by item, as
database annotations on the fiche's participations: the completeness page, its rates and the auditor's index all
read this one query, so a figure and the list behind it agree.

The fiches ask for a correction when the contact details of more than 35 % of the participants are incomplete."""

from decimal import Decimal

from django.db.models import BooleanField, Count, Exists, ExpressionWrapper, OuterRef, Q

from participants.models import Document, DocumentKind, Entretien, Parcours, Participation

CONTACT_THRESHOLD = Decimal("35")

ITEMS = [
    ("identity", "Pièce d’identité"),
    ("contact", "Coordonnées (téléphone ou e-mail, adresse et commune)"),
    ("questionnaire", "Questionnaire d’entrée FSE+ complet"),
    ("questionnaire_signed", "Questionnaire d’entrée FSE+ signé"),
    ("eligibility", "Preuve d’éligibilité"),
    ("contract", "Contrat d’engagement signé des trois parties"),
    ("fse_notice", "Notice d’information FSE+ remise"),
    ("attendance", "Émargements des entretiens"),
    ("exit_proof", "Justificatif de sortie"),
]
LABELS = dict(ITEMS)
EXIT_PROOF_KINDS = [DocumentKind.EMPLOYMENT_CONTRACT, DocumentKind.CERTIFICATE, DocumentKind.DIPLOMA]


def _document(*kinds, **extra):
    return Document.objects.filter(participant=OuterRef("participant"), kind__in=kinds, **extra)


def _parcours_in_operation():
    """The person's parcours that meet the participation's days."""
    return Parcours.objects.filter(participant=OuterRef("participant"), entry_date__lte=OuterRef("last_day")).filter(
        Q(exit_date__isnull=True) | Q(exit_date__gte=OuterRef("entry_date"))
    )


def annotated(operation, today):
    """The fiche's participations, each with one boolean per item (`exit_needed` says whether `exit_proof` counts)."""
    entretiens = Entretien.objects.filter(
        participant=OuterRef("participant"), date__range=(OuterRef("entry_date"), OuterRef("last_day"))
    )
    questionnaire = (
        Q(participant__questionnaire_date__isnull=False)
        & ~Q(participant__employment_status="")
        & (Q(participant__qualification_level__isnull=False) | Q(participant__qualification_declined=True))
        & ~Q(participant__disability="")
        & ~Q(participant__nationality="")
        & ~Q(participant__foreign_background="")
        & ~Q(participant__homeless="")
    )
    contact = (
        (~Q(participant__phone="") | ~Q(participant__email=""))
        & ~Q(participant__address="")
        & Q(participant__commune__isnull=False)
    )
    exited = _parcours_in_operation().filter(exit_date__lte=OuterRef("last_day"), exit_date__lt=today)
    return (
        Participation.objects.filter(operation=operation)
        .select_related("participant", "referent")
        .annotate(
            item_identity=Exists(_document(DocumentKind.IDENTITY)),
            item_contact=ExpressionWrapper(contact, output_field=BooleanField()),
            item_questionnaire=ExpressionWrapper(questionnaire, output_field=BooleanField()),
            item_questionnaire_signed=Exists(_document(DocumentKind.QUESTIONNAIRE)),
            item_eligibility=Exists(_parcours_in_operation().exclude(eligibility_basis=""))
            | Exists(_document(DocumentKind.ELIGIBILITY, DocumentKind.WAIVER))
            | Exists(Document.objects.filter(participant=OuterRef("participant"), proof_type__isnull=False)),
            item_contract=Exists(
                _parcours_in_operation().filter(
                    contract_signed_by_participant_on__isnull=False,
                    contract_signed_by_referent_on__isnull=False,
                    contract_signed_by_direction_on__isnull=False,
                )
            )
            & Exists(_document(DocumentKind.CONTRACT)),
            item_fse_notice=Exists(_parcours_in_operation().filter(fse_notice_on__isnull=False)),
            item_attendance=Exists(entretiens) & ~Exists(entretiens.filter(signed=False)),
            exit_needed=Exists(exited),
            item_exit_proof=Exists(_document(*EXIT_PROOF_KINDS)),
        )
        .order_by("participant__last_name", "participant__first_name", "pk")
    )


def missing_items(row):
    """The labels of what this annotated participation lacks."""
    return [
        label for name, label in ITEMS if not getattr(row, f"item_{name}") and (name != "exit_proof" or row.exit_needed)
    ]


def score(row):
    """Share of the required items present, in % (the exit proof counts only once the person has left)."""
    required = len(ITEMS) - (0 if row.exit_needed else 1)
    return round(Decimal(100) * (required - len(missing_items(row))) / required)


def rate(part, whole):
    return (Decimal(100) * part / whole).quantize(Decimal("0.1")) if whole else Decimal(0)


def summary(operation, today):
    """Counts per item over the whole fiche, in one aggregate query."""
    rows = annotated(operation, today).order_by()
    counts = rows.aggregate(
        total=Count("pk"),
        exits=Count("pk", filter=Q(exit_needed=True)),
        **{
            f"missing_{name}": Count("pk", filter=Q(**{f"item_{name}": False}))
            for name, _ in ITEMS
            if name != "exit_proof"
        },
        missing_exit_proof=Count("pk", filter=Q(exit_needed=True, item_exit_proof=False)),
        complete=Count(
            "pk",
            filter=Q(**{f"item_{name}": True for name, _ in ITEMS if name != "exit_proof"})
            & (Q(exit_needed=False) | Q(item_exit_proof=True)),
        ),
    )
    total = counts["total"]
    items = []
    for name, label in ITEMS:
        whole = counts["exits"] if name == "exit_proof" else total
        missing = counts[f"missing_{name}"]
        items.append(
            {"name": name, "label": label, "required": whole, "missing": missing, "rate": rate(missing, whole)}
        )
    contact_rate = rate(counts["missing_contact"], total)
    return {
        "total": total,
        "complete": counts["complete"],
        "complete_rate": rate(counts["complete"], total),
        "items": items,
        "contact_incomplete_rate": contact_rate,
        "contact_threshold": CONTACT_THRESHOLD,
        "contact_over_threshold": contact_rate > CONTACT_THRESHOLD,
    }
