"""The steps pages: who reaches what, positioning → proofs → submission → validation through the web, the queue."""

import datetime
import html

import pytest
from django.urls import reverse
from django.utils import timezone

from participants.models import Document, DocumentKind
from steps.models import CollectiveSession, Step, StepType, Validation
from tests.factories import MembershipFactory, ReferentFactory
from tests.factories.participants import (
    PDF,
    ParticipantFactory,
    fake_pdf,
    isolate_private_storage,
    jpeg,
    make_parcours,
    pdf,
    profile,
    reassign,
)
from tests.factories.steps import (
    BILAN_LABEL,
    CONVENTION_LABEL,
    make_grid,
    make_step,
    step_type,
    submitted_step,
)

pytestmark = pytest.mark.django_db

D = datetime.date
PERSONAS = ["admin_user", "animation", "referent_a", "referent_b", "copil", "outsider"]


@pytest.fixture(autouse=True)
def private_files(monkeypatch, tmp_path):
    return isolate_private_storage(monkeypatch, tmp_path)


def page(response):
    return html.unescape(response.content.decode())


@pytest.fixture
def grid(plie, admin_user):
    return make_grid(plie, by=admin_user)


@pytest.fixture
def followed(plie, operation, referent_a, animation):
    """Léa Durand, in parcours since 01/02/2023 on FO1, followed by referent_a."""
    participant = ParticipantFactory(plie=plie, last_name="Durand", first_name="Léa")
    return make_parcours(participant, "active", by=animation, operation=operation, referent=profile(referent_a))


@pytest.fixture
def pending(grid, followed, referent_a):
    """A PMSMP submitted by referent_a with its convention but without its bilan."""
    return submitted_step(followed, by=referent_a, kinds=(DocumentKind.CONVENTION,))


@pytest.fixture
def session(plie, animation):
    return CollectiveSession.objects.create(
        plie=plie,
        kind="atelier_tre",
        theme="Réussir son entretien d’embauche",
        date=D(2023, 3, 10),
        facilitator="Association Trajectoires",
        step_type=step_type(plie, "Atelier TRE"),
        created_by=animation,
    )


def step_data(plie, **changes):
    data = {
        "step_type": step_type(plie).pk,
        "partner": "Boulangerie du Bourg",
        "start": "2023-03-01",
        "end": "2023-03-15",
        "status": "in_progress",
        "notes": "Découverte du métier de boulanger.",
    }
    data.update(changes)
    return data


# url name → (method, what its argument is, expected status for each of PERSONAS)
ACCESS = {
    "step_create": ("get", "parcours", [200, 200, 200, 404, 404, 404]),
    "validation_queue": ("get", None, [200, 200, 403, 403, 403, 200]),  # the outsider gets the queue of their PLIE
    "nomenclature": ("get", None, [200, 200, 200, 200, 200, 200]),
    "step_type_create": ("get", None, [200, 403, 403, 403, 403, 403]),
    "step_type_edit": ("get", "type", [200, 403, 403, 403, 403, 404]),
    "step_category_create": ("get", None, [200, 403, 403, 403, 403, 403]),
    "grid": ("get", None, [200, 200, 200, 200, 200, 200]),
    "grid_version_create": ("get", None, [200, 403, 403, 403, 403, 403]),
    "grid_version_detail": ("get", "version", [200, 200, 200, 200, 200, 404]),
    "step_detail": ("get", "step", [200, 200, 200, 404, 404, 404]),
    "step_edit": ("get", "step", [200, 200, 200, 404, 404, 404]),
    "step_proof_add": ("post", "step", [302, 302, 302, 404, 404, 404]),
    "step_submit": ("post", "step", [302, 302, 302, 404, 404, 404]),
    "step_validate": ("post", "step", [302, 302, 403, 404, 404, 404]),
    "step_refuse": ("post", "step", [302, 302, 403, 404, 404, 404]),
    "session_list": ("get", None, [200, 200, 200, 200, 404, 200]),
    "session_create": ("get", None, [200, 200, 200, 200, 404, 200]),
    "session_detail": ("get", "session", [200, 200, 200, 200, 404, 404]),
    "session_presence": ("post", "session", [302, 302, 302, 302, 404, 404]),
    "session_steps": ("post", "session", [302, 302, 403, 403, 404, 404]),
}


@pytest.fixture
def objects(plie, followed, pending, session):
    return {
        "parcours": followed.pk,
        "step": pending.pk,
        "type": step_type(plie).pk,
        "version": pending.grid_rule().version.pk,
        "session": session.pk,
    }


def url_of(name, what, objects):
    return reverse(name, args=[objects[what]] if what else [])


class TestAccess:
    def test_every_url_of_the_steps_app_is_in_the_table(self):
        from steps.urls import urlpatterns

        assert {pattern.name for pattern in urlpatterns} == set(ACCESS)

    @pytest.mark.parametrize("name", list(ACCESS))
    def test_every_page_answers_each_persona_as_the_rules_say(self, request, client_of, objects, pending, name):
        method, what, expected = ACCESS[name]
        url = url_of(name, what, objects)
        got = {}
        for persona in PERSONAS:  # the POSTs are refused by the services: they change nothing for the next persona
            got[persona] = getattr(client_of(request.getfixturevalue(persona)), method)(url).status_code
        assert got == dict(zip(PERSONAS, expected, strict=True))
        pending.refresh_from_db()
        assert (pending.validation, pending.proofs.count()) == (Validation.SUBMITTED, 1)
        assert not Step.objects.exclude(pk=pending.pk).exists()

    def test_anonymous_visitors_are_sent_to_the_login_page(self, client, objects):
        for name, (method, what, _) in ACCESS.items():
            response = getattr(client, method)(url_of(name, what, objects))
            assert response.status_code == 302, name
            assert response.url.startswith(reverse("login")), name

    def test_a_referent_never_reaches_the_steps_of_a_colleague(
        self, plie, operation, client_of, animation, referent_a, grid
    ):
        colleague = ReferentFactory(plie=plie, user=MembershipFactory(plie=plie, role="referent").user)
        parcours = make_parcours(ParticipantFactory(plie=plie), by=animation, operation=operation, referent=colleague)
        step = submitted_step(parcours, by=colleague.user, kinds=())
        client = client_of(referent_a)
        for url in (
            reverse("step_create", args=[parcours.pk]),
            reverse("step_detail", args=[step.pk]),
            reverse("step_edit", args=[step.pk]),
        ):
            assert client.get(url).status_code == 404, url
        for name in ("step_proof_add", "step_submit", "step_validate", "step_refuse"):
            assert client.post(reverse(name, args=[step.pk]), {"reason": "x"}).status_code == 404, name
        assert client.post(reverse("step_create", args=[parcours.pk]), step_data(plie)).status_code == 404
        assert client_of(colleague.user).get(step.get_absolute_url()).status_code == 200
        assert Step.objects.count() == 1

    def test_a_referent_loses_the_steps_when_the_parcours_goes_to_a_colleague(
        self, plie, client_of, animation, referent_a, pending
    ):
        colleague = ReferentFactory(plie=plie, user=MembershipFactory(plie=plie, role="referent").user)
        reassign(pending.parcours, colleague, D(2023, 4, 1), animation)
        assert client_of(referent_a).get(pending.get_absolute_url()).status_code == 404
        assert client_of(colleague.user).get(pending.get_absolute_url()).status_code == 200

    def test_a_referent_who_becomes_copil_no_longer_reaches_the_steps(self, client_of, referent_a, pending):
        membership = referent_a.memberships.get()
        membership.role = "copil"
        membership.save()
        assert client_of(referent_a).get(pending.get_absolute_url()).status_code == 404

    def test_decision_buttons_are_shown_only_to_who_may_decide(
        self, client_of, animation, admin_user, referent_a, pending
    ):
        assert "Valider l’étape" in page(client_of(animation).get(pending.get_absolute_url()))
        assert "Valider l’étape" in page(client_of(admin_user).get(pending.get_absolute_url()))
        referent_page = page(client_of(referent_a).get(pending.get_absolute_url()))
        assert "Valider l’étape" not in referent_page and "Refuser" not in referent_page

    def test_the_team_member_who_submitted_a_step_neither_sees_nor_uses_the_decision(
        self, client_of, animation, admin_user, grid, followed
    ):
        step = submitted_step(followed, by=animation)
        client = client_of(animation)
        assert "Valider l’étape" not in page(client.get(step.get_absolute_url()))
        response = client.post(reverse("step_validate", args=[step.pk]), follow=True)
        assert "jamais par la personne qui la suit ou l’a soumise" in page(response)
        assert Step.objects.get().validation == Validation.SUBMITTED
        client_of(admin_user).post(reverse("step_validate", args=[step.pk]))
        assert Step.objects.get().validation == Validation.VALIDATED

    def test_a_referent_cannot_validate_their_own_step(self, client_of, referent_a, grid, followed):
        step = submitted_step(followed, by=referent_a)
        client = client_of(referent_a)
        assert client.post(reverse("step_validate", args=[step.pk])).status_code == 403
        assert client.post(reverse("step_refuse", args=[step.pk]), {"reason": "Non"}).status_code == 403
        step.refresh_from_db()
        assert (step.validation, step.decided_by) == (Validation.SUBMITTED, None)


class TestHappyPath:
    def test_a_pmsmp_goes_from_positioning_to_a_counted_validated_step_through_the_web(
        self, plie, client_of, grid, followed, referent_a, animation
    ):
        referent, team = client_of(referent_a), client_of(animation)
        participant = followed.participant
        create_url = reverse("step_create", args=[followed.pk])
        assert create_url in page(referent.get(participant.get_absolute_url()))
        assert "PMSMP" in page(referent.get(create_url))

        response = referent.post(create_url, step_data(plie), follow=True)
        step = Step.objects.get()
        assert response.redirect_chain == [(step.get_absolute_url(), 302)]
        text = page(response)
        assert "La personne est positionnée sur l’étape." in text
        assert f"Justificatifs manquants : {BILAN_LABEL}, {CONVENTION_LABEL}." in text
        assert (step.parcours, step.created_by, step.partner, step.start, step.end) == (
            followed,
            referent_a,
            "Boulangerie du Bourg",
            D(2023, 3, 1),
            D(2023, 3, 15),
        )

        proof_url = reverse("step_proof_add", args=[step.pk])
        response = referent.post(proof_url, {"kind": "convention", "file": pdf("convention signée.pdf")}, follow=True)
        text = page(response)
        assert "Le justificatif est joint à l’étape." in text
        assert f"Justificatifs manquants : {BILAN_LABEL}." in text
        response = referent.post(proof_url, {"kind": "bilan", "file": jpeg("bilan.jpg")}, follow=True)
        text = page(response)
        assert "Tous les justificatifs exigés sont joints." in text and "convention signée.pdf" in text
        assert sorted(step.proofs.values_list("kind", "content_type")) == [
            ("bilan", "image/jpeg"),
            ("convention", "application/pdf"),
        ]
        assert set(participant.documents.all()) == set(step.proofs.all())

        response = referent.post(reverse("step_submit", args=[step.pk]), follow=True)
        text = page(response)
        assert "L’étape est soumise à l’équipe d’animation." in text
        assert "Soumise à validation" in text and "Valider l’étape" not in text
        step.refresh_from_db()
        assert (step.validation, step.submitted_by) == (Validation.SUBMITTED, referent_a)

        queue = page(team.get(reverse("validation_queue")))
        assert "DURAND Léa" in queue and "PMSMP" in queue and "Rachida Benali" in queue
        assert "complets" in queue and "manquant" not in queue
        assert step.get_absolute_url() in queue

        assert "Valider l’étape" in page(team.get(step.get_absolute_url()))
        response = team.post(reverse("step_validate", args=[step.pk]), {"next": "queue"}, follow=True)
        assert response.redirect_chain == [(reverse("validation_queue"), 302)]
        text = page(response)
        assert "L’étape est validée." in text and "Aucune étape en attente de validation." in text
        step.refresh_from_db()
        assert (step.validation, step.decided_by) == (Validation.VALIDATED, animation)
        assert list(Step.objects.counting()) == [step]

        detail = page(referent.get(step.get_absolute_url()))
        assert f"Validée le {timezone.localdate():%d/%m/%Y} par {animation}." in detail
        assert proof_url not in detail and reverse("step_edit", args=[step.pk]) not in detail
        assert 'text-bg-success">Validée</span>' in page(referent.get(participant.get_absolute_url()))

        download = referent.get(step.proofs.get(kind="convention").get_absolute_url())
        assert download.status_code == 200
        assert b"".join(download.streaming_content) == PDF

    def test_a_step_with_a_missing_proof_cannot_be_validated_and_the_page_says_which(
        self, client_of, animation, pending
    ):
        team = client_of(animation)
        detail = page(team.get(pending.get_absolute_url()))
        assert f"Justificatifs manquants : {BILAN_LABEL}." in detail
        assert CONVENTION_LABEL in detail  # listed among the required proofs
        assert "1 manquant" in page(team.get(reverse("validation_queue")))

        response = team.post(reverse("step_validate", args=[pending.pk]), follow=True)
        assert response.redirect_chain == [(pending.get_absolute_url(), 302)]
        assert f"Justificatifs manquants selon la grille de validation : {BILAN_LABEL}." in page(response)
        pending.refresh_from_db()
        assert (pending.validation, pending.decided_at) == (Validation.SUBMITTED, None)
        assert not Step.objects.counting().exists()

    def test_a_refused_step_is_completed_and_resubmitted_by_the_referent(
        self, client_of, animation, referent_a, pending
    ):
        team, referent = client_of(animation), client_of(referent_a)
        refuse_url = reverse("step_refuse", args=[pending.pk])
        response = team.post(refuse_url, {"reason": "  "}, follow=True)
        assert "Un refus doit être motivé." in page(response)
        response = team.post(refuse_url, {"reason": "Le bilan de la PMSMP manque."}, follow=True)
        assert "L’étape est refusée : le référent peut la compléter et la soumettre à nouveau." in page(response)

        detail = page(referent.get(pending.get_absolute_url()))
        assert f"Refusée le {timezone.localdate():%d/%m/%Y} par {animation} : Le bilan de la PMSMP manque." in detail
        assert "Soumettre à validation" in detail
        assert "PMSMP" not in page(team.get(reverse("validation_queue")))

        response = referent.post(
            reverse("step_edit", args=[pending.pk]),
            step_data(pending.step_type.category.plie, status="done"),
            follow=True,
        )
        assert "L’étape est enregistrée." in page(response)
        referent.post(reverse("step_proof_add", args=[pending.pk]), {"kind": "bilan", "file": pdf("bilan.pdf")})
        referent.post(reverse("step_submit", args=[pending.pk]))
        pending.refresh_from_db()
        assert (pending.validation, pending.status, pending.refusal_reason) == (Validation.SUBMITTED, "done", "")
        team.post(reverse("step_validate", args=[pending.pk]))
        pending.refresh_from_db()
        assert pending.validation == Validation.VALIDATED

    def test_the_grid_page_of_a_step_follows_the_version_in_force_on_its_start(
        self, plie, admin_user, client_of, referent_a, grid, followed
    ):
        make_grid(
            plie, by=admin_user, approved_on=D(2023, 4, 1), rules={"PMSMP": ("", [DocumentKind.EMPLOYMENT_CONTRACT])}
        )
        before = make_step(followed, by=referent_a, start=D(2023, 3, 31), end=None)
        after = make_step(followed, by=referent_a, start=D(2023, 4, 1), end=None)
        client = client_of(referent_a)
        text = page(client.get(before.get_absolute_url()))
        assert "Grille approuvée le 01/01/2023 (en vigueur au début de l’étape)." in text
        assert f"Justificatifs manquants : {BILAN_LABEL}, {CONVENTION_LABEL}." in text
        text = page(client.get(after.get_absolute_url()))
        assert "Grille approuvée le 01/04/2023 (en vigueur au début de l’étape)." in text
        assert "Justificatifs manquants : Contrat de travail." in text

    def test_a_step_without_rule_says_no_proof_is_required(self, client_of, referent_a, grid, followed):
        step = make_step(followed, "Stage", by=referent_a)
        text = page(client_of(referent_a).get(step.get_absolute_url()))
        assert "Aucune règle de la grille pour ce type d’étape à cette date : aucun justificatif n’est exigé." in text
        assert "Justificatifs manquants" not in text


class TestBadInput:
    @pytest.mark.parametrize(
        ("changes", "message"),
        [
            (
                {"start": "2023-01-31", "end": ""},
                "L’étape doit commencer pendant le parcours (du 01/02/2023, toujours en cours).",
            ),
            ({"start": "2023-03-10", "end": "2023-03-09"}, "La fin de l’étape ne peut pas précéder son début."),
            ({"start": ""}, "Ce champ est obligatoire."),
        ],
    )
    def test_a_step_with_wrong_dates_is_refused_and_nothing_is_saved(
        self, plie, client_of, referent_a, followed, changes, message
    ):
        response = client_of(referent_a).post(reverse("step_create", args=[followed.pk]), step_data(plie, **changes))
        assert response.status_code == 200
        assert message in page(response)
        assert not Step.objects.exists()

    def test_a_step_type_of_another_plie_is_refused(self, plie, other_plie, client_of, referent_a, followed):
        data = step_data(plie, step_type=step_type(other_plie).pk)
        response = client_of(referent_a).post(reverse("step_create", args=[followed.pk]), data)
        assert "Ce type d’étape n’appartient pas à la nomenclature du PLIE." in page(response)
        assert not Step.objects.exists()

    def test_a_retired_step_type_is_no_longer_offered(self, plie, client_of, referent_a, followed):
        StepType.objects.filter(category__plie=plie, label="PMSMP").update(is_active=False)
        client = client_of(referent_a)
        assert ">PMSMP<" not in page(client.get(reverse("step_create", args=[followed.pk])))
        response = client.post(reverse("step_create", args=[followed.pk]), step_data(plie))
        assert "Ce type d’étape n’appartient pas à la nomenclature du PLIE." in page(response)
        assert not Step.objects.exists()

    def test_nobody_is_positioned_on_a_step_after_the_parcours_ended(
        self, plie, operation, client_of, animation, referent_a
    ):
        parcours = make_parcours(
            ParticipantFactory(plie=plie), "exited", by=animation, operation=operation, referent=profile(referent_a)
        )
        response = client_of(animation).post(reverse("step_create", args=[parcours.pk]), step_data(plie))
        assert "On ne positionne une personne sur une étape que pendant son parcours." in page(response)
        assert not Step.objects.exists()

    def test_a_validated_step_can_no_longer_be_changed(self, plie, client_of, animation, referent_a, grid, followed):
        step = submitted_step(followed, by=referent_a)
        client_of(animation).post(reverse("step_validate", args=[step.pk]))
        response = client_of(referent_a).post(
            reverse("step_edit", args=[step.pk]), step_data(plie, notes="Réécrit après coup")
        )
        assert "Une étape validée ne peut plus être modifiée." in page(response)
        step.refresh_from_db()
        assert (step.notes, step.validation) == ("", Validation.VALIDATED)

    def test_a_proposed_step_cannot_be_submitted(self, client_of, referent_a, grid, followed):
        step = make_step(followed, by=referent_a, status="proposed")
        response = client_of(referent_a).post(reverse("step_submit", args=[step.pk]), follow=True)
        assert "Seule une étape en cours ou réalisée peut être soumise à validation." in page(response)
        step.refresh_from_db()
        assert step.validation == Validation.DRAFT

    def test_a_bad_proof_file_is_refused_and_nothing_is_attached(self, client_of, referent_a, pending):
        response = client_of(referent_a).post(
            reverse("step_proof_add", args=[pending.pk]), {"kind": "bilan", "file": fake_pdf("bilan.pdf")}, follow=True
        )
        assert "Ce fichier n’est ni un PDF, ni une image JPEG ou PNG" in page(response)
        assert pending.proofs.count() == 1
        assert Document.objects.count() == 1

    def test_a_proof_without_kind_or_file_is_refused(self, client_of, referent_a, pending):
        response = client_of(referent_a).post(reverse("step_proof_add", args=[pending.pk]), {}, follow=True)
        assert "Ce champ est obligatoire." in page(response)
        assert pending.proofs.count() == 1

    def test_a_validated_step_accepts_no_more_proofs(self, client_of, animation, referent_a, grid, followed):
        step = submitted_step(followed, by=referent_a)
        client_of(animation).post(reverse("step_validate", args=[step.pk]))
        response = client_of(referent_a).post(
            reverse("step_proof_add", args=[step.pk]), {"kind": "autre", "file": pdf("autre.pdf")}, follow=True
        )
        assert "Une étape validée ne peut plus être modifiée." in page(response)
        assert step.proofs.count() == 2

    def test_a_step_of_a_type_retired_since_can_still_be_completed(
        self, plie, client_of, animation, referent_a, pending
    ):
        client_of(animation).post(reverse("step_refuse", args=[pending.pk]), {"reason": "Le bilan manque."})
        StepType.objects.filter(category__plie=plie, label="PMSMP").update(is_active=False)
        response = client_of(referent_a).post(reverse("step_edit", args=[pending.pk]), step_data(plie, status="done"))
        assert response.status_code == 302
        pending.refresh_from_db()
        assert pending.status == "done"


class TestQueue:
    BOTH = (DocumentKind.CONVENTION, DocumentKind.ASSESSMENT)

    @pytest.fixture
    def queue(self, plie, operation, animation, referent_a, grid):
        """Three submitted PMSMP of referent_a (ANCIEN complete, MANQUE missing its bilan, RECENT complete) and
        one of a colleague's participant (AUTRE), submitted in that order, an hour apart, ten days ago."""
        colleague = ReferentFactory(plie=plie, first_name="Bruno", last_name="Zidane")
        steps = {}
        for hours, (name, referent, kinds) in enumerate(
            (
                ("Ancien", profile(referent_a), self.BOTH),
                ("Manque", profile(referent_a), (DocumentKind.CONVENTION,)),
                ("Recent", profile(referent_a), self.BOTH),
                ("Autre", colleague, self.BOTH),
            )
        ):
            parcours = make_parcours(
                ParticipantFactory(plie=plie, last_name=name), by=animation, operation=operation, referent=referent
            )
            steps[name] = submitted_step(parcours, by=animation, kinds=kinds)
            submitted_at = timezone.now() - datetime.timedelta(days=10) + datetime.timedelta(hours=hours)
            Step.objects.filter(pk=steps[name].pk).update(submitted_at=submitted_at)
        return steps, colleague

    def test_missing_proofs_come_first_then_the_oldest(self, client_of, admin_user, queue):
        text = page(client_of(admin_user).get(reverse("validation_queue")))
        positions = [text.index(f"{name} Camille") for name in ("MANQUE", "ANCIEN", "RECENT", "AUTRE")]
        assert positions == sorted(positions)
        assert text.count("1 manquant") == 1 and text.count("complets") == 3

    def test_the_queue_filters_by_referent(self, client_of, admin_user, referent_a, queue):
        _, colleague = queue
        client = client_of(admin_user)
        everyone = page(client.get(reverse("validation_queue")))
        assert "Rachida Benali" in everyone and "Bruno Zidane" in everyone
        mine = page(client.get(reverse("validation_queue"), {"referent": profile(referent_a).pk}))
        assert all(f"{name} Camille" in mine for name in ("ANCIEN", "MANQUE", "RECENT"))
        assert "AUTRE Camille" not in mine
        theirs = page(client.get(reverse("validation_queue"), {"referent": colleague.pk}))
        assert "AUTRE Camille" in theirs and "ANCIEN Camille" not in theirs

    def test_the_queue_lists_only_submitted_steps_of_the_plie(self, client_of, admin_user, outsider, queue):
        steps, _ = queue
        admin = client_of(admin_user)
        admin.post(reverse("step_validate", args=[steps["Ancien"].pk]))
        admin.post(reverse("step_refuse", args=[steps["Recent"].pk]), {"reason": "Convention non signée"})
        text = page(admin.get(reverse("validation_queue")))
        assert "ANCIEN Camille" not in text and "RECENT Camille" not in text and "MANQUE Camille" in text
        assert "MANQUE Camille" not in page(client_of(outsider).get(reverse("validation_queue")))

    def test_the_query_count_does_not_grow_with_the_rows(
        self, plie, operation, client_of, animation, admin_user, grid, django_assert_max_num_queries
    ):
        def add(n):
            for _ in range(n):
                parcours = make_parcours(
                    ParticipantFactory(plie=plie),
                    by=animation,
                    operation=operation,
                    referent=ReferentFactory(plie=plie),
                )
                submitted_step(parcours, by=animation, kinds=(DocumentKind.CONVENTION,))

        client = client_of(admin_user)
        add(2)
        with django_assert_max_num_queries(11):
            client.get(reverse("validation_queue"))
        add(10)
        with django_assert_max_num_queries(11):
            response = client.get(reverse("validation_queue"))
        assert page(response).count("1 manquant") == 12
