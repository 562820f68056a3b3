"""Damaged data is contained, reported and never a blank 500: one ciphertext that does not decrypt is
shown as "cannot be shown" while the rest of the case renders (web and API), an integrity event goes to
the audit log, the administrators are emailed, and the read event records what was actually shown."""

import pytest
from django.core import mail
from django.test import RequestFactory
from django.urls import reverse

from mash.accounts.models import Role
from mash.audit.models import AuditEvent, Result
from mash.cases.models import Contact
from mash.keys.fields import DamagedData
from mash.keys.integrity import MESSAGE, Unreadable
from mash.sharing.models import ContributionItem
from mash.testing.cases import ATTENDANCE, INCIDENT, sent
from mash.testing.database import damage, damage_sent_package, raw
from mash.testing.pages import pdf_text


@pytest.fixture
def sysadmin(make_user):
    return make_user(Role.SYSADMIN, username="sysadmin", email="sysadmin@example.invalid")


def integrity_events():
    return list(AuditEvent.objects.filter(action="integrity check failed").order_by("id"))


@pytest.mark.django_db
def test_a_damaged_item_is_shown_as_such_and_the_rest_of_the_case_renders(decided_case, client, sysadmin, settings):
    settings.ADMINS = [("Ops", "ops@example.invalid")]
    damaged = decided_case.items["police_incidents"]
    damage(ContributionItem, damaged.pk, "content")
    client.force_login(decided_case.manager)
    page = client.get(reverse("cases:detail", args=[decided_case.enquiry.reference]))
    assert page.status_code == 200
    body = page.content.decode()
    assert MESSAGE in body and INCIDENT not in body
    assert ATTENDANCE in body and "Injuries seen by school staff" in body  # the rest of the case
    # An integrity event, naming the place and never the content.
    [event] = integrity_events()
    assert event.result == Result.FAILED and event.actor == decided_case.manager.username
    assert event.object_ref == f"sharing_contributionitem.content#{damaged.pk}"
    assert event.people == [decided_case.enquiry.child_id]
    # The administrators are alerted (settings.ADMINS and the system administrators), once.
    [alert] = mail.outbox
    assert set(alert.to) == {"ops@example.invalid", "sysadmin@example.invalid"}
    assert f"row {damaged.pk}" in alert.body and "sharing_contributionitem" in alert.body
    assert INCIDENT not in alert.body
    # The read event records what was shown: the contributions, except the damaged value.
    read = AuditEvent.objects.filter(kind="read", result=Result.OK,
                                     object_ref__contains=decided_case.enquiry.reference).latest("id")
    assert "contributions" not in read.fields
    assert (f"contributions, except what failed an integrity check (sharing_contributionitem.content#{damaged.pk})"
            in read.fields)
    # Read again: another event (every read is recorded), but no second email within the hour.
    assert client.get(reverse("cases:detail", args=[decided_case.enquiry.reference])).status_code == 200
    assert len(integrity_events()) == 2 and len(mail.outbox) == 1


@pytest.mark.django_db
def test_the_api_answers_null_with_integrity_errors_for_the_damaged_value(decided_case, client, sysadmin):
    contact = Contact.objects.get(pk=decided_case.enquiry.contact_id)
    damage(Contact, contact.pk, "concern")
    client.force_login(decided_case.manager)
    response = client.get(f"/api/v1/enquiries/{decided_case.enquiry.reference}")
    assert response.status_code == 200 and response["Content-Type"].startswith("application/json")
    data = response.json()
    assert data["contact"]["concern"] is None
    assert data["integrity_errors"] == [{"field": "contact.concern", "detail": MESSAGE}]
    assert response["X-Integrity-Errors"] == "1"
    assert data["child"]["first_name"] == "Rowan" and data["contributions"]  # the rest is there
    assert [e.object_ref for e in integrity_events()] == [f"cases_contact.concern#{contact.pk}"]
    assert len(mail.outbox) == 1
    read = AuditEvent.objects.filter(kind="read", result=Result.OK,
                                     object_ref__contains=decided_case.enquiry.reference).latest("id")
    assert "concern" not in read.fields and any(f.startswith("concern, except") for f in read.fields)


@pytest.mark.django_db
def test_a_damaged_value_is_never_written_back_or_copied(decided_case):
    damaged = decided_case.items["police_incidents"]
    damage(ContributionItem, damaged.pk, "content")
    stored = raw(ContributionItem, damaged.pk, "content")
    item = ContributionItem.objects.get(pk=damaged.pk)
    assert isinstance(item.content, Unreadable)
    item.relevance_note = "A note changed beside the damaged value"
    item.save()
    assert raw(ContributionItem, damaged.pk, "content") == stored  # kept as it was, for investigation
    other = ContributionItem.objects.get(pk=decided_case.items["school_attendance"].pk)
    other.content = item.content
    with pytest.raises(DamagedData, match="failed an integrity check"):
        other.save()


@pytest.mark.django_db
def test_the_api_answers_json_for_an_unexpected_error(decided_case, client, monkeypatch):
    from mash.cases import api as cases_api

    def broken(*args, **kwargs):
        raise RuntimeError("an internal detail that must not leak")

    monkeypatch.setattr(cases_api, "enquiry_detail", broken)
    client.force_login(decided_case.manager)
    response = client.get(f"/api/v1/enquiries/{decided_case.enquiry.reference}")
    assert response.status_code == 500 and response["Content-Type"].startswith("application/json")
    assert "logged" in response.json()["detail"] and "internal detail" not in response.content.decode()


def test_django_s_500_handler_answers_json_under_the_api():
    from mash.core.views import server_error

    response = server_error(RequestFactory().get("/api/v1/enquiries"))
    assert response.status_code == 500 and response["Content-Type"] == "application/json"
    assert b"logged" in response.content


# A damaged JSON value (a sent package's content) -----------------------------------------------------

@pytest.fixture
def damaged_package(decided_case):
    package = sent(decided_case)
    damage_sent_package(package)
    return package


@pytest.mark.django_db
@pytest.mark.parametrize("reader", ["manager", "recipient"])
def test_a_damaged_package_page_says_its_content_cannot_be_shown(decided_case, client, damaged_package, reader):
    client.force_login(getattr(decided_case, reader))
    page = client.get(reverse("disclosure:package", args=[damaged_package.pk]))
    assert page.status_code == 200
    body = page.content.decode()
    assert MESSAGE in body and INCIDENT not in body and ATTENDANCE not in body
    assert decided_case.enquiry.reference in body and "Sent" in body  # the rest of the package renders
    assert "No agency information is included" not in body  # not shown as an empty package
    assert [e.object_ref for e in integrity_events()] == [f"disclosure_disclosurepackage.content#{damaged_package.pk}"]
    # The list of packages still renders too.
    assert client.get(reverse("disclosure:packages") if reader == "recipient" else
                      reverse("cases:detail", args=[decided_case.enquiry.reference])).status_code == 200


@pytest.mark.django_db
def test_a_damaged_package_pdf_says_its_content_cannot_be_shown(decided_case, client, damaged_package):
    client.force_login(decided_case.recipient)
    response = client.get(f"/packages/{damaged_package.pk}/pdf/")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = pdf_text(response.content)
    assert "This item cannot be shown" in text and INCIDENT not in text
    assert f"Disclosure package {damaged_package.pk}" in text


@pytest.mark.django_db
def test_the_package_api_answers_null_content_with_integrity_errors(decided_case, client, damaged_package):
    client.force_login(decided_case.recipient)
    response = client.get(f"/api/v1/packages/{damaged_package.pk}")
    assert response.status_code == 200 and response["Content-Type"].startswith("application/json")
    data = response.json()
    # The child's name as sent was in the content too.
    assert data["integrity_errors"] == [{"field": "child_name", "detail": MESSAGE},
                                        {"field": "content.Information", "detail": MESSAGE}]
    assert data["content"] == {"Information": None} and data["child_name"] is None
    assert response["X-Integrity-Errors"] == "2"
    assert data["id"] == damaged_package.pk and data["status"] == "sent"  # the rest is there
    listing = client.get("/api/v1/packages")
    assert listing.status_code == 200
