"""Benchmark of the import: participants and steps extracts, against PostgreSQL's own COPY of the same rows.

    DATABASE_URL=postgres://…/plie_bench python manage.py bench_imports [--participants 100000] [--steps 300000]

Everything runs in one transaction rolled back at the end: the database is left as it was. The baseline is measured
in the same run (COPY of the same CSV bytes into bare text tables), so the ratio holds on a noisy machine. A sample
also goes through django-import-export, the library the admin uses, to show why the bulk path does not."""

import datetime
import io
import json
import os
import random
import statistics
import time
from unittest import mock

from django.core.management import BaseCommand, CommandError
from django.db import connection, transaction
from import_export import fields, resources, widgets

from imports.columns import COLUMNS, Kind
from imports.engine import Source, run_batch
from operations.models import Operation, Referent, ReferentPeriod, Structure, StructureKind
from participants.models import Participant
from plie import foreign_keys
from plie.models import Plie
from steps.models import StepType

STEP_LABELS = ["PMSMP", "Formation qualifiante", "Atelier TRE", "CDD", "Mobilité", "Savoirs de base"]
SAMPLE = 2000
BARE_COPIES = 5


class RollbackError(Exception):
    pass


class ParticipantLibraryResource(resources.ModelResource):
    """The straightforward django-import-export resource for the same participant columns, in bulk mode."""

    external_id = fields.Field(attribute="external_id", column_name="ID participant")
    last_name = fields.Field(attribute="last_name", column_name="Nom")
    first_name = fields.Field(attribute="first_name", column_name="Prénom")
    sex = fields.Field(attribute="sex", column_name="Sexe")
    birth_date = fields.Field(
        attribute="birth_date", column_name="Date de naissance", widget=widgets.DateWidget(format="%d/%m/%Y")
    )

    class Meta:
        model = Participant
        fields = ("external_id", "last_name", "first_name", "sex", "birth_date")
        import_id_fields = ("external_id",)
        use_bulk = True
        skip_unchanged = True

    def __init__(self, plie):
        super().__init__()
        self.plie = plie

    def before_save_instance(self, instance, row, **kwargs):
        instance.plie = self.plie


class Command(BaseCommand):
    help = "Mesure l’import de 100 000 parcours et 300 000 étapes face au COPY de PostgreSQL sur les mêmes lignes."

    def add_arguments(self, parser):
        parser.add_argument("--participants", type=int, default=100_000)
        parser.add_argument("--steps", type=int, default=300_000)
        parser.add_argument("--json", action="store_true")

    def handle(self, *args, **options):
        self.rng = random.Random(11)
        self.out = {"base": connection.vendor, "charge_machine_debut": " ".join(f"{x:.1f}" for x in os.getloadavg())}
        self.maintain("VACUUM ANALYZE")  # the rows of the previous runs, rolled back, are dead rows until vacuumed
        try:
            with transaction.atomic():
                self.run(options["participants"], options["steps"])
                raise RollbackError
        except RollbackError:
            pass
        self.out["charge_machine_fin"] = " ".join(f"{x:.1f}" for x in os.getloadavg())
        if options["json"]:
            self.stdout.write(json.dumps(self.out, ensure_ascii=False))
            return
        for key, value in self.out.items():
            self.stdout.write(f"{key} : {value}")

    def run(self, n_participants, n_steps):
        plie, referents = self.bench_plie()
        participants = self.participants_csv(n_participants, referents)
        steps = self.steps_csv(n_participants, n_steps)
        self.out["lignes_participants"], self.out["lignes_etapes"] = n_participants, n_steps
        self.out["taille_fichiers_mo"] = round((len(participants) + len(steps)) / 1024 / 1024, 1)

        before = transaction.savepoint()
        elapsed = self.first_import(plie, participants, steps)
        rows = n_participants + n_steps
        self.out["import_s"] = round(elapsed, 2)
        self.out["import_lignes_par_s"] = round(rows / elapsed)

        started, cpu = time.perf_counter(), time.process_time()
        again = run_batch(plie, [Source("participants.csv", participants), Source("etapes.csv", steps)], by=None)
        self.out["reimport_identique_s"] = round(time.perf_counter() - started, 2)
        # This process's own time: on a loaded machine, what the re-import costs with the processor to itself
        # (the database's share, a few queries, is not in it).
        self.out["reimport_identique_cpu_python_s"] = round(time.process_time() - cpu, 2)
        self.out["reimport_inchanges"] = sum(r.unchanged for r in again)

        if connection.vendor == "postgresql":
            final = self.final_rows(plie)
            transaction.savepoint_rollback(before)
            # Measured once, the baseline moved by a quarter from one run to the next (0.38 to 0.50 s on the same
            # machine), and the ratio with it: the median of five, each into new tables.
            copies = [
                self.bare_copy(participants, Kind.PARTICIPANTS, n) + self.bare_copy(steps, Kind.STEPS, n)
                for n in range(BARE_COPIES)
            ]
            copy = statistics.median(copies)
            schema = self.schema_copy(final)
            transaction.savepoint_rollback(before)
            silenced = self.silenced_copy(final)
            transaction.savepoint_rollback(before)
            self.out["copy_s"] = round(copy, 2)
            self.out["copy_mesures_s"] = [round(c, 3) for c in copies]
            self.out["copy_lignes_par_s"] = round(rows / copy)
            self.out["copy_lignes_finales_schema_s"] = round(schema, 2)
            self.out["lignes_finales_ecrites"] = sum(count for _, _, count in final)
            self.out["ratio_import_sur_copy"] = round(elapsed / copy, 1)
            self.out["ratio_import_sur_copy_schema"] = round(elapsed / schema, 1)
            # What PostgreSQL alone does for this import, whatever reads, checks and formats the rows: the COPY of its
            # final rows as the import makes it (foreign-key triggers silenced where allowed), then the foreign keys
            # checked as the import checks them (per batch, or by the triggers at commit).
            keys = self.out["cles_etrangeres_par_lot_s"] or self.out["copy_schema_cles_etrangeres_s"]
            floor = silenced + keys
            self.out["plancher_postgresql_s"] = round(floor, 2)
            self.out["ratio_plancher_sur_copy"] = round(floor / copy, 1)
        else:
            self.out["copy_s"] = "COPY n’existe que sous PostgreSQL"

        sample = b"\n".join(participants.split(b"\n")[: SAMPLE + 1]).decode("utf-8-sig")
        self.library_sample(plie, sample)

    def bench_plie(self):
        """The bench's PLIE, fiche and 40 referents; the names of the referents."""
        if Plie.objects.filter(slug="bench-import").exists():
            raise CommandError("Un PLIE bench-import existe déjà dans cette base.")
        plie = Plie.objects.create(slug="bench-import", name="PLIE du banc d’essai des imports")
        operation = Operation.objects.create(
            plie=plie,
            code="FO1",
            title="Accompagnement",
            start=datetime.date(2021, 1, 1),
            end=datetime.date(2023, 12, 31),
        )
        structure = Structure.objects.create(plie=plie, name="Structure du banc", kind=StructureKind.ASSOCIATION)
        referents = []
        for index in range(40):
            referent = Referent.objects.create(
                plie=plie, first_name=f"Prénom{index}", last_name=f"Référent{index}", structure=structure
            )
            ReferentPeriod.objects.create(
                referent=referent, operation=operation, etp=1, start=operation.start, end=operation.end
            )
            referents.append(referent.full_name)
        labels = set(StepType.objects.filter(category__plie=plie).values_list("label", flat=True))
        missing = set(STEP_LABELS) - labels
        if missing:
            raise CommandError(f"Nomenclature par défaut incomplète : {', '.join(sorted(missing))}.")
        return plie, referents

    def first_import(self, plie, participants, steps):
        marks, per_batch = [], []
        check = foreign_keys.check

        def timed_check(*args):
            began = time.perf_counter()
            check(*args)
            per_batch.append(time.perf_counter() - began)

        started = time.perf_counter()
        with mock.patch.object(foreign_keys, "check", timed_check):
            results = run_batch(
                plie,
                [Source("participants.csv", participants), Source("etapes.csv", steps)],
                by=None,
                progress=lambda fraction, label: marks.append((time.perf_counter(), label)),
            )
        checks = time.perf_counter()
        # Zero when the role may not silence the triggers: they then check at commit (plie/foreign_keys.py).
        self.out["cles_etrangeres_par_lot_s"] = round(sum(per_batch), 2)
        self.check_deferred()
        elapsed = time.perf_counter() - started
        self.phases(started, marks, checks, time.perf_counter())
        errors = [e for r in results for e in r.errors][:3]
        if errors:
            raise CommandError(f"Le fichier généré est refusé : {errors}")
        return elapsed

    def maintain(self, command):
        """`command` (VACUUM ANALYZE, ANALYZE) on every table an import writes, on PostgreSQL."""
        if connection.vendor != "postgresql":
            return
        with connection.cursor() as cursor:
            for model, _ in self.scopes(None):
                for table_model in (model, model.history.model):
                    cursor.execute(f"{command} {table_model._meta.db_table}")

    def scopes(self, plie):
        """(model, queryset of the PLIE's rows) of every model an import writes."""
        from participants.models import Parcours, Participation, ReferentAssignment
        from steps.models import Step

        return [
            (Participant, Participant.objects.filter(plie=plie)),
            (Parcours, Parcours.objects.filter(plie=plie)),
            (ReferentAssignment, ReferentAssignment.objects.filter(parcours__plie=plie)),
            (Step, Step.objects.filter(plie=plie)),
            (Participation, Participation.objects.filter(participant__plie=plie)),
        ]

    def final_rows(self, plie):
        """(table, COPY text, count) of every row the import wrote, history included, in the order of their keys."""
        # Inside the transaction, the planner still thinks the history tables hold what they held before the import:
        # a nested loop over 300,000 history rows then takes minutes. ANALYZE sees the transaction's own rows.
        self.maintain("ANALYZE")
        final = []
        with connection.cursor() as cursor:
            for model, queryset in self.scopes(plie):
                ids = queryset.values("pk")
                for table_model, where in [(model, ids), (model.history.model, ids)]:
                    table = table_model._meta.db_table
                    sql, params = table_model._base_manager.filter(id__in=where).query.sql_with_params()
                    select = cursor.mogrify(f"SELECT * FROM {table} WHERE id IN (SELECT U0.id FROM ({sql}) U0)", params)
                    data = bytearray()
                    with cursor.cursor.copy(f"COPY ({select}) TO STDOUT") as copy:
                        for block in copy:
                            data += block
                    final.append((table, bytes(data), data.count(b"\n")))
        return final

    def schema_copy(self, final):
        """COPY of the import's final rows into the real tables (their indexes, constraints and foreign keys checked):
        what writing them costs to PostgreSQL alone, the triggers checking the keys. Table by table, then the deferred
        foreign keys."""
        with connection.cursor() as cursor:
            started = time.perf_counter()
            tables = self.copy_tables(cursor, final)
            began = time.perf_counter()
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
            self.out["copy_schema_par_table_s"] = tables
            self.out["copy_schema_cles_etrangeres_s"] = round(time.perf_counter() - began, 2)
            return time.perf_counter() - started

    def silenced_copy(self, final):
        """The same COPY table by table, with the foreign-key triggers silenced as the import silences them (when
        the role may: plie/foreign_keys.py), their checks left out."""
        with connection.cursor() as cursor:
            started = time.perf_counter()
            with foreign_keys.checked_per_batch(cursor, [table for table, _, _ in final]) as silenced:
                self.copy_tables(cursor, final)
            elapsed = time.perf_counter() - started
            self.out["copy_schema_sans_declencheurs_s"] = round(elapsed, 2) if silenced else None
            return elapsed

    def copy_tables(self, cursor, final):
        """COPY of each table's final rows; {table: seconds}."""
        tables = {}
        for table, data, _ in final:
            began = time.perf_counter()
            with cursor.cursor.copy(f"COPY {table} FROM STDIN") as copy:
                copy.write(data)
            tables[table] = round(time.perf_counter() - began, 2)
        return tables

    def phases(self, started, marks, checks, end):
        """Where the time goes, from the progress reports: reading and checks in Python, writing, foreign keys."""
        spent = {"lecture_et_controles_s": 0.0, "ecriture_s": 0.0}
        timeline = [(started, "lecture")] + [(moment, label) for moment, label in marks] + [(checks, "fin")]
        for (moment, label), (following, _) in zip(timeline, timeline[1:], strict=False):
            key = "ecriture_s" if label.endswith("écriture") else "lecture_et_controles_s"
            spent[key] += following - moment
        spent["cles_etrangeres_a_la_validation_s"] = end - checks
        self.out.update({key: round(value, 2) for key, value in spent.items()})

    def check_deferred(self):
        """The foreign keys are checked at commit; the benchmark rolls back, so it asks for the checks itself."""
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")

    def participants_csv(self, count, referents):
        header = [c.name for c in COLUMNS[Kind.PARTICIPANTS]]
        lines = [";".join(header)]
        reasons = ["CDI", "CDD de 6 mois et plus", "Abandon", "Déménagement", "Formation qualifiante"]
        for index in range(count):
            entry = datetime.date(2021, 1, 1) + datetime.timedelta(days=self.rng.randrange(1000))
            leaves = self.rng.random() < 0.5
            exit_date = entry + datetime.timedelta(days=self.rng.randrange(60, 500)) if leaves else None
            birth = datetime.date(1960, 1, 1) + datetime.timedelta(days=self.rng.randrange(15000))
            values = {
                "ID participant": f"V{index:07d}",
                "ID parcours": f"PA{index:07d}",
                "Nom": f"Nom{index}",
                "Prénom": self.rng.choice(["Léa", "Éric", "Awa", "Jean-Pierre", "Zoé"]),
                "Sexe": self.rng.choice("FH"),
                "Date de naissance": f"{birth:%d/%m/%Y}",
                "Code INSEE": "",
                "Commune": "",
                "Code postal": "47000",
                "QPV": self.rng.choice(["Oui", "Non"]),
                "Niveau de formation": str(self.rng.randint(1, 8)),
                "RSA": self.rng.choice(["Oui", "Non"]),
                "RQTH": "Non",
                "DELD": self.rng.choice(["Oui", "Non"]),
                "BPI": "Non",
                "Prescripteur": self.rng.choice(["France Travail", "CCAS", "Département"]),
                "Date d’entrée": f"{entry:%d/%m/%Y}",
                "Date de sortie": f"{exit_date:%d/%m/%Y}" if exit_date else "",
                "Motif de sortie": self.rng.choice(reasons) if exit_date else "",
                "Référent": self.rng.choice(referents),
                "Structure": "Structure du banc",
            }
            self.entries = getattr(self, "entries", {})
            self.entries[index] = (entry, exit_date)
            lines.append(";".join(values.get(name, "") for name in header))
        return ("\ufeff" + "\r\n".join(lines) + "\r\n").encode("utf-8")

    def steps_csv(self, participants, count):
        header = [c.name for c in COLUMNS[Kind.STEPS]]
        lines = [";".join(header)]
        for index in range(count):
            who = index % participants
            entry, exit_date = self.entries[who]
            span = ((exit_date or entry + datetime.timedelta(days=400)) - entry).days
            start = entry + datetime.timedelta(days=self.rng.randrange(max(span, 1)))
            done = self.rng.random() < 0.6
            values = {
                "ID étape": f"E{index:08d}",
                "ID participant": f"V{who:07d}",
                "ID parcours": f"PA{who:07d}",
                "Type d’étape": self.rng.choice(STEP_LABELS),
                "Date de début": f"{start:%d/%m/%Y}",
                "Date de fin": f"{start + datetime.timedelta(days=20):%d/%m/%Y}" if done else "",
                "Statut": "Réalisée" if done else "En cours",
                "Validée": "Oui" if done else "Non",
                "Organisme": "Organisme partenaire",
            }
            lines.append(";".join(values.get(name, "") for name in header))
        return ("\ufeff" + "\r\n".join(lines) + "\r\n").encode("utf-8")

    def bare_copy(self, data, kind, n):
        """PostgreSQL's COPY of the same bytes into a new table of text columns: no parsing, no checks, no indexes."""
        columns = [c.name for c in COLUMNS[kind]]
        table = f"bench_bare_{kind.name.lower()}_{n}"
        with connection.cursor() as cursor:
            cursor.execute(f"CREATE TEMP TABLE {table} ({', '.join(f'c{i} text' for i in range(len(columns)))})")
            started = time.perf_counter()
            sql = f"COPY {table} FROM STDIN WITH (FORMAT csv, DELIMITER ';', HEADER true, ENCODING 'UTF8')"
            with cursor.cursor.copy(sql) as copy:
                copy.write(data[3:] if data.startswith(b"\xef\xbb\xbf") else data)
            return time.perf_counter() - started

    def library_sample(self, plie, text):
        """The same first rows through django-import-export (bulk mode) and through the import, on fresh ids."""
        import tablib

        sid = transaction.savepoint()
        dataset = tablib.Dataset().load(io.StringIO(text).read().replace("V0", "L0"), format="csv", delimiter=";")
        started = time.perf_counter()
        result = ParticipantLibraryResource(plie).import_data(dataset, raise_errors=True)
        library = time.perf_counter() - started
        transaction.savepoint_rollback(sid)
        if result.has_errors():
            raise CommandError("django-import-export a refusé l’échantillon.")
        sid = transaction.savepoint()
        sample = text.replace("V0", "L0").replace("PA0", "LA0").encode("utf-8")
        started = time.perf_counter()
        run_batch(plie, [Source("echantillon.csv", sample)], by=None)
        ours = time.perf_counter() - started
        transaction.savepoint_rollback(sid)
        self.out["echantillon_lignes"] = SAMPLE
        self.out["django_import_export_lignes_par_s"] = round(SAMPLE / library)
        self.out["import_echantillon_lignes_par_s"] = round(SAMPLE / ours)
        self.out["ratio_bibliotheque_sur_import"] = round(library / ours, 1)
