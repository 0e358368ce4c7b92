"""Fictitious participants for the demo: people, parcours, entretiens and exits as a PLIE holds them at the end of 2023.

Every stage of a parcours goes through the workflow functions of `participants.services` (they check the dates and the
order of the stages); only the entretiens are written in bulk, for speed. Names come from Faker (fr_FR), seeded, so two
runs with the same seed on the same PLIE give the same people.
"""

import datetime
import random
import unicodedata
from collections import Counter

from dateutil.relativedelta import relativedelta
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from faker import Faker
from simple_history.utils import bulk_create_with_history

from operations.models import IDENTITY_PROOF, ExitCategory, ExitReason, ExitValidation, Operation, ReferentPeriod
from participants import services
from participants.models import (
    Answer,
    AssignmentReason,
    CommissionOutcome,
    ContractType,
    Document,
    DocumentKind,
    EmploymentStatus,
    Entretien,
    Modality,
    Nationality,
    Parcours,
    Participant,
    Participation,
    Prescriber,
    ReceptionKind,
    Sex,
    Status,
)
from participants.participations import deferred, ended_parcours, record_exit_situations, suggested_exit_situation
from territories.models import Zone

WINDOW_START = datetime.date(2022, 1, 1)
DEFAULT_TODAY = datetime.date(2023, 12, 31)  # the demo is an extract of the end of 2023
DAY = datetime.timedelta(days=1)

ENTRY_SUMMARY = (
    "Signature du contrat d’engagement ; présentation du fonctionnement du PLIE et des engagements réciproques."
)
EXIT_SUMMARY = "Entretien de sortie : bilan du parcours et des démarches réalisées."
SUMMARIES = [
    "Point sur la recherche d’emploi : candidatures envoyées depuis le dernier entretien et relances prévues.",
    "Mise à jour du CV et de la lettre de motivation ; ciblage des offres dans le secteur visé.",
    "Préparation d’un entretien d’embauche : présentation du parcours et questions fréquentes.",
    "Point sur le projet professionnel : métiers envisagés et enquêtes métier à réaliser.",
    "Orientation vers un atelier collectif de techniques de recherche d’emploi.",
    "Point sur la mobilité : permis de conduire et solutions de transport vers les zones d’emploi.",
    "Échange sur une formation qualifiante ; dossier d’inscription à compléter avant le prochain rendez-vous.",
    "Bilan de la période de mise en situation en milieu professionnel avec la personne.",
    "Point sur les démarches administratives en cours ; pièces à transmettre à France Travail.",
    "Création d’alertes sur les sites d’offres d’emploi et sélection de trois offres à étudier.",
    "Préparation de la participation au forum de l’emploi : liste des entreprises à rencontrer.",
]
FOLLOW_UP_SUMMARIES = [
    "Suivi dans l’emploi : point sur la prise de poste et l’organisation du travail.",
    "Suivi dans l’emploi : échange sur la fin de la période d’essai et les perspectives dans l’entreprise.",
    "Suivi dans l’emploi : point sur les horaires, les trajets et les relations avec l’équipe.",
]
POSTPONEMENT_REASONS = [
    "Dossier incomplet : justificatif d’éligibilité à fournir.",
    "Projet à préciser avant l’entrée en parcours ; nouvel entretien d’accueil prévu.",
    "Personne absente à la commission, dossier représenté à la suivante.",
]
REFUSAL_REASONS = [
    "Critères d’éligibilité non remplis.",
    "Personne déjà accompagnée par un autre dispositif d’accompagnement renforcé.",
    "Domicile hors du territoire du PLIE : orientation vers le PLIE compétent.",
]
OTHER_CRITERIA = [
    "Fin de droits à l’allocation chômage",
    "Reprise d’activité après un congé parental",
    "Sortie de détention",
    "Travailleur pauvre à temps partiel subi",
]
# Exit labels of the PLIE's nomenclature, with their weight; missing labels are skipped.
TRANSITION_EXITS = {"CDD de moins de 6 mois": 25, "Contrat aidé / IAE": 18}
OTHER_EXITS = {"Abandon": 30, "Déménagement": 14, "Santé": 10, "Réorientation": 14, "Autre": 5}
POSITIVE_EXITS = {
    ContractType.CDI: "CDI",
    ContractType.CDD: "CDD de 6 mois et plus",
    ContractType.INTERIM: "Intérim de 6 mois et plus",
    ContractType.ALTERNANCE: "Contrat en alternance",
    ContractType.BUSINESS: "Création d’entreprise",
    ContractType.TRAINING: "Formation qualifiante",
}
POSITIVE_CONTRACTS = {
    ContractType.CDI: 22,
    ContractType.CDD: 30,
    ContractType.INTERIM: 14,
    ContractType.ALTERNANCE: 8,
    ContractType.BUSINESS: 4,
    ContractType.TRAINING: 22,
}
PRESCRIBERS = {
    Prescriber.FRANCE_TRAVAIL: 36,
    Prescriber.DEPARTEMENT: 22,
    Prescriber.CCAS: 8,
    Prescriber.MISSION_LOCALE: 5,
    Prescriber.SIAE: 6,
    Prescriber.CHRS: 3,
    Prescriber.CAP_EMPLOI: 4,
    Prescriber.ASSOCIATION: 8,
    Prescriber.SPONTANEOUS: 6,
    Prescriber.OTHER: 2,
}
PRESCRIBER_DETAILS = {
    Prescriber.FRANCE_TRAVAIL: "Agence France Travail de {city}",
    Prescriber.DEPARTEMENT: "Service insertion du Département — {city}",
    Prescriber.CCAS: "CCAS de {city}",
    Prescriber.MISSION_LOCALE: "Mission Locale — antenne de {city}",
}


def _tiny_pdf(text):
    """A one-page PDF, valid (offsets and xref computed), that says it is a fictitious document."""
    stream = f"BT /F1 14 Tf 72 760 Td ({text}) Tj ET".encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    pdf, offsets = b"%PDF-1.4\n", []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(pdf))
        pdf += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(pdf)
    pdf += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    pdf += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    pdf += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return pdf


# Helvetica's StandardEncoding draws byte 0x27 as the typographic apostrophe (quoteright); it has no accented letters.
CONTRACT_PDF = _tiny_pdf("Contrat d'engagement - document fictif de demonstration")
EMPLOYMENT_PDF = _tiny_pdf("Contrat de travail - document fictif de demonstration")
PROOF_PDF = _tiny_pdf("Justificatif d'eligibilite - document fictif de demonstration")


def create_demo_participants(*, plie, count, by, seed=2023, today=None, window_start=WINDOW_START):
    """Creates `count` fictitious participants of `plie` with their parcours; returns how many were created.

    Nothing is created (0 is returned) when the PLIE already has participants. `today` is the day the demo is an
    extract of (31/12/2023 by default, never after the real today): the workflow stops there, but about 15 % of the
    running parcours keep being seen in entretiens until a few weeks before the real today, so that the portfolios
    show a mix of alerts. Raises ValueError when no referent has a period on one of the PLIE's operations."""
    if count <= 0 or Participant.objects.filter(plie=plie).exists():
        return 0
    builder = _Builder(plie=plie, by=by, seed=seed, today=today, window_start=window_start)
    try:
        with transaction.atomic(), deferred():  # one sync of the participations at the end, not one per row
            for kind in builder.kinds(count):
                builder.add_participant(kind)
            bulk_create_with_history(builder.entretiens, Entretien, batch_size=500, default_user=by)
    except BaseException:
        for document in builder.documents:  # the rows are rolled back; the files must go too
            document.file.storage.delete(document.file.name)
        raise
    return count


class _Builder:
    def __init__(self, *, plie, by, seed, today, window_start=WINDOW_START):
        self.plie, self.by, self.window_start = plie, by, window_start
        self.rng = random.Random(f"{seed}-{plie.slug}")
        self.fake = Faker("fr_FR")
        self.fake.seed_instance(f"{seed}-{plie.slug}")
        self.real_today = timezone.localdate()
        self.today = min(today or DEFAULT_TODAY, self.real_today)
        self.entretiens, self.documents = [], []
        self.loads = Counter()
        self.rules = {}
        self.running = 0
        self.external_ids = set()
        self._load_referentials()

    # --- What the PLIE offers: territory, zones, operations with their referents, exit reasons.

    def _load_referentials(self):
        plie = self.plie
        self.communes = list(plie.communes.all())
        if not self.communes:
            raise ValueError(f"Le PLIE {plie} n’a pas de territoire : impossible de créer des participants.")
        territory = {c.pk for c in self.communes}
        self.zones = []
        for zone in Zone.objects.filter(plie=plie).prefetch_related("communes"):
            communes = [c for c in zone.communes.all() if c.pk in territory]
            if communes:
                self.zones.append((zone, communes, float(zone.planned_etp or 1) or 1.0))
        self.periods = list(
            ReferentPeriod.objects.filter(operation__plie=plie, referent__plie=plie)
            .select_related("referent", "operation", "zone")
            .prefetch_related("zone__communes")
            .order_by("referent__last_name", "referent__first_name", "start")
        )
        self.zone_communes = {
            p.zone_id: {c.pk for c in p.zone.communes.all()} for p in self.periods if p.zone_id is not None
        }
        # The days an entry is possible: inside an operation's period and a referent's period on it, weekdays.
        first = self.window_start + datetime.timedelta(days=75)  # room for the prescription, reception, commission
        # A period counts for the fiches of its code in force each day (participants/attribution.py).
        self.fiches = list(Operation.objects.filter(plie=plie))
        fiche_end = {}
        for fiche in self.fiches:
            fiche_end[fiche.code] = max(fiche.end, fiche_end.get(fiche.code, fiche.end))
        days = set()
        for period in self.periods:
            start = max(period.start, period.operation.start, first)
            end = min(
                period.end or self.today, fiche_end[period.operation.code], self.today - datetime.timedelta(days=3)
            )
            day = start
            while day <= end:
                if day.weekday() < 5:
                    days.add(day)
                day += DAY
        if not days:
            raise ValueError(
                f"Aucun référent du PLIE {plie} n’a de période sur une fiche opération avant le {self.today:%d/%m/%Y} :"
                " créez les référents et leurs périodes avant les participants de démonstration."
            )
        self.entry_days = sorted(days)
        reasons = list(ExitReason.objects.filter(plie=plie, is_active=True))
        self.reasons = {r.label: r for r in reasons}
        self.by_category = {cat: [r for r in reasons if r.category == cat] for cat in ExitCategory.values}
        if not self.by_category[ExitCategory.POSITIVE] or not (
            self.by_category[ExitCategory.OTHER] or self.by_category[ExitCategory.TRANSITION]
        ):
            raise ValueError(f"La nomenclature des motifs de sortie du PLIE {plie} est incomplète.")

    # --- Small helpers.

    def between(self, start, end):
        return start + datetime.timedelta(days=self.rng.randint(0, max((end - start).days, 0)))

    @staticmethod
    def workday(day, low=None, high=None):
        """The day itself on weekdays, else the next Monday (or the previous Friday if Monday is past `high`)."""
        if day.weekday() < 5:
            return day
        forward = day + datetime.timedelta(days=7 - day.weekday())
        backward = day - datetime.timedelta(days=day.weekday() - 4)
        if high is not None and forward > high:
            return backward if low is None or backward >= low else day
        return forward

    @staticmethod
    def tuesday_before(day):
        """Commissions meet on Tuesdays."""
        return day - datetime.timedelta(days=(day.weekday() - 1) % 7)

    def pick(self, weights):
        return self.rng.choices(list(weights), weights=list(weights.values()))[0]

    def reason(self, weights, *categories):
        """A reason of the PLIE's nomenclature among the weighted labels, else any reason of `categories`."""
        present = {self.reasons[label]: w for label, w in weights.items() if label in self.reasons}
        return self.pick(present) if present else self.rng.choice([r for c in categories for r in self.by_category[c]])

    # --- One participant.

    def kinds(self, count):
        """About 5 % still waiting for their commission or contract at the end, 3 % refused, the others integrated."""
        waiting = max(1, round(count * 0.05)) if count >= 10 else 0
        refused = max(1, round(count * 0.03)) if count >= 10 else 0
        kinds = ["waiting"] * waiting + ["refused"] * refused + ["integrated"] * (count - waiting - refused)
        self.rng.shuffle(kinds)
        return kinds

    def add_participant(self, kind):
        zone, commune = self.choose_commune()
        if kind == "waiting":
            self.waiting_participant(commune)
        elif kind == "refused":
            self.refused_participant(commune)
        else:
            self.integrated_participant(zone, commune)

    def choose_commune(self):
        rng = self.rng
        if self.zones and rng.random() < 0.9:
            zone, communes, _ = rng.choices(self.zones, weights=[w for _, _, w in self.zones])[0]
        else:
            zone, communes = None, self.communes
        weights = [max(c.population or 0, 200) for c in communes]
        return zone, rng.choices(communes, weights=weights)[0]

    def person(self, commune, reference):
        """A fictitious person living in `commune`, described as on the day of the prescription."""
        rng, fake = self.rng, self.fake
        sex = self.pick({Sex.FEMALE: 51, Sex.MALE: 47, Sex.NON_BINARY: 2})
        first_name = {
            Sex.FEMALE: fake.first_name_female,
            Sex.MALE: fake.first_name_male,
        }.get(sex, fake.first_name)()
        last_name = fake.last_name()
        age = rng.choices([rng.randint(18, 25), rng.randint(26, 49), rng.randint(50, 62)], weights=[20, 56, 24])[0]
        birth_date = reference - relativedelta(years=age) - datetime.timedelta(days=rng.randint(1, 364))
        level = rng.choices(range(1, 9), weights=[12, 15, 33, 20, 10, 6, 3, 1])[0]
        status, unemployed_since, months = self.employment(reference)
        rqth = rng.random() < 0.1
        bpi = rng.random() < 0.03
        badly_housed = rng.random() < 0.08
        children = rng.choices([0, 1, 2, 3, 4], weights=[45, 22, 18, 10, 5])[0]
        single_parent = rng.random() < (0.3 if sex == Sex.FEMALE else 0.05)
        if single_parent and not children:
            children = rng.randint(1, 3)
        participant = Participant(
            plie=self.plie,
            external_id=self.new_external_id(),
            last_name=last_name,
            first_name=first_name,
            sex=sex,
            birth_date=birth_date,
            email=self.email(first_name, last_name) if rng.random() < 0.7 else "",
            phone=f"06 39 98 {rng.randint(0, 99):02d} {rng.randint(0, 99):02d}" if rng.random() < 0.9 else "",
            address=fake.street_address(),
            postal_code=(commune.postal_codes.replace(",", " ").split() or [""])[0][:5],
            commune=commune,
            qualification_level=level,
            employment_status=status,
            unemployed_since=unemployed_since,
            rsa=rng.random() < 0.42,
            deld=12 <= months < 24,
            detld=months >= 24,
            rqth=rqth,
            qpv=(commune.population or 0) >= 10000 and rng.random() < 0.45,
            senior=age >= 50,
            young=age < 26,
            low_qualification=level <= 3,
            bpi=bpi,
            single_parent=single_parent,
            badly_housed=badly_housed,
            **self.questionnaire(rqth, bpi, badly_housed),
            dependent_children=children,
        )
        criteria = (participant.rsa, participant.deld, participant.detld, rqth, participant.qpv, bpi, badly_housed)
        if not any((*criteria, age >= 50, age < 26, level <= 3, single_parent)):
            participant.other_criterion = True
            participant.other_criterion_detail = rng.choice(OTHER_CRITERIA)
        participant.save()
        return participant

    def employment(self, reference):
        """(status, unemployed since, months of unemployment) on the day of the prescription."""
        rng = self.rng
        status = self.pick(
            {EmploymentStatus.UNEMPLOYED: 85, EmploymentStatus.INACTIVE: 12, EmploymentStatus.EMPLOYED: 3}
        )
        unemployed_since, months = None, 0
        if status == EmploymentStatus.UNEMPLOYED:
            months = rng.choices([rng.randint(2, 11), rng.randint(12, 23), rng.randint(24, 72)], weights=[35, 30, 35])[
                0
            ]
            unemployed_since = reference - relativedelta(months=months) - datetime.timedelta(days=rng.randint(0, 27))
        return status, unemployed_since, months

    def questionnaire(self, rqth, bpi, badly_housed):
        """The answers of the FSE+ questionnaire that follow from the person's situation, or are drawn."""
        return {
            "disability": Answer.YES if rqth else self.pick({Answer.NO: 88, Answer.DECLINED: 8, Answer.YES: 4}),
            "nationality": Nationality.OUTSIDE_EU
            if bpi
            else self.pick(
                {Nationality.FRANCE: 82, Nationality.EU: 4, Nationality.OUTSIDE_EU: 10, Nationality.DECLINED: 4}
            ),
            "foreign_background": self.pick({Answer.NO: 64, Answer.YES: 26, Answer.DECLINED: 10}),
            "homeless": Answer.YES if badly_housed else self.pick({Answer.NO: 93, Answer.DECLINED: 7}),
        }

    def new_external_id(self):
        while True:
            value = f"P{self.rng.randint(0, 999999):06d}"
            if value not in self.external_ids:
                self.external_ids.add(value)
                return value

    @staticmethod
    def email(first_name, last_name):
        def ascii_slug(text):
            text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
            return "".join(ch for ch in text if ch.isalnum() or ch == "-")

        return f"{ascii_slug(first_name)}.{ascii_slug(last_name)}@example.org"

    def prescribe(self, participant, day):
        prescriber = self.pick(PRESCRIBERS)
        if participant.young and self.rng.random() < 0.3:
            prescriber = Prescriber.MISSION_LOCALE
        elif participant.rqth and self.rng.random() < 0.3:
            prescriber = Prescriber.CAP_EMPLOI
        detail = PRESCRIBER_DETAILS.get(prescriber, "")
        city = participant.commune.name if participant.commune else ""
        return services.prescribe(
            participant=participant,
            prescriber=prescriber,
            prescriber_detail=detail.format(city=city) if detail and self.rng.random() < 0.6 else "",
            prescription_date=day,
            by=self.by,
        )

    def receive(self, parcours, day):
        kind = ReceptionKind.INFO_SESSION if self.rng.random() < 0.6 else ReceptionKind.INTERVIEW
        services.record_reception(parcours=parcours, date=day, kind=kind, by=self.by)

    def decide(self, parcours, day, outcome):
        reason = {
            CommissionOutcome.POSTPONED: self.rng.choice(POSTPONEMENT_REASONS),
            CommissionOutcome.REFUSED: self.rng.choice(REFUSAL_REASONS),
        }.get(outcome, "")
        services.decide_admission(parcours=parcours, date=day, outcome=outcome, reason=reason, by=self.by)

    def waiting_participant(self, commune):
        """Prescribed in the last weeks: still waiting for the reception, the commission or the contract."""
        today, rng = self.today, self.rng
        prescription = self.workday(today - datetime.timedelta(days=rng.randint(10, 75)), high=today)
        participant = self.person(commune, prescription)
        parcours = self.prescribe(participant, prescription)
        stage = rng.choice([Status.PRESCRIBED, Status.RECEIVED, Status.POSTPONED, Status.ACCEPTED, Status.ACCEPTED])
        if stage == Status.PRESCRIBED:
            return
        reception = self.workday(prescription + datetime.timedelta(days=rng.randint(4, 21)), high=today)
        if reception > today:
            return
        self.receive(parcours, reception)
        commission = self.tuesday_before(reception + datetime.timedelta(days=rng.randint(7, 35)))
        if stage == Status.RECEIVED or commission < reception or commission > today:
            return
        self.decide(parcours, commission, CommissionOutcome(stage))

    def refused_participant(self, commune):
        rng = self.rng
        entry_like = self.entry_days[rng.randrange(len(self.entry_days))]
        commission = self.tuesday_before(entry_like)
        reception = self.workday(commission - datetime.timedelta(days=rng.randint(5, 25)), high=commission)
        prescription = self.workday(reception - datetime.timedelta(days=rng.randint(3, 28)), high=reception)
        participant = self.person(commune, prescription)
        parcours = self.prescribe(participant, prescription)
        self.receive(parcours, reception)
        self.decide(parcours, commission, CommissionOutcome.REFUSED)

    # --- The parcours of an integrated participant.

    def integrated_participant(self, zone, commune):
        parcours, entry, timeline = self.admitted_parcours(zone, commune)
        job_start, exit_date, reason, contract, validate = self.fate(entry)
        end = exit_date or self.today
        # A few parcours change referent: portfolios rebalanced, or a referent's absence (and back).
        if (end - entry).days > 75 and self.rng.random() < 0.14:
            self.reassign(parcours, timeline, entry, end)
        if job_start:
            services.start_employment_follow_up(
                parcours=parcours, job_start=job_start, contract_type=contract, by=self.by
            )
        if exit_date:
            self.close(parcours, job_start, exit_date, reason, validate)
        # Documents: most signed contracts are scanned, half of the employment contracts too.
        if self.rng.random() < 0.7:
            self.attach(parcours, DocumentKind.CONTRACT, CONTRACT_PDF, "contrat-engagement.pdf")
        if reason is not None and reason.category == ExitCategory.POSITIVE and self.rng.random() < 0.5:
            self.attach(parcours, DocumentKind.EMPLOYMENT_CONTRACT, EMPLOYMENT_PDF, "contrat-de-travail.pdf")
        self.follow(parcours, timeline, entry, end, job_start, exit_date)

    def admitted_parcours(self, zone, commune):
        """Prescribed, received, admitted in commission and integrated with a referent of the zone."""
        rng = self.rng
        entry = self.entry_days[int(len(self.entry_days) * rng.random() ** 1.3)]
        commission = self.tuesday_before(entry - datetime.timedelta(days=rng.randint(0, 21)))
        postponed_on = None
        if rng.random() < 0.1:
            postponed_on = self.tuesday_before(commission - datetime.timedelta(days=rng.randint(14, 42)))
        reception = (postponed_on or commission) - datetime.timedelta(days=rng.randint(5, 25))
        reception = self.workday(reception, high=(postponed_on or commission))
        prescription = self.workday(reception - datetime.timedelta(days=rng.randint(3, 28)), high=reception)

        participant = self.person(commune, prescription)
        parcours = self.prescribe(participant, prescription)
        self.receive(parcours, reception)
        if postponed_on:
            self.decide(parcours, postponed_on, CommissionOutcome.POSTPONED)
        self.decide(parcours, commission, CommissionOutcome.ACCEPTED)
        period = self.referent_period(entry, zone, commune)
        operation = self.fiche_on(period, entry)
        self.prove_eligibility(parcours, operation, commission)
        services.integrate(
            parcours=parcours,
            entry_date=entry,
            operation=operation,
            referent=period.referent,
            by=self.by,
        )
        if rng.random() < 0.92:  # the three signatures and the FSE+ notice, on the day of entry, most of the time
            Parcours.objects.filter(pk=parcours.pk).update(
                contract_signed_by_participant_on=entry,
                contract_signed_by_referent_on=entry,
                contract_signed_by_direction_on=entry + datetime.timedelta(days=rng.randint(0, 10)),
                fse_notice_on=entry,
            )
        timeline = [[entry, period.referent]]  # (start, referent), as ReferentAssignment rows
        self.loads[period.referent.pk] += 1
        if rng.random() < 0.9:  # the FSE+ questionnaire is signed with the contrat d'engagement, most of the time
            Participant.objects.filter(pk=parcours.participant_id).update(questionnaire_date=entry)
        return parcours, entry, timeline

    def fate(self, entry):
        """What happens next, more likely the longer the parcours has run by `today`."""
        rng, today = self.rng, self.today
        months = (today - entry).days / 30.4
        draw = rng.random()
        p_positive, p_other = min(0.55, 0.054 * months), min(0.22, 0.023 * months)
        job_start = exit_date = reason = None
        contract = ""
        validate = False
        if draw < p_positive and (today - entry).days >= 30:
            contract = self.pick(POSITIVE_CONTRACTS)
            # Most of those who found a job early have finished their 6-month follow-up in employment by `today`.
            room = (today - relativedelta(months=6) - entry).days
            latest = min(room, 200) if room >= 21 and rng.random() < 0.8 else min((today - entry).days - 5, 240)
            job_start = self.workday(entry + datetime.timedelta(days=rng.randint(21, max(latest, 21))), high=today)
            due = job_start + relativedelta(months=6)
            reason = self.reason({POSITIVE_EXITS[contract]: 1}, ExitCategory.POSITIVE)
            if due <= today:
                exit_date = self.workday(min(due + datetime.timedelta(days=rng.randint(0, 14)), today), due, today)
                validate = rng.random() < 0.88
            elif rng.random() < 0.3:  # declared before the end of the follow-up, validated later
                exit_date = self.workday(
                    min(job_start + datetime.timedelta(days=rng.randint(20, 90)), today), job_start, today
                )
            else:
                reason = None  # still in the 6-month follow-up in employment
        elif draw < p_positive + p_other and (today - entry).days >= 21:
            reason = self.reason({**TRANSITION_EXITS, **OTHER_EXITS}, ExitCategory.OTHER, ExitCategory.TRANSITION)
            exit_date = self.workday(self.between(entry + datetime.timedelta(days=14), today), entry, today)
            if reason.category == ExitCategory.TRANSITION and (exit_date - entry).days > 20:
                contract = ContractType.CDD if "CDD" in reason.label else ContractType.IAE
                job_start = exit_date - datetime.timedelta(days=rng.randint(0, min(30, (exit_date - entry).days - 1)))
                job_start = self.workday(job_start, entry, exit_date)
        return job_start, exit_date, reason, contract, validate

    def close(self, parcours, job_start, exit_date, reason, validate):
        rng, today = self.rng, self.today
        # Where the fiche validates a training exit at the training's validation (Sources), it is on the exit day.
        trained = exit_date if reason.validation == ExitValidation.TRAINING else None
        services.record_exit(
            parcours=parcours, exit_date=exit_date, reason=reason, by=self.by, training_validated_on=trained
        )
        closed_on = None
        if reason.category != ExitCategory.POSITIVE:  # closed at once
            closed_on = min(exit_date + datetime.timedelta(days=rng.randint(0, 3)), today)
        elif validate:
            services.validate_exit(parcours=parcours, by=self.by, today=today)
            due = job_start + relativedelta(months=6)
            closed_on = min(max(due, exit_date) + datetime.timedelta(days=rng.randint(1, 20)), today)
        if closed_on:
            # The services stamp the real now; the demo tells the story of 2023.
            at = datetime.datetime.combine(closed_on, datetime.time(rng.randint(9, 17), rng.randint(0, 59)))
            Parcours.objects.filter(pk=parcours.pk).update(exit_validated_at=timezone.make_aware(at))

    def follow(self, parcours, timeline, entry, end, job_start, exit_date):
        """Entretiens: until the exit, or `today`; some running parcours are still followed nowadays."""
        rng, today = self.rng, self.today
        recent = False
        if exit_date is None and job_start is None and self.real_today > today + datetime.timedelta(days=45):
            self.running += 1
            recent = self.running % 7 == 3  # one running parcours in seven
        last = end
        if recent:
            last = self.real_today - datetime.timedelta(
                days=rng.randint(2, 26) if rng.random() < 0.8 else rng.randint(35, 60)
            )
        self.plan_entretiens(parcours, timeline, entry, last, job_start, exit_date, recent)

    def fiche_on(self, period, day):
        """The fiche of the period's code in force on `day`: a period runs on into next years' fiches."""
        return next((f for f in self.fiches if f.code == period.operation.code and f.start <= day <= f.end), None)

    def referent_period(self, day, zone, commune):
        """The period of the referent who takes the person on `day`: the zone's referent, else the least loaded."""
        covering = [p for p in self.periods if p.start <= day <= (p.end or day) and self.fiche_on(p, day) is not None]
        in_zone = [p for p in covering if zone is not None and p.zone_id == zone.pk]
        if not in_zone:
            in_zone = [p for p in covering if commune.pk in self.zone_communes.get(p.zone_id, ())]
        candidates = in_zone or covering
        lowest = min(self.loads[p.referent_id] for p in candidates)
        return self.rng.choice([p for p in candidates if self.loads[p.referent_id] == lowest])

    def reassign(self, parcours, timeline, entry, end):
        rng = self.rng
        on = self.workday(
            self.between(entry + datetime.timedelta(days=30), end - datetime.timedelta(days=30)), high=end
        )
        current = timeline[-1][1]
        others = [
            p.referent
            for p in self.periods
            if p.referent_id != current.pk and p.start <= on <= (p.end or on) and self.fiche_on(p, on) is not None
        ]
        if not others or on <= entry or on >= end:
            return
        others = list({r.pk: r for r in others}.values())
        lowest = min(self.loads[r.pk] for r in others)
        referent = rng.choice([r for r in others if self.loads[r.pk] <= lowest + 2])
        absence = rng.random() < 0.4
        reason = AssignmentReason.ABSENCE if absence else AssignmentReason.REBALANCING
        services.assign_referent(parcours=parcours, referent=referent, on=on, reason=reason, by=self.by)
        timeline.append([on, referent])
        self.loads[referent.pk] += 1
        self.loads[current.pk] -= 1
        back = on + datetime.timedelta(days=rng.randint(21, 60))
        covered = any(
            p.referent_id == current.pk and p.start <= back <= (p.end or back) and self.fiche_on(p, back) is not None
            for p in self.periods
        )
        if absence and back < end and covered:
            services.assign_referent(
                parcours=parcours, referent=current, on=back, reason=AssignmentReason.ABSENCE, by=self.by
            )
            timeline.append([back, current])
            self.loads[referent.pk] -= 1
            self.loads[current.pk] += 1

    def prove_eligibility(self, parcours, operation, on):
        """The proofs the fiche asks (operations.EligibilityRule), dated on the commission's day: the general ones and
        those of the person's first criterion the fiche accepts."""
        if operation.pk not in self.rules:
            self.rules[operation.pk] = list(operation.eligibility_rules.select_related("proof_type"))
        rules = self.rules[operation.pk]
        held = next((r.criterion for r in rules if r.criterion and getattr(parcours.participant, r.criterion)), None)
        for proof_type in {rule.proof_type for rule in rules if rule.criterion in ("", held)}:
            identity = proof_type.code == IDENTITY_PROOF
            self.attach(
                parcours,
                DocumentKind.IDENTITY if identity else DocumentKind.ELIGIBILITY,
                PROOF_PDF,
                f"{proof_type.code}.pdf",
                proof_type=proof_type,
                attests_on=on,
            )

    def attach(self, parcours, kind, content, name, **fields):
        document = Document(
            participant=parcours.participant,
            parcours=parcours,
            kind=kind,
            **fields,
            file=ContentFile(content, name=name),
            original_name=name,
            content_type="application/pdf",
            size=len(content),
            uploaded_by=self.by,
        )
        document.save()
        self.documents.append(document)

    def plan_entretiens(self, parcours, timeline, entry, last, job_start, exit_date, recent):
        rng = self.rng
        days = [
            entry
            if rng.random() < 0.8
            else min(self.workday(entry + datetime.timedelta(days=rng.randint(1, 10))), last)
        ]
        while True:
            following = job_start is not None and days[-1] >= job_start
            gap = rng.choices(
                [rng.randint(21, 38), rng.randint(50, 75), rng.randint(80, 100)],
                weights=[60, 28, 12] if following else [84, 11, 5],
            )[0]
            day = self.workday(days[-1] + datetime.timedelta(days=gap))
            if day > last:
                break
            days.append(day)
        if exit_date and days[-1] < exit_date and rng.random() < 0.5:
            days.append(exit_date)
        if recent and days[-1] < last:  # seen a few days (or weeks) ago: the alert depends on it
            seen = self.workday(last, low=days[-1], high=last)
            if seen > days[-1]:
                days.append(seen)
        for index, day in enumerate(days):
            following = job_start is not None and day >= job_start
            if following:
                modality = self.pick({Modality.PHONE: 55, Modality.IN_PERSON: 30, Modality.VIDEO: 15})
            else:
                modality = self.pick({Modality.IN_PERSON: 74, Modality.PHONE: 18, Modality.VIDEO: 8})
            if index == 0:
                modality, summary = Modality.IN_PERSON, ENTRY_SUMMARY
            elif exit_date and day == exit_date:
                summary = EXIT_SUMMARY
            else:
                summary = rng.choice(FOLLOW_UP_SUMMARIES if following else SUMMARIES)
            is_last = index == len(days) - 1
            next_appointment = None
            if not is_last and days[index + 1] - day <= datetime.timedelta(days=40) and rng.random() < 0.5:
                next_appointment = days[index + 1]
            elif is_last and not exit_date and rng.random() < (0.85 if recent else 0.55):
                next_appointment = self.workday(day + datetime.timedelta(days=rng.randint(14, 35)))
            self.entretiens.append(
                Entretien(
                    participant=parcours.participant,
                    parcours=parcours,
                    referent=self.referent_on(timeline, day),
                    date=day,
                    modality=modality,
                    duration=rng.choice([30, 45, 45, 60]) if modality != Modality.PHONE else rng.choice([30, 30, 45]),
                    summary=summary,
                    signed=modality == Modality.IN_PERSON and rng.random() < 0.9,
                    next_appointment=next_appointment,
                    created_by=self.by,
                )
            )

    @staticmethod
    def referent_on(timeline, day):
        """As `Parcours.referent_on`, from the assignments made here (no query per entretien)."""
        referent = timeline[0][1]
        for start, who in timeline:
            if start <= day:
                referent = who
        return referent


def record_demo_exit_situations(*, plie, by, today, seed=2023):
    """The team's work on the situations upon leaving: those of exits more than four weeks old are recorded (the
    exit reason's suggestion; for a person staying in the PLIE past the fiche's end, still looking for work), the
    recent ones are left to do. Returns how many were recorded."""
    rng = random.Random(f"{seed}-{plie.slug}-exits")
    answers = {}
    left = (
        Participation.objects.filter(operation__plie=plie, exit_recorded_at__isnull=True)
        .left_before(today - datetime.timedelta(days=28))
        .select_related("participant")
        .prefetch_related("participant__parcours__exit_reason")
        .order_by("pk")
    )
    for participation in left:
        if rng.random() < 0.1:
            continue
        situation = suggested_exit_situation(participation)
        if ended_parcours(participation) is None:
            looking = Answer.YES if participation.employment_status == EmploymentStatus.UNEMPLOYED else Answer.NO
            situation = {**dict.fromkeys(Participation.EXIT_FIELDS, Answer.NO), "exit_job_searching": looking}
        answers[participation] = situation
    record_exit_situations(answers=answers, by=by)
    return len(answers)
