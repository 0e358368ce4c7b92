"""The FSE+ checks of the applications to a fiche, on the real fiches of 2023: caps, counterpart, ceiling, ETP, zones.

Graves FO2 caps FSE+ at 88,5 % for public bodies and 100 % for associations and private bodies; Haut Périgord caps it
at 90 % for all (so at least 10 % of counterpart); the Agenais fiche has a ceiling of 295 200,00 € and no cap."""

import contextlib
import datetime
import re
import threading
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from applications import services
from applications.checks import application_checks, cap_for, granted_total, operation_checks
from applications.models import Application, Outcome, ProposedReferent
from applications.services import decide_application
from operations.models import Operation, Referent, ReferentPeriod
from territories.models import Zone
from tests.factories import ReferentFactory, ReferentPeriodFactory, StructureFactory, UserFactory

pytestmark = pytest.mark.django_db

NBSP = "\u00a0"
DECIDED_ON = datetime.date(2023, 3, 15)


def fiche(slug):
    """The one fiche of 2023 of this PLIE, as the fixture fiches_2023 loads it."""
    return Operation.objects.select_related("plie").get(plie__slug=slug)


def eur(text):
    """`88 500,00 €` as the application writes amounts: non-breaking spaces between thousands and before €."""
    return re.sub(r"(?<=\d) (?=\d{3}[,\s])", NBSP, text).replace(" €", f"{NBSP}€")


def candidature(
    operation,
    kind="association",
    *,
    fse,
    salaries="80000.00",
    other_costs="8000.00",
    other_cofinancing="0",
    counterpart=None,
    etp="1",
    zones=(),
    start=None,
    end=None,
    structure=None,
):
    """A submitted application; by default 80 000 € of salaries + 15 % indirect + 8 000 € = 100 000,00 € eligible,
    and a balanced budget (the counterpart covers what FSE+ and the other cofinancing leave)."""
    structure = structure or StructureFactory(plie=operation.plie, kind=kind)
    application = Application(
        operation=operation,
        structure=structure,
        contact_name="Camille Durand",
        etp_proposed=Decimal(etp),
        start=start or operation.start,
        end=end or operation.end,
        salaries=Decimal(salaries),
        other_costs=Decimal(other_costs),
        fse_requested=Decimal(fse),
        other_cofinancing=Decimal(other_cofinancing),
    )
    application.counterpart = (
        Decimal(counterpart)
        if counterpart is not None
        else application.eligible_cost - application.fse_requested - application.other_cofinancing
    )
    application.save()
    application.zones_requested.set(zones)
    return application


def decide(application, outcome=Outcome.ACCEPTED, decided_on=DECIDED_ON, **kwargs):
    return decide_application(
        application=application, outcome=outcome, decided_on=decided_on, by=UserFactory(), **kwargs
    )


def checks_by_label(checks):
    return {check.label: check for check in checks}


def refusal(excinfo):
    return " ".join(excinfo.value.messages)


class TestGravesCapsDependOnTheKindOfStructure:
    def test_the_graves_fiche_caps_public_bodies_at_88_5_and_associations_and_private_bodies_at_100(self):
        graves = fiche("graves")
        assert cap_for(graves, "public") == Decimal("88.5")
        assert cap_for(graves, "association") == Decimal("100")
        assert cap_for(graves, "private") == Decimal("100")

    def test_a_cap_for_all_beneficiaries_applies_to_every_kind_and_a_fiche_without_cap_has_none(self, operation):
        assert {cap_for(operation, kind) for kind in ("public", "association", "private")} == {Decimal("85")}
        assert cap_for(fiche("agen"), "public") is None

    def test_the_eligible_cost_adds_the_flat_rate_indirect_costs_to_the_direct_costs(self):
        application = candidature(fiche("graves"), "public", fse="88500.00", salaries="80000.00", other_costs="8000.00")
        assert application.indirect_costs == Decimal("12000.00")
        assert application.eligible_cost == Decimal("100000.00")

    def test_indirect_costs_are_rounded_to_the_cent(self):
        application = candidature(fiche("graves"), "public", fse="0", salaries="1000.01", other_costs="0")
        assert application.indirect_costs == Decimal("150.00")
        assert application.eligible_cost == Decimal("1150.01")

    @pytest.mark.parametrize(
        ("kind", "fse", "ok", "detail"),
        [
            ("public", "88500.00", True, "FSE+ demandé 88 500,00 € ; plafond 88,5 % du coût éligible (100 000,00 €) = 88 500,00 €."),
            ("public", "88500.01", False, "FSE+ demandé 88 500,01 € ; plafond 88,5 % du coût éligible (100 000,00 €) = 88 500,00 €."),
            ("association", "100000.00", True, "FSE+ demandé 100 000,00 € ; plafond 100 % du coût éligible (100 000,00 €) = 100 000,00 €."),
            ("private", "100000.00", True, "FSE+ demandé 100 000,00 € ; plafond 100 % du coût éligible (100 000,00 €) = 100 000,00 €."),
            ("private", "100000.01", False, "FSE+ demandé 100 000,01 € ; plafond 100 % du coût éligible (100 000,00 €) = 100 000,00 €."),
        ],
    )  # fmt: skip
    def test_the_fse_request_is_checked_against_the_cap_of_its_kind_of_structure(self, kind, fse, ok, detail):
        application = candidature(fiche("graves"), kind, fse=fse, counterpart="0")
        check = checks_by_label(application_checks(application))["Taux de cofinancement FSE+"]
        assert check.ok is ok
        assert check.detail == eur(detail)

    def test_the_same_amount_passes_for_an_association_but_not_for_a_public_body(self):
        graves = fiche("graves")
        association = candidature(graves, "association", fse="95000.00")
        public = candidature(graves, "public", fse="95000.00")
        assert checks_by_label(application_checks(association))["Taux de cofinancement FSE+"].ok
        assert not checks_by_label(application_checks(public))["Taux de cofinancement FSE+"].ok

    def test_a_public_body_granted_one_cent_above_its_cap_is_refused_with_the_figures(self):
        application = candidature(fiche("graves"), "public", fse="88500.00")
        with pytest.raises(ValidationError) as excinfo:
            decide(application, fse_granted=Decimal("88500.01"))
        message = refusal(excinfo)
        assert message.startswith(eur("FSE+ accordé 88 500,01 € au-delà du plafond de cofinancement : "))
        assert message.endswith(eur("de 100 000,00 € = 88 500,00 €."))
        application.refresh_from_db()
        assert application.outcome == Outcome.SUBMITTED
        assert application.fse_granted is None

    def test_a_request_above_the_cap_is_refused_at_decision_time_when_nothing_else_is_granted(self):
        application = candidature(fiche("graves"), "public", fse="90000.00", counterpart="10000.00")
        with pytest.raises(ValidationError) as excinfo:
            decide(application)
        assert eur("FSE+ accordé 90 000,00 €") in refusal(excinfo)
        assert eur("= 88 500,00 €") in refusal(excinfo)
        assert Application.objects.get(pk=application.pk).outcome == Outcome.SUBMITTED

    def test_the_cap_in_the_refusal_is_written_in_french(self):
        application = candidature(fiche("graves"), "public", fse="88500.00")
        with pytest.raises(ValidationError) as excinfo:
            decide(application, fse_granted=Decimal("88500.01"))
        assert refusal(excinfo) == eur(
            "FSE+ accordé 88 500,01 € au-delà du plafond de cofinancement : 88,5 % de 100 000,00 € = 88 500,00 €."
        )

    def test_an_association_may_be_granted_the_whole_eligible_cost(self):
        application = decide(candidature(fiche("graves"), "association", fse="100000.00"))
        assert application.fse_granted == Decimal("100000.00")
        assert application.outcome == Outcome.ACCEPTED

    def test_accepted_with_changes_may_bring_a_request_above_the_cap_back_under_it(self):
        application = candidature(fiche("graves"), "public", fse="90000.00", counterpart="10000.00")
        decided = decide(
            application,
            Outcome.ACCEPTED_WITH_CHANGES,
            fse_granted=Decimal("88500.00"),
            notes="FSE+ ramené au plafond.",
        )
        assert decided.fse_granted == Decimal("88500.00")
        assert decided.is_accepted


class TestHautPerigordCounterpart:
    def test_the_fiche_caps_fse_at_90_so_the_counterpart_is_at_least_10_percent(self):
        haut_perigord = fiche("haut-perigord")
        assert cap_for(haut_perigord, "private") == Decimal("90")
        assert haut_perigord.cofinancing_caps.get().minimum_counterpart == Decimal("10")

    def test_a_counterpart_of_exactly_10_percent_passes_every_check(self):
        application = candidature(fiche("haut-perigord"), fse="90000.00", counterpart="10000.00")
        checks = checks_by_label(application_checks(application))
        assert all(check.ok for check in checks.values())
        assert checks["Contrepartie minimale"].detail == eur(
            "Autres financements 10 000,00 € ; au moins 10 % du coût éligible = 10 000,00 €."
        )
        assert checks["Budget équilibré"].detail == eur(
            "Ressources 100 000,00 € pour un coût éligible de 100 000,00 €."
        )

    def test_one_cent_short_of_the_10_percent_is_flagged(self):
        application = candidature(fiche("haut-perigord"), fse="90000.00", counterpart="9999.99")
        checks = checks_by_label(application_checks(application))
        assert not checks["Contrepartie minimale"].ok
        assert checks["Contrepartie minimale"].detail == eur(
            "Autres financements 9 999,99 € ; au moins 10 % du coût éligible = 10 000,00 €."
        )
        assert not checks["Budget équilibré"].ok

    def test_other_cofinancing_counts_with_the_self_financing_towards_the_minimum(self):
        application = candidature(
            fiche("haut-perigord"), fse="90000.00", other_cofinancing="6000.00", counterpart="4000.00"
        )
        assert checks_by_label(application_checks(application))["Contrepartie minimale"].ok

    def test_a_fiche_without_cap_only_checks_that_the_budget_balances(self):
        application = candidature(fiche("agen"), fse="100000.00", counterpart="0")
        assert [check.label for check in application_checks(application)] == ["Budget équilibré"]


class TestAgenaisCeiling:
    def test_two_accepted_applications_reach_the_295_200_euros_exactly(self):
        agen = fiche("agen")
        assert agen.fse_ceiling == Decimal("295200.00")
        decide(candidature(agen, fse="100000.33", salaries="150000.00"))
        decide(candidature(agen, fse="195199.67", salaries="180000.00"))
        assert granted_total(agen) == Decimal("295200.00")
        check = checks_by_label(operation_checks(agen))["Plafond FSE+ de la fiche"]
        assert check.ok
        assert check.detail == eur("Accordé 295 200,00 € sur 295 200,00 € ; reste 0,00 €.")

    def test_one_cent_more_is_refused_with_the_figures(self):
        agen = fiche("agen")
        decide(candidature(agen, fse="147600.00", salaries="150000.00"))
        decide(candidature(agen, fse="147600.00", salaries="150000.00"))
        third = candidature(agen, fse="0.01")
        with pytest.raises(ValidationError) as excinfo:
            decide(third)
        assert refusal(excinfo) == eur(
            "FSE+ accordé 0,01 € : il ne reste que 0,00 € sous le plafond de la fiche "
            "(295 200,00 €, déjà accordé 295 200,00 €)."
        )
        third.refresh_from_db()
        assert third.outcome == Outcome.SUBMITTED
        assert granted_total(agen) == Decimal("295200.00")

    def test_the_second_application_asking_one_cent_too_much_is_refused_then_accepted_with_the_exact_remainder(self):
        agen = fiche("agen")
        decide(candidature(agen, fse="147600.00", salaries="150000.00"))
        second = candidature(agen, fse="147600.01", salaries="150000.00")
        with pytest.raises(ValidationError) as excinfo:
            decide(second)
        assert refusal(excinfo) == eur(
            "FSE+ accordé 147 600,01 € : il ne reste que 147 600,00 € sous le plafond de la fiche "
            "(295 200,00 €, déjà accordé 147 600,00 €)."
        )
        decide(
            second,
            Outcome.ACCEPTED_WITH_CHANGES,
            fse_granted=Decimal("147600.00"),
            notes="Ramené au reste disponible.",
        )
        assert granted_total(agen) == Decimal("295200.00")
        assert checks_by_label(operation_checks(agen))["Plafond FSE+ de la fiche"].ok

    def test_refused_and_pending_applications_do_not_use_the_ceiling(self):
        agen = fiche("agen")
        decide(candidature(agen, fse="200000.00", salaries="200000.00"), Outcome.REFUSED, notes="Hors critères.")
        candidature(agen, fse="250000.00", salaries="250000.00")
        accepted = decide(candidature(agen, fse="295200.00", salaries="260000.00"))
        assert accepted.fse_granted == Decimal("295200.00")
        assert granted_total(agen) == Decimal("295200.00")

    def test_a_ceiling_exceeded_in_the_database_is_flagged_on_the_fiche(self):
        agen = fiche("agen")
        decide(candidature(agen, fse="295200.00", salaries="260000.00"))
        Application.objects.filter(operation=agen).update(fse_granted=Decimal("295200.01"))
        check = checks_by_label(operation_checks(agen))["Plafond FSE+ de la fiche"]
        assert not check.ok
        assert check.detail == eur("Accordé 295 200,01 € sur 295 200,00 € ; reste -0,01 €.")

    def test_many_small_grants_add_up_to_the_cent(self):
        agen = fiche("agen")
        for _ in range(10):
            decide(candidature(agen, fse="0.10", salaries="1.00", other_costs="0"))
        assert granted_total(agen) == Decimal("1.00")

    @pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
    @pytest.mark.django_db(transaction=True, serialized_rollback=True)
    def test_two_simultaneous_decisions_cannot_both_take_the_last_euros(self, monkeypatch):
        """decide_application's SELECT … FOR UPDATE joins the fiche, so the second decision waits for the first."""
        agen = fiche("agen")
        first = candidature(agen, fse="200000.00", salaries="200000.00")
        second = candidature(agen, fse="200000.00", salaries="200000.00")
        users = {first.pk: UserFactory(), second.pk: UserFactory()}
        both_counted = threading.Barrier(2, timeout=2)
        real_granted_total = services.granted_total

        def granted_total_then_wait(operation, exclude=None):
            total = real_granted_total(operation, exclude=exclude)
            # Unlocked, both decisions would read the total here before either saves; locked, the other one waits
            # on the fiche's row and this one goes on alone once the barrier times out.
            with contextlib.suppress(threading.BrokenBarrierError):
                both_counted.wait()
            return total

        monkeypatch.setattr(services, "granted_total", granted_total_then_wait)
        refused = []

        def run(application):
            try:
                decide_application(
                    application=application, outcome=Outcome.ACCEPTED, decided_on=DECIDED_ON, by=users[application.pk]
                )
            except ValidationError as error:
                refused.append(error)
            finally:
                connection.close()

        threads = [threading.Thread(target=run, args=(application,)) for application in (first, second)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=20)
        assert granted_total(agen) == Decimal("200000.00")
        assert len(refused) == 1


class TestEtpAndZones:
    """Graves FO2 expects 5 ETP: 3 on Bègles and 2 on Montesquieu."""

    @pytest.fixture
    def graves(self):
        return fiche("graves")

    @pytest.fixture
    def begles(self):
        return Zone.objects.get(plie__slug="graves", name="Bègles")

    @pytest.fixture
    def montesquieu(self):
        return Zone.objects.get(plie__slug="graves", name="Montesquieu")

    def test_the_expected_etp_and_both_zones_covered_pass(self, graves, begles, montesquieu):
        decide(candidature(graves, "association", fse="100000.00", etp="3", zones=[begles]))
        decide(candidature(graves, "public", fse="88500.00", etp="2", zones=[montesquieu]))
        checks = checks_by_label(operation_checks(graves))
        assert all(check.ok for check in checks.values()), checks
        assert checks["ETP attendus"].detail == "5 ETP accordés pour 5 ETP attendus."
        assert checks["Zones couvertes"].detail == "Toutes les zones sont couvertes."
        assert checks["Zones sans excès d’ETP"].detail == "Aucune zone ne dépasse ses ETP."

    def test_a_zone_left_without_structure_and_missing_etp_are_flagged(self, graves, begles):
        decide(candidature(graves, "association", fse="100000.00", etp="3", zones=[begles]))
        checks = checks_by_label(operation_checks(graves))
        assert not checks["ETP attendus"].ok
        assert checks["ETP attendus"].detail == "3 ETP accordés pour 5 ETP attendus."
        assert not checks["Zones couvertes"].ok
        assert checks["Zones couvertes"].detail == "Zones sans structure : Montesquieu."

    def test_a_zone_given_twice_beyond_its_etp_is_flagged(self, graves, begles, montesquieu):
        decide(candidature(graves, "association", fse="100000.00", etp="3", zones=[begles]))
        decide(candidature(graves, "private", fse="100000.00", etp="1", zones=[begles]))
        decide(candidature(graves, "public", fse="50000.00", etp="1", zones=[montesquieu]))
        checks = checks_by_label(operation_checks(graves))
        assert checks["ETP attendus"].ok
        assert checks["Zones couvertes"].ok
        assert not checks["Zones sans excès d’ETP"].ok
        assert checks["Zones sans excès d’ETP"].detail == "ETP au-delà du prévu sur : Bègles."

    def test_pending_and_refused_applications_cover_no_zone(self, graves, begles, montesquieu):
        candidature(graves, "association", fse="100000.00", etp="3", zones=[begles])
        decide(
            candidature(graves, "public", fse="50000.00", etp="2", zones=[montesquieu]),
            Outcome.REFUSED,
            notes="Dossier incomplet.",
        )
        checks = checks_by_label(operation_checks(graves))
        assert checks["Zones couvertes"].detail == "Zones sans structure : Bègles, Montesquieu."
        assert checks["ETP attendus"].detail == "0 ETP accordés pour 5 ETP attendus."

    def test_zones_granted_default_to_the_zones_requested(self, graves, begles):
        application = decide(candidature(graves, "association", fse="100000.00", etp="3", zones=[begles]))
        assert list(application.zones_granted.all()) == [begles]

    def test_etp_granted_above_the_etp_proposed_is_refused(self, graves):
        application = candidature(graves, "association", fse="100000.00", etp="1.5")
        with pytest.raises(ValidationError) as excinfo:
            decide(application, etp_granted=Decimal("2"))
        assert refusal(excinfo).startswith("ETP accordés (")
        assert "supérieurs aux ETP proposés par la structure" in refusal(excinfo)
        assert Application.objects.get(pk=application.pk).etp_granted is None

    def test_the_etp_refusal_is_written_in_french(self, graves):
        application = candidature(graves, "association", fse="100000.00", etp="1.5")
        with pytest.raises(ValidationError) as excinfo:
            decide(application, etp_granted=Decimal("2"))
        assert refusal(excinfo) == "ETP accordés (2) supérieurs aux ETP proposés par la structure (1,5)."

    def test_fewer_etp_than_proposed_may_be_granted(self, graves):
        application = decide(
            candidature(graves, "association", fse="100000.00", etp="1.5"),
            Outcome.ACCEPTED_WITH_CHANGES,
            etp_granted=Decimal("1"),
            notes="Un seul poste retenu.",
        )
        assert application.etp_granted == Decimal("1")

    def test_a_zone_of_another_plie_is_refused(self, graves):
        application = candidature(graves, "association", fse="100000.00", etp="1")
        agenais_zone = Zone.objects.get(plie__slug="agen", name="Zone 1")
        with pytest.raises(ValidationError) as excinfo:
            decide(application, zones=[agenais_zone])
        assert refusal(excinfo) == "Une des zones n’appartient pas au PLIE."
        assert not Application.objects.get(pk=application.pk).zones_granted.exists()

    def test_a_decision_after_the_end_of_the_fiche_is_refused(self, graves):
        application = candidature(graves, "association", fse="100000.00")
        with pytest.raises(ValidationError) as excinfo:
            decide(application, decided_on=datetime.date(2024, 1, 15))
        assert (
            refusal(excinfo) == "La fiche est close depuis le 31/12/2023 : plus aucune décision ne peut y être prise."
        )
        assert Application.objects.get(pk=application.pk).outcome == Outcome.SUBMITTED

    def test_a_decision_on_the_last_day_of_the_fiche_is_still_taken(self, graves):
        application = decide(candidature(graves, "association", fse="100000.00"), decided_on=graves.end)
        assert application.decided_on == datetime.date(2023, 12, 31)

    def test_a_second_decision_is_refused(self, graves):
        application = decide(candidature(graves, "association", fse="100000.00"))
        with pytest.raises(ValidationError) as excinfo:
            decide(application, Outcome.REFUSED, notes="Changement d’avis.")
        assert refusal(excinfo) == "Cette candidature a déjà fait l’objet d’une décision."
        assert Application.objects.get(pk=application.pk).outcome == Outcome.ACCEPTED

    def test_successive_planned_periods_are_compared_period_by_period_not_added_up(self):
        sud_perigord = fiche("sud-perigord")
        decide(candidature(sud_perigord, fse="50000.00", etp="1.25"))
        decide(candidature(sud_perigord, fse="20000.00", etp="0.5", start=datetime.date(2023, 1, 1)))
        assert checks_by_label(operation_checks(sud_perigord))["ETP attendus"].ok


class TestConvention:
    def test_an_accepted_application_gives_its_referents_etp_periods_on_its_dates(self):
        graves = fiche("graves")
        begles = Zone.objects.get(plie__slug="graves", name="Bègles")
        montesquieu = Zone.objects.get(plie__slug="graves", name="Montesquieu")
        application = candidature(
            graves,
            "association",
            fse="100000.00",
            etp="1.5",
            zones=[begles],
            start=datetime.date(2023, 3, 1),
            end=datetime.date(2023, 11, 30),
        )
        ProposedReferent.objects.create(
            application=application, first_name="Inès", last_name="Garcia", etp="1", zone=begles
        )
        ProposedReferent.objects.create(
            application=application, first_name="Paul", last_name="Dubois", etp="0.5", zone=montesquieu
        )
        decide(application)
        periods = {
            period.referent.full_name: period
            for period in ReferentPeriod.objects.filter(operation=graves).select_related("referent")
        }
        assert set(periods) == {"Inès Garcia", "Paul Dubois"}
        garcia, dubois = periods["Inès Garcia"], periods["Paul Dubois"]
        assert (garcia.etp, garcia.start, garcia.end, garcia.zone) == (
            Decimal("1"),
            datetime.date(2023, 3, 1),
            datetime.date(2023, 11, 30),
            begles,
        )
        assert dubois.etp == Decimal("0.5")
        assert dubois.zone is None  # Montesquieu was not granted to this structure
        assert garcia.referent.structure == application.structure
        assert garcia.referent.plie == graves.plie

    def test_a_referent_already_known_in_the_plie_is_reused(self, operation):
        known = ReferentFactory(plie=operation.plie, first_name="Inès", last_name="Garcia")
        application = candidature(operation, fse="85000.00")
        ProposedReferent.objects.create(application=application, first_name="Inès", last_name="Garcia", etp="1")
        decide(application)
        assert Referent.objects.filter(plie=operation.plie, last_name="Garcia").get() == known
        assert known.periods.get(operation=operation).etp == Decimal("1")

    def test_a_refused_application_gives_no_etp_period(self, operation):
        application = candidature(operation, fse="85000.00")
        ProposedReferent.objects.create(application=application, first_name="Inès", last_name="Garcia", etp="1")
        decide(application, Outcome.REFUSED, notes="Hors critères.")
        assert not ReferentPeriod.objects.filter(operation=operation).exists()
        assert not Referent.objects.filter(last_name="Garcia").exists()

    def test_the_decision_is_recorded_with_its_author_in_the_history(self, operation):
        application = candidature(operation, fse="85000.00")
        author = UserFactory()
        decide_application(
            application=application, outcome=Outcome.ACCEPTED, decided_on=DECIDED_ON, by=author, notes=""
        )
        application.refresh_from_db()
        assert application.decided_by == author
        assert application.history.first().history_user == author
        assert application.history.first().outcome == Outcome.ACCEPTED

    def test_a_referent_already_on_the_fiche_for_these_dates_is_refused_with_a_message(self, operation):
        referent = ReferentFactory(plie=operation.plie, first_name="Inès", last_name="Garcia")
        ReferentPeriodFactory(referent=referent, operation=operation)
        application = candidature(operation, fse="85000.00")
        ProposedReferent.objects.create(application=application, first_name="Inès", last_name="Garcia", etp="0.5")
        with pytest.raises(ValidationError) as excinfo:
            decide(application)
        assert "Inès Garcia" in refusal(excinfo)
        assert referent.periods.count() == 1
