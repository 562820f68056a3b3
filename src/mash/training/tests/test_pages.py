"""The training pages and API: your status and the banner, the refusal page, compliance by agency,
and recording a completion on the web and over the API."""

import datetime as dt
import json

import pytest
from django.utils import timezone

from mash.accounts.models import Role
from mash.audit.models import AuditEvent, Kind
from mash.training import services
from mash.training.models import TrainingRecord

TODAY = timezone.localdate


def ago(days: int) -> dt.date:
    return TODAY() - dt.timedelta(days=days)


@pytest.mark.django_db
@pytest.mark.parametrize("completed_days_ago, banner", [
    (30, None),
    (350, b"Your training refresher expires in"),
    (400, b"Your training refresher lapsed on"),
    (None, b"No training refresher is recorded for you"),
])
def test_the_banner_and_your_training_page(client, make_user, completed_days_ago, banner):
    user = make_user(Role.MASH_WORKER, "education",
                     trained=False if completed_days_ago is None else ago(completed_days_ago))
    client.force_login(user)
    home = client.get("/")
    assert home.status_code == 200
    if banner is None:
        assert b"govuk-notification-banner" not in home.content
    else:
        assert banner in home.content and b'href="/training/"' in home.content
    page = client.get("/training/")
    assert page.status_code == 200
    lapsed = completed_days_ago is None or completed_days_ago > 365
    assert (b"You cannot reach case data until a new completion is recorded" in page.content) is lapsed
    if completed_days_ago:
        assert ago(completed_days_ago).strftime("%Y").encode() in page.content


@pytest.mark.django_db
def test_the_refusal_page_says_why_and_what_to_do(client, make_user):
    user = make_user(Role.MASH_MANAGER, trained=ago(400))
    lapsed_on = services.expires_on(ago(400)) + dt.timedelta(days=1)
    client.force_login(user)
    response = client.get("/enquiries/")
    assert response.status_code == 403
    text = response.content.decode()
    assert "You cannot reach case data" in text
    assert f"your training refresher lapsed on {lapsed_on.day} {lapsed_on:%B %Y}" in text
    assert "send the certificate" in text and 'href="/training/"' in text
    event = AuditEvent.objects.filter(kind=Kind.DENIAL, actor_id=user.pk).latest("id")
    assert event.object_ref == "/enquiries/" and "lapsed" in event.detail
    api = client.get("/api/v1/enquiries")
    assert api.status_code == 403 and "training refresher lapsed" in api.json()["detail"]
    # Their home page shows no case counts, and says why.
    home = client.get("/")
    assert b"You cannot reach case data at the moment" in home.content and b"open enquir" not in home.content


@pytest.mark.django_db
def test_receiving_professionals_and_administrators_need_no_refresher(client, make_user, receiving_professional):
    admin = make_user(Role.SYSADMIN)
    for user in (receiving_professional, admin):
        client.force_login(user)
        assert client.get("/packages/").status_code == 200
        assert b"govuk-notification-banner" not in client.get("/").content
        assert client.get("/api/v1/training/me").json()["state"] == "not_required"


@pytest.fixture
def staff(make_user):
    return {
        "current": make_user(Role.MASH_WORKER, "essex-police", username="current-worker"),
        "expiring": make_user(Role.MASH_WORKER, "essex-police", username="expiring-worker", trained=ago(355)),
        "lapsed": make_user(Role.MASH_WORKER, "education", username="lapsed-worker", trained=ago(380)),
        "never": make_user(Role.DPO, username="untrained-dpo", trained=False),
        "admin": make_user(Role.SYSADMIN, username="admin"),
    }


@pytest.mark.django_db
def test_compliance_by_agency(client, manager, staff):
    client.force_login(manager)
    page = client.get("/training/compliance/")
    assert page.status_code == 200
    text = page.content.decode()
    for name in ("expiring-worker", "lapsed-worker", "untrained-dpo"):
        assert name in text
    assert "current-worker" not in text  # listed only by count
    agencies = {a["slug"]: a for a in client.get("/api/v1/training/compliance").json()}
    assert len(agencies) == 14  # the 13 partner agencies and staff of none
    police = agencies["essex-police"]
    assert police["staff"] == 2 and police["current"] == 1
    assert [s["username"] for s in police["expiring"]] == ["expiring-worker"]
    assert police["expiring"][0]["days_left"] == (services.expires_on(ago(355)) - TODAY()).days
    assert [s["username"] for s in agencies["education"]["lapsed"]] == ["lapsed-worker"]
    assert [s["username"] for s in agencies[""]["never"]] == ["untrained-dpo"]
    assert agencies[""]["current"] == 1  # the manager
    assert agencies["nelft"]["staff"] == 0


@pytest.mark.django_db
def test_recording_a_completion_on_the_web(client, manager, staff):
    client.force_login(staff["admin"])
    form = client.get("/training/record/?username=lapsed-worker")
    assert form.status_code == 200 and b'value="lapsed-worker" selected' in form.content
    done = TODAY()
    response = client.post("/training/record/", {
        "username": "lapsed-worker", "course": "Handling confidential information",
        "completed_on_day": done.day, "completed_on_month": done.month, "completed_on_year": done.year,
        "evidence_reference": "LMS-4471"})
    assert response.status_code == 302 and response["Location"] == "/training/compliance/"
    record = TrainingRecord.objects.filter(user=staff["lapsed"]).latest("id")
    assert (record.completed_on, record.evidence_reference, record.recorded_by) == (done, "LMS-4471", staff["admin"])
    client.force_login(staff["lapsed"])
    assert client.get("/requests/").status_code == 200


@pytest.mark.django_db
def test_a_refused_completion_keeps_the_input_and_says_why(client, manager, staff):
    client.force_login(manager)
    response = client.post("/training/record/", {
        "username": "manager", "course": "Refresher", "completed_on_day": "31", "completed_on_month": "2",
        "completed_on_year": "2026", "evidence_reference": ""})
    assert response.status_code == 400
    assert b"Date completed must be a real date" in response.content
    assert b"This field is required" in response.content or b"Enter" in response.content
    future = TODAY() + dt.timedelta(days=2)
    response = client.post("/training/record/", {
        "username": "manager", "course": "Refresher", "completed_on_day": future.day,
        "completed_on_month": future.month, "completed_on_year": future.year, "evidence_reference": "X-1"})
    assert response.status_code == 400
    text = response.content.decode()
    assert "You cannot record your own training" in text and "today or in the past" in text
    assert 'value="X-1"' in text
    assert not TrainingRecord.objects.filter(evidence_reference="X-1").exists()


@pytest.mark.django_db
def test_recording_over_the_api(client, manager, staff):
    client.force_login(manager)
    body = {"username": "never", "course": "Refresher", "completed_on": "not a date", "evidence_reference": ""}
    response = client.post("/api/v1/training/records", json.dumps(body), content_type="application/json")
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"username", "completed_on", "evidence_reference"}
    body = {"username": "untrained-dpo", "course": "Refresher", "completed_on": str(ago(1)),
            "evidence_reference": "LMS-1"}
    response = client.post("/api/v1/training/records", json.dumps(body), content_type="application/json")
    assert response.status_code == 201
    made = response.json()
    assert made["recorded_by"] == "manager" and made["expires_on"] == str(services.expires_on(ago(1)))
    assert AuditEvent.objects.filter(kind=Kind.ADMIN, action="training.record", object_ref="untrained-dpo").exists()
    client.force_login(staff["current"])
    response = client.post("/api/v1/training/records", json.dumps(body), content_type="application/json")
    assert response.status_code == 403
    assert AuditEvent.objects.filter(kind=Kind.DENIAL, action="training.record", actor_id=staff["current"].pk).exists()
