from django.urls import reverse

from imports.engine import Source, run_batch
from imports.resources import EntretienResource, FrenchCSV, ParcoursResource, ReferentPeriodResource, StepResource
from tests.factories import UserFactory
from tests.imports.test_engine import everything, snapshot


def test_what_the_admin_exports_the_import_takes_back_unchanged(plie, operation, admin_user):
    run_batch(plie, [Source(name, data) for name, data in everything()], by=admin_user)
    before = snapshot()
    exported = []
    for name, resource in [
        ("referents", ReferentPeriodResource),
        ("participants", ParcoursResource),
        ("etapes", StepResource),
        ("entretiens", EntretienResource),
    ]:
        dataset = resource().export()
        exported.append(Source(f"{name}.csv", FrenchCSV(encoding="utf-8-sig").export_data(dataset).encode("utf-8-sig")))

    results = run_batch(plie, exported, by=admin_user)

    assert [(r.kind, r.created, r.updated, r.errors) for r in results] == [
        ("référents", 0, 0, []),
        ("participants", 0, 0, []),
        ("étapes", 0, 0, []),
        ("entretiens", 0, 0, []),
    ]
    assert [r.unchanged for r in results] == [2, 3, 3, 4]
    assert snapshot() == before


def test_the_django_admin_exports_steps_as_french_csv_with_formulas_neutralised(client, plie, operation, admin_user):
    rows = [list(r) for r in everything()]
    run_batch(plie, [Source(name, data) for name, data in rows], by=admin_user)
    from steps.models import Step

    Step.objects.filter(external_id="S1").update(partner='=HYPERLINK("http://x")')
    staff = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(staff)
    response = client.post(
        reverse("admin:steps_step_export"),
        {
            "format": "0",
            "resource": "0",
            **{f"stepresource_{f}": "on" for f in ["step_id", "participant_id", "partner"]},
        },
    )
    assert response.status_code == 200, response.content[:500]
    text = response.content.decode("utf-8-sig")
    assert text.splitlines()[0].startswith("ID étape;ID participant")
    assert ';"\'=HYPERLINK(""http://x"")"' in text and ";=HYPERLINK" not in text
