"""Every URL pattern the project has, the key the access matrix names each by, and a valid body for each
API POST (so that what a test observes is the gate, not body parsing)."""

import re
from datetime import timedelta

from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from mash.testing.world import contact_data

PACKAGE_BODY = {"recipient_type": "social_worker", "recipient": "social-worker",
                "lawful_basis": "children-act-1989-s47", "selection": {"child": ["date_of_birth"]}}


def walk(patterns=None, prefix="", namespace=""):
    for p in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(p, URLResolver):
            ns = p.namespace or namespace
            yield from walk(p.url_patterns, prefix + str(p.pattern), ns)
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern), namespace, p


def all_patterns():
    return [(route, ns, p) for route, ns, p in walk()]


def route_key(route: str) -> str:
    if route.startswith(("sar/", "api/v1/sars")):
        route = re.sub(r"<(?:\w+:)?item_id>", "{sitem}", route)
        return re.sub(r"<(?:\w+:)?reference>", "{sar}", route)
    route = re.sub(r"<(?:\w+:)?(pk|request_id)>", "{req}", route)
    route = re.sub(r"<(?:\w+:)?package_id>", "{pkg}", route)
    route = re.sub(r"<(?:\w+:)?item_id>", "{item}", re.sub(r"<(?:\w+:)?attachment_id>", "{att}", route))
    route = re.sub(r"<(?:\w+:)?record_id>", "{rec}", re.sub(r"<(?:\w+:)?override_id>", "{ovr}", route))
    route = re.sub(r"<(?:\w+:)?person_id>", "{person}", re.sub(r"<(?:\w+:)?user_id>", "{actor}", route))
    # Two records side by side (people.views.duplicates): the enquiry's child and another person; a merge.
    route = route.replace("duplicates/<int:a>/<int:b>/", "duplicates/{person}/{other}/")
    route = re.sub(r"<(?:\w+:)?merge_id>", "{merge}", route)
    return re.sub(r"<(?:\w+:)?(reference)>", "{ref}", route)


# A valid body for each API POST, so that what is observed is the gate, not body parsing.
BODIES = {
    "api/v1/contacts": lambda h: contact_data(),
    "api/v1/people/matches": lambda h: {"given_name": "Rowan", "family_name": "Exampleton",
                                        "date_of_birth": "2016-05-04", "nhs_number": "943 476 5919"},
    "api/v1/enquiries/{ref}/rating": lambda h: {"rating": "red", "rationale": "Escalating"},
    "api/v1/enquiries/{ref}/information-requests": lambda h: {"partners": ["nelft"]},
    "api/v1/enquiries/{ref}/ready": lambda h: {"note": ""},
    "api/v1/enquiries/{ref}/decision": lambda h: {"outcome": "no_further_action", "rationale": "Resolved"},
    "api/v1/enquiries/{ref}/decision/amendments": lambda h: {"reason": "Typo", "outcome": "no_further_action",
                                                             "rationale": "Resolved"},
    "api/v1/enquiries/{ref}/close": lambda h: {"note": ""},
    "api/v1/enquiries/{ref}/team": lambda h: {"member": h["unasked"].username},
    "api/v1/enquiries/{ref}/team/ended": lambda h: {"member": h["assigned"].username},
    "api/v1/information-requests/{req}/contribution": lambda h: {"kind": "decline", "decision_reason": "None held"},
    "api/v1/information-requests/{req}/contribution/amendments": lambda h: {
        "reason": "Rechecked", "kind": "decline", "decision_reason": "None held"},
    "api/v1/information-requests/{req}/contribution/unsealed": lambda h: {"reason": "Investigation over"},
    "api/v1/enquiries/{ref}/consent": lambda h: {"status": "sought"},
    "api/v1/enquiries/{ref}/consent/{rec}/withdrawal": lambda h: {"reason": "Changed their mind"},
    "api/v1/enquiries/{ref}/sharing-without-consent": lambda h: {
        "justification": "Risk of significant harm", "lawful_basis": "children-act-1989-s47",
        "purposes": ["onward_disclosure"]},
    "api/v1/enquiries/{ref}/sharing-without-consent/{ovr}/decision": lambda h: {"approve": True},
    "api/v1/enquiries/{ref}/packages": lambda h: PACKAGE_BODY,
    "api/v1/packages/{pkg}": lambda h: PACKAGE_BODY,
    "api/v1/packages/{pkg}/sent": lambda h: {},
    "api/v1/packages/{pkg}/withdrawal": lambda h: {"reason": "Sent in error"},
    "api/v1/sars": lambda h: {"requester_name": "A parent", "requester_relationship": "parent",
                              "requester_contact": "1 Sample Street", "received_on": str(timezone.localdate()),
                              "person_ids": [h["enquiry"].child_id if "enquiry" in h else 1], "identity_verified": True,
                              "identity_method": "Passport"},
    "api/v1/sars/{sar}/identity": lambda h: {"method": "Passport"},
    "api/v1/sars/{sar}/pauses": lambda h: {"reason": "clarification"},
    "api/v1/sars/{sar}/pauses/ended": lambda h: {},
    "api/v1/sars/{sar}/extension": lambda h: {"months": 1, "reason": "Complex"},
    "api/v1/sars/{sar}/withdrawal": lambda h: {"reason": "Withdrawn by the requester"},
    "api/v1/sars/{sar}/compilation": lambda h: {},
    "api/v1/sars/{sar}/items/{sitem}/decision": lambda h: {"decision": "disclose", "serious_harm_checked": True},
    "api/v1/sars/{sar}/pack": lambda h: {},
    "api/v1/people/search": lambda h: {"family_name": h["enquiry"].child.last_name if "enquiry" in h else "Doe"},
    "api/v1/people/merges": lambda h: {"kept_id": h["enquiry"].child_id if "enquiry" in h else 1,
                                       "merged_id": h["other"].pk if "other" in h else 2,
                                       "reason": "The same child recorded twice"},
    "api/v1/people/merges/{merge}/undo": lambda h: {"reason": "Twins, not one child"},
    "api/v1/training/records": lambda h: {"username": "police-worker", "course": "Refresher",
                                          "completed_on": str(timezone.localdate() - timedelta(days=3)),
                                          "evidence_reference": "CERT-MATRIX"},
}
