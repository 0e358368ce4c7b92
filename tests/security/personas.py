"""The world of the authorization matrix (tests/security/test_matrix.py): two PLIEs built alike, each with its whole
team, and canary strings planted in every object a persona might be shown by mistake.

Both PLIEs hold the same things: a fiche opération, a zone, a structure, two referents (A and B, each following one
person), an admin, an animation team member and a copil member; three people (one followed by A, one by B, one not
yet integrated, followed by nobody), with an entretien, a justificatif and, for the followed ones, a step; a
validation grid, a collective session, a funding application and bilans (plain, with the nominative annex, failed).
Two more personas belong to both PLIEs with different roles.

Canaries: `CANARIXYZ-PLIE-<SLUG>` is written in every PLIE-wide object (PLIE, fiche, zone, structure, referents,
user names, grid, session, application), visible to every member of that PLIE and to nobody else;
`CANARIXYZ-PERSON-<SLUG>-<A|B|NONE>` in everything about one person (name, entretien, justificatif, step), visible
only to the animation team and the admin of the PLIE and to the referent who follows that person;
`CANARIXYZ-PERSON-PESSAC-ARCHIVED` in a person moved to the archive, visible to the PLIE admin only."""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.test import Client, TestCase
from django.urls import reverse
from django.utils import timezone

from agenda.models import Appointment, CommissionSession
from applications.models import Application
from imports.services import analyse, deposit_files
from participants.models import Document, DocumentKind, Participation
from plie.models import Role
from privacy.retention import archive_participant
from reporting.models import BilanRequest
from steps.models import Attendance, CollectiveSession, StepCategory, StepType
from tests.conftest import CANEJAN, CESTAS, MARMANDE, PESSAC
from tests.factories import (
    CofinancingCapFactory,
    MembershipFactory,
    OperationFactory,
    PlieFactory,
    ReferentFactory,
    ReferentPeriodFactory,
    StructureFactory,
    TargetFactory,
    UserFactory,
    ZoneFactory,
    with_territory,
)
from tests.factories.participants import PDF, ParticipantFactory, add_entretien, make_parcours, pdf
from tests.factories.steps import make_grid, make_step, step_type, submitted_step
from tests.imports.files import csv_bytes

CANARY = "CANARIXYZ"
ARCHIVED = "ARCHIVED"  # the slot of a person moved to the archive: the PLIE admin alone reads them
D = datetime.date

HOME, OTHER = "pessac", "marmandais"
PLIES = {
    HOME: ("PLIE de Pessac", (PESSAC, CESTAS, CANEJAN)),
    OTHER: ("PLIE du Marmandais", (MARMANDE,)),
}

# persona → {PLIE slug: role}; the anonymous visitor has none. A persona works in the first of its PLIEs by name
# (the middleware's default), so the two multi-PLIE personas work in the PLIE de Pessac.
MEMBERSHIPS = {
    "anonymous": {},
    "admin": {HOME: Role.ADMIN},
    "animation": {HOME: Role.ANIMATION},
    "referent_a": {HOME: Role.REFERENT},
    "referent_b": {HOME: Role.REFERENT},
    "copil": {HOME: Role.COPIL},
    "other_admin": {OTHER: Role.ADMIN},
    "other_animation": {OTHER: Role.ANIMATION},
    "other_referent_a": {OTHER: Role.REFERENT},
    "other_referent_b": {OTHER: Role.REFERENT},
    "other_copil": {OTHER: Role.COPIL},
    "admin_here_copil_there": {HOME: Role.ADMIN, OTHER: Role.COPIL},
    "copil_here_animation_there": {HOME: Role.COPIL, OTHER: Role.ANIMATION},
}
PERSONAS = list(MEMBERSHIPS)
# The referent personas of each PLIE, by the slot (A or B) of the person they follow.
REFERENT_SLOTS = {
    (HOME, "A"): "referent_a",
    (HOME, "B"): "referent_b",
    (OTHER, "A"): "other_referent_a",
    (OTHER, "B"): "other_referent_b",
}


def plie_canary(slug):
    return f"{CANARY}-PLIE-{slug.upper()}"


def person_canary(slug, slot):
    return f"{CANARY}-PERSON-{slug.upper()}-{slot}"


@dataclass(frozen=True)
class Target:
    """One object a URL can point to: its primary key, its PLIE and the referent personas who follow it."""

    pk: int
    plie: str
    label: str
    followers: frozenset = frozenset()


@dataclass
class Persona:
    key: str
    roles: dict  # PLIE slug → role
    user: object = None
    client: Client = None

    @property
    def current_plie(self):
        return min(self.roles, key=lambda slug: PLIES[slug][0]) if self.roles else None

    @property
    def current_role(self):
        return self.roles.get(self.current_plie)

    def relation(self, target):
        """What the persona is to the object: its role in the object's PLIE, "follower" for the referent who
        follows the person, "outside" for a persona of another PLIE, "anonymous" for a visitor."""
        if not self.roles:
            return "anonymous"
        role = self.roles.get(target.plie)
        if role is None:
            return "outside"
        if role == Role.REFERENT and self.key in target.followers:
            return "follower"
        return str(role)


@dataclass
class World:
    personas: dict
    targets: dict  # kind → [Target]
    plies: dict  # slug → Plie
    operations: dict  # slug → Operation
    referents: dict  # persona key → Referent profile
    things: dict = field(default_factory=dict)  # PLIE slug → {name: model instance}
    canaries: dict = field(default_factory=dict)  # canary → (PLIE slug, slot or None)

    def forbidden(self, persona):
        """The canaries this persona must never be shown."""
        persona = self.personas[persona] if isinstance(persona, str) else persona
        hidden = set()
        for canary, (slug, slot) in self.canaries.items():
            role = persona.roles.get(slug)
            if slot is None:
                visible = role is not None
            elif slot == ARCHIVED:
                visible = role == Role.ADMIN
            else:
                visible = role in (Role.ADMIN, Role.ANIMATION) or (
                    role == Role.REFERENT and REFERENT_SLOTS.get((slug, slot)) == persona.key
                )
            if not visible:
                hidden.add(canary)
        return hidden


def build_world():
    """Builds both PLIEs and logs every persona in. Files are written: the caller first points the storages of
    Document.file and BilanRequest.file to a temporary directory (see the `world` fixture)."""
    personas = {key: Persona(key, dict(roles)) for key, roles in MEMBERSHIPS.items()}
    for persona in personas.values():
        if persona.roles:
            persona.user = UserFactory(
                email=f"{persona.key}@matrice.example.fr",
                first_name=persona.key.replace("_", " "),
                # a person of two PLIEs is shown in both: their name carries no canary
                last_name=plie_canary(next(iter(persona.roles))) if len(persona.roles) == 1 else "Multi",
            )
    world = World(personas=personas, targets={}, plies={}, operations={}, referents={})
    for slug, (name, communes) in PLIES.items():
        _build_plie(world, slug, name, communes)
    for persona in personas.values():
        persona.client = Client()
        if persona.user:
            persona.client.force_login(persona.user)
    _request_bilans(world)
    return world


def _add(world, kind, pk, slug, label, *followers):
    world.targets.setdefault(kind, []).append(Target(pk, slug, f"{label} ({slug})", frozenset(followers)))


def _build_plie(world, slug, name, communes):
    token = plie_canary(slug)
    world.canaries[token] = (slug, None)
    plie = with_territory(PlieFactory(slug=slug, name=f"{name} {token}"), *communes)
    world.plies[slug] = plie
    users = {}
    for persona in world.personas.values():
        if slug in persona.roles:
            MembershipFactory(plie=plie, user=persona.user, role=persona.roles[slug])
            users.setdefault(persona.roles[slug], persona.user)
    admin, animation = users[Role.ADMIN], users[Role.ANIMATION]

    operation = OperationFactory(plie=plie, code="FO1", title=f"Accompagnement renforcé {token}")
    TargetFactory(operation=operation, kind="file_active", value_min=70, qualifier="approx")
    TargetFactory(operation=operation, kind="etapes", value_min="1.5", basis="file_active_moyenne")
    CofinancingCapFactory(operation=operation, rate=85)
    world.operations[slug] = operation
    things = world.things[slug] = {"plie": plie, "operation": operation}
    zone = ZoneFactory(plie=plie, name=f"Zone {token}")
    zone.communes.add(communes[0])
    operation.zones.add(zone)
    structure = StructureFactory(plie=plie, name=f"Association {token}")
    things.update(zone=zone, structure=structure)
    _add(world, "operation", operation.pk, slug, "fiche")
    _add(world, "zone", zone.pk, slug, "zone")
    _add(world, "structure", structure.pk, slug, "structure")

    profiles = {}
    for slot in ("A", "B"):
        key = REFERENT_SLOTS[(slug, slot)]
        profile = ReferentFactory(
            plie=plie,
            first_name=f"Référent {slot}",
            last_name=token,
            user=world.personas[key].user,
            structure=structure,
        )
        period = ReferentPeriodFactory(referent=profile, operation=operation, zone=zone if slot == "A" else None)
        profiles[slot] = world.referents[key] = profile
        _add(world, "referent", profile.pk, slug, f"référent {slot}", key)
        _add(world, "period", period.pk, slug, f"période du référent {slot}", key)

    grid = make_grid(plie, by=admin, notes=f"Grille {token}")
    _add(world, "grid_version", grid.pk, slug, "grille")
    _add(world, "step_type", step_type(plie).pk, slug, "type PMSMP")
    category = StepCategory.objects.create(plie=plie, name=f"Catégorie {token}", position=99)
    StepType.objects.create(category=category, label=f"Type {token}")
    things.update(grid=grid, category=category, step_type=step_type(plie))

    people = {}
    for slot in ("A", "B", "NONE"):
        canary = person_canary(slug, slot)
        world.canaries[canary] = (slug, slot)
        follower = REFERENT_SLOTS.get((slug, slot))
        participant = ParticipantFactory(
            plie=plie, last_name=canary, first_name="Camille", commune_id=communes[0], email=f"{canary.lower()}@x.fr"
        )
        entretien = None
        if slot == "NONE":
            parcours = make_parcours(participant, "received", by=animation)
        else:
            parcours = make_parcours(participant, "active", by=animation, operation=operation, referent=profiles[slot])
            entretien = add_entretien(
                parcours, D(2023, 2, 15), summary=f"Entretien de {canary}", referent=profiles[slot], created_by=admin
            )
        document = _document(parcours, canary, DocumentKind.CONTRACT, by=animation)
        if entretien:
            sheet = _document(parcours, canary, DocumentKind.ATTENDANCE, by=animation, entretien=entretien)
            if slug == HOME and slot == "B":  # an entretien's attendance sheet, of a colleague's person
                _add(world, "document", sheet.pk, slug, "feuille d’émargement B", REFERENT_SLOTS[(slug, slot)])
        # The matrix asks for every person of the PLIE de Pessac and for the one followed by A in the other PLIE
        # (enough for each persona to meet a person of theirs, a colleague's, nobody's and another PLIE's).
        asked = slug == HOME or slot == "A"
        followers = (follower,) if slot != "NONE" else ()
        step = None
        if slot != "NONE":
            referent_user = world.personas[follower].user
            if slot == "A":
                step = submitted_step(parcours, by=referent_user, partner=f"Employeur de {canary}")
            else:
                step = make_step(parcours, by=referent_user, partner=f"Employeur de {canary}")
        if asked:
            _add(world, "participant", participant.pk, slug, f"personne {slot}", *followers)
            _add(world, "parcours", parcours.pk, slug, f"parcours {slot}", *followers)
            _add(world, "document", document.pk, slug, f"justificatif {slot}", *followers)
            if step:
                _add(world, "step", step.pk, slug, f"étape {slot}", *followers)
            if entretien:
                _add(world, "entretien", entretien.pk, slug, f"entretien {slot}", *followers)
                appointment = Appointment.objects.create(
                    participant=participant,
                    parcours=parcours,
                    referent=profiles[slot],
                    starts_at=timezone.now() + datetime.timedelta(days=1),
                    place=f"Bureau de {canary}",
                    purpose=f"Point avec {canary}",
                )
                _add(world, "appointment", appointment.pk, slug, f"rendez-vous {slot}", *followers)
            for participation in Participation.objects.filter(participant=participant):
                _add(world, "participation", participation.pk, slug, f"participation {slot}", *followers)
        people[slot] = participant
        things.update({f"person_{slot}": participant, f"parcours_{slot}": parcours, f"document_{slot}": document})
        if step:
            things[f"step_{slot}"] = step

    if slug == HOME:
        canary = person_canary(slug, ARCHIVED)
        world.canaries[canary] = (slug, ARCHIVED)
        archived = ParticipantFactory(plie=plie, last_name=canary, first_name="Camille", commune_id=communes[0])
        make_parcours(archived, "received", by=animation)
        _document(archived.parcours.get(), canary, DocumentKind.IDENTITY, by=animation)
        archive_participant(participant=archived, by=admin)
        _add(world, "archived_participant", archived.pk, slug, "personne archivée")
        things["person_ARCHIVED"] = archived

    commission = CommissionSession.objects.create(
        plie=plie, date=D(2023, 1, 20), members=f"Membre {token}", place=f"Salle {token}", created_by=animation
    )
    commission.parcours.add(people["NONE"].parcours.get())
    if slug == HOME:
        _add(world, "commission_session", commission.pk, slug, "séance de commission")

    session = CollectiveSession.objects.create(
        plie=plie,
        kind="atelier_tre",
        theme=f"Atelier {token}",
        date=D(2023, 3, 10),
        facilitator="Association Trajectoires",
        step_type=step_type(plie, "Atelier TRE"),
        created_by=animation,
    )
    things.update(
        session=session,
        attendance_A=Attendance.objects.create(session=session, participant=people["A"], present=True),
        attendance_B=Attendance.objects.create(session=session, participant=people["B"]),
        attendance_prospect=Attendance.objects.create(session=session, prospect_name=f"Prospect {token}"),
    )
    _add(world, "session", session.pk, slug, "action collective")

    application = Application.objects.create(
        operation=operation,
        structure=structure,
        contact_name=f"Contact {token}",
        etp_proposed=Decimal("1"),
        start=operation.start,
        end=operation.end,
        fse_requested=Decimal("10000"),
    )
    application.zones_requested.add(zone)
    things.update(application=application, referent_A=profiles["A"], referent_B=profiles["B"])
    _add(world, "application", application.pk, slug, "candidature")

    # An import by the admin, previewed: its report shows the name of the person nobody follows.
    rows = [["ID participant", "Nom", "Prénom", "Sexe", "Date de naissance", "Date d'entrée", "Référent", "Colonne X"]]
    rows.append(
        ["V-NONE", person_canary(slug, "NONE"), "Camille", "F", "01/01/1990", "01/02/2023", "Inconnu Nulle", ""]
    )
    run = deposit_files(plie=plie, files=[("extraction.csv", csv_bytes(rows))], create_referents=False, by=admin)
    analyse(run)
    _add(world, "import_run", run.pk, slug, "import")
    _add(world, "import_file", run.files.get().pk, slug, "fichier importé")

    for with_annex in (False, True):
        failed = BilanRequest.objects.create(
            plie=plie,
            operation=operation,
            start=operation.start,
            end=operation.end,
            with_annex=with_annex,
            requested_by=admin,
            status="failed",
            progress=100,
            error="La génération a échoué : test",
        )
        _add(world, "failed_bilan_annex" if with_annex else "failed_bilan", failed.pk, slug, "bilan échoué")


def _document(parcours, canary, kind, *, by, entretien=None):
    """A justificatif whose name and content both carry the person's canary."""
    content = PDF.replace(b"\n", f"\n% {canary}\n".encode(), 1)
    return Document.objects.create(
        participant=parcours.participant,
        parcours=parcours,
        entretien=entretien,
        kind=kind,
        file=pdf(f"{canary}-{kind}.pdf", content),
        original_name=f"{canary}-{kind}.pdf",
        content_type="application/pdf",
        size=len(content),
        uploaded_by=by,
    )


def _request_bilans(world):
    """Bilans asked through POST /bilans/, as the copil (plain) and the animation team (with the annex)."""
    for slug in PLIES:
        operation = world.operations[slug]
        data = {"operation": operation.pk, "start": "2023-01-01", "end": "2023-12-31", "with_annex": "on"}
        for key in ("copil", "animation"):
            persona = world.personas[key if slug == HOME else f"other_{key}"]
            with TestCase.captureOnCommitCallbacks(execute=True):
                response = persona.client.post(reverse("bilan_list"), data)
            assert response.status_code == 302, response
            bilan = BilanRequest.objects.filter(requested_by=persona.user).latest("pk")
            assert bilan.status == "done", bilan.error
            assert bilan.with_annex is (key == "animation")
            _add(world, "bilan_annex" if bilan.with_annex else "bilan", bilan.pk, slug, "bilan")
            world.things[slug]["bilan_annex" if bilan.with_annex else "bilan"] = bilan
