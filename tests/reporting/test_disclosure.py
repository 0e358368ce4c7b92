"""The disclosure policy (reporting/disclosure.py) against an adversary: the steering committee reads every allowed
period of a generated PLIE full of small counts and tries every pair of periods, every total against its parts,
every rate and average, to get a count from 1 to 4 back. A referent reads their own portfolio only."""

import datetime
import random
from decimal import Decimal

import pytest

from participants.models import Answer, EmploymentStatus, Participation, Sex
from plie.models import Role
from reporting import disclosure
from reporting.disclosure import HIDDEN, Hidden
from reporting.fse import INDICATORS, fse_figures
from reporting.report import build_report, report_for
from tests.database import built_once
from tests.factories import OperationFactory, PlieFactory, ReferentFactory, ReferentPeriodFactory, StructureFactory
from tests.factories.participants import ParticipantFactory
from tests.reporting.test_indicators import enrol

D = datetime.date
TODAY = D(2026, 12, 3)
ADDITIVE = ["nouvelles_integrations", "etapes_validees", "sorties", "sorties_positives", "sorties_neutralisees",
            "entretiens"]  # fmt: skip
SEX_PARTS = ["femmes", "hommes", "autres"]


def small(value):
    return isinstance(value, int) and 1 <= value <= 4


def shown(value):
    return isinstance(value, int | float) and not isinstance(value, Hidden)


pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def generated(django_db_setup, django_db_blocker):
    """Built once for the module (tests/database.py): the tests only read it."""
    with built_once(django_db_blocker, generate) as built:
        yield built


@pytest.fixture(scope="module")
def copil_reports(generated, django_db_blocker):
    """What the steering committee reads of every allowed period, and the true figures, computed once."""
    with django_db_blocker.unblock():
        return reports(generated[0], Role.COPIL)


def generate():
    """A PLIE of 60 people over one year, three referents of two structures, answers of every kind: many small
    counts per month, quarter and structure."""
    rng = random.Random(13)
    plie = PlieFactory(slug="adverse", name="PLIE adverse")
    operation = OperationFactory(plie=plie, code="FO1", start=D(2023, 1, 1), end=D(2023, 12, 31))
    structures = [StructureFactory(plie=plie, name=name) for name in ("Alpha", "Bêta")]
    referents = []
    for index in range(3):
        referent = ReferentFactory(plie=plie, structure=structures[index % 2])
        ReferentPeriodFactory(referent=referent, operation=operation, etp=Decimal(1), start=operation.start, end=None)
        referents.append(referent)
    labels = ["CDI", "Abandon", "Formation qualifiante", "Déménagement", "CDD de moins de 6 mois"]
    for _ in range(60):
        person = ParticipantFactory(
            plie=plie,
            sex=rng.choice(["F", "F", "H", "H", "NB"]),
            birth_date=D(rng.randint(1960, 2006), rng.randint(1, 12), 1),
            employment_status=rng.choice([*EmploymentStatus.values, ""]),
            qualification_level=rng.choice([None, 1, 3, 4, 6]),
            disability=rng.choice([*Answer.values, ""]),
            homeless=rng.choice([*Answer.values, ""]),
        )
        entry = D(2023, 1, 1) + datetime.timedelta(days=rng.randint(0, 330))
        leaves = rng.random() < 0.5
        exit_day = min(entry + datetime.timedelta(days=rng.randint(5, 200)), D(2023, 12, 31)) if leaves else None
        enrol(rng.choice(referents), entry, exit_day, rng.choice(labels), participant=person)
    return operation, referents


def reports(operation, role):
    periods = disclosure.allowed_periods(operation)
    seen = {(p.start, p.end): report_for(operation, p.start, p.end, role=role, today=TODAY) for p in periods}
    true = {(p.start, p.end): build_report(operation, p.start, p.end, today=TODAY) for p in periods}
    return seen, true


def pairs(spans):
    """Every (A, B, C) of allowed periods with A = B ∪ C, B and C disjoint: A − B gives C."""
    for a in spans:
        for b in spans:
            if b == a or not (a[0] <= b[0] and b[1] <= a[1]) or (a[0] != b[0] and a[1] != b[1]):
                continue  # B must sit at one end of A for A − B to be one period
            rest = (
                (b[1] + datetime.timedelta(days=1), a[1]) if a[0] == b[0] else (a[0], b[0] - datetime.timedelta(days=1))
            )
            if rest in spans:
                yield a, b, rest


def fse_cells(report):
    fse = report["fse"]
    for code, values in fse["indicateurs"].items():
        yield code, {**values, "declined": fse["ne_souhaite_pas_repondre"].get(code),
                     "missing": fse["non_renseigne"].get(code)}  # fmt: skip


def check_primary(seen, true):
    assert any(small(v) for r in true.values() for _, cells in fse_cells(r) for v in cells.values()), "no small count"
    for span, report in seen.items():
        assert not [k for k, v in report["totals"].items() if small(v)], span
        for code, cells in fse_cells(report):
            assert not [c for c, v in cells.items() if small(v)], (span, code)
        for row in report["structures"]:
            assert not [k for k, v in row.items() if small(v)], (span, row["structure"])
        assert not [day for day, count in report["months"] if small(count)], span
        assert report["referents"] is None and report["annex"] is None


def check_pairs(seen):
    found = []
    for a, b, _ in pairs(set(seen)):
        for key in ADDITIVE:
            big, part = seen[a]["totals"][key], seen[b]["totals"][key]
            if shown(big) and shown(part) and small(big - part):
                found.append((a, b, key))
        # FSE+ cells count entries (EECO) or exits (EECR) dated in the period: they add up over disjoint periods.
        for (code, big), (_, part) in zip(fse_cells(seen[a]), fse_cells(seen[b]), strict=True):
            for cell in big:
                if shown(big[cell]) and shown(part[cell]) and small(big[cell] - part[cell]):
                    found.append((a, b, code, cell))
        parts = {row["structure"]: row for row in seen[b]["structures"]}
        for row in seen[a]["structures"]:
            other = parts.get(row["structure"], {})
            for key in ADDITIVE:
                if shown(row.get(key)) and shown(other.get(key)) and small(row[key] - other[key]):
                    found.append((a, b, row["structure"], key))
    assert not found, found[:10]


def check_partitions(seen):
    found = []
    for span, report in seen.items():
        cells = dict(fse_cells(report))
        groups = [(cells[code]["total"], [cells[code][p] for p in SEX_PARTS]) for code in cells]
        entered = cells["EECO01"]["total"]
        for partition in (["EECO02", "EECO04", "EECO05"], ["EECO09", "EECO10", "EECO11"]):
            extra = [cells[partition[0]]["declined"], cells[partition[0]]["missing"]]
            groups.append((entered, [cells[code]["total"] for code in partition] + extra))
        for key in ADDITIVE:
            groups.append((report["totals"][key], [row.get(key) for row in report["structures"]]))
        for total, parts in groups:
            hidden = [p for p in parts if isinstance(p, Hidden)]
            # A total of 0 makes every part 0: a cell hidden for a sibling period's sake gives no count back then.
            if shown(total) and total != 0 and len(hidden) == 1:
                found.append((span, total, parts))
    assert not found, found[:10]


def check_rates_and_averages(seen, true):
    for span, report in seen.items():
        totals, real = report["totals"], true[span]["totals"]
        if shown(totals["taux_sorties_positives_brut"]):
            assert not small(real["sorties_positives"]) and not small(real["sorties"]), span
        if shown(totals["taux_sorties_positives"]):
            assert not small(real["sorties_positives"]), span
            assert not small(real["sorties"] - real["sorties_neutralisees"]), span
        for key in ("file_active_moyenne", "file_active_mensuelle", "etapes_objectif"):
            if shown(totals[key]):
                assert not small(real["participants_accompagnes"]), (span, key)


def test_no_count_from_1_to_4_is_shown_to_the_steering_committee(copil_reports):
    seen, true = copil_reports
    assert any(small(r["totals"]["sorties"]) for r in true.values()), "the world must hold small counts"
    check_primary(seen, true)


def test_no_difference_of_two_allowed_periods_gives_a_hidden_count_back(copil_reports):
    check_pairs(copil_reports[0])


def test_no_total_less_its_shown_parts_gives_a_hidden_part_back(copil_reports):
    check_partitions(copil_reports[0])


def test_rates_and_averages_never_give_a_hidden_count_back(copil_reports):
    check_rates_and_averages(*copil_reports)


def test_a_custom_period_is_not_an_allowed_one(generated):
    operation, _ = generated
    assert disclosure.is_allowed(operation, D(2023, 4, 1), D(2023, 6, 30))
    assert not disclosure.is_allowed(operation, D(2023, 1, 13), D(2023, 12, 31))
    assert not disclosure.is_allowed(operation, D(2023, 1, 14), D(2023, 1, 14))


def test_a_referent_reads_their_own_portfolio_and_nothing_of_the_operation(generated):
    operation, referents = generated
    mine = referents[0]
    report = report_for(operation, D(2023, 1, 1), D(2023, 12, 31), role=Role.REFERENT, referent_ids={mine.pk},
                        today=TODAY)  # fmt: skip
    assert [row["referent_id"] for row in report["referents"]] == [mine.pk]
    assert report["totals"] is report["referents"][0]
    assert (report["fse"], report["structures"], report["lines"], report["months"]) == (None, [], [], [])


def test_the_team_sees_every_figure(generated):
    operation, _ = generated
    report = report_for(operation, D(2023, 1, 14), D(2023, 1, 14), role=Role.ANIMATION, today=TODAY)
    assert HIDDEN not in report["totals"].values()
    assert report["referents"]


def test_each_fse_count_is_the_count_of_its_participations_by_sex(generated):
    """The FSE+ tables are counted in one query grouped by sex: each cell against a query of its own."""
    operation, _ = generated
    start, end = operation.start, operation.end
    fse = fse_figures(operation, start, end, participations=0, today=TODAY)
    of_fiche = Participation.objects.filter(operation=operation)
    entered, left = of_fiche.entered_between(start, end), of_fiche.left_between(start, end, TODAY)
    for indicator in INDICATORS:
        if indicator.condition is None:
            continue
        every = left if indicator.is_result else entered
        rows = every.filter(indicator.condition)
        by_sex = {
            "total": rows.count(),
            "femmes": rows.filter(sex=Sex.FEMALE).count(),
            "hommes": rows.filter(sex=Sex.MALE).count(),
            "autres": rows.exclude(sex__in=[Sex.FEMALE, Sex.MALE]).count(),
        }
        assert fse["indicateurs"][indicator.code] == by_sex, indicator.code
        assert fse["ne_souhaite_pas_repondre"][indicator.code] == every.filter(indicator.declined).count()
        assert fse["non_renseigne"][indicator.code] == every.filter(indicator.missing).count()
    assert fse["indicateurs"]["EECO01"]["autres"] > 0 and fse["non_renseigne"]["EECR04"] > 0
