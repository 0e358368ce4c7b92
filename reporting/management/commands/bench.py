"""Benchmark of the bilan: one large PLIE alone, then among many others; PDF pages; the dashboard under load.

Runs on the database of DATABASE_URL, which must be empty of real data (it is filled with synthetic PLIEs):
    DATABASE_URL=sqlite:///var/bench.sqlite3 python manage.py bench
Figures are ratios against a baseline measured in the same run: machines are noisy."""

import datetime
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.core.management import BaseCommand, CommandError
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from operations.models import (
    ExitReason,
    Operation,
    PlannedEtp,
    Referent,
    ReferentPeriod,
    Structure,
    StructureKind,
    Target,
)
from participants.models import Entretien, Parcours, Participant, ReferentAssignment, Status
from plie.models import Membership, Plie, Role, User
from steps.models import Step, StepType, Validation

from ...indicators import compute_bilan
from ...pdf import render_bilan_pdf
from ...report import build_report

YEARS = (2021, 2022, 2023)


class Command(BaseCommand):
    help = "Mesure le bilan d’un grand PLIE seul puis parmi d’autres, le PDF et le tableau de bord sous charge."

    def add_arguments(self, parser):
        parser.add_argument("--participants", type=int, default=2500, help="participants par an du grand PLIE")
        parser.add_argument("--others", type=int, default=20, help="autres PLIE ajoutés ensuite")
        parser.add_argument("--others-participants", type=int, default=2500, help="participants par an de chacun")
        parser.add_argument("--national", action="store_true", help="150 PLIE, 130 000 participants par an")
        parser.add_argument("--requests", type=int, default=60, help="requêtes du test de charge")
        parser.add_argument("--concurrency", type=int, default=4)
        parser.add_argument("--json", action="store_true")

    def handle(self, *args, **options):
        if Participant.objects.exclude(plie__slug__startswith="bench-").exists():
            raise CommandError("Cette base contient de vraies données : lancez le banc d’essai sur une base dédiée.")
        if options["national"]:
            options["others"], options["others_participants"] = 149, 130_000 // 150
        self.rng = random.Random(7)
        self.out = {}
        big = Plie.objects.filter(slug="bench-0").first() or self.make_plie(0, options["participants"])
        operation = Operation.objects.get(plie=big)
        start, end = datetime.date(2023, 1, 1), datetime.date(2023, 12, 31)

        self.out["participants_grand_plie"] = Participant.objects.filter(plie=big).count()
        alone = self.time_bilan(operation, start, end)
        existing = Plie.objects.filter(slug__startswith="bench-").exclude(pk=big.pk).count()
        for index in range(existing + 1, options["others"] + 1):
            self.make_plie(index, options["others_participants"])
        self.out["participants_installation"] = Participant.objects.count()
        crowded = self.time_bilan(operation, start, end)
        self.out["bilan_seul_s"], self.out["bilan_parmi_les_autres_s"] = alone[0], crowded[0]
        self.out["ratio_autres_sur_seul"] = round(crowded[0] / alone[0], 2)
        self.out["requetes_bilan"] = (alone[1], crowded[1])

        began = time.perf_counter()
        pdf, pages = render_bilan_pdf(operation, start, end, None, with_annex=True)
        seconds = time.perf_counter() - began
        self.out["pdf_pages"], self.out["pdf_s_par_page"] = pages, round(seconds / pages, 3)

        self.out.update(self.load_test(big, operation, options["requests"], options["concurrency"]))
        if options["json"]:
            self.stdout.write(json.dumps(self.out, ensure_ascii=False, indent=2))
        else:
            for key, value in self.out.items():
                self.stdout.write(f"{key:32} {value}")

    def time_bilan(self, operation, start, end, runs=5):
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")  # fresh bulk-loaded tables: give the planner its statistics first
        build_report(operation, start, end)  # warm the caches of the database
        timings = []
        for _ in range(runs):
            with CaptureQueriesContext(connection) as queries:
                began = time.perf_counter()
                compute_bilan(operation, start, end)
                timings.append(time.perf_counter() - began)
        return round(statistics.median(timings), 4), len(queries.captured_queries)

    @transaction.atomic
    def make_plie(self, index, per_year):
        rng = self.rng
        plie = Plie.objects.create(slug=f"bench-{index}", name=f"PLIE synthétique n°{index}")
        operation, referents = self.make_operation(plie, per_year)
        reasons = list(ExitReason.objects.filter(plie=plie))
        total = per_year * len(YEARS)
        participants = Participant.objects.bulk_create(
            [
                Participant(
                    plie=plie,
                    last_name=f"Nom{i}",
                    first_name="Prénom",
                    sex=rng.choice("FH"),
                    birth_date=datetime.date(rng.randint(1965, 2003), rng.randint(1, 12), rng.randint(1, 28)),
                )
                for i in range(total)
            ],
            batch_size=2000,
        )
        parcours = []
        for person in participants:
            year = rng.choice(YEARS)
            entry = datetime.date(year, 1, 1) + datetime.timedelta(days=rng.randint(0, 364))
            exit_day = entry + datetime.timedelta(days=rng.randint(60, 700)) if rng.random() < 0.6 else None
            if exit_day and exit_day > operation.end:
                exit_day = None
            parcours.append(
                Parcours(
                    participant=person,
                    operation=operation,
                    prescriber="france_travail",
                    prescription_date=entry - datetime.timedelta(days=20),
                    entry_date=entry,
                    exit_date=exit_day,
                    exit_reason=rng.choice(reasons) if exit_day else None,
                    status=Status.EXITED if exit_day else Status.ACTIVE,
                )
            )
        Parcours.objects.bulk_create(parcours, batch_size=2000)
        self.make_follow_up(plie, operation, referents, parcours)
        return plie

    def make_operation(self, plie, per_year):
        """One fiche over YEARS with its targets, one structure and one full-time referent per 100 people a year."""
        operation = Operation.objects.create(
            plie=plie,
            code="FO1",
            title="Accompagnement",
            start=datetime.date(YEARS[0], 1, 1),
            end=datetime.date(YEARS[-1], 12, 31),
        )
        Target.objects.create(operation=operation, kind="file_active", value_min=70)
        Target.objects.create(operation=operation, kind="etapes", value_min=2, basis="file_active_moyenne")
        structure = Structure.objects.create(plie=plie, name="Association", kind=StructureKind.ASSOCIATION)
        n_referents = max(per_year // 100, 1)
        referents = Referent.objects.bulk_create(
            [
                Referent(plie=plie, first_name="Référent", last_name=f"{i:03d}", structure=structure)
                for i in range(n_referents)
            ]
        )
        ReferentPeriod.objects.bulk_create(
            [
                ReferentPeriod(referent=r, operation=operation, etp=1, start=operation.start, end=operation.end)
                for r in referents
            ]
        )
        PlannedEtp.objects.create(operation=operation, start=operation.start, end=operation.end, etp=n_referents)
        return operation, referents

    def make_follow_up(self, plie, operation, referents, parcours):
        """For each parcours: its referent, an entretien every 25 to 60 days and up to three steps."""
        rng = self.rng
        step_types = list(StepType.objects.filter(category__plie=plie))
        assignments, entretiens, steps = [], [], []
        for item in parcours:
            referent = rng.choice(referents)
            assignments.append(
                ReferentAssignment(
                    parcours=item, referent=referent, start=item.entry_date, end=item.exit_date, reason="integration"
                )
            )
            last = item.exit_date or operation.end
            day = item.entry_date
            while day <= last:
                entretiens.append(
                    Entretien(participant_id=item.participant_id, parcours=item, referent=referent, date=day)
                )
                day += datetime.timedelta(days=rng.randint(25, 60))
            for _ in range(rng.randint(0, 3)):
                start = item.entry_date + datetime.timedelta(days=rng.randint(0, max((last - item.entry_date).days, 0)))
                steps.append(
                    Step(
                        parcours=item,
                        step_type=rng.choice(step_types),
                        start=start,
                        status="done",
                        validation=rng.choice([Validation.VALIDATED, Validation.SUBMITTED]),
                    )
                )
        ReferentAssignment.objects.bulk_create(assignments, batch_size=2000)
        Entretien.objects.bulk_create(entretiens, batch_size=5000)
        Step.objects.bulk_create(steps, batch_size=5000)

    def load_test(self, plie, operation, requests, concurrency):
        """The dashboard served by gunicorn on loopback: one request alone, then `concurrency` at a time."""
        session_key = self.copil_session(plie)
        os.makedirs(settings.STATIC_ROOT, exist_ok=True)
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        server = self.serve(port, concurrency)
        url = f"http://127.0.0.1:{port}/tableau-de-bord/?operation={operation.pk}&kind=year&year=2023"
        cookie = f"{settings.SESSION_COOKIE_NAME}={session_key}"

        def get():
            began = time.perf_counter()
            request = urllib.request.Request(url, headers={"Cookie": cookie})
            with urllib.request.urlopen(request, timeout=60) as response:
                assert response.status == 200
                response.read()
            return time.perf_counter() - began

        try:
            for _ in range(100):
                try:
                    get()
                    break
                except OSError:
                    time.sleep(0.2)
            alone = statistics.median([get() for _ in range(5)])
            timings, wall = self.under_load(get, requests, concurrency)
        finally:
            server.terminate()
            server.wait(timeout=10)
        return {
            "tableau_de_bord_seul_s": round(alone, 3),
            "tableau_de_bord_charge_mediane_s": round(statistics.median(timings), 3),
            "tableau_de_bord_charge_p95_s": round(timings[int(len(timings) * 0.95) - 1], 3),
            "tableau_de_bord_requetes_par_s": round(len(timings) / wall, 1),
            "ratio_charge_sur_seul": round(statistics.median(timings) / alone, 2),
        }

    @staticmethod
    def copil_session(plie):
        """The key of a session opened for a copil member of `plie`, as after a login."""
        user, _ = User.objects.get_or_create(email="bench@plie.localhost")
        Membership.objects.get_or_create(user=user, plie=plie, defaults={"role": Role.COPIL})
        session = SessionStore()
        session.update(
            {
                SESSION_KEY: str(user.pk),
                BACKEND_SESSION_KEY: "django.contrib.auth.backends.ModelBackend",
                HASH_SESSION_KEY: user.get_session_auth_hash(),
            }
        )
        session.create()
        return session.session_key

    @staticmethod
    def serve(port, concurrency):
        """gunicorn on loopback with `concurrency` workers, production settings but plain HTTP."""
        env = {
            **os.environ,
            "DEBUG": "off",
            "ALLOWED_HOSTS": "127.0.0.1",
            "SECURE_COOKIES": "off",
            "STATICFILES_BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage",
            # plain HTTP on loopback, and a session opened here without a second factor
            "SECURE_SSL_REDIRECT": "off",
            "MFA_REQUIRED": "off",
        }
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "plie.wsgi",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(concurrency),
                "--log-level",
                "warning",
            ],
            cwd=settings.BASE_DIR,
            env=env,
        )

    @staticmethod
    def under_load(get, requests, concurrency):
        """`requests` calls of `get`, `concurrency` at a time: (sorted timings, wall time)."""
        timings, lock = [], threading.Lock()

        def worker(count):
            for _ in range(count):
                elapsed = get()
                with lock:
                    timings.append(elapsed)

        threads = [threading.Thread(target=worker, args=(requests // concurrency,)) for _ in range(concurrency)]
        began = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return sorted(timings), time.perf_counter() - began
