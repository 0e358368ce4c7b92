import datetime
import time
from decimal import Decimal

from django.core.management import BaseCommand, call_command
from django.db import transaction
from django.utils import timezone

from demo import schema
from demo.agenda import create_demo_appointments
from demo.participants import create_demo_participants, record_demo_exit_situations
from demo.steps import create_demo_steps
from operations.models import Operation, Referent, ReferentPeriod, Structure, StructureKind
from operations.services import renew_operation
from participants import participations
from plie import dataversion
from plie.models import Membership, Plie, Role, User
from territories.models import Zone

PASSWORD = "plie-demo-2026"
DEMO_PLIE = "agen"

ACCOUNTS = [
    # e-mail, first name, last name, role, also member of
    ("admin@demo.plie.fr", "Anne", "Admin", Role.ADMIN, ["sources"]),
    ("animation@demo.plie.fr", "Paul", "Animateur", Role.ANIMATION, []),
    ("referent@demo.plie.fr", "Rachida", "Benali", Role.REFERENT, []),
    ("referent2@demo.plie.fr", "Julien", "Marty", Role.REFERENT, []),
    ("copil@demo.plie.fr", "Claire", "Élue", Role.COPIL, []),
]

# Fictitious referents: one per zone of the Agenais fiche (with the ETP it plans there), two for the Sources.
AGEN_REFERENTS = [
    ("Rachida", "Benali", "Association Trait d’Union", StructureKind.ASSOCIATION, "Zone 1"),
    ("Julien", "Marty", "Association Trait d’Union", StructureKind.ASSOCIATION, "Zone 2"),
    ("Sophie", "Lacoste", "CCAS d’Agen", StructureKind.PUBLIC, "Zone 3"),
    ("Karim", "Haddad", "CCAS d’Agen", StructureKind.PUBLIC, "Zone 4"),
    ("Élodie", "Fabre", "Insertion 47", StructureKind.ASSOCIATION, "Zone 5"),
    ("Thomas", "Rey", "Insertion 47", StructureKind.ASSOCIATION, "Zone 6"),
    ("Nadia", "Ouali", "Agglo Emploi Services", StructureKind.PRIVATE, "Zone 7"),
]
SOURCES_REFERENTS = [
    ("Camille", "Dupuy", "Association Pessac Emploi", StructureKind.ASSOCIATION, None),
    ("Hugo", "Lambert", "CCAS de Pessac", StructureKind.PUBLIC, None),
]


class Command(BaseCommand):
    help = (
        "Charge les fiches 2023, les reconduit pour l’an dernier et cette année, crée des données de démonstration "
        "et un compte par rôle."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--migrate", action="store_true", help="prépare d’abord la base (tables créées d’un coup si elle est vide)"
        )

    def handle(self, *args, **options):
        if options["migrate"]:
            began = time.perf_counter()
            self.stdout.write("Préparation de la base de données…")
            done = schema.prepare()
            what = "tables créées" if done == "created" else "migrations appliquées"
            self.stdout.write(f"  {what} en {time.perf_counter() - began:.0f} s.")
        began = time.perf_counter()
        self.stdout.write("Création des données de démonstration (PLIE, fiches, participants, étapes)…")
        self.build_all()
        self.stdout.write(f"  prêtes en {time.perf_counter() - began:.0f} s.")

    @transaction.atomic
    def build_all(self):
        # The participations follow every parcours written: one sync per PLIE at the end, not one per row.
        with participations.deferred():
            self.build()
        dataversion.bump(None)  # bulk writes and updates send no signal: no report cached before may be served
        today = timezone.localdate()
        admin = User.objects.get(email="admin@demo.plie.fr")
        recorded = sum(
            record_demo_exit_situations(plie=plie, by=admin, today=today)
            for plie in Plie.objects.filter(slug__in=[DEMO_PLIE, "sources"])
        )
        if recorded:
            self.stdout.write(
                f"{recorded} situations de sortie d’opération saisies (les plus récentes restent à faire)."
            )
        self.stdout.write(self.style.SUCCESS("Données de démonstration prêtes."))
        self.stdout.write(f"\nComptes de démonstration (mot de passe pour tous : {PASSWORD}) :")
        for email, _, _, role, others in ACCOUNTS:
            extra = f" (et {', '.join(others)})" if others else ""
            self.stdout.write(f"  {Role(role).label:<32} {email}{extra}")

    def build(self):
        if not Plie.objects.filter(slug=DEMO_PLIE).exists():
            call_command("loaddata", "fiches_2023", "eligibility_2023", verbosity=0)
        plie = Plie.objects.get(slug=DEMO_PLIE)
        users = {}
        for email, first_name, last_name, role, others in ACCOUNTS:
            user, created = User.objects.get_or_create(
                email=email, defaults={"first_name": first_name, "last_name": last_name}
            )
            if created:
                user.set_password(PASSWORD)
                user.is_staff = user.is_superuser = role == Role.ADMIN
                user.save()
            Membership.objects.get_or_create(user=user, plie=plie, defaults={"role": role})
            for slug in others:
                Membership.objects.get_or_create(user=user, plie=Plie.objects.get(slug=slug), defaults={"role": role})
            users[email] = user
        self.create_referents(plie, AGEN_REFERENTS, users)
        sources = Plie.objects.get(slug="sources")
        self.create_referents(sources, SOURCES_REFERENTS, users)
        admin = users["admin@demo.plie.fr"]
        today = timezone.localdate()
        window = datetime.date(today.year - 1, 1, 1)
        created = create_demo_participants(plie=plie, count=250, by=admin, today=today, window_start=window)
        created += create_demo_participants(plie=sources, count=80, by=admin, today=today, window_start=window)
        if created:
            self.stdout.write(
                f"{created} participants fictifs créés, avec leurs parcours et entretiens de {window.year} "
                f"à aujourd’hui."
            )
        steps = create_demo_steps(plie=plie, by=users["referent@demo.plie.fr"], year=window.year, until=today)
        if steps:
            self.stdout.write(f"{steps} étapes de parcours créées, avec deux versions de la grille de validation.")
        appointments = sum(create_demo_appointments(plie=p, by=admin) for p in (plie, sources))
        if appointments:
            self.stdout.write(f"{appointments} rendez-vous cette semaine, et la prochaine séance de commission.")

    def living_fiches(self, plie, admin):
        """The seed's FO1 of 2023 reconducted for last year and this one, so that the demo lives on today's date."""
        seed = Operation.objects.of_code(plie, "FO1").order_by("start").first()
        year = timezone.localdate().year
        previous = None
        for fiche_year in (year - 1, year):
            fiche = Operation.objects.of_code(plie, "FO1").in_force_on(datetime.date(fiche_year, 1, 1)).first()
            if fiche is None:
                start = datetime.date(fiche_year, 1, 1)
                fiche = renew_operation(
                    operation=previous or seed, start=start, end=datetime.date(fiche_year, 12, 31), by=admin
                )
            previous = fiche
        return Operation.objects.of_code(plie, "FO1").in_force_on(datetime.date(year - 1, 1, 1)).get()

    def create_referents(self, plie, referents, users):
        operation = self.living_fiches(plie, users["admin@demo.plie.fr"])
        zones = {zone.name: zone for zone in Zone.objects.filter(plie=plie)}
        for first_name, last_name, structure_name, kind, zone_name in referents:
            structure, _ = Structure.objects.get_or_create(plie=plie, name=structure_name, defaults={"kind": kind})
            user = next((u for u in users.values() if (u.first_name, u.last_name) == (first_name, last_name)), None)
            referent, _ = Referent.objects.get_or_create(
                plie=plie,
                first_name=first_name,
                last_name=last_name,
                defaults={"structure": structure, "user": user, "email": user.email if user else ""},
            )
            zone = zones.get(zone_name)
            ReferentPeriod.objects.get_or_create(
                referent=referent,
                operation=operation,
                start=operation.start,
                defaults={
                    "end": None,  # runs on into this year's fiche of the same code
                    "etp": min(zone.planned_etp, Decimal(1)) if zone else Decimal("0.5"),
                    "zone": zone,
                },
            )
