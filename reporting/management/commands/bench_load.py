"""Load test, served by gunicorn on loopback at a steady rate (20 a second for 60 s by default), open loop:
- the steering committee's dashboard visited as a browser does: the page, then its chart images, style sheets and
  scripts fetched in parallel; the goal is a visit's p95 ≤ 300 ms at 20 visits a second, with no error;
- with `--mix`, then the dashboard, a referent's portfolio and a participant's file asked in turn by three people.
Reports p50/p95/p99 against the same visit (or page) made alone in the same run, and every error; exits 1 if there
was one.

Runs on the bench database (`make bench-load`, synthetic PLIE `bench-0`, created if missing):
    DATABASE_URL=sqlite:///var/bench.sqlite3 python manage.py bench_load --rate 20 --duration 60"""

import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.core.management import BaseCommand, CommandError
from django.db import connection
from django.urls import reverse

from operations.models import Operation, Referent
from participants.models import Participant
from plie.models import Membership, Plie, Role, User

from .bench import Command as Bench


def session_cookie(user):
    session = SessionStore()
    session.update(
        {
            SESSION_KEY: str(user.pk),
            BACKEND_SESSION_KEY: "django.contrib.auth.backends.ModelBackend",
            HASH_SESSION_KEY: user.get_session_auth_hash(),
        }
    )
    session.create()
    return f"{settings.SESSION_COOKIE_NAME}={session.session_key}"


def percentile(sorted_values, fraction):
    return sorted_values[min(len(sorted_values) - 1, int(len(sorted_values) * fraction))]


class Command(BaseCommand):
    help = "Charge le tableau de bord, un portefeuille et un dossier à débit constant ; p50/p95/p99 et erreurs."

    def add_arguments(self, parser):
        parser.add_argument("--rate", type=float, default=20, help="requêtes par seconde (au plus 100)")
        parser.add_argument("--duration", type=float, default=60, help="durée en secondes (au plus 600)")
        parser.add_argument("--workers", type=int, default=4, help="processus gunicorn")
        parser.add_argument("--port", type=int, default=0, help="port du serveur de test (0 : un port libre)")
        parser.add_argument("--participants", type=int, default=2500, help="participants par an du PLIE créé")
        parser.add_argument("--mix", action="store_true", help="puis le tableau de bord, un portefeuille et un dossier")
        parser.add_argument("--json", action="store_true")

    def handle(self, *args, **options):
        if not 0 < options["rate"] <= 100 or not 0 < options["duration"] <= 600:
            raise CommandError("Débit entre 0 et 100 requêtes par seconde, durée entre 0 et 600 secondes.")
        if Participant.objects.exclude(plie__slug__startswith="bench-").exists():
            raise CommandError("Cette base contient de vraies données : lancez le test de charge sur une base dédiée.")
        plie = Plie.objects.filter(slug="bench-0").first()
        if plie is None:
            bench = Bench()
            bench.rng = __import__("random").Random(7)
            plie = bench.make_plie(0, options["participants"])
        report = self.measure(
            plie, rate=options["rate"], duration=options["duration"], workers=options["workers"], port=options["port"]
        )
        if options["mix"]:
            report["melange"] = self.mix(plie, options)
        if options["json"]:
            self.stdout.write(json.dumps(report, ensure_ascii=False, indent=2))
        else:
            self.stdout.write(report["lisible"])
            if options["mix"]:
                self.stdout.write(self.readable(report["melange"]))
        if report["erreurs"] or report.get("melange", {}).get("erreurs"):
            sys.exit(1)

    def analyze(self):
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")  # bulk-loaded tables: give the planner its statistics first

    def stop(self, server):
        server.send_signal(signal.SIGINT)  # gunicorn's quick shutdown: no request is left to finish
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()

    def measure(self, plie, *, rate, duration, workers=4, port=0):
        """The copil dashboard visited with everything it loads: a cold visit (the report computed), the median of
        five visits alone, then visits at `rate` a second for `duration` seconds."""
        url, cookie = self.pages(plie)[0][1:]
        self.analyze()
        port = port or self.free_port()
        server = self.serve(port, workers)
        base = f"http://127.0.0.1:{port}"
        try:
            self.wait_for(base + "/connexion/", "")
            cold = self.visit(base, url, cookie)
            alone = [self.visit(base, url, cookie) for _ in range(5)]
            load = os.getloadavg()[0]
            results = self.open_loop(lambda: self.visit(base, url, cookie), rate, duration)
        finally:
            self.stop(server)
        visits = sorted(seconds for seconds, _, _ in results["done"])
        pages = sorted(page for _, page, _ in results["done"])
        errors = [error for _, _, error in results["done"] if error]
        alone_s = statistics.median(seconds for seconds, *_ in alone)
        figures = {
            "visites_par_s_demandees": rate,
            "duree_s": duration,
            "visites": len(visits),
            "visites_par_s_obtenues": round(len(visits) / results["wall"], 1),
            "requetes_par_visite": alone[0][2]["requests"],
            "premiere_visite_s": round(cold[0], 3),
            "visite_seule_s": round(alone_s, 3),
            "p50_s": round(percentile(visits, 0.5), 3),
            "p95_s": round(percentile(visits, 0.95), 3),
            "p99_s": round(percentile(visits, 0.99), 3),
            "page_p95_s": round(percentile(pages, 0.95), 3),
            "p95_sur_seule": round(percentile(visits, 0.95) / alone_s, 2),
            "objectif_p95_s": 0.3,
            "erreurs": len(errors),
            "detail_erreurs": sorted(set(errors)),
            "charge_machine": round(load, 1),
        }
        figures["lisible"] = (
            f"Tableau de bord du comité de pilotage avec ses {figures['requetes_par_visite'] - 1} ressources "
            f"(images, styles, scripts), {figures['visites']} visites à {rate}/s pendant {duration} s "
            f"(obtenu {figures['visites_par_s_obtenues']}/s), charge machine {figures['charge_machine']} :\n"
            f"  p95 {figures['p95_s']:.3f} s (objectif ≤ 0,300) · p50 {figures['p50_s']:.3f} · p99 {figures['p99_s']:.3f}"
            f" · page seule p95 {figures['page_p95_s']:.3f} · visite seule {figures['visite_seule_s']:.3f} s"
            f" (p95/seule {figures['p95_sur_seule']}) · première visite, bilan calculé {figures['premiere_visite_s']:.3f}"
            f" s · {figures['erreurs']} erreur(s)"
        ) + "".join(f"\n  {error}" for error in figures["detail_erreurs"])
        return figures

    def visit(self, base, url, cookie):
        """(seconds, seconds of the page alone, {"requests": n}, first error or None): the page, then what it loads,
        six at a time as browsers do."""
        began = time.perf_counter()
        page, error, body = self.get(base + url, cookie, body=True)
        resources = [] if error else self.resources(body)
        with ThreadPoolExecutor(max_workers=6) as pool:
            fetched = list(pool.map(lambda path: self.get(base + path, cookie), resources))
        error = error or next((e for _, e in fetched if e), None)
        return time.perf_counter() - began, page, {"requests": 1 + len(resources)}, error

    @staticmethod
    def resources(body):
        text = body.decode("utf-8", "replace")
        found = re.findall(r'<(?:img|script)\b[^>]*\bsrc="([^"]+)"', text)
        found += re.findall(r'<link\b[^>]*\brel="(?:stylesheet|icon)"[^>]*\bhref="([^"]+)"', text)
        return [path.replace("&amp;", "&") for path in found if path.startswith("/")]

    def open_loop(self, call, rate, duration):
        """A call starts every 1/rate second whatever the previous ones do, as users would."""
        done, lock = [], threading.Lock()

        def one():
            result = call()
            with lock:
                done.append((result[0], result[1], result[3]))

        count = int(rate * duration)
        began = time.perf_counter()
        with ThreadPoolExecutor(max_workers=64) as pool:
            for index in range(count):
                delay = began + index / rate - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                pool.submit(one)
        return {"done": done, "wall": time.perf_counter() - began}

    def mix(self, plie, options):
        pages = self.pages(plie)
        self.analyze()
        port = options["port"] or self.free_port()
        server = self.serve(port, options["workers"])
        try:
            base = f"http://127.0.0.1:{port}"
            self.wait_for(base + pages[0][1], pages[0][2])
            alone = {
                name: statistics.median(self.get(base + url, cookie)[0] for _ in range(5))
                for name, url, cookie in pages
            }
            results = self.load(base, pages, options["rate"], options["duration"])
        finally:
            self.stop(server)
        return self.report(pages, alone, results, options)

    def pages(self, plie):
        operation = Operation.objects.get(plie=plie, code="FO1")
        referent = Referent.objects.filter(plie=plie).order_by("pk").first()
        people = {}
        for role, email in ((Role.COPIL, "copil"), (Role.REFERENT, "referent")):
            user, _ = User.objects.get_or_create(email=f"charge-{email}@plie.localhost")
            Membership.objects.get_or_create(user=user, plie=plie, defaults={"role": role})
            people[role] = user
        if referent.user_id is None:
            Referent.objects.filter(pk=referent.pk).update(user=people[Role.REFERENT])
        followed = (
            Participant.objects.filter(
                plie=plie, parcours__assignments__referent=referent, parcours__assignments__end__isnull=True
            )
            .order_by("pk")
            .first()
        )
        if followed is None:
            raise CommandError("Le référent du banc d’essai ne suit aucun parcours ouvert.")
        copil, mine = session_cookie(people[Role.COPIL]), session_cookie(people[Role.REFERENT])
        dashboard = f"{reverse('dashboard')}?operation={operation.pk}&kind=year&year=2023"
        return [
            ("tableau de bord (comité de pilotage)", dashboard, copil),
            ("portefeuille du référent", reverse("portfolio"), mine),
            ("dossier du participant", reverse("participant_detail", args=[followed.pk]), mine),
        ]

    def free_port(self):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            return probe.getsockname()[1]

    def serve(self, port, workers):
        os.makedirs(settings.STATIC_ROOT, exist_ok=True)
        os.makedirs(settings.BASE_DIR / "var", exist_ok=True)
        env = {
            **os.environ,
            "DEBUG": "off",
            "ALLOWED_HOSTS": "127.0.0.1",
            "SECURE_COOKIES": "off",
            "STATICFILES_BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage",
            "SECURE_SSL_REDIRECT": "off",
            "MFA_REQUIRED": "off",
            "LOG_LEVEL": "WARNING",
        }
        # Collected as a deployment does: WhiteNoise serves the style sheets and scripts from STATIC_ROOT only.
        collect = [sys.executable, "manage.py", "collectstatic", "--no-input", "-v0"]
        subprocess.run(collect, cwd=settings.BASE_DIR, env=env, check=True)
        command = [sys.executable, "-m", "gunicorn", "plie.wsgi", "--bind", f"127.0.0.1:{port}"]
        command += ["--workers", str(workers), "--log-level", "warning", "--timeout", "60"]
        # The server's own output (its shutdown included) goes to a file, not between the figures.
        log = open(settings.BASE_DIR / "var" / "bench-load-serveur.log", "w")  # noqa: SIM115 — closed with the process
        return subprocess.Popen(command, cwd=settings.BASE_DIR, env=env, stdout=log, stderr=log)

    def get(self, url, cookie, *, body=False):
        """(seconds, error or None[, body]): an error is anything but a 200 with a page that is not an error page."""
        began = time.perf_counter()
        request = urllib.request.Request(url, headers={"Cookie": cookie} if cookie else {})
        content = b""
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                content = response.read()
                ok = response.status == 200 and b"Traceback" not in content
                error = None if ok else f"HTTP {response.status} {url}"
        except urllib.error.HTTPError as failure:
            error = f"HTTP {failure.code} {url.partition('?')[0]}"
        except OSError as failure:
            error = type(failure).__name__
        seconds = time.perf_counter() - began
        return (seconds, error, content) if body else (seconds, error)

    def wait_for(self, url, cookie):
        for _ in range(150):
            if self.get(url, cookie)[1] is None:
                return
            time.sleep(0.2)
        raise CommandError("Le serveur de test ne répond pas.")

    def load(self, base, pages, rate, duration):
        """Open loop: a request starts every 1/rate second whatever the previous ones do, as users would."""
        results, lock = {name: [] for name, _, _ in pages}, threading.Lock()
        errors = []

        def one(name, url, cookie):
            seconds, error = self.get(base + url, cookie)
            with lock:
                results[name].append(seconds)
                if error:
                    errors.append((name, error))

        count = int(rate * duration)
        began = time.perf_counter()
        with ThreadPoolExecutor(max_workers=64) as pool:
            for index in range(count):
                delay = began + index / rate - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                name, url, cookie = pages[index % len(pages)]
                pool.submit(one, name, url, cookie)
        wall = time.perf_counter() - began
        return {"timings": results, "errors": errors, "wall": wall, "count": count}

    def report(self, pages, alone, results, options):
        report = {
            "debit_demande_par_s": options["rate"],
            "duree_s": options["duration"],
            "requetes": results["count"],
            "debit_obtenu_par_s": round(results["count"] / results["wall"], 1),
            "erreurs": len(results["errors"]),
            "detail_erreurs": sorted({f"{name} : {error}" for name, error in results["errors"]}),
            "pages": {},
        }
        for name, _, _ in pages:
            timings = sorted(results["timings"][name])
            p50, p95, p99 = (percentile(timings, f) for f in (0.5, 0.95, 0.99))
            report["pages"][name] = {
                "seule_s": round(alone[name], 3),
                "p50_s": round(p50, 3),
                "p95_s": round(p95, 3),
                "p99_s": round(p99, 3),
                "p95_sur_seule": round(p95 / alone[name], 2),
            }
        return report

    def readable(self, report):
        lines = [
            f"{report['requetes']} requêtes à {report['debit_demande_par_s']}/s pendant {report['duree_s']} s "
            f"(obtenu : {report['debit_obtenu_par_s']}/s), {report['erreurs']} erreur(s)."
        ]
        lines += [f"  {line}" for line in report["detail_erreurs"]]
        for name, figures in report["pages"].items():
            lines.append(
                f"{name:38} seule {figures['seule_s']:.3f} s · p50 {figures['p50_s']:.3f} · p95 {figures['p95_s']:.3f}"
                f" · p99 {figures['p99_s']:.3f} · p95/seule {figures['p95_sur_seule']}"
            )
        return "\n".join(lines)
