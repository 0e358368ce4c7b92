"""Pre-filled documents to print and sign: the contrat d'engagement, the FSE+ entry questionnaire, a summary of the
file. Reached like the file itself (never by the copil), and each printing is journalled."""

import datetime

from django.db.models import Prefetch
from django.http import HttpResponse
from django.utils import timezone

from agenda.models import Appointment
from participants.models import (
    CRITERIA,
    QUALIFICATION_LEVELS,
    Answer,
    CommissionOutcome,
    EmploymentStatus,
    Nationality,
    Participant,
    ReferentAssignment,
    Sex,
    record_access,
)
from plie.access import get_for_user
from plie.pdf import render_pdf
from steps.models import Step


def _participant(request, pk):
    return get_for_user(
        Participant.objects.select_related("plie", "commune").prefetch_related(
            Prefetch(
                "parcours__assignments",
                ReferentAssignment.objects.filter(end__isnull=True).select_related("referent__structure"),
                to_attr="current_assignments",
            ),
            "parcours__operation",
            "parcours__decisions",
        ),
        request.user,
        pk=pk,
    )


def current_parcours(participant):
    """The parcours the paper is about: the most recent one."""
    return max(participant.parcours.all(), key=lambda p: (p.prescription_date, p.pk), default=None)


def signature_places(parcours, referent):
    """The three places where the contrat d'engagement is signed, in order. A template that prints recorded signatures
    (their date, who signed) fills these places."""
    participant = parcours.participant if parcours else None
    return [
        {"role": "participant", "who": "La personne accompagnée", "name": str(participant) if participant else ""},
        {"role": "referent", "who": "Le référent de parcours", "name": referent.full_name if referent else ""},
        {"role": "direction", "who": "La direction du PLIE", "name": ""},
    ]


def _pdf_response(request, participant, what, template, context, filename):
    record_access(participant=participant, user=request.user, what=what)
    pdf = render_pdf(template, {"plie": participant.plie, "participant": participant, **context})
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}-{participant.pk}.pdf"'
    return response


def _referent(parcours):
    if parcours is None or not parcours.current_assignments:
        return None
    return parcours.current_assignments[0].referent


def contract(request, pk):
    participant = _participant(request, pk)
    parcours = current_parcours(participant)
    referent = _referent(parcours)
    admission = None
    if parcours is not None:
        admission = max(
            (d for d in parcours.decisions.all() if d.outcome == CommissionOutcome.ACCEPTED),
            key=lambda d: d.date,
            default=None,
        )
    return _pdf_response(
        request,
        participant,
        "impression contrat",
        "printouts/contract.html",
        {
            "parcours": parcours,
            "referent": referent,
            "admission": admission,
            "signatures": signature_places(parcours, referent),
        },
        "contrat-engagement",
    )


def _choices(choices, value):
    return [{"label": label, "checked": key == value} for key, label in choices]


def _two_columns(items):
    """The boxes of a question down the first column, then the second: two grid cells. With CSS columns, WeasyPrint
    laid each list out again and again to balance them: a third of the questionnaire's time."""
    half = (len(items) + 1) // 2
    return [items[:half], items[half:]]


def questionnaire(request, pk):
    participant = _participant(request, pk)
    p = participant
    sections = [
        ("Sexe", _choices(Sex.choices, p.sex)),
        ("Situation à l’entrée", _choices(EmploymentStatus.choices, p.employment_status)),
        (
            "Plus haut niveau de formation atteint",
            [
                *_choices(QUALIFICATION_LEVELS, p.qualification_level),
                {"label": "Ne souhaite pas répondre", "checked": p.qualification_declined},
            ],
        ),
        ("Situation de handicap", _choices(Answer.choices, p.disability)),
        ("Nationalité", _choices(Nationality.choices, p.nationality)),
        ("Au moins un parent né à l’étranger", _choices(Answer.choices, p.foreign_background)),
        ("Sans domicile ou touché(e) par l’exclusion du logement", _choices(Answer.choices, p.homeless)),
    ]
    sections.append(
        ("Critères d’éligibilité au PLIE", [{"label": label, "checked": getattr(p, f)} for f, label in CRITERIA])
    )
    parcours = current_parcours(participant)
    return _pdf_response(
        request,
        participant,
        "impression questionnaire",
        "printouts/questionnaire.html",
        {
            "sections": [(title, _two_columns(choices)) for title, choices in sections],
            "parcours": parcours,
            "referent": _referent(parcours),
        },
        "questionnaire-fse",
    )


def summary(request, pk):
    participant = _participant(request, pk)
    parcours_list = sorted(participant.parcours.all(), key=lambda p: (p.prescription_date, p.pk), reverse=True)
    for parcours in parcours_list:
        parcours.referent_now = _referent(parcours)
    today = timezone.localdate()
    return _pdf_response(
        request,
        participant,
        "impression synthèse",
        "printouts/summary.html",
        {
            "parcours_list": parcours_list,
            "entretiens": participant.entretiens.select_related("referent").order_by("-date")[:30],
            "steps": Step.objects.filter(parcours__participant=participant)
            .select_related("step_type")
            .order_by("-start"),
            "documents": participant.documents.order_by("kind", "-uploaded_at"),
            "appointments": Appointment.objects.filter(participant=participant, status="planned")
            .between(today, today + datetime.timedelta(days=366))
            .select_related("referent")[:10],
            "today": today,
        },
        "synthese",
    )
