"""The gate's rules: links, fields, confidentiality, the ISA window, denials, unsealing, gates."""

import datetime as dt

import pytest
from django.utils import timezone

from mash.access import gate, rules
from mash.cases import selectors as cases_selectors
from mash.sharing import selectors as sharing_selectors
from mash.audit.models import AuditEvent, Kind
from mash.accounts.models import Role
from mash.cases import services as cases
from mash.cases.models import Enquiry, EnquiryEvent
from mash.core.errors import NotFound, PermissionDenied, ValidationFailed
from mash.sharing import services as sharing
from mash.sharing.models import Contribution, ContributionItem
from mash.testing.world import child_data, contact_data

SEALED = "SEALED-OPERATION-NIGHTJAR"
RESTRICTED = "RESTRICTED-NAMES-UNDER-REVIEW"
NORMAL = "NORMAL-ATTENDANCE-81"


@pytest.fixture
def answered(asked_enquiry, manager, police_worker, education_worker, council_worker):
    """Police: a share with a normal, a restricted and a sealed item. Education: confidential information held.
    The council worker is on the enquiry."""
    police = asked_enquiry.information_requests.get(partner__slug="essex-police")
    sharing.contribute(police, by=police_worker, kind="share", lawful_basis="crime-and-disorder-act-1998-s115",
                       decision_reason="Relevant", items=[
                           {"category": "police_incidents", "content": NORMAL, "relevance_note": "n"},
                           {"category": "domestic_abuse", "content": RESTRICTED, "relevance_note": "r",
                            "confidentiality": "restricted"},
                           {"category": "intelligence", "content": SEALED, "relevance_note": "s",
                            "confidentiality": "sealed"}])
    education = asked_enquiry.information_requests.get(partner__slug="education")
    sharing.contribute(education, by=education_worker, kind="confidential_held", lawful_basis="uk-gdpr-6-1-e",
                       confidential_reason="court_restriction", decision_reason="EDUCATION-HELD-REASON",
                       items=[{"category": "exclusions", "content": "EDUCATION-SEALED-ITEM", "relevance_note": "x"}])
    cases.assign(asked_enquiry, by=manager, member="council-worker")
    return asked_enquiry


def _texts(views) -> str:
    out = []
    for v in views:
        out += [v.marker if v.sealed else "", v.decision_reason or "", v.lawful_basis or ""]
        out += [i.content + " " + i.relevance_note for i in v.items]
    return "\n".join(out)


def test_each_confidentiality_is_read_by_its_readers(answered, manager, police_worker, education_worker,
                                                     council_worker):
    read = {u.username: _texts(sharing_selectors.contribution_views(u, Enquiry.objects.get(pk=answered.pk)))
            for u in (manager, police_worker, education_worker, council_worker)}
    # normal: the team and the agency; restricted: managers and the agency; sealed: the agency.
    assert all(NORMAL in read[u] for u in ("manager", "police-worker", "council-worker"))
    assert NORMAL not in read["education-worker"]  # another asked agency reads only its own answer
    assert RESTRICTED in read["manager"] and RESTRICTED in read["police-worker"]
    assert RESTRICTED not in read["council-worker"] and RESTRICTED not in read["education-worker"]
    assert SEALED in read["police-worker"]
    assert all(SEALED not in read[u] for u in ("manager", "council-worker", "education-worker"))
    # Education's confidential information held: only the marker, for everyone but education.
    assert "EDUCATION-SEALED-ITEM" in read["education-worker"] and "EDUCATION-HELD-REASON" in read["education-worker"]
    for u in ("manager", "council-worker", "police-worker"):
        assert "EDUCATION-SEALED-ITEM" not in read[u] and "EDUCATION-HELD-REASON" not in read[u]
    assert "Confidential information held by Education establishments" in read["manager"]
    team_view = next(v for v in sharing_selectors.contribution_views(council_worker, answered) if v.partner_slug == "essex-police")
    assert (team_view.withheld_items, team_view.withheld_restricted) == (1, 1)


def test_sealed_content_is_never_loaded_for_anyone_else(answered, manager, council_worker, monkeypatch):
    """Not hidden after loading: the queries never select it (so nothing could decrypt it on their behalf)."""
    loaded_items, loaded_contributions = [], []
    item_from_db, contribution_from_db = ContributionItem.from_db.__func__, Contribution.from_db.__func__

    def spy_items(cls, db, field_names, values):
        loaded_items.append(dict(zip(field_names, values)))
        return item_from_db(cls, db, field_names, values)

    def spy_contributions(cls, db, field_names, values):
        loaded_contributions.append(dict(zip(field_names, values)))
        return contribution_from_db(cls, db, field_names, values)

    monkeypatch.setattr(ContributionItem, "from_db", classmethod(spy_items))
    monkeypatch.setattr(Contribution, "from_db", classmethod(spy_contributions))
    for user in (manager, council_worker):
        loaded_items.clear()
        loaded_contributions.clear()
        cases_selectors.case_record(user, Enquiry.objects.get(pk=answered.pk))
        loaded = repr(loaded_items) + repr(loaded_contributions)
        assert loaded_items, "the readable items were loaded"
        assert SEALED not in loaded and "EDUCATION-SEALED-ITEM" not in loaded
        assert "EDUCATION-HELD-REASON" not in loaded  # deferred, and the annotation is blanked in SQL


def test_sql_filters_and_decisions_agree(answered, manager, police_worker, education_worker, council_worker,
                                        make_user, receiving_professional):
    other = cases.record_contact(by=manager, **contact_data(child=child_data(first_name="Other", nhs_number="")))
    cases.rate(other, by=manager, rating="green", rationale="x")
    sharing.request_information(other, by=manager, partners=["education", "nelft"])
    decided = cases.record_contact(by=manager, **contact_data(child=child_data(first_name="Past", nhs_number="")))
    cases.rate(decided, by=manager, rating="green", rationale="x")
    sharing.request_information(decided, by=manager, partners=["essex-police"])
    cases.assign(decided, by=manager, member="council-worker")
    cases.decide(decided, by=manager, outcome="no_further_action", rationale="x")
    Enquiry.objects.filter(pk=decided.pk).update(decided_at=timezone.now() - dt.timedelta(days=40))
    users = [manager, police_worker, education_worker, council_worker, receiving_professional,
             make_user(Role.MASH_WORKER, "nelft"), make_user(Role.MASH_WORKER, "g4s-sarc"), make_user(Role.DPO)]
    from mash.sharing.models import InformationRequest

    for user in users:
        for action in (rules.VIEW_ENQUIRY, rules.REQUEST_INFORMATION, rules.DECIDE):
            listed = set(cases_selectors.enquiries(user, action).values_list("pk", flat=True))
            decided_ok = {e.pk for e in Enquiry.objects.all() if gate.decide(user, action, e)}
            assert listed == decided_ok, (user.username, action)
        for action in (rules.VIEW_REQUEST, rules.ANSWER_REQUEST):
            listed = set(sharing_selectors.information_requests(user, action).values_list("pk", flat=True))
            decided_ok = {r.pk for r in InformationRequest.objects.all() if gate.decide(user, action, r)}
            assert listed == decided_ok, (user.username, action)
    assert set(cases_selectors.enquiries(council_worker).values_list("pk", flat=True)) == {answered.pk, decided.pk}
    assert set(cases_selectors.enquiries(police_worker).values_list("pk", flat=True)) == {answered.pk}  # window closed


def test_asked_agency_reads_only_what_it_needs(answered, police_worker):
    record = cases_selectors.case_record(police_worker, answered)
    assert record.child is not None and record.contact is not None and not record.reporter_visible
    assert record.ratings == [] and record.events == [] and record.decision is None and record.team == []
    assert [r.partner.slug for r in record.information_requests] == ["essex-police"]
    assert {v.partner_slug for v in record.contributions} == {"essex-police"}
    assert rules.READ_FIELD and not gate.decide(police_worker, rules.READ_FIELD, answered, rules.REPORTER)


def test_outside_need_to_know_is_not_found_and_recorded(answered, make_user):
    outsider = make_user(Role.MASH_WORKER, "g4s-sarc", username="sarc")
    with pytest.raises(NotFound):
        cases_selectors.enquiry(outsider, answered.reference)
    with pytest.raises(NotFound):
        cases_selectors.enquiry(outsider, "MASH-2026-999999")
    denials = list(AuditEvent.objects.filter(actor_id=outsider.pk, kind=Kind.DENIAL).order_by("id"))
    assert [(d.object_ref, d.detail.endswith("(exists)")) for d in denials] == [
        (answered.reference, True), ("MASH-2026-999999", False)]
    assert denials[0].organisation == "g4s-sarc" and denials[0].role == "mash_worker"
    assert "no need to know" in denials[0].detail and "no such enquiry" in denials[1].detail


def test_a_worker_who_may_see_but_not_act_is_refused_and_recorded(answered, police_worker):
    with pytest.raises(PermissionDenied, match="only a MASH manager"):
        cases.rate(answered, by=police_worker, rating="red", rationale="x")
    assert AuditEvent.objects.filter(actor_id=police_worker.pk, kind=Kind.DENIAL, action=rules.RATE,
                                     detail__endswith="(exists)").count() == 1


def test_only_the_originating_agency_unseals_and_it_is_recorded(answered, manager, police_worker,
                                                                education_worker):
    police = answered.information_requests.get(partner__slug="essex-police")
    for someone in (manager, education_worker):
        with pytest.raises((PermissionDenied, NotFound)):
            sharing.unseal(police, by=someone, reason="Let me see")
    with pytest.raises(ValidationFailed) as exc:
        sharing.unseal(police, by=police_worker, reason=" ")
    assert "reason" in exc.value.errors
    unsealed = sharing.unseal(police, by=police_worker, reason="Operation concluded", level="restricted")
    assert unsealed.unsealed and unsealed.version == 2 and unsealed.amendment_reason == "Operation concluded"
    assert unsealed.supersedes.items.filter(confidentiality="sealed").count() == 1  # the earlier version is kept
    assert EnquiryEvent.objects.filter(enquiry=answered, action="unseal", by=police_worker).exists()
    fresh = Enquiry.objects.get(pk=answered.pk)
    assert SEALED in _texts(sharing_selectors.contribution_views(manager, fresh))
    assert SEALED not in _texts(sharing_selectors.contribution_views(education_worker, fresh))
    with pytest.raises(Exception, match="Nothing in your agency's answer is sealed"):
        sharing.unseal(police, by=police_worker, reason="Again")


def test_confidential_information_held_unseals_to_a_share(answered, manager, education_worker):
    education = answered.information_requests.get(partner__slug="education")
    c = sharing.unseal(education, by=education_worker, reason="Court order lifted", level="normal")
    assert c.kind == "share" and c.confidential_reason == ""
    assert "EDUCATION-SEALED-ITEM" in _texts(sharing_selectors.contribution_views(manager, Enquiry.objects.get(pk=answered.pk)))


def test_assignment_gives_and_ending_it_takes_away(asked_enquiry, manager, make_user, receiving_professional):
    worker = make_user(Role.MASH_WORKER, "nelft", username="nelft-worker")
    assert not gate.decide(worker, rules.VIEW_ENQUIRY, asked_enquiry)
    cases.assign(asked_enquiry, by=manager, member="nelft-worker")
    assert gate.decide(worker, rules.VIEW_ENQUIRY, Enquiry.objects.get(pk=asked_enquiry.pk))
    with pytest.raises(ValidationFailed, match="already on this enquiry"):
        cases.assign(asked_enquiry, by=manager, member="nelft-worker")
    with pytest.raises(ValidationFailed, match="not an active member of the MASH team"):
        cases.assign(asked_enquiry, by=manager, member=receiving_professional.username)
    ended = cases.end_assignment(asked_enquiry, by=manager, member="nelft-worker", note="Handed back")
    assert ended.ended_by == manager and ended.ended_at is not None
    assert not cases_selectors.enquiries(worker).exists()
    with pytest.raises(ValidationFailed, match="not on this enquiry"):
        cases.end_assignment(asked_enquiry, by=manager, member="nelft-worker")


def test_a_registered_gate_refuses_everything_with_its_reason(answered, manager):
    def lapsed(user):
        return "training lapsed" if user.username == "manager" else None

    gate.register_gate(lapsed)
    try:
        assert not cases_selectors.enquiries(manager).exists()
        assert not sharing_selectors.information_requests(manager).exists()
        assert gate.decide(manager, rules.VIEW_ENQUIRY, answered).reason == "training lapsed"
        with pytest.raises(NotFound):
            cases_selectors.enquiry(manager, answered.reference)
    finally:
        gate.unregister_gate(lapsed)
    assert cases_selectors.enquiries(manager).exists()


def test_search_finds_only_within_need_to_know(answered, manager, make_user):
    outsider = make_user(Role.MASH_WORKER, "g4s-sarc")
    name = answered.child.last_name
    assert list(cases_selectors.search_enquiries(manager, name)) == [answered]
    assert list(cases_selectors.search_enquiries(manager, answered.reference)) == [answered]
    assert list(cases_selectors.search_enquiries(manager, "943 476 5919")) == [answered]
    assert not cases_selectors.search_enquiries(outsider, name).exists()
    assert not cases_selectors.search_enquiries(outsider, answered.reference).exists()


def test_window_boundary(asked_enquiry, manager, police_worker):
    cases.decide(asked_enquiry, by=manager, outcome="no_further_action", rationale="x")
    now = timezone.now()
    for days, visible in ((27, True), (28, False), (29, False)):
        # 28 days to the second: the cut-off has passed by the time the gate looks.
        Enquiry.objects.filter(pk=asked_enquiry.pk).update(decided_at=now - dt.timedelta(days=days))
        fresh = Enquiry.objects.get(pk=asked_enquiry.pk)
        assert cases_selectors.enquiries(police_worker).filter(pk=fresh.pk).exists() == visible, days
        assert bool(gate.decide(police_worker, rules.VIEW_ENQUIRY, fresh)) == visible, days
