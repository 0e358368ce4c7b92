"""The step nomenclature of each PLIE and its validation grid: read by every member, changed by the PLIE admin only."""

import datetime
import html
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from participants.models import DocumentKind
from steps.defaults import STEP_NOMENCLATURE, create_default_step_nomenclature
from steps.models import GridRule, GridVersion, StepCategory, StepType
from tests.factories import PlieFactory
from tests.factories.participants import ParticipantFactory, make_parcours, profile
from tests.factories.steps import BILAN_LABEL, CONVENTION_LABEL, PMSMP_CRITERIA, make_grid, make_step, step_type

pytestmark = pytest.mark.django_db

D = datetime.date
NON_ADMINS = ["animation", "referent_a", "referent_b", "copil", "outsider"]


def page(response):
    return html.unescape(response.content.decode())


def words(response):
    """The text of the page without its tags, as read on screen."""
    return re.sub(r"<[^>]+>", "", page(response))


def type_data(plie, **changes):
    data = {
        "category": StepCategory.objects.get(plie=plie, name="Mise en situation professionnelle").pk,
        "label": "Job dating",
        "counts_toward_target": "on",
        "is_active": "on",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


class TestDefaults:
    def test_a_new_plie_starts_with_the_default_nomenclature(self, plie):
        categories = StepCategory.objects.filter(plie=plie)
        assert list(categories.values_list("name", flat=True)) == list(STEP_NOMENCLATURE)
        assert StepType.objects.filter(category__plie=plie).count() == sum(map(len, STEP_NOMENCLATURE.values()))
        assert step_type(plie, "PMSMP").category.name == "Mise en situation professionnelle"

    def test_each_plie_edits_its_own_copy(self, plie, other_plie):
        StepType.objects.filter(category__plie=plie, label="PMSMP").update(label="Immersion (PMSMP)")
        assert step_type(other_plie, "PMSMP").label == "PMSMP"
        assert not StepType.objects.filter(category__plie=other_plie, label="Immersion (PMSMP)").exists()

    def test_a_plie_with_its_nomenclature_is_not_seeded_twice(self, plie):
        plie.name = "PLIE de Pessac-Cestas-Canéjan"
        plie.save()
        assert StepCategory.objects.filter(plie=plie).count() == len(STEP_NOMENCLATURE)
        assert StepType.objects.filter(category__plie=PlieFactory()).count() == sum(
            map(len, STEP_NOMENCLATURE.values())
        )

    def test_seeding_again_takes_three_queries_and_adds_nothing(self, plie, django_assert_num_queries):
        with django_assert_num_queries(3):
            create_default_step_nomenclature(plie)
        assert StepCategory.objects.filter(plie=plie).count() == len(STEP_NOMENCLATURE)
        assert StepType.objects.filter(category__plie=plie).count() == sum(map(len, STEP_NOMENCLATURE.values()))


class TestNomenclaturePage:
    @pytest.mark.parametrize("persona", ["admin_user", "animation", "referent_a", "copil"])
    def test_every_member_reads_the_nomenclature(self, request, client_of, plie, persona):
        text = page(client_of(request.getfixturevalue(persona)).get(reverse("nomenclature")))
        for category in STEP_NOMENCLATURE:
            assert category in text
        assert "PMSMP" in text and "Action de remobilisation" in text

    def test_only_the_admin_sees_the_edit_links(self, client_of, plie, admin_user, animation):
        edit_url = reverse("step_type_edit", args=[step_type(plie).pk])
        admin_page = page(client_of(admin_user).get(reverse("nomenclature")))
        team_page = page(client_of(animation).get(reverse("nomenclature")))
        for url in (edit_url, reverse("step_type_create"), reverse("step_category_create")):
            assert url in admin_page and url not in team_page

    def test_the_page_marks_types_out_of_the_target_and_retired(self, client_of, plie, referent_a):
        StepType.objects.filter(category__plie=plie, label="Accompagnement").update(counts_toward_target=False)
        StepType.objects.filter(category__plie=plie, label="Stage").update(is_active=False)
        text = page(client_of(referent_a).get(reverse("nomenclature")))
        assert "hors objectif" in text and "retiré" in text

    def test_another_plie_reads_its_own_nomenclature(self, client_of, plie, outsider):
        StepType.objects.filter(category__plie=plie, label="PMSMP").update(label="Immersion pessacaise")
        text = page(client_of(outsider).get(reverse("nomenclature")))
        assert "Immersion pessacaise" not in text and "PMSMP" in text


class TestNomenclatureEdits:
    def test_the_admin_adds_a_category(self, client_of, plie, admin_user):
        data = {"name": "Création d’activité", "position": "8"}
        response = client_of(admin_user).post(reverse("step_category_create"), data, follow=True)
        assert response.redirect_chain == [(reverse("nomenclature"), 302)]
        assert "La nomenclature est enregistrée." in page(response)
        assert "Création d’activité" in page(response)
        assert StepCategory.objects.get(name="Création d’activité").plie == plie

    def test_a_category_name_is_unique_in_the_plie_only(self, client_of, plie, other_plie, admin_user):
        client = client_of(admin_user)
        response = client.post(reverse("step_category_create"), {"name": "Formation", "position": "9"})
        assert response.status_code == 200
        assert "Cette catégorie existe déjà dans ce PLIE." in page(response)
        assert StepCategory.objects.filter(plie=plie, name="Formation").count() == 1
        assert StepCategory.objects.filter(plie=other_plie, name="Formation").exists()

    def test_the_admin_adds_a_step_type(self, client_of, plie, admin_user):
        data = type_data(plie, counts_toward_target=None)
        response = client_of(admin_user).post(reverse("step_type_create"), data, follow=True)
        assert "La nomenclature est enregistrée." in page(response)
        created = StepType.objects.get(label="Job dating")
        assert (created.category.plie, created.counts_toward_target, created.is_active) == (plie, False, True)

    def test_a_label_is_unique_in_its_category(self, client_of, plie, admin_user):
        response = client_of(admin_user).post(reverse("step_type_create"), type_data(plie, label="PMSMP"))
        assert "Ce type d’étape existe déjà dans cette catégorie." in page(response)
        assert StepType.objects.filter(category__plie=plie, label="PMSMP").count() == 1

    def test_a_category_of_another_plie_is_refused(self, client_of, plie, other_plie, admin_user):
        other_category = StepCategory.objects.get(plie=other_plie, name="Formation")
        response = client_of(admin_user).post(reverse("step_type_create"), type_data(plie, category=other_category.pk))
        assert "Sélectionnez un choix valide" in page(response)
        assert not StepType.objects.filter(label="Job dating").exists()

    def test_the_admin_takes_a_type_out_of_the_target_and_retires_it(
        self, client_of, plie, operation, admin_user, animation, referent_a
    ):
        parcours = make_parcours(
            ParticipantFactory(plie=plie), by=animation, operation=operation, referent=profile(referent_a)
        )
        used = make_step(parcours, "Stage", by=referent_a)
        stage = step_type(plie, "Stage")
        data = type_data(plie, category=stage.category_id, label="Stage", counts_toward_target=None, is_active=None)
        response = client_of(admin_user).post(reverse("step_type_edit", args=[stage.pk]), data)
        assert response.status_code == 302
        stage.refresh_from_db()
        assert (stage.counts_toward_target, stage.is_active) == (False, False)
        used.refresh_from_db()
        assert used.step_type == stage  # steps already recorded keep their type
        assert ">Stage<" not in page(client_of(referent_a).get(reverse("step_create", args=[parcours.pk])))
        assert f"type-{stage.pk}-" not in page(client_of(admin_user).get(reverse("grid_version_create")))

    @pytest.mark.parametrize("persona", NON_ADMINS)
    def test_no_other_role_changes_the_nomenclature(self, request, client_of, plie, persona):
        client = client_of(request.getfixturevalue(persona))
        pmsmp = step_type(plie)
        expected_edit = 404 if persona == "outsider" else 403
        assert client.post(reverse("step_category_create"), {"name": "Piratée", "position": "1"}).status_code == 403
        assert client.post(reverse("step_type_create"), type_data(plie)).status_code == 403
        edit = type_data(plie, category=pmsmp.category_id, label="Piraté")
        assert client.post(reverse("step_type_edit", args=[pmsmp.pk]), edit).status_code == expected_edit
        assert client.get(reverse("step_type_edit", args=[pmsmp.pk])).status_code == expected_edit
        assert not StepCategory.objects.filter(name="Piratée").exists()
        assert not StepType.objects.filter(label__in=["Job dating", "Piraté"]).exists()

    def test_the_admin_never_reaches_a_type_of_another_plie(self, client_of, plie, other_plie, admin_user):
        foreign = step_type(other_plie)
        client = client_of(admin_user)
        assert client.get(reverse("step_type_edit", args=[foreign.pk])).status_code == 404
        data = type_data(plie, category=foreign.category_id, label="Piraté")
        assert client.post(reverse("step_type_edit", args=[foreign.pk]), data).status_code == 404
        foreign.refresh_from_db()
        assert foreign.label == "PMSMP"


class TestGrid:
    @pytest.fixture
    def grid(self, plie, admin_user):
        return make_grid(plie, by=admin_user)

    def rule_data(self, response, **overrides):
        """What the browser posts back from the new-version form: every prefilled value, with `overrides`."""
        data = {"approved_on": "", "notes": ""}
        for step_type_, form in response.context["rule_forms"]:
            prefix = f"type-{step_type_.pk}"
            data[f"{prefix}-criteria"] = form.initial["criteria"]
            data[f"{prefix}-required_proofs"] = list(form.initial["required_proofs"])
        data.update(overrides)
        return data

    @pytest.mark.parametrize("persona", ["admin_user", "animation", "referent_a", "copil"])
    def test_every_member_reads_the_grid_in_force_and_its_versions(self, request, client_of, grid, persona):
        response = client_of(request.getfixturevalue(persona)).get(reverse("grid"))
        text = page(response)
        assert "Version en vigueur : Grille approuvée le 01/01/2023." in words(response)
        assert PMSMP_CRITERIA in text and f"{BILAN_LABEL}, {CONVENTION_LABEL}" in text
        assert grid.get_absolute_url() in text
        assert (reverse("grid_version_create") in text) == (persona == "admin_user")

    def test_without_a_grid_no_proof_is_required(self, client_of, plie, animation):
        text = page(client_of(animation).get(reverse("grid")))
        assert "Aucune grille approuvée : aucun justificatif n’est exigé pour valider une étape." in text

    def test_changing_the_grid_creates_a_new_version_prefilled_from_the_one_in_force(
        self, client_of, plie, admin_user, grid
    ):
        client = client_of(admin_user)
        form_page = client.get(reverse("grid_version_create"))
        text = page(form_page)
        assert "Elle reprend la version en vigueur (Grille approuvée le 01/01/2023)" in text
        pmsmp = step_type(plie)
        initial = dict(form_page.context["rule_forms"])[pmsmp].initial
        assert initial == {"criteria": PMSMP_CRITERIA, "required_proofs": ["bilan", "convention"]}
        assert PMSMP_CRITERIA in text

        data = self.rule_data(
            form_page,
            approved_on="2023-04-01",
            notes="Le bilan n’est plus exigé.",
            **{f"type-{pmsmp.pk}-required_proofs": ["convention"]},
        )
        response = client.post(reverse("grid_version_create"), data, follow=True)
        assert response.redirect_chain == [(reverse("grid"), 302)]
        assert "La nouvelle version de la grille (Grille approuvée le 01/04/2023) est enregistrée." in page(response)

        new = GridVersion.objects.get(plie=plie, approved_on=D(2023, 4, 1))
        assert (new.notes, new.created_by) == ("Le bilan n’est plus exigé.", admin_user)
        assert new.rules.get(step_type=pmsmp).required_proofs == ["convention"]
        assert new.rules.get(step_type__label="CDI").required_proofs == ["contrat_travail"]  # carried over
        assert new.rules.count() == 2
        assert grid.rules.get(step_type=pmsmp).required_proofs == ["bilan", "convention"]  # the past is kept

        old_page = page(client.get(grid.get_absolute_url()))
        assert "Grille approuvée le 01/01/2023" in old_page and f"{BILAN_LABEL}, {CONVENTION_LABEL}" in old_page

    def test_a_version_on_a_day_already_taken_is_refused_and_nothing_is_saved(self, client_of, plie, admin_user, grid):
        client = client_of(admin_user)
        data = self.rule_data(client.get(reverse("grid_version_create")), approved_on="2023-01-01")
        response = client.post(reverse("grid_version_create"), data)
        assert response.status_code == 200
        assert "Une version de la grille est déjà approuvée à cette date." in page(response)
        assert GridVersion.objects.filter(plie=plie).count() == 1
        assert GridRule.objects.filter(version__plie=plie).count() == 2

    def test_a_version_needs_its_approval_date(self, client_of, plie, admin_user):
        client = client_of(admin_user)
        text = page(client.get(reverse("grid_version_create")))
        assert "Première version de la grille du PLIE." in text
        data = self.rule_data(client.get(reverse("grid_version_create")))
        assert "Ce champ est obligatoire." in page(client.post(reverse("grid_version_create"), data))
        assert not GridVersion.objects.exists()

    def test_an_unknown_proof_kind_is_refused(self, client_of, plie, admin_user):
        client = client_of(admin_user)
        data = self.rule_data(
            client.get(reverse("grid_version_create")),
            approved_on="2023-01-01",
            **{f"type-{step_type(plie).pk}-required_proofs": ["selfie"]},
        )
        assert "Sélectionnez un choix valide" in page(client.post(reverse("grid_version_create"), data))
        assert not GridVersion.objects.exists()

    def test_the_version_in_force_is_the_latest_approved_by_today(self, client_of, plie, admin_user, grid):
        tomorrow = timezone.localdate() + datetime.timedelta(days=1)
        make_grid(plie, by=admin_user, approved_on=D(2023, 6, 1), rules={"PMSMP": ("", [DocumentKind.CONVENTION])})
        make_grid(plie, by=admin_user, approved_on=tomorrow, rules={"PMSMP": ("", [DocumentKind.OTHER])})
        response = client_of(admin_user).get(reverse("grid"))
        text = page(response)
        assert "Version en vigueur : Grille approuvée le 01/06/2023." in words(response)
        assert text.count("Grille approuvée le") >= 4  # the current one, then all three versions

    @pytest.mark.parametrize("persona", NON_ADMINS)
    def test_no_other_role_creates_a_version(self, request, client_of, plie, persona):
        client = client_of(request.getfixturevalue(persona))
        assert client.get(reverse("grid_version_create")).status_code == 403
        assert client.post(reverse("grid_version_create"), {"approved_on": "2023-01-01"}).status_code == 403
        assert not GridVersion.objects.exists()

    def test_another_plie_never_reads_this_grid(self, client_of, outsider, grid):
        client = client_of(outsider)
        assert client.get(grid.get_absolute_url()).status_code == 404
        assert "Aucune grille approuvée" in page(client.get(reverse("grid")))
