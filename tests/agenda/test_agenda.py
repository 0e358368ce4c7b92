"""The agenda: appointments planned, moved, held or missed in one click; the day and week views; reminders; the
secret iCalendar feed; each role's home page; commission sessions with their decisions and minutes."""

import datetime
import subprocess

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from agenda import services
from agenda.models import Appointment, AppointmentStatus, CalendarFeed, CommissionSession
from participants.models import Status
from plie.models import Role
from tests.factories import MembershipFactory, ReferentFactory
from tests.factories.participants import ParticipantFactory, make_parcours, profile
from tests.factories.steps import make_step, submitted_step

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("afternoon")]

HOUR = datetime.timedelta(hours=1)


@pytest.fixture
def followed(plie, operation, referent_a, animation):
    person = ParticipantFactory(plie=plie, last_name="Lefèvre", first_name="Hélène", email="helene@exemple.fr")
    return make_parcours(person, "active", by=animation, operation=operation, referent=profile(referent_a))


def appointment(parcours, starts_at, **fields):
    referent = parcours.assignments.get(end__isnull=True).referent
    return Appointment.objects.create(
        participant=parcours.participant, parcours=parcours, referent=referent, starts_at=starts_at, **fields
    )


def pdf_text(raw):
    return subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=raw, capture_output=True, check=True
    ).stdout.decode()


class TestPlanning:
    def test_a_referent_plans_an_appointment_from_the_file(self, client_of, referent_a, followed):
        client = client_of(referent_a)
        day = timezone.localdate() + datetime.timedelta(days=3)
        url = reverse("appointment_create") + f"?participant={followed.participant.pk}&date={day:%Y-%m-%d}"
        page = client.get(url)
        assert page.status_code == 200 and "Planifier un rendez-vous avec LEFÈVRE Hélène" in page.content.decode()
        data = {
            "participant": followed.participant.pk,
            "referent": profile(referent_a).pk,
            "day": f"{day:%Y-%m-%d}",
            "time": "14:30",
            "duration": 45,
            "modality": "physique",
            "place": "Maison de l’emploi, salle 2",
            "purpose": "Préparer l’entretien d’embauche",
        }
        response = client.post(url, data)
        created = Appointment.objects.get()
        assert response.url == created.get_absolute_url()
        assert timezone.localtime(created.starts_at).strftime("%d/%m %H:%M") == f"{day:%d/%m} 14:30"
        assert (created.referent, created.parcours, created.created_by) == (profile(referent_a), followed, referent_a)

    def test_a_referent_cannot_plan_for_a_colleague_nor_in_the_past(self, client_of, referent_a, plie, followed):
        colleague = ReferentFactory(plie=plie)
        yesterday = timezone.localdate() - datetime.timedelta(days=1)
        response = client_of(referent_a).post(
            reverse("appointment_create"),
            {
                "participant": followed.participant.pk,
                "referent": colleague.pk,
                "day": f"{yesterday:%Y-%m-%d}",
                "time": "09:00",
                "duration": 30,
                "modality": "telephone",
            },
        )
        assert response.status_code == 200
        assert set(response.context["form"].errors) == {"referent", "day"}
        assert not Appointment.objects.exists()

    def test_an_entretien_with_a_next_appointment_leads_to_planning_it(self, client_of, referent_a, followed):
        day = timezone.localdate()
        response = client_of(referent_a).post(
            reverse("entretien_create", args=[followed.participant.pk]),
            {"date": "2023-03-01", "modality": "visio", "next_appointment": f"{day:%Y-%m-%d}"},
        )
        assert response.url == (
            reverse("appointment_create") + f"?participant={followed.participant.pk}&date={day:%Y-%m-%d}&modalite=visio"
        )

    def test_a_colleague_and_another_plie_never_reach_an_appointment(
        self, client_of, referent_b, outsider, copil, followed
    ):
        planned = appointment(followed, timezone.now() + HOUR)
        for user in (referent_b, outsider, copil):
            client = client_of(user)
            assert client.get(planned.get_absolute_url()).status_code == 404
            assert (
                client.post(reverse("appointment_outcome", args=[planned.pk]), {"status": "cancelled"}).status_code
                == 404
            )
        planned.refresh_from_db()
        assert planned.status == AppointmentStatus.PLANNED


class TestOutcome:
    def test_a_no_show_is_recorded_in_one_click_and_audited(self, client_of, referent_a, followed):
        missed = appointment(followed, timezone.now() - HOUR)
        response = client_of(referent_a).post(
            reverse("appointment_outcome", args=[missed.pk]), {"status": "no_show", "next": reverse("home")}
        )
        assert response.url == reverse("home")
        missed.refresh_from_db()
        assert missed.status == AppointmentStatus.NO_SHOW
        assert missed.history.latest().history_user == referent_a

    def test_a_held_appointment_opens_the_entretien_form(self, client_of, referent_a, followed):
        held = appointment(followed, timezone.now() - HOUR, modality="telephone")
        response = client_of(referent_a).post(reverse("appointment_outcome", args=[held.pk]), {"status": "held"})
        assert response.url.startswith(reverse("entretien_create", args=[followed.participant.pk]))
        page = client_of(referent_a).get(response.url)
        assert page.context["form"].initial["modality"] == "telephone"

    def test_nobody_is_absent_from_an_appointment_to_come(self, client_of, referent_a, followed):
        later = appointment(followed, timezone.now() + HOUR)
        client_of(referent_a).post(reverse("appointment_outcome", args=[later.pk]), {"status": "no_show"})
        later.refresh_from_db()
        assert later.status == AppointmentStatus.PLANNED


class TestViews:
    def test_the_week_shows_each_day_and_only_the_referents_own(
        self, client_of, referent_a, plie, operation, followed, animation
    ):
        other = make_parcours(
            ParticipantFactory(plie=plie, last_name="Noël"),
            "active",
            by=animation,
            operation=operation,
            referent=ReferentFactory(plie=plie),
        )
        today = timezone.localdate()
        at = datetime.datetime.combine(today, datetime.time(10, 0), tzinfo=timezone.get_current_timezone())
        appointment(followed, at)
        appointment(other, at)
        page = client_of(referent_a).get(reverse("agenda"))
        assert len(page.context["days"]) == 7 and page.context["count"] == 1
        assert "LEFÈVRE Hélène" in page.content.decode() and "NOËL" not in page.content.decode()
        team = client_of(animation).get(reverse("agenda") + f"?vue=jour&date={today:%Y-%m-%d}")
        assert len(team.context["days"]) == 1 and team.context["count"] == 2

    def test_query_counts_of_the_agenda_and_the_homes_do_not_grow(
        self, client_of, referent_a, animation, admin_user, plie, operation, followed, django_assert_max_num_queries
    ):
        now = timezone.now()
        for index in range(6):
            person = ParticipantFactory(plie=plie)
            parcours = make_parcours(person, "active", by=animation, operation=operation, referent=profile(referent_a))
            appointment(parcours, now + datetime.timedelta(minutes=index))
            make_step(parcours, by=referent_a, status="done")
            submitted_step(parcours, by=referent_a)
        pages = [
            (referent_a, reverse("home"), 22),
            (referent_a, reverse("agenda"), 12),
            (animation, reverse("agenda"), 12),
            (animation, reverse("home"), 16),
            (admin_user, reverse("home"), 18),
        ]
        for user, url, most in pages:
            client = client_of(user)
            with django_assert_max_num_queries(most):
                assert client.get(url).status_code == 200


class TestParticipantPage:
    """The person's page lists their appointments (agenda/dossier.py, through participants.dossier)."""

    def test_upcoming_and_past_appointments_with_place_modality_and_outcome(self, client_of, referent_a, followed):
        now = timezone.now()
        appointment(followed, now + 2 * HOUR, place="Maison de l’emploi, salle 2", modality="telephone")
        appointment(followed, now - 48 * HOUR, place="Antenne de Cestas", status=AppointmentStatus.HELD)
        missed = appointment(followed, now - 24 * HOUR, place="Antenne de Pessac")
        url = reverse("participant_detail", args=[followed.participant_id])
        page = client_of(referent_a).get(url)
        section = page.context["sections"][0]
        assert [a.place for a in section["upcoming"]] == ["Maison de l’emploi, salle 2"]
        assert [a.place for a in section["past"]] == ["Antenne de Pessac", "Antenne de Cestas"]
        text = page.content.decode()
        assert "Téléphone" in text and "Honoré" in text and reverse("appointment_detail", args=[missed.pk]) in text
        response = client_of(referent_a).post(
            reverse("appointment_outcome", args=[missed.pk]), {"status": "no_show", "next": url}
        )
        assert response.url == url
        assert "Absence" in client_of(referent_a).get(url).content.decode()

    def test_the_team_reads_them_and_may_record_the_outcome(self, client_of, animation, followed):
        appointment(followed, timezone.now() - HOUR)
        page = client_of(animation).get(reverse("participant_detail", args=[followed.participant_id]))
        assert [a.may_change for a in page.context["sections"][0]["past"]] == [True]

    def test_nobody_else_sees_them(self, client_of, referent_b, copil, outsider, plie, operation, followed, animation):
        appointment(followed, timezone.now() + HOUR, place="Antenne de Pessac")
        other = make_parcours(
            ParticipantFactory(plie=plie),
            "active",
            by=animation,
            operation=operation,
            referent=ReferentFactory(plie=plie, user=referent_b),
        )
        page = client_of(referent_b).get(reverse("participant_detail", args=[other.participant_id]))
        assert page.context["sections"][0] == {**page.context["sections"][0], "upcoming": [], "past": []}
        assert "Antenne de Pessac" not in page.content.decode()
        for user in (referent_b, copil, outsider):
            url = reverse("participant_detail", args=[followed.participant_id])
            assert client_of(user).get(url).status_code == 404

    def test_the_page_takes_the_same_number_of_queries_for_one_appointment_or_eight(
        self, client_of, referent_a, followed, django_assert_num_queries
    ):
        url = reverse("participant_detail", args=[followed.participant_id])
        client = client_of(referent_a)
        appointment(followed, timezone.now() - HOUR)
        client.get(url)  # the session and the caches warmed
        with django_assert_num_queries(15):
            client.get(url)
        for hours in range(7):
            appointment(followed, timezone.now() + (hours + 1) * HOUR)
        with django_assert_num_queries(15):
            assert len(client.get(url).context["sections"][0]["upcoming"]) == 7


class TestHomes:
    def test_the_referents_day(self, client_of, referent_a, followed):
        appointment(followed, timezone.now() - HOUR)
        make_step(followed, by=referent_a, status="done")
        page = client_of(referent_a).get(reverse("home"))
        text = page.content.decode()
        assert "Ma journée du" in text
        assert [a.participant for a in page.context["appointments"]] == [followed.participant]
        assert len(page.context["steps"]) == 1
        # Entered in 2023 with no entretien since: an alert due now.
        assert [row.participant for row in page.context["alert_rows"]] == [followed.participant]
        assert "Absent" in text

    def test_the_team_queues(self, client_of, animation, plie, operation, referent_a, followed):
        make_parcours(ParticipantFactory(plie=plie), "received", by=animation)
        make_parcours(
            ParticipantFactory(plie=plie),
            "exit_pending",
            by=animation,
            operation=operation,
            referent=profile(referent_a),
        )
        submitted_step(followed, by=referent_a)
        queues = client_of(animation).get(reverse("home")).context["queues"]
        assert (queues["commission"], queues["steps"], queues["exits"], queues["without_contract"]) == (1, 1, 1, 1)

    def test_the_admin_sees_imports_and_accounts(self, client_of, admin_user, animation, copil):
        page = client_of(admin_user).get(reverse("home"))
        assert {m.user for m in page.context["accounts"]} == {admin_user, animation, copil}
        assert "Derniers imports" in page.content.decode()

    def test_the_copil_lands_on_the_dashboard(self, client_of, copil):
        assert client_of(copil).get(reverse("home")).url == reverse("dashboard")

    def test_an_outsider_home_shows_nothing_of_this_plie(self, client_of, outsider, followed):
        appointment(followed, timezone.now())
        page = client_of(outsider).get(reverse("home"))
        assert page.context["appointments"] == [] and "LEFÈVRE" not in page.content.decode()


class TestReminders:
    def test_a_reminder_is_sent_once_to_a_participant_with_an_address(self, plie, followed, animation):
        soon = appointment(followed, timezone.now() + 2 * HOUR, place="Maison de l’emploi")
        silent = make_parcours(
            ParticipantFactory(plie=plie, email=""),
            "active",
            by=animation,
            operation=followed.operation,
            referent=soon.referent,
        )
        appointment(silent, timezone.now() + 2 * HOUR)
        appointment(followed, timezone.now() + 30 * HOUR)  # too early to remind
        assert services.send_due_reminders() == 1
        assert services.send_due_reminders() == 0
        assert len(mail.outbox) == 1 and mail.outbox[0].to == ["helene@exemple.fr"]
        assert "Maison de l’emploi" in mail.outbox[0].body and "Rachida Benali" in mail.outbox[0].body
        soon.refresh_from_db()
        assert soon.reminder_sent_at is not None

    def test_planning_an_appointment_for_tomorrow_reminds_at_once(
        self, referent_a, followed, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            services.plan_appointment(
                parcours=followed,
                referent=profile(referent_a),
                starts_at=timezone.now() + 3 * HOUR,
                duration=30,
                modality="telephone",
                place="",
                purpose="",
                by=referent_a,
            )
        assert len(mail.outbox) == 1 and "Téléphone" in mail.outbox[0].body

    def test_a_moved_appointment_is_reminded_again(self, referent_a, followed):
        moved = appointment(followed, timezone.now() + 2 * HOUR)
        services.send_due_reminders()
        services.reschedule_appointment(
            appointment=moved,
            starts_at=moved.starts_at + HOUR,
            duration=45,
            modality="physique",
            place="",
            purpose="",
            by=referent_a,
        )
        assert services.send_due_reminders() == 1


class TestCalendarFeed:
    def test_the_feed_names_nobody_and_is_revocable(self, client_of, client, referent_a, followed):
        appointment(followed, timezone.now() + HOUR, place="06 12 34 56 78", modality="telephone", purpose="Hélène")
        appointment(followed, timezone.now() + 30 * HOUR, place="Maison de l’emploi")
        settings_page = client_of(referent_a).post(reverse("feed_settings"), {"action": "renew"})
        address = settings_page.context["address"]
        assert CalendarFeed.objects.get().token_hash not in address  # only the hash is kept
        path = address.removeprefix("http://testserver")
        feed = client.get(path)
        body = feed.content.decode()
        assert feed["Content-Type"].startswith("text/calendar") and body.count("BEGIN:VEVENT") == 2
        for secret in ("Lefèvre", "LEFÈVRE", "Hélène", "06 12 34 56 78", "helene@"):
            assert secret not in body
        assert "LOCATION:Maison de l’emploi" in body
        client_of(referent_a).post(reverse("feed_settings"), {"action": "renew"})
        assert client.get(path).status_code == 404  # replaced
        client_of(referent_a).post(reverse("feed_settings"), {"action": "revoke"})
        assert not CalendarFeed.objects.exists()

    def test_a_colleague_has_no_feed_page_of_their_own_without_a_referent_profile(self, client_of, referent_b):
        assert client_of(referent_b).get(reverse("feed_settings")).status_code == 404


class TestCommissionSessions:
    @pytest.fixture
    def waiting(self, plie, animation):
        return [
            make_parcours(ParticipantFactory(plie=plie, last_name=name), "received", by=animation)
            for name in ("Arnaud", "Bernard", "Charles")
        ]

    def test_a_session_decides_several_files_at_once_and_prints_its_minutes(self, client_of, animation, waiting):
        client = client_of(animation)
        response = client.post(
            reverse("commission_session_create"),
            {
                "date": "2023-01-20",
                "place": "Mairie de Pessac",
                "members": "Mme Durand, France Travail\nM. Petit, Département",
                "parcours": [p.pk for p in waiting],
            },
        )
        session = CommissionSession.objects.get()
        assert response.url == session.get_absolute_url()
        first, second, third = waiting
        response = client.post(
            session.get_absolute_url(),
            {
                f"p{first.pk}-outcome": "accepted",
                f"p{second.pk}-outcome": "refused",
                f"p{second.pk}-reason": "Hors territoire",
                f"p{third.pk}-outcome": "",
            },
        )
        assert response.status_code == 302
        statuses = [p.status for p in (p.__class__.objects.get(pk=p.pk) for p in waiting)]
        assert statuses == [Status.ACCEPTED, Status.REFUSED, Status.RECEIVED]
        minutes = client.get(reverse("commission_session_minutes", args=[session.pk]))
        text = pdf_text(minutes.content)
        for expected in ("Mme Durand, France Travail", "ARNAUD", "Admis", "Refusé", "Hors territoire", "Sans décision"):
            assert expected in text

    def test_one_refusal_without_reason_saves_no_decision(self, client_of, animation, waiting):
        session = services.prepare_session(
            plie=waiting[0].participant.plie,
            date=datetime.date(2023, 1, 20),
            place="",
            members="M. Petit",
            parcours=waiting,
            by=animation,
        )
        page = client_of(animation).post(
            session.get_absolute_url(),
            {f"p{waiting[0].pk}-outcome": "accepted", f"p{waiting[1].pk}-outcome": "postponed"},
        )
        assert page.status_code == 200
        assert not waiting[0].decisions.exists() and CommissionSession.objects.get().held_at is None

    def test_referents_copil_and_outsiders_never_open_a_session(
        self, client_of, referent_a, copil, outsider, animation, waiting
    ):
        session = services.prepare_session(
            plie=waiting[0].participant.plie,
            date=datetime.date(2023, 1, 20),
            place="",
            members="M. Petit",
            parcours=waiting,
            by=animation,
        )
        assert client_of(referent_a).get(session.get_absolute_url()).status_code == 404
        assert client_of(copil).get(reverse("commission_session_minutes", args=[session.pk])).status_code == 404
        assert client_of(outsider).get(session.get_absolute_url()).status_code == 404

    def test_the_session_list_query_count_is_pinned(self, client_of, animation, waiting, django_assert_max_num_queries):
        for day in range(1, 6):
            services.prepare_session(
                plie=waiting[0].participant.plie,
                date=datetime.date(2023, 2, day),
                place="",
                members="X",
                parcours=waiting,
                by=animation,
            )
        client = client_of(animation)
        with django_assert_max_num_queries(10):
            assert client.get(reverse("commission_session_list")).status_code == 200
        session = CommissionSession.objects.first()
        with django_assert_max_num_queries(16):
            assert client.get(session.get_absolute_url()).status_code == 200


def test_a_second_plie_role_changes_the_home(client_of, referent_a, other_plie):
    MembershipFactory(user=referent_a, plie=other_plie, role=Role.ANIMATION)
    client = client_of(referent_a)
    client.post(reverse("switch_plie"), {"plie": other_plie.pk})
    assert "queues" in client.get(reverse("home")).context
