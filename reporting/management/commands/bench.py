"""Benchmark of the bilan: one large PLIE alone, then among many others; PDF pages; the dashboard under load.

Runs on the database of DATABASE_URL, which must be empty of real data (it is filled with synthetic PLIEs):
    DATABASE_URL=sqlite:///var/bench.sqlite3 python manage.py bench
Figures are ratios against a baseline measured in the same run: machines are noisy."""

import argparse
import datetime
import json
import os
import random
import statistics
import subprocess
import sys
import time

from django.conf import settings
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
from participants.participations import sync_participations
from plie import dataversion
from plie.models import Plie
from plie.pdf import render_document
from steps.models import Step, StepType, Validation

from ...indicators import compute_bilan
from ...pdf import render_bilan_pdf
from ...report import build_report

YEARS = (2021, 2022, 2023)


BILAN_GOAL = 1.1  # one PLIE's bilan among others, against the same PLIE alone
PDF_GOAL = 0.2  # seconds a page


def database_url(name_or_url, suffix):
    """The URL of the database beside DATABASE_URL that holds the big PLIE alone (`…_seul`)."""
    if name_or_url:
        return name_or_url
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith("sqlite"):
        return url.removesuffix(".sqlite3") + f"-{suffix}.sqlite3"
    base, _, query = url.partition("?")
    return f"{base}_{suffix}" + (f"?{query}" if query else "")


class Command(BaseCommand):
    help = "Mesure le bilan d’un grand PLIE seul puis parmi d’autres, le PDF et le tableau de bord sous charge."

    def add_arguments(self, parser):
        parser.add_argument("--participants", type=int, default=2500, help="participants par an du grand PLIE")
        parser.add_argument("--others", type=int, default=20, help="autres PLIE ajoutés ensuite")
        parser.add_argument("--others-participants", type=int, default=2500, help="participants par an de chacun")
        parser.add_argument("--national", action="store_true", help="150 PLIE, 130 000 participants par an")
        parser.add_argument("--runs", type=int, default=5, help="mesures alternées seul / parmi les autres")
        parser.add_argument(
            "--alone-database-url", help="base du grand PLIE seul (par défaut : celle de DATABASE_URL suffixée _seul)"
        )
        parser.add_argument("--rate", type=float, default=20, help="visites par seconde du test de charge")
        parser.add_argument("--duration", type=float, default=60, help="durée du test de charge (0 : sans)")
        parser.add_argument("--port", type=int, default=0, help="port du serveur du test de charge (0 : un port libre)")
        parser.add_argument("--no-explain", action="store_true", help="sans les plans des requêtes du bilan")
        parser.add_argument("--json", action="store_true")
        # Used by the bench itself, in the child processes that measure each database in turn.
        parser.add_argument("--build-only", action="store_true", help=argparse.SUPPRESS)
        parser.add_argument("--time-only", action="store_true", help=argparse.SUPPRESS)
        parser.add_argument("--vacuum-only", action="store_true", help=argparse.SUPPRESS)

    def handle(self, *args, **options):
        if Participant.objects.exclude(plie__slug__startswith="bench-").exists():
            raise CommandError("Cette base contient de vraies données : lancez le banc d’essai sur une base dédiée.")
        if options["national"]:
            options["others"], options["others_participants"] = 149, 130_000 // 150
        self.rng = random.Random(7)
        self.verbose = not options["json"] and not options["time_only"]
        self.json = options["json"]
        if self.child_task(options):
            return
        operation = self.big_operation()
        alone_url = database_url(options["alone_database_url"], "seul")
        self.say(f"Base du grand PLIE seul : {alone_url.rpartition('@')[2]}")
        self.child(alone_url, "migrate", "--no-input", "-v0")
        self.child(alone_url, "bench", "--build-only", "--others", "0", "--participants", str(options["participants"]))
        self.out = {
            "charge_machine": os.getloadavg()[0],
            "participants_grand_plie": Participant.objects.filter(plie=operation.plie).count(),
            "participants_installation": Participant.objects.count(),
        }
        self.vacuum()
        self.child(alone_url, "bench", "--vacuum-only")
        self.show(
            f"Machine : {os.cpu_count()} cœurs, charge {self.out['charge_machine']:.1f}. Grand PLIE : "
            f"{self.out['participants_grand_plie']} participants ; installation : {self.out['participants_installation']}."
        )
        bilan = self.interleaved(alone_url, options["runs"])
        self.out.update(bilan)
        self.show(
            f"Bilan parmi les autres / seul : {bilan['ratio_autres_sur_seul']} (objectif ≤ {BILAN_GOAL}) — médianes "
            f"{bilan['bilan_parmi_les_autres_s']} s / {bilan['bilan_seul_s']} s ; mesure par mesure : "
            f"{bilan['ratio_par_mesure']} ; {bilan['requetes_bilan']} requêtes."
        )
        self.show_queries(bilan)
        if not options["no_explain"]:
            self.out["plans_du_bilan"] = self.explain(operation)
            for index, plan in enumerate(self.out["plans_du_bilan"], start=1):
                self.show(
                    f"\n— Requête {index} du bilan ({plan['s'] * 1000:.0f} ms) :\n{plan['sql']}\n{plan['plan']}\n"
                )
        pdf = self.pdf(operation)
        self.out.update(pdf)
        self.show(
            f"PDF : {pdf['pdf_s_par_page']} s par page sur {pdf['pdf_pages']} pages (objectif ≤ {PDF_GOAL} s ; "
            f"temps processeur {pdf['pdf_cpu_s_par_page']} s par page) ; "
            f"référence : une page nue {pdf['pdf_page_nue_s']} s."
        )
        if options["duration"]:
            from .bench_load import Command as Load

            load = Load(stdout=self.stdout, stderr=self.stderr)
            self.out["charge"] = load.measure(
                operation.plie, rate=options["rate"], duration=options["duration"], port=options["port"]
            )
            self.show(self.out["charge"]["lisible"])
        self.out["charge_machine_fin"] = os.getloadavg()[0]
        self.show(f"Charge de la machine à la fin : {self.out['charge_machine_fin']:.1f}.")
        if options["json"]:
            self.stdout.write(json.dumps(self.out, ensure_ascii=False, indent=2, default=str))

    def show(self, text):
        """Each figure as soon as it is measured (a long run interrupted keeps what it had)."""
        if not self.json:
            self.stdout.write(text)
            self.stdout.flush()

    def show_queries(self, bilan):
        """Where the difference lies: each query of the bilan, alone and among the others."""
        pairs = zip(bilan["requetes_seul_ms"], bilan["requetes_parmi_les_autres_ms"], strict=True)
        for index, (alone, crowded) in enumerate(pairs, start=1):
            self.show(
                f"  requête {index} : seul {alone:.1f} ms, parmi les autres {crowded:.1f} ms "
                f"({crowded - alone:+.1f} ms, × {crowded / alone if alone else 1:.2f})"
            )
        alone, crowded = sum(bilan["requetes_seul_ms"]), sum(bilan["requetes_parmi_les_autres_ms"])
        self.show(
            f"  toutes : seul {alone:.1f} ms, parmi les autres {crowded:.1f} ms, "
            f"× {bilan['ratio_requetes_seules']} (moins bruité que le bilan entier)"
        )

    def child_task(self, options):
        """The steps a parent bench asks of a child process; True when one was asked (and done)."""
        if options["vacuum_only"]:
            self.vacuum()
            return True
        if options["time_only"]:
            self.stdout.write(json.dumps(self.time_bilan(self.big_operation())))
            return True
        self.build(options["participants"], options["others"], options["others_participants"])
        return options["build_only"]

    def say(self, text):
        if self.verbose:
            self.stderr.write(text)

    def big_operation(self):
        return Operation.objects.select_related("plie").get(plie__slug="bench-0", code="FO1")

    def build(self, participants, others, others_participants):
        big = Plie.objects.filter(slug="bench-0").first()
        if big is None:
            self.say(f"Création du grand PLIE ({participants} participants par an sur {len(YEARS)} ans)…")
            big = self.make_plie(0, participants)
        existing = Plie.objects.filter(slug__startswith="bench-").exclude(pk=big.pk).count()
        for index in range(existing + 1, others + 1):
            self.say(f"Création de l’autre PLIE n° {index} sur {others}…")
            self.make_plie(index, others_participants)

    def child(self, url, *arguments):
        """`manage.py …arguments` on the database at `url`; its standard output."""
        env = {**os.environ, "DATABASE_URL": url}
        command = [sys.executable, str(settings.BASE_DIR / "manage.py"), *arguments]
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        if done.returncode:
            raise CommandError(f"{' '.join(arguments)} : {done.stderr[-2000:]}")
        return done.stdout

    def vacuum(self):
        """VACUUM ANALYZE: bulk-loaded tables get their visibility map and the planner its statistics."""
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")

    def time_bilan(self, operation, runs=5):
        """In a child process: warm up, then the median of `runs` bilans, their number of queries and the time of
        each query."""
        start, end = datetime.date(2023, 1, 1), datetime.date(2023, 12, 31)
        build_report(operation, start, end)  # warm the caches of the database
        timings = []
        for _ in range(runs):
            with CaptureQueriesContext(connection) as queries:
                began = time.perf_counter()
                compute_bilan(operation, start, end)
                timings.append(time.perf_counter() - began)
        return {
            "s": statistics.median(timings),
            "requetes": len(queries.captured_queries),
            "requetes_ms": self.time_queries(queries.captured_queries, runs),
        }

    def time_queries(self, captured, runs):
        """Each query of the bilan run again on its own, as the application sent it: median milliseconds (planning
        and fetching included), to tell which queries make the bilan slower among other PLIEs."""
        medians = []
        with connection.cursor() as cursor:
            for query in captured:
                spent = []
                for _ in range(runs):
                    began = time.perf_counter()
                    cursor.execute(query["sql"])
                    cursor.fetchall()
                    spent.append(time.perf_counter() - began)
                medians.append(round(statistics.median(spent) * 1000, 2))
        return medians

    def interleaved(self, alone_url, runs):
        """Alone, among others, alone, among others…: each a fresh process on its database, so that both see the
        same machine load; the ratio of medians and each round's ratio."""
        crowded_url = os.environ["DATABASE_URL"]
        rounds, per_query = [], []
        for index in range(runs):
            self.say(f"Bilan, mesure alternée {index + 1} sur {runs}…")
            alone = json.loads(self.child(alone_url, "bench", "--time-only"))
            crowded = json.loads(self.child(crowded_url, "bench", "--time-only"))
            rounds.append((alone["s"], crowded["s"]))
            per_query.append((alone["requetes_ms"], crowded["requetes_ms"]))
        alone_median = statistics.median(a for a, _ in rounds)
        crowded_median = statistics.median(c for _, c in rounds)
        alone_ms, crowded_ms = zip(*per_query, strict=True)
        bilan = {
            "bilan_seul_s": round(alone_median, 4),
            "bilan_parmi_les_autres_s": round(crowded_median, 4),
            "ratio_autres_sur_seul": round(crowded_median / alone_median, 3),
            "ratio_par_mesure": [round(c / a, 3) for a, c in rounds],
            "objectif_ratio": BILAN_GOAL,
            "requetes_bilan": crowded["requetes"],
            # Both databases run the same code, hence the same queries in the same order.
            "requetes_seul_ms": [statistics.median(ms) for ms in zip(*alone_ms, strict=True)],
            "requetes_parmi_les_autres_ms": [statistics.median(ms) for ms in zip(*crowded_ms, strict=True)],
        }
        summed = [sum(bilan[key]) for key in ("requetes_seul_ms", "requetes_parmi_les_autres_ms")]
        return {**bilan, "ratio_requetes_seules": round(summed[1] / summed[0], 3) if summed[0] else None}

    def explain(self, operation):
        """EXPLAIN ANALYZE of every query of the bilan, on the database with every PLIE."""
        start, end = datetime.date(2023, 1, 1), datetime.date(2023, 12, 31)
        with CaptureQueriesContext(connection) as queries:
            compute_bilan(operation, start, end)
        plans = []
        prefix = "EXPLAIN (ANALYZE, BUFFERS) " if connection.vendor == "postgresql" else "EXPLAIN QUERY PLAN "
        with connection.cursor() as cursor:
            for query in queries.captured_queries:
                cursor.execute(prefix + query["sql"])
                plan = "\n".join(" | ".join(str(cell) for cell in row) for row in cursor.fetchall())
                plans.append({"sql": query["sql"], "s": float(query["time"]), "plan": plan})
        return plans

    def pdf(self, operation):
        """The bilan PDF with its nominative annex, in seconds a page, against a one-page document with no table."""
        start, end = datetime.date(2023, 1, 1), datetime.date(2023, 12, 31)
        render_document("<p>Préchauffage</p>").write_pdf()  # fonts loaded once, before either measure
        # The median of five: measured once, the page took 0.10 s instead of 0.01 to 0.02 in two runs of three, when a
        # full collection of this process's heap (87 ms, seen with gc.callbacks) fell inside it.
        bare = []
        for _ in range(5):
            began = time.perf_counter()
            render_document("<h1>Bilan</h1><p>Une page.</p>").write_pdf()
            bare.append(time.perf_counter() - began)
        began, cpu = time.perf_counter(), time.process_time()
        _, pages = render_bilan_pdf(operation, start, end, None, with_annex=True)
        per_page, cpu_per_page = (time.perf_counter() - began) / pages, (time.process_time() - cpu) / pages
        return {
            "pdf_pages": pages,
            "pdf_s_par_page": round(per_page, 3),
            # WeasyPrint runs in this process: its CPU time is what a quiet machine would take, whatever others do.
            "pdf_cpu_s_par_page": round(cpu_per_page, 3),
            "pdf_page_nue_s": round(statistics.median(bare), 3),
            "objectif_pdf_s_par_page": PDF_GOAL,
        }

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
                    plie=plie,
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
        sync_participations(plie.pk)
        dataversion.bump(plie)  # bulk writes send no signal
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
                        plie=plie,
                        step_type=rng.choice(step_types),
                        start=start,
                        status="done",
                        validation=rng.choice([Validation.VALIDATED, Validation.SUBMITTED]),
                    )
                )
        ReferentAssignment.objects.bulk_create(assignments, batch_size=2000)
        Entretien.objects.bulk_create(entretiens, batch_size=5000)
        Step.objects.bulk_create(steps, batch_size=5000)
