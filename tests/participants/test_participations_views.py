"""The team's pages of FSE+ participations: the list with the exit situations, and the reconduction of a fiche."""

import datetime
from decimal import Decimal

from django.urls import reverse

from operations.models import Operation
from participants.models import Answer, Participation
from tests.factories import ReferentFactory, ReferentPeriodFactory
from tests.reporting.test_indicators import enrol

D = datetime.date


def _people(operation, count=3):
    referent = ReferentFactory(plie=operation.plie)
    ReferentPeriodFactory(referent=referent, operation=operation, etp=Decimal(1), start=operation.start, end=None)
    return [enrol(referent, D(2023, 2, 1 + i), D(2023, 6, 30), "CDI") for i in range(count)]


def test_the_team_records_exit_situations_from_one_list_with_the_reason_suggesting_them(
    client_of, animation, operation
):
    parcours = _people(operation)
    url = reverse("operation_participations", args=[operation.pk])
    page = client_of(animation).get(url + "?a_completer=1")
    assert page.status_code == 200
    first = Participation.objects.get(participant=parcours[0].participant)
    form = page.context["rows"][0][1]
    assert form.initial["exit_employment"] == Answer.YES  # the CDI exit suggests it; the team confirms

    data = {}
    for participation, row_form in page.context["rows"]:
        for name in row_form.fields:
            data[f"p{participation.pk}-{name}"] = row_form.initial.get(name, "")
    data[f"p{first.pk}-exit_qualification"] = Answer.DECLINED
    assert client_of(animation).post(url + "?a_completer=1", data).status_code == 302

    first.refresh_from_db()
    assert (first.exit_employment, first.exit_qualification, first.exit_recorded_by) == (
        Answer.YES,
        Answer.DECLINED,
        animation,
    )
    assert Participation.objects.filter(exit_recorded_at__isnull=True).count() == 0


def test_the_list_is_for_the_team_only(client_of, operation, referent_a, copil, outsider):
    url = reverse("operation_participations", args=[operation.pk])
    assert client_of(referent_a).get(url).status_code == 403
    assert client_of(copil).get(url).status_code == 403
    assert client_of(outsider).get(url).status_code == 404


def test_the_list_takes_a_constant_number_of_queries(client_of, animation, operation, django_assert_max_num_queries):
    _people(operation, 2)
    client = client_of(animation)
    url = reverse("operation_participations", args=[operation.pk])
    client.get(url)
    with django_assert_max_num_queries(14) as small:
        client.get(url)
    _people(operation, 12)
    with django_assert_max_num_queries(len(small.captured_queries)):
        client.get(url)


def test_reconducting_a_fiche_from_its_page(client_of, animation, operation, outsider):
    url = reverse("operation_renew", args=[operation.pk])
    page = client_of(animation).get(url)
    assert page.context["form"].initial == {"start": D(2024, 1, 1), "end": D(2024, 12, 31)}
    response = client_of(animation).post(url, {"start": "2024-01-01", "end": "2024-12-31"})
    renewed = Operation.objects.get(plie=operation.plie, code=operation.code, start=D(2024, 1, 1))
    assert response.url == reverse("operation_edit", args=[renewed.pk])
    again = client_of(animation).post(url, {"start": "2024-01-01", "end": "2024-12-31"})
    assert "couvre déjà une partie de cette période" in again.content.decode().replace("&#x27;", "’")
    assert client_of(outsider).get(url).status_code == 404
