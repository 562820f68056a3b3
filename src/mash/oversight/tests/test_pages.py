"""The audit log's pages: who has seen a child's record, shown to the data protection officer, and itself
recorded (as a read, and its CSV as an export)."""

from mash.audit.models import Kind
from mash.audit.selectors import events_about


def test_the_person_trail_shows_who_read_and_is_itself_recorded(client, asked_enquiry, manager, police_worker,
                                                                make_user):
    dpo = make_user("dpo", username="dpo-user")
    client.force_login(police_worker)
    client.get(f"/enquiries/{asked_enquiry.reference}/")
    client.force_login(dpo)
    page = client.get(f"/audit/people/{asked_enquiry.child_id}/")
    assert page.status_code == 200 and police_worker.username.encode() in page.content
    assert events_about(asked_enquiry.child_id).filter(actor_id=dpo.pk, kind=Kind.READ).exists()
    csv_body = client.get(f"/audit/people/{asked_enquiry.child_id}/export.csv").content.decode()
    assert csv_body.splitlines()[0].startswith("Event,When") and police_worker.username in csv_body
    assert events_about(asked_enquiry.child_id).filter(actor_id=dpo.pk, kind=Kind.EXPORT).exists()
    bad = client.get(f"/audit/people/{asked_enquiry.child_id}/?since=yesterday")
    assert bad.status_code == 200 and b"enter a date as YYYY-MM-DD" in bad.content
