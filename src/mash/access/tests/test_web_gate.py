"""The gate's pages: assigning a team member, unsealing, and searching, in the browser's terms."""

from django.urls import reverse

from mash.accounts.models import Role
from mash.cases.models import EnquiryAssignment
from mash.sharing import services as sharing
from mash.sharing.models import Contribution


def test_a_manager_puts_a_worker_on_the_enquiry_who_then_reads_it(client, asked_enquiry, manager, make_user):
    worker = make_user(Role.MASH_WORKER, "thurrock-council", username="council-worker", first_name="Casey",
                       last_name="Council")
    detail = reverse("cases:detail", args=[asked_enquiry.reference])
    client.force_login(worker)
    assert client.get(detail).status_code == 404
    client.force_login(manager)
    page = client.get(detail).content.decode()
    assert "Put a team member on the enquiry" in page and 'value="council-worker"' in page
    missing = client.post(reverse("cases:assign", args=[asked_enquiry.reference]), {"assign-member": ""})
    assert missing.status_code == 400 and "Choose the MASH team member" in missing.content.decode()
    response = client.post(reverse("cases:assign", args=[asked_enquiry.reference]),
                           {"assign-member": "council-worker", "assign-note": "Leads for social care"})
    assert response.status_code == 302
    assert EnquiryAssignment.objects.filter(user=worker, ended_at__isnull=True).exists()
    page = client.get(detail).content.decode()
    assert "Casey Council" in page and "Take a team member off the enquiry" in page
    client.force_login(worker)
    page = client.get(detail).content.decode()
    assert asked_enquiry.child.full_name in page and "Pat Reporter" in page  # the team reads the reporter
    assert "Put a team member on the enquiry" not in page


def test_an_asked_agency_does_not_see_the_reporter_or_the_reasoning(client, asked_enquiry, police_worker):
    client.force_login(police_worker)
    page = client.get(reverse("cases:detail", args=[asked_enquiry.reference])).content.decode()
    assert asked_enquiry.child.full_name in page
    assert "Pat Reporter" not in page and "Injuries seen by school staff" not in page  # reporter, rating rationale
    assert "Your agency's request" in page


def test_the_agency_unseals_its_own_answer_from_its_request_page(client, asked_enquiry, police_worker, manager):
    request_obj = asked_enquiry.information_requests.get(partner__slug="essex-police")
    sharing.contribute(request_obj, by=police_worker, kind="confidential_held", lawful_basis="dpa-2018-part-3",
                       confidential_reason="ongoing_investigation", decision_reason="Investigation",
                       items=[{"category": "intelligence", "content": "SEALED-WEB-TEXT", "relevance_note": "r"}])
    url = reverse("sharing:request", args=[request_obj.pk])
    client.force_login(manager)
    assert "Unseal your agency" not in client.get(url).content.decode()
    assert client.post(reverse("sharing:unseal", args=[request_obj.pk]), {"unseal-reason": "x"}).status_code == 403
    client.force_login(police_worker)
    assert "Unseal your agency" in client.get(url).content.decode()
    refused = client.post(reverse("sharing:unseal", args=[request_obj.pk]), {"unseal-level": "restricted"})
    assert refused.status_code == 400 and "Give the reason" in refused.content.decode()
    done = client.post(reverse("sharing:unseal", args=[request_obj.pk]),
                       {"unseal-reason": "Charged; no longer sensitive", "unseal-level": "restricted"})
    assert done.status_code == 302
    assert Contribution.objects.get(superseded_by__isnull=True).unsealed
    client.force_login(manager)
    page = client.get(reverse("cases:detail", args=[asked_enquiry.reference])).content.decode()
    assert "SEALED-WEB-TEXT" in page and "lifted its seal" in page


def test_search_page(client, asked_enquiry, manager, make_user):
    client.force_login(manager)
    page = client.get(reverse("cases:queue"), {"q": asked_enquiry.child.last_name}).content.decode()
    assert asked_enquiry.reference in page and "Enquiries matching" in page
    client.force_login(make_user(Role.MASH_WORKER, "g4s-sarc"))
    page = client.get(reverse("cases:queue"), {"q": asked_enquiry.child.last_name}).content.decode()
    assert asked_enquiry.reference not in page


def test_csv_export_holds_only_what_the_user_may_see(client, asked_enquiry, manager, make_user):
    import csv
    import io

    from mash.cases import services as cases
    from mash.testing.world import child_data, contact_data

    other = cases.record_contact(by=manager, **contact_data(child=child_data(first_name="=HYPERLINK(1)",
                                                                            nhs_number="")))
    client.force_login(manager)
    response = client.get(reverse("cases:export"), {"show": "all"})
    assert response["Content-Type"].startswith("text/csv") and "attachment" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][:3] == ["Reference", "Child", "Date of birth"]
    by_ref = {r[0]: r for r in rows[1:]}
    assert set(by_ref) == {asked_enquiry.reference, other.reference}
    assert by_ref[other.reference][1].startswith("'=")  # not run as a formula by a spreadsheet
    client.force_login(make_user(Role.MASH_WORKER, "education"))
    rows = list(csv.reader(io.StringIO(client.get(reverse("cases:export"), {"show": "all"}).content.decode())))
    assert [r[0] for r in rows[1:]] == [asked_enquiry.reference]
