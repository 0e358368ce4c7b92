import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from operations.models import Operation, ReferentPeriod
from territories.models import Zone
from tests.conftest import AGEN, CESTAS, PESSAC
from tests.factories import OperationFactory, ReferentFactory, ReferentPeriodFactory, StructureFactory, ZoneFactory

pytestmark = pytest.mark.django_db


def operation_data(operation, **changes):
    data = {
        "code": operation.code,
        "title": operation.title,
        "start": "2023-01-01",
        "end": "2023-12-31",
        "fse_ceiling": "175200.00",
        "priority": "",
        "specific_objective": "",
        "referents_expected": "1 référent à temps plein",
        "context": "",
        "territory_notes": "",
        "content": "",
        "selection_criteria": "",
        "expected_proofs": "",
    }
    for prefix in ("targets", "caps", "planned"):
        data.update({f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"})
    data.update(changes)
    return data


class TestConfiguration:
    def test_shows_the_plie_operations_zones_and_referents(self, client_of, animation, operation, referent_a):
        ZoneFactory(plie=operation.plie, name="Pessac centre")
        response = client_of(animation).get(reverse("configuration"))
        assert response.status_code == 200
        for text in ("PLIE de Pessac", operation.title, "Pessac centre", "Rachida Benali"):
            assert text in response.content.decode()

    def test_anonymous_visitors_are_sent_to_the_login_page(self, client):
        response = client.get(reverse("configuration"))
        assert response.status_code == 302
        assert response.url.startswith(reverse("login"))

    def test_never_shows_another_plie(self, client_of, outsider, operation):
        response = client_of(outsider).get(reverse("configuration"))
        assert operation.title not in response.content.decode()

    def test_query_count_does_not_grow_with_the_content(
        self, client_of, animation, operation, django_assert_max_num_queries
    ):
        for _ in range(5):
            ReferentPeriodFactory(referent=ReferentFactory(plie=operation.plie), operation=operation)
            ZoneFactory(plie=operation.plie)
        client = client_of(animation)
        with django_assert_max_num_queries(12):
            client.get(reverse("configuration"))


class TestOperationDetail:
    @pytest.mark.parametrize("persona", ["admin_user", "animation", "referent_a", "copil"])
    def test_every_role_of_the_plie_reads_the_fiche(self, request, client_of, operation, persona):
        response = client_of(request.getfixturevalue(persona)).get(operation.get_absolute_url())
        assert response.status_code == 200
        page = response.content.decode()
        assert "175\xa0200,00\xa0€" in page
        assert "85\xa0%" in page

    def test_a_zones_communes_are_in_french_order(self, client_of, operation):
        from territories.models import Commune, Zone
        from tests.factories import MembershipFactory

        communes = Commune.objects.filter(name__in=["Bon-Encontre", "Boé"])
        operation.plie.communes.add(*communes)
        zone = Zone.objects.create(plie=operation.plie, name="Agen sud")
        zone.communes.set(communes)
        operation.zones.add(zone)
        team = MembershipFactory(plie=operation.plie, role="animation").user
        page = client_of(team).get(reverse("operation_detail", args=[operation.pk])).content.decode()
        assert page.index("Boé") < page.index("Bon-Encontre")

    def test_an_outsider_gets_404(self, client_of, outsider, operation):
        assert client_of(outsider).get(operation.get_absolute_url()).status_code == 404

    def test_only_admin_and_animation_see_the_edit_button(self, client_of, animation, copil, operation):
        edit_url = reverse("operation_edit", args=[operation.pk])
        assert edit_url in client_of(animation).get(operation.get_absolute_url()).content.decode()
        assert edit_url not in client_of(copil).get(operation.get_absolute_url()).content.decode()

    def test_query_count_is_pinned(self, client_of, animation, operation, django_assert_max_num_queries):
        for _ in range(5):
            ReferentPeriodFactory(referent=ReferentFactory(plie=operation.plie), operation=operation)
        client = client_of(animation)
        with django_assert_max_num_queries(13):
            client.get(operation.get_absolute_url())


class TestOperationEdit:
    def test_animation_edits_the_fiche_with_its_targets_and_caps(self, client_of, animation, operation):
        data = operation_data(
            operation,
            fse_ceiling="180000.00",
            **{
                "targets-TOTAL_FORMS": "1",
                "targets-0-kind": "nouvelles_integrations",
                "targets-0-scope": "per_etp",
                "targets-0-qualifier": "exact",
                "targets-0-value_min": "25",
                "targets-0-basis": "",
                "caps-TOTAL_FORMS": "1",
                "caps-0-beneficiary_kind": "public",
                "caps-0-rate": "88.5",
                "planned-TOTAL_FORMS": "1",
                "planned-0-start": "2023-01-01",
                "planned-0-end": "2023-12-31",
                "planned-0-etp": "4",
            },
        )
        response = client_of(animation).post(reverse("operation_edit", args=[operation.pk]), data)
        assert response.status_code == 302
        operation.refresh_from_db()
        assert str(operation.fse_ceiling) == "180000.00"
        assert operation.targets.filter(kind="nouvelles_integrations", value_min=25).exists()
        assert operation.cofinancing_caps.filter(beneficiary_kind="public", rate="88.5").exists()
        assert operation.planned_etps.get().etp == 4
        assert operation.history.first().history_user == animation

    def test_animation_creates_a_fiche_in_its_plie(self, client_of, animation, plie):
        data = operation_data(Operation(code="FO2", title="Clauses sociales"))
        response = client_of(animation).post(reverse("operation_create"), data)
        assert response.status_code == 302
        assert Operation.objects.get(plie=plie, code="FO2").title == "Clauses sociales"

    @pytest.mark.parametrize(
        ("changes", "message"),
        [
            ({"end": "2022-12-31"}, "La fin de la période d’exécution ne peut pas précéder son début."),
            ({"fse_ceiling": "-1"}, "Le montant FSE+ maximum ne peut pas être négatif."),
            (
                {"caps-TOTAL_FORMS": "1", "caps-0-beneficiary_kind": "all", "caps-0-rate": "100.5"},
                "Le taux de cofinancement doit être compris entre 0 (exclu) et 100 %.",
            ),
            ({"code": "FO9"}, "La fiche FO9 2023 couvre déjà une partie de cette période"),
        ],
    )
    def test_incoherent_fiches_are_refused_in_french_keeping_what_was_typed(
        self, client_of, animation, operation, changes, message
    ):
        Operation.objects.create(
            plie=operation.plie, code="FO9", title="Autre", start=operation.start, end=operation.end
        )
        data = operation_data(operation, title="Titre retapé par l’utilisatrice", **changes)
        response = client_of(animation).post(reverse("operation_edit", args=[operation.pk]), data)
        assert response.status_code == 200
        page = response.content.decode()
        assert message.replace("’", "&#x27;") in page or message in page
        assert "Titre retapé par l’utilisatrice" in page
        operation.refresh_from_db()
        assert operation.title != "Titre retapé par l’utilisatrice"

    def test_the_plie_admin_sets_the_last_payment_year_and_a_legal_hold_with_their_name_in_the_history(
        self, client_of, admin_user, operation
    ):
        url = reverse("operation_retention", args=[operation.pk])
        response = client_of(admin_user).post(url, {"last_payment_year": "2025", "legal_hold": "on"})
        assert response.status_code == 302
        operation.refresh_from_db()
        assert (operation.audit_deadline.isoformat(), operation.legal_hold) == ("2030-12-31", True)
        assert operation.history.first().history_user == admin_user

    def test_saving_the_fiche_keeps_its_legal_hold_and_last_payment_year(self, client_of, animation, operation):
        Operation.objects.filter(pk=operation.pk).update(
            last_payment_year=2025, audit_deadline=datetime.date(2030, 12, 31), legal_hold=True
        )
        data = operation_data(operation, last_payment_year="", legal_hold="")
        assert client_of(animation).post(reverse("operation_edit", args=[operation.pk]), data).status_code == 302
        operation.refresh_from_db()
        assert (operation.last_payment_year, operation.audit_deadline, operation.legal_hold) == (
            2025,
            datetime.date(2030, 12, 31),
            True,
        )

    @pytest.mark.parametrize("persona", ["animation", "referent_a", "copil"])
    def test_only_the_plie_admin_sets_the_retention(self, request, client_of, operation, persona):
        client = client_of(request.getfixturevalue(persona))
        url = reverse("operation_retention", args=[operation.pk])
        assert client.post(url, {"last_payment_year": "2025", "legal_hold": "on"}).status_code == 403
        operation.refresh_from_db()
        assert (operation.last_payment_year, operation.legal_hold) == (None, False)

    @pytest.mark.parametrize("persona", ["referent_a", "copil"])
    def test_read_only_roles_get_403(self, request, client_of, operation, persona):
        client = client_of(request.getfixturevalue(persona))
        opened = client.get(reverse("operation_edit", args=[operation.pk]))
        assert opened.status_code == 403
        # They only opened the page: the refusal says what the page is for, not that they changed something.
        assert "Cette page sert à modifier cet élément" in opened.content.decode()
        assert client.post(reverse("operation_create"), operation_data(operation)).status_code == 403

    def test_an_outsider_gets_404(self, client_of, outsider, operation):
        response = client_of(outsider).post(reverse("operation_edit", args=[operation.pk]), operation_data(operation))
        assert response.status_code == 404


class TestZones:
    def test_animation_creates_a_zone_of_its_territory(self, client_of, animation, plie):
        data = {"name": "Pessac", "number": "1", "planned_etp": "1", "communes": [PESSAC, CESTAS]}
        response = client_of(animation).post(reverse("zone_create"), data)
        assert response.status_code == 302
        zone = Zone.objects.get(plie=plie, name="Pessac")
        assert set(zone.communes.values_list("pk", flat=True)) == {PESSAC, CESTAS}

    def test_a_commune_outside_the_territory_is_refused(self, client_of, animation, plie):
        data = {"name": "Agen", "planned_etp": "1", "communes": [PESSAC, AGEN]}
        response = client_of(animation).post(reverse("zone_create"), data)
        assert response.status_code == 200
        assert f"La commune {AGEN} ne fait pas partie du territoire du PLIE." in response.content.decode()
        assert not Zone.objects.filter(name="Agen").exists()

    def test_an_outsider_gets_404(self, client_of, outsider, plie):
        zone = ZoneFactory(plie=plie)
        assert client_of(outsider).get(reverse("zone_edit", args=[zone.pk])).status_code == 404


class TestStructuresAndReferents:
    def test_animation_creates_a_structure_then_a_referent_then_an_etp_period(self, client_of, animation, operation):
        client = client_of(animation)
        assert client.post(reverse("structure_create"), {"name": "CCAS de Pessac", "kind": "public"}).status_code == 302
        structure = operation.plie.structures.get(name="CCAS de Pessac")
        response = client.post(
            reverse("referent_create"), {"first_name": "Inès", "last_name": "Garcia", "structure": structure.pk}
        )
        referent = operation.plie.referents.get(last_name="Garcia")
        assert response.url == referent.get_absolute_url()
        data = {"operation": operation.pk, "etp": "0,8", "start": "2023-01-01", "end": "2023-06-30"}
        assert client.post(reverse("period_create", args=[referent.pk]), data).status_code == 302
        assert referent.periods.get().etp == Decimal("0.8")

    @pytest.mark.parametrize("etp", ["0", "1.2", "-0.5"])
    def test_an_etp_outside_0_1_is_refused(self, client_of, animation, operation, etp):
        referent = ReferentFactory(plie=operation.plie)
        data = {"operation": operation.pk, "etp": etp, "start": "2023-01-01"}
        response = client_of(animation).post(reverse("period_create", args=[referent.pk]), data)
        assert response.status_code == 200
        assert "L’ETP doit être supérieur à 0 et au plus égal à 1." in response.content.decode().replace("&#x27;", "’")
        assert not referent.periods.exists()

    def test_overlapping_periods_of_one_referent_on_one_operation_are_refused(self, client_of, animation, operation):
        referent = ReferentFactory(plie=operation.plie)
        ReferentPeriodFactory(referent=referent, operation=operation, end=None)
        data = {"operation": operation.pk, "etp": "0.5", "start": "2023-03-01", "end": "2023-06-30"}
        response = client_of(animation).post(reverse("period_create", args=[referent.pk]), data)
        assert response.status_code == 200
        assert "chevauche une autre période" in response.content.decode()
        assert 'value="2023-03-01"' in response.content.decode()
        assert referent.periods.count() == 1

    def test_a_period_starting_outside_the_fiche_is_refused(self, client_of, animation, operation):
        referent = ReferentFactory(plie=operation.plie)
        data = {"operation": operation.pk, "etp": "1", "start": "2024-01-01", "end": "2024-05-31"}
        response = client_of(animation).post(reverse("period_create", args=[referent.pk]), data)
        page = response.content.decode().replace("&#x27;", "’")
        assert "commencer dans la période d’exécution de la fiche (du 01/01/2023 au 31/12/2023)" in page
        assert not referent.periods.exists()

    def test_a_period_may_run_on_past_the_fiche_into_next_years(self, client_of, animation, operation):
        referent = ReferentFactory(plie=operation.plie)
        data = {"operation": operation.pk, "etp": "1", "start": "2023-06-01", "end": "2024-05-31"}
        response = client_of(animation).post(reverse("period_create", args=[referent.pk]), data)
        assert response.status_code == 302 and referent.periods.get().end == datetime.date(2024, 5, 31)

    def test_a_period_ending_before_it_starts_is_refused(self, client_of, animation, operation):
        referent = ReferentFactory(plie=operation.plie)
        data = {"operation": operation.pk, "etp": "1", "start": "2023-06-01", "end": "2023-05-31"}
        response = client_of(animation).post(reverse("period_create", args=[referent.pk]), data)
        assert "La fin de la période ne peut pas précéder son début." in response.content.decode().replace(
            "&#x27;", "’"
        )
        assert not referent.periods.exists()

    def test_a_referent_reads_a_colleague_but_cannot_change_anything(self, client_of, referent_a, operation):
        colleague = ReferentFactory(plie=operation.plie)
        client = client_of(referent_a)
        assert client.get(colleague.get_absolute_url()).status_code == 200
        assert client.get(reverse("referent_edit", args=[colleague.pk])).status_code == 403
        assert client.post(reverse("structure_create"), {"name": "X", "kind": "public"}).status_code == 403

    def test_an_outsider_gets_404_on_every_referent_page(self, client_of, outsider, operation):
        period = ReferentPeriodFactory(referent=ReferentFactory(plie=operation.plie), operation=operation)
        client = client_of(outsider)
        for url in (
            period.referent.get_absolute_url(),
            reverse("referent_edit", args=[period.referent.pk]),
            reverse("period_create", args=[period.referent.pk]),
            reverse("period_edit", args=[period.pk]),
            reverse("structure_edit", args=[period.referent.structure.pk]),
        ):
            assert client.get(url).status_code == 404, url
        assert client.post(reverse("period_delete", args=[period.pk])).status_code == 404
        assert ReferentPeriod.objects.filter(pk=period.pk).exists()

    def test_a_structure_list_shows_only_the_current_plie(self, client_of, animation, outsider, plie, other_plie):
        StructureFactory(plie=plie, name="CCAS de Pessac")
        StructureFactory(plie=other_plie, name="CCAS de Marmande")
        page = client_of(animation).get(reverse("structure_list")).content.decode()
        assert "CCAS de Pessac" in page and "CCAS de Marmande" not in page

    def test_the_structure_list_query_count_is_pinned(self, client_of, animation, plie, django_assert_max_num_queries):
        for _ in range(5):
            ReferentFactory(plie=plie)
        client = client_of(animation)
        with django_assert_max_num_queries(7):
            client.get(reverse("structure_list"))

    def test_deleting_a_period_keeps_its_history(self, client_of, animation, operation):
        period = ReferentPeriodFactory(referent=ReferentFactory(plie=operation.plie), operation=operation)
        client_of(animation).post(reverse("period_delete", args=[period.pk]))
        assert not ReferentPeriod.objects.filter(pk=period.pk).exists()
        assert ReferentPeriod.history.filter(id=period.pk, history_type="-").get().end == datetime.date(2023, 12, 31)


class TestReferentTargets:
    def test_the_referent_page_prorates_the_fiche_targets_to_its_etp(self, client_of, copil, operation):
        referent = ReferentFactory(plie=operation.plie)
        ReferentPeriodFactory(
            referent=referent, operation=operation, etp=Decimal("0.5"), end=datetime.date(2023, 6, 30)
        )
        response = client_of(copil).get(referent.get_absolute_url())
        rows = {row["target"].kind: row for row in response.context["tables"][0]["table"]["rows"]}
        assert rows["file_active"]["years"][0].amount.low == pytest.approx(Decimal(70) * Decimal("0.5") * 181 / 365)
        assert rows["taux_sorties_positives"]["years"][0].amount.low == 50

    def test_query_count_does_not_grow_with_periods(self, client_of, copil, operation, django_assert_max_num_queries):
        referent = ReferentFactory(plie=operation.plie)
        for year in range(2018, 2024):
            other = OperationFactory(
                plie=operation.plie, start=datetime.date(year, 1, 1), end=datetime.date(year, 12, 31)
            )
            ReferentPeriodFactory(referent=referent, operation=other, start=other.start, end=other.end)
        client = client_of(copil)
        with django_assert_max_num_queries(9):
            client.get(referent.get_absolute_url())
