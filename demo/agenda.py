"""The demo's agenda on today's date: this week's rendez-vous of every referent (those of the morning already held
or missed, one still to record), and the next commission session with the files waiting for it."""

import datetime
import random

from django.utils import timezone

from agenda.models import Appointment, AppointmentStatus, CommissionSession
from participants.models import OPEN_STATUSES, Modality, Parcours, ReferentAssignment, Status

SLOTS = [datetime.time(9, 0), datetime.time(10, 30), datetime.time(14, 0), datetime.time(15, 30)]
PURPOSES = [
    "Point sur la recherche d’emploi",
    "Préparer un entretien d’embauche",
    "Bilan de la PMSMP",
    "Mise à jour du CV",
    "Point de situation",
    "",
]
MEMBERS = "Direction du PLIE\nFrance Travail, agence d’Agen\nConseil départemental de Lot-et-Garonne\nCCAS d’Agen"


def create_demo_appointments(*, plie, by, seed=2026):
    """Returns the number of appointments created; none when the PLIE already has some."""
    if Appointment.objects.filter(participant__plie=plie).exists():
        return 0
    rng = random.Random(seed)
    zone = timezone.get_current_timezone()
    now = timezone.now()
    today = timezone.localdate()
    monday = today - datetime.timedelta(days=today.weekday())
    days = [monday + datetime.timedelta(days=offset) for offset in range(5)]
    assignments = (
        ReferentAssignment.objects.filter(
            end__isnull=True, parcours__status__in=OPEN_STATUSES, parcours__participant__plie=plie
        )
        .filter(parcours__participant__archived_at__isnull=True)
        .select_related("referent", "parcours__participant")
        .order_by("referent__last_name", "parcours__participant__last_name")
    )
    by_referent = {}
    for assignment in assignments:
        by_referent.setdefault(assignment.referent, []).append(assignment.parcours)
    created = []
    for referent, parcours_list in by_referent.items():
        rng.shuffle(parcours_list)
        per_day = 3 if referent.user_id else 1
        people = iter(parcours_list)
        for day in days:
            for slot in rng.sample(SLOTS, per_day):
                parcours = next(people, None)
                if parcours is None:
                    break
                starts_at = datetime.datetime.combine(day, slot, tzinfo=zone)
                created.append(_appointment(rng, parcours, referent, starts_at, now=now, today=today, by=by))
    Appointment.objects.bulk_create(created)
    waiting = Parcours.objects.filter(participant__plie=plie, status__in=[Status.RECEIVED, Status.POSTPONED])
    next_tuesday = monday + datetime.timedelta(days=8)
    session = CommissionSession.objects.create(
        plie=plie, date=next_tuesday, place="Maison de l’emploi, salle du conseil", members=MEMBERS, created_by=by
    )
    session.parcours.set(waiting)
    return len(created)


def _appointment(rng, parcours, referent, starts_at, *, now, today, by):
    """One rendez-vous; those of the past days, and half of this morning's, already held or missed."""
    modality = rng.choices([Modality.IN_PERSON, Modality.PHONE, Modality.VIDEO], [6, 3, 1])[0]
    status = AppointmentStatus.PLANNED
    if starts_at < now - datetime.timedelta(hours=1) and (starts_at.date() < today or rng.random() < 0.5):
        status = rng.choices([AppointmentStatus.HELD, AppointmentStatus.NO_SHOW], [5, 1])[0]
    return Appointment(
        participant=parcours.participant,
        parcours=parcours,
        referent=referent,
        starts_at=starts_at,
        duration=rng.choice([30, 45, 60]),
        modality=modality,
        place={
            Modality.IN_PERSON: f"{referent.structure.name}, bureau de {referent.first_name}",
            Modality.PHONE: "Appel du référent",
            Modality.VIDEO: "Lien envoyé par e-mail",
        }[modality],
        purpose=rng.choice(PURPOSES),
        status=status,
        created_by=by,
    )
