import pytest
from django.utils import timezone

from mash.sharing import selectors
from mash.core.errors import DomainError, IsaViolation, NotFound, ValidationFailed
from mash.sharing import services
from mash.sharing.models import Contribution

ITEM = dict(category="school_attendance", content="Attendance 81% this term", relevance_note="Falling attendance")


def request_for(enquiry, slug):
    return enquiry.information_requests.get(partner__slug=slug)


def test_share_records_isa_version_and_clause(asked_enquiry, education_worker, isa_version):
    c = services.contribute(request_for(asked_enquiry, "education"), by=education_worker, kind="share",
                            decision_reason="Relevant and proportionate", lawful_basis="uk-gdpr-6-1-e", items=[ITEM])
    assert c.isa_version == isa_version
    assert list(c.items.values_list("category", "isa_clause")) == [("school_attendance", "S2.4.1")]
    assert request_for(asked_enquiry, "education").status == "answered"


def test_a_category_the_isa_does_not_allow_is_refused(asked_enquiry, education_worker):
    with pytest.raises(IsaViolation) as exc:
        services.contribute(request_for(asked_enquiry, "education"), by=education_worker, kind="share",
                            decision_reason="x", lawful_basis="uk-gdpr-6-1-e",
                            items=[ITEM, dict(category="arrests", content="x", relevance_note="y")])
    assert "does not allow Education establishments (all primary and secondary) to share 'arrests'" in exc.value.message
    assert Contribution.objects.count() == 0


def test_decline_needs_a_reason_and_no_items(asked_enquiry, education_worker):
    req = request_for(asked_enquiry, "education")
    with pytest.raises(ValidationFailed) as exc:
        services.contribute(req, by=education_worker, kind="decline", decision_reason="", items=[ITEM])
    assert set(exc.value.errors) == {"decision_reason", "items"}
    c = services.contribute(req, by=education_worker, kind="decline", decision_reason="Nothing held")
    assert c.lawful_basis == "" and not c.items.exists()


def test_confidential_held_needs_a_reason_and_seals_items(asked_enquiry, police_worker):
    req = request_for(asked_enquiry, "essex-police")
    item = dict(category="intelligence", content="SEALED-CONTENT", relevance_note="risk")
    with pytest.raises(ValidationFailed, match="why the information is confidential"):
        services.contribute(req, by=police_worker, kind="confidential_held", decision_reason="investigation",
                            lawful_basis="dpa-2018-part-3", items=[item])
    c = services.contribute(req, by=police_worker, kind="confidential_held", decision_reason="investigation",
                            lawful_basis="dpa-2018-part-3", confidential_reason="ongoing_investigation", items=[item])
    assert set(c.items.values_list("confidentiality", flat=True)) == {"sealed"}


def test_lawful_basis_must_be_the_partners(asked_enquiry, education_worker):
    with pytest.raises(ValidationFailed, match="lawful basis"):
        services.contribute(request_for(asked_enquiry, "education"), by=education_worker, kind="share",
                            decision_reason="x", lawful_basis="dpa-2018-part-3", items=[ITEM])


def test_another_agency_cannot_answer(asked_enquiry, police_worker):
    with pytest.raises(NotFound):
        services.contribute(request_for(asked_enquiry, "education"), by=police_worker, kind="decline",
                            decision_reason="x")


def test_answer_once_then_amend_keeping_the_first(asked_enquiry, education_worker):
    req = request_for(asked_enquiry, "education")
    first = services.contribute(req, by=education_worker, kind="decline", decision_reason="Nothing held")
    with pytest.raises(DomainError, match="amend the answer instead"):
        services.contribute(req, by=education_worker, kind="decline", decision_reason="again")
    second = services.amend_contribution(req, by=education_worker, reason="Found attendance records", kind="share",
                                         decision_reason="Relevant", lawful_basis="uk-gdpr-6-1-e", items=[ITEM])
    assert (second.version, second.supersedes) == (2, first)
    first.refresh_from_db()
    assert (first.kind, first.decision_reason) == ("decline", "Nothing held")


def test_views_show_the_marker_and_never_the_sealed_content(asked_enquiry, manager, police_worker, education_worker):
    services.contribute(request_for(asked_enquiry, "essex-police"), by=police_worker, kind="confidential_held",
                        decision_reason="Investigation under way", lawful_basis="dpa-2018-part-3",
                        confidential_reason="ongoing_investigation",
                        items=[dict(category="intelligence", content="SEALED-CONTENT", relevance_note="risk")])
    services.contribute(request_for(asked_enquiry, "education"), by=education_worker, kind="share",
                        decision_reason="Relevant", lawful_basis="uk-gdpr-6-1-e", items=[ITEM])
    today = timezone.localdate()
    managers = selectors.contribution_views(manager, asked_enquiry)
    sealed = next(v for v in managers if v.partner_slug == "essex-police")
    assert sealed.sealed and sealed.items == [] and sealed.decision_reason is None
    assert sealed.marker == (f"Confidential information held by Essex Police, recorded {today:%-d %B %Y}, "
                             "category: ongoing investigation")
    assert "SEALED-CONTENT" not in repr(managers) and "Investigation under way" not in repr(managers)
    police = selectors.contribution_views(police_worker, asked_enquiry)
    assert [i.content for v in police for i in v.items] == ["SEALED-CONTENT"]
    education = selectors.contribution_views(education_worker, asked_enquiry)
    assert [v.partner_slug for v in education] == ["education"]
