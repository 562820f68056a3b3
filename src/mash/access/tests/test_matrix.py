"""Every role x every endpoint, on objects inside and outside each user's need to know.

The case (`matrix_case`): one enquiry (gathering information) on which Essex Police and Education were asked and a
council MASH worker is assigned; the object of request endpoints is the police request. Subjects
(columns) are linked to it in every way the gate knows, or not at all. The last, `lapsed`, is a MASH
manager whose training refresher has lapsed: the gate at the door refuses them everything of a case.

Codes:  O  the gate let the request through (for a list: 200, and the object is in it)
        E  a list, answered 200 without the object
        H  hidden: 404, as if it did not exist (and a denial is recorded)
        F  forbidden: 403, for someone who may see the object but not do this (recorded)
        L  sign in first (a web page redirects to the login page)
        U  401 (the API asks for credentials)
        T  403 saying the training refresher has lapsed (and a denial is recorded)

A route the table does not list fails the test: a new endpoint must say who reaches it.
"""

import json
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone

from mash.core.declare import policy_of
from mash.audit.models import AuditEvent, Kind
from mash.attachments import services as attachments
from mash.cases import services as cases
from mash.consent import services as consent
from mash.disclosure import services as disclosure
from mash.people.models import Person
from mash.people.services import merging
from mash.sar import services as sars
from mash.sharing import services as sharing
from mash.testing.routes import BODIES, PACKAGE_BODY, all_patterns, route_key
from mash.testing.world import child_data, contact_data

SUBJECTS = ["anon", "manager", "assigned", "police", "education", "unasked", "recipient", "dpo", "sysadmin",
            "auditor", "lapsed"]

#                                                                 an  ma as po ed un re dp sy au la
MATRIX = {
    # Web pages
    ("GET", ""):                                                   "L  O  O  O  O  O  O  O  O  O  O",
    ("GET", "login/"):                                             "O  O  O  O  O  O  O  O  O  O  O",
    ("GET", "isa/"):                                               "L  O  O  O  O  O  O  O  O  O  O",
    # Your own account and second factor (no case data; a lapsed refresher does not stop you managing it).
    ("GET", "account/"):                                           "L  O  O  O  O  O  O  O  O  O  O",
    ("GET", "account/two-factor/verify/"):                         "L  O  O  O  O  O  O  O  O  O  O",
    ("GET", "account/two-factor/setup/"):                          "L  O  O  O  O  O  O  O  O  O  O",
    ("GET", "enquiries/"):                                         "L  O  O  O  O  E  E  E  E  E  T",
    ("GET", "enquiries/?show=all"):                                "L  O  O  O  O  E  E  E  E  E  T",
    ("GET", "enquiries/?q={child}"):                               "L  O  O  O  O  E  E  E  E  E  T",
    ("GET", "enquiries/export.csv?show=all"):                      "L  O  O  O  O  E  E  E  E  E  T",
    ("GET", "enquiries/export.csv?q={child}"):                     "L  O  O  O  O  E  E  E  E  E  T",
    ("GET", "enquiries/contacts/new/"):                            "L  O  O  O  O  O  F  F  F  F  T",
    ("GET", "enquiries/{ref}/"):                                   "L  O  O  O  O  H  H  H  H  H  T",
    ("POST", "enquiries/{ref}/rate/"):                             "L  O  F  F  F  H  H  H  H  H  T",
    ("POST", "enquiries/{ref}/requests/"):                         "L  O  O  F  F  H  H  H  H  H  T",
    ("POST", "enquiries/{ref}/ready/"):                            "L  O  F  F  F  H  H  H  H  H  T",
    ("POST", "enquiries/{ref}/decision/"):                         "L  O  F  F  F  H  H  H  H  H  T",
    ("POST", "enquiries/{ref}/decision/amend/"):                   "L  O  F  F  F  H  H  H  H  H  T",
    ("POST", "enquiries/{ref}/close/"):                            "L  O  F  F  F  H  H  H  H  H  T",
    ("POST", "enquiries/{ref}/team/"):                             "L  O  F  F  F  H  H  H  H  H  T",
    ("POST", "enquiries/{ref}/team/end/"):                         "L  O  F  F  F  H  H  H  H  H  T",
    ("GET", "requests/"):                                          "L  O  O  O  E  E  E  E  E  E  T",
    ("GET", "requests/{req}/"):                                    "L  O  O  O  H  H  H  H  H  H  T",
    # Consent (the MASH team; asked agencies may see the enquiry, so they are refused rather than
    # hidden) and approval of sharing without consent (managers). {rec}: the child's consent record;
    # {ovr}: sharing without consent the assigned worker proposed.
    ("GET", "enquiries/{ref}/consent/"):                           "L  O  O  F  F  H  H  H  H  H  T",
    ("POST", "enquiries/{ref}/consent/record/"):                   "L  O  O  F  F  H  H  H  H  H  T",
    ("POST", "enquiries/{ref}/consent/{rec}/withdraw/"):           "L  O  O  F  F  H  H  H  H  H  T",
    ("POST", "enquiries/{ref}/consent/without/"):                  "L  O  O  F  F  H  H  H  H  H  T",
    ("POST", "enquiries/{ref}/consent/without/{ovr}/"):            "L  O  F  F  F  H  H  H  H  H  T",
    # Disclosure packages. {pkg} was sent to the recipient from another, decided enquiry on which
    # only the assigned worker (of the workers) is; the recipient reaches the package and nothing else.
    ("GET", "enquiries/{ref}/packages/new/"):                      "L  O  F  F  F  H  H  H  H  H  T",
    ("GET", "packages/"):                                          "L  O  O  E  E  E  O  E  E  E  T",
    ("GET", "packages/{pkg}/"):                                    "L  O  O  H  H  H  O  H  H  H  T",
    ("GET", "packages/{pkg}/pdf/"):                                "L  O  O  H  H  H  O  H  H  H  T",
    ("GET", "packages/{pkg}/edit/"):                               "L  O  F  H  H  H  H  H  H  H  T",
    ("POST", "packages/{pkg}/send/"):                              "L  O  F  H  H  H  H  H  H  H  T",
    ("POST", "packages/{pkg}/withdraw/"):                          "L  O  F  H  H  H  H  H  H  H  T",
    ("GET", "reports/"):                                           "L  O  H  H  H  H  H  O  H  H  T",
    ("POST", "requests/{req}/"):                                   "L  F  F  O  H  H  H  H  H  H  T",
    ("POST", "requests/{req}/unseal/"):                            "L  F  F  O  H  H  H  H  H  H  T",
    # Files attached to items. {item}: Education's item (normal); {att}: the file Education attached to it.
    # Only the item's agency adds files; whoever reads the item (ITEM_READERS) downloads them.
    ("GET", "attachments/items/{item}/"):                          "L  F  F  H  O  H  H  H  H  H  T",
    ("POST", "attachments/items/{item}/"):                         "L  F  F  H  O  H  H  H  H  H  T",
    ("GET", "attachments/{att}/"):                                 "L  O  O  H  O  H  H  H  H  H  T",
    # The audit log's pages: who has seen a child's record (managers, the DPO); a user's activity
    # (auditors, the DPO). {person} is the enquiry's child, {actor} the police worker.
    ("GET", "audit/people/"):                                      "L  O  H  H  H  H  H  O  H  H  T",
    ("GET", "audit/people/?reference={ref}"):                      "L  O  H  H  H  H  H  O  H  H  T",
    ("GET", "audit/people/{person}/"):                             "L  O  H  H  H  H  H  O  H  H  T",
    ("GET", "audit/people/{person}/export.csv"):                   "L  O  H  H  H  H  H  O  H  H  T",
    ("GET", "audit/users/"):                                       "L  H  H  H  H  H  H  O  H  O  T",
    ("GET", "audit/users/{actor}/"):                               "L  H  H  H  H  H  H  O  H  O  T",
    ("GET", "audit/users/{actor}/export.csv"):                     "L  H  H  H  H  H  H  O  H  O  T",
    # JSON API
    ("GET", "api/v1/openapi.json"):                                "O  O  O  O  O  O  O  O  O  O  O",
    ("GET", "api/v1/docs"):                                        "O  O  O  O  O  O  O  O  O  O  O",
    ("GET", "api/v1/me"):                                          "U  O  O  O  O  O  O  O  O  O  O",
    ("GET", "api/v1/isa"):                                         "U  O  O  O  O  O  O  O  O  O  O",
    ("GET", "api/v1/partners"):                                    "U  O  O  O  O  O  O  O  O  O  O",
    ("POST", "api/v1/contacts"):                                   "U  O  O  O  O  O  F  F  F  F  T",
    ("GET", "api/v1/enquiries"):                                   "U  O  O  O  O  E  E  E  E  E  T",
    ("GET", "api/v1/enquiries?q={child}"):                         "U  O  O  O  O  E  E  E  E  E  T",
    ("GET", "api/v1/enquiries/{ref}"):                             "U  O  O  O  O  H  H  H  H  H  T",
    ("POST", "api/v1/enquiries/{ref}/rating"):                     "U  O  F  F  F  H  H  H  H  H  T",
    ("POST", "api/v1/enquiries/{ref}/information-requests"):       "U  O  O  F  F  H  H  H  H  H  T",
    ("POST", "api/v1/enquiries/{ref}/ready"):                      "U  O  F  F  F  H  H  H  H  H  T",
    ("POST", "api/v1/enquiries/{ref}/decision"):                   "U  O  F  F  F  H  H  H  H  H  T",
    ("POST", "api/v1/enquiries/{ref}/decision/amendments"):        "U  O  F  F  F  H  H  H  H  H  T",
    ("POST", "api/v1/enquiries/{ref}/close"):                      "U  O  F  F  F  H  H  H  H  H  T",
    ("POST", "api/v1/enquiries/{ref}/team"):                       "U  O  F  F  F  H  H  H  H  H  T",
    ("POST", "api/v1/enquiries/{ref}/team/ended"):                 "U  O  F  F  F  H  H  H  H  H  T",
    ("GET", "api/v1/information-requests"):                        "U  O  O  O  E  E  E  E  E  E  T",
    ("GET", "api/v1/information-requests/{req}"):                  "U  O  O  O  H  H  H  H  H  H  T",
    ("POST", "api/v1/information-requests/{req}/contribution"):    "U  F  F  O  H  H  H  H  H  H  T",
    ("POST", "api/v1/information-requests/{req}/contribution/amendments"): "U  F  F  O  H  H  H  H  H  H  T",
    ("POST", "api/v1/information-requests/{req}/contribution/unsealed"):   "U  F  F  O  H  H  H  H  H  H  T",
    ("POST", "api/v1/items/{item}/attachments"):                   "U  F  F  H  O  H  H  H  H  H  T",
    ("GET", "api/v1/attachments/{att}"):                           "U  O  O  H  O  H  H  H  H  H  T",
    ("GET", "api/v1/enquiries/{ref}/consent"):                     "U  O  O  F  F  H  H  H  H  H  T",
    ("POST", "api/v1/enquiries/{ref}/consent"):                    "U  O  O  F  F  H  H  H  H  H  T",
    ("POST", "api/v1/enquiries/{ref}/consent/{rec}/withdrawal"):   "U  O  O  F  F  H  H  H  H  H  T",
    ("POST", "api/v1/enquiries/{ref}/sharing-without-consent"):    "U  O  O  F  F  H  H  H  H  H  T",
    ("POST", "api/v1/enquiries/{ref}/sharing-without-consent/{ovr}/decision"): "U  O  F  F  F  H  H  H  H  H  T",
    ("GET", "api/v1/enquiries/{ref}/packages"):                    "U  O  O  F  F  H  H  H  H  H  T",
    ("POST", "api/v1/enquiries/{ref}/packages"):                   "U  O  F  F  F  H  H  H  H  H  T",
    ("GET", "api/v1/packages"):                                    "U  O  O  E  E  E  O  E  E  E  T",
    ("GET", "api/v1/packages/{pkg}"):                              "U  O  O  H  H  H  O  H  H  H  T",
    ("PUT", "api/v1/packages/{pkg}"):                              "U  O  F  H  H  H  H  H  H  H  T",
    ("POST", "api/v1/packages/{pkg}/sent"):                        "U  O  F  H  H  H  H  H  H  H  T",
    ("POST", "api/v1/packages/{pkg}/withdrawal"):                  "U  O  F  H  H  H  H  H  H  H  T",
    ("GET", "api/v1/packages/{pkg}/pdf"):                          "U  O  O  H  H  H  O  H  H  H  T",
    ("GET", "api/v1/reports/sharing"):                             "U  O  H  H  H  H  H  O  H  H  T",
    # Is this person already known? The MASH team asks at intake, within its need-to-know. A manager records,
    # from an enquiry, that a person offered is not its child ({person}, the child itself, is never offered:
    # the manager is told so, 400).
    ("POST", "api/v1/people/matches"):                             "U  O  O  O  O  O  F  F  F  F  T",
    ("POST", "people/possible-matches/{ref}/{person}/not-same/"):  "L  O  F  F  F  H  H  H  H  H  T",
    # A person's history and household ({person}, the enquiry's child): whoever may find them (the people of the
    # enquiries they may view); recording or ending a relationship is for a MASH manager (an empty form: 400).
    ("GET", "people/{person}/history/"):                           "L  O  O  O  O  H  H  H  H  H  T",
    ("GET", "people/{person}/household/"):                         "L  O  O  O  O  H  H  H  H  H  T",
    ("POST", "people/{person}/household/relationships/"):          "L  O  F  F  F  H  H  H  H  H  T",
    ("POST", "people/{person}/household/relationships/end/"):      "L  O  F  F  F  H  H  H  H  H  T",
    ("GET", "api/v1/people/{person}/history"):                     "U  O  O  O  O  H  H  H  H  H  T",
    # Finding a person: MASH managers hub-wide, MASH workers within need-to-know, no one else.
    ("GET", "people/search/"):                                     "L  O  O  O  O  O  F  F  F  F  T",
    ("POST", "people/search/"):                                    "L  O  O  O  O  O  F  F  F  F  T",
    ("GET", "people/{person}/"):                                   "L  O  O  O  O  H  H  H  H  H  T",
    ("POST", "api/v1/people/search"):                              "U  O  O  O  O  O  F  F  F  F  T",
    ("GET", "api/v1/people/{person}"):                             "U  O  O  O  O  H  H  H  H  H  T",
    # A child's chronology: whoever may view one of the child's enquiries.
    ("GET", "people/{person}/chronology/"):                        "L  O  O  O  O  H  H  H  H  H  T",
    ("GET", "people/{person}/chronology/pdf/"):                    "L  O  O  O  O  H  H  H  H  H  T",
    ("GET", "api/v1/people/{person}/chronology"):                  "U  O  O  O  O  H  H  H  H  H  T",
    # Duplicate records, merging and undoing a merge: MASH managers only, everyone else told nothing exists.
    # {person}/{other}: the enquiry's child and the decided enquiry's; {merge}: two other records, merged.
    ("GET", "people/duplicates/"):                                 "L  O  H  H  H  H  H  H  H  H  T",
    ("GET", "people/duplicates/{person}/{other}/"):                "L  O  H  H  H  H  H  H  H  H  T",
    ("POST", "people/duplicates/{person}/{other}/merge/"):         "L  O  H  H  H  H  H  H  H  H  T",
    ("POST", "people/duplicates/{person}/{other}/not-the-same/"):  "L  O  H  H  H  H  H  H  H  H  T",
    ("GET", "people/merges/{merge}/undo/"):                        "L  O  H  H  H  H  H  H  H  H  T",
    ("POST", "people/merges/{merge}/undo/"):                       "L  O  H  H  H  H  H  H  H  H  T",
    ("POST", "api/v1/people/merges"):                              "U  O  H  H  H  H  H  H  H  H  T",
    ("POST", "api/v1/people/merges/{merge}/undo"):                 "U  O  H  H  H  H  H  H  H  H  T",
    # Subject access requests: the data protection officer only; everyone else is told nothing exists.
    # {sar} has been answered (its pack issued); {sitem} is one of its items.
    ("GET", "sar/"):                                               "L  H  H  H  H  H  H  O  H  H  T",
    ("GET", "sar/new/"):                                           "L  H  H  H  H  H  H  O  H  H  T",
    ("GET", "sar/{sar}/"):                                         "L  H  H  H  H  H  H  O  H  H  T",
    ("GET", "sar/{sar}/items/{sitem}/"):                           "L  H  H  H  H  H  H  O  H  H  T",
    ("GET", "sar/{sar}/pack/"):                                    "L  H  H  H  H  H  H  O  H  H  T",
    ("GET", "sar/{sar}/pack.pdf"):                                 "L  H  H  H  H  H  H  O  H  H  T",
    ("GET", "sar/{sar}/pack.json"):                                "L  H  H  H  H  H  H  O  H  H  T",
    ("POST", "sar/new/"):                                          "L  H  H  H  H  H  H  O  H  H  T",
    ("POST", "sar/{sar}/identity/"):                               "L  H  H  H  H  H  H  O  H  H  T",
    ("POST", "sar/{sar}/pause/"):                                  "L  H  H  H  H  H  H  O  H  H  T",
    ("POST", "sar/{sar}/resume/"):                                 "L  H  H  H  H  H  H  O  H  H  T",
    ("POST", "sar/{sar}/extension/"):                              "L  H  H  H  H  H  H  O  H  H  T",
    ("POST", "sar/{sar}/withdraw/"):                               "L  H  H  H  H  H  H  O  H  H  T",
    ("POST", "sar/{sar}/compile/"):                                "L  H  H  H  H  H  H  O  H  H  T",
    ("POST", "sar/{sar}/items/{sitem}/"):                          "L  H  H  H  H  H  H  O  H  H  T",
    ("POST", "sar/{sar}/pack/"):                                   "L  H  H  H  H  H  H  O  H  H  T",
    ("GET", "api/v1/sars"):                                        "U  H  H  H  H  H  H  O  H  H  T",
    ("GET", "api/v1/sars/{sar}"):                                  "U  H  H  H  H  H  H  O  H  H  T",
    ("GET", "api/v1/sars/{sar}/items"):                            "U  H  H  H  H  H  H  O  H  H  T",
    ("GET", "api/v1/sars/{sar}/pack"):                             "U  H  H  H  H  H  H  O  H  H  T",
    ("GET", "api/v1/sars/{sar}/pack/pdf"):                         "U  H  H  H  H  H  H  O  H  H  T",
    ("POST", "api/v1/sars"):                                       "U  H  H  H  H  H  H  O  H  H  T",
    ("POST", "api/v1/sars/{sar}/identity"):                        "U  H  H  H  H  H  H  O  H  H  T",
    ("POST", "api/v1/sars/{sar}/pauses"):                          "U  H  H  H  H  H  H  O  H  H  T",
    ("POST", "api/v1/sars/{sar}/pauses/ended"):                    "U  H  H  H  H  H  H  O  H  H  T",
    ("POST", "api/v1/sars/{sar}/extension"):                       "U  H  H  H  H  H  H  O  H  H  T",
    ("POST", "api/v1/sars/{sar}/withdrawal"):                      "U  H  H  H  H  H  H  O  H  H  T",
    ("POST", "api/v1/sars/{sar}/compilation"):                     "U  H  H  H  H  H  H  O  H  H  T",
    ("POST", "api/v1/sars/{sar}/items/{sitem}/decision"):          "U  H  H  H  H  H  H  O  H  H  T",
    ("POST", "api/v1/sars/{sar}/pack"):                            "U  H  H  H  H  H  H  O  H  H  T",
    # Training: everyone sees their own status (lapsed or not); managers and system administrators see
    # compliance by agency and record completions. None of it is case data.
    ("GET", "training/"):                                          "L  O  O  O  O  O  O  O  O  O  O",
    ("GET", "training/compliance/"):                               "L  O  F  F  F  F  F  F  O  F  O",
    ("GET", "training/record/"):                                   "L  O  F  F  F  F  F  F  O  F  O",
    ("POST", "training/record/"):                                  "L  O  F  F  F  F  F  F  O  F  O",
    ("GET", "api/v1/training/me"):                                 "U  O  O  O  O  O  O  O  O  O  O",
    ("GET", "api/v1/training/compliance"):                         "U  O  F  F  F  F  F  F  O  F  O",
    ("POST", "api/v1/training/records"):                           "U  O  F  F  F  F  F  F  O  F  O",
}

# Routes that answer no request of their own (the API's root only prefixes the others).
NOT_ENDPOINTS = {"api/v1/"}
# Logging out changes only the session: any signed-in user (or none) may. The account's own actions change
# only the signed-in person's second factor and tokens, hold no case data, and are tested in
# accounts/tests/test_two_factor.py and test_tokens.py.
OUTSIDE_TABLE = {"logout/", "account/two-factor/backup-codes/", "account/two-factor/reset/",
                 "account/tokens/<str:prefix>/revoke/"}

# Searches sent as a POST (the details looked for stay out of URLs and logs): reads, recorded as reads.
POST_READS = {"api/v1/people/matches", "api/v1/people/search"}

# POSTs that send a file (multipart), not a JSON body.
UPLOADS = {"attachments/items/{item}/", "api/v1/items/{item}/attachments"}
PDF = b"%PDF-1.7\n%%EOF\n"


# Each subject (column) but `anon` is a named actor of the test world (mash.testing.world.ACTORS).
ACTOR = {"manager": "manager", "assigned": "council_worker", "police": "police_worker",
         "education": "education_worker", "unasked": "sarc_worker", "recipient": "receiving_professional",
         "dpo": "dpo", "sysadmin": "sysadmin", "auditor": "auditor", "lapsed": "lapsed_manager"}


@pytest.fixture
def matrix_case(world):
    users = {subject: world.user(name) for subject, name in ACTOR.items()}
    manager = users["manager"]
    enquiry = cases.record_contact(by=manager, **contact_data())
    cases.rate(enquiry, by=manager, rating="amber", rationale="Bruising seen at school")
    sharing.request_information(enquiry, by=manager, partners=["essex-police", "education"])
    cases.assign(enquiry, by=manager, member="council-worker")
    education_request = enquiry.information_requests.get(partner__slug="education")
    sharing.contribute(education_request, by=users["education"], kind="share", lawful_basis="uk-gdpr-6-1-e",
                       decision_reason="Relevant", items=[
                           {"category": "school_attendance", "content": "Attendance 81%", "relevance_note": "Falling"}])
    education_item = education_request.contributions.get().items.get()
    attachment = attachments.add_attachment(education_item, by=users["education"], filename="attendance.pdf",
                                            content_type="application/pdf", data=PDF)
    police_request = enquiry.information_requests.get(partner__slug="essex-police")
    proposed = consent.propose_override(enquiry, by=users["assigned"], lawful_basis="children-act-1989-s17",
                                        purposes=["onward_disclosure"], justification="Risk of significant harm")
    # Another enquiry, decided, with a package sent to the recipient.
    decided = cases.record_contact(by=manager, **contact_data(child=child_data(
        first_name="Sky", last_name="Packageton", nhs_number=""), related_people=[]))
    cases.rate(decided, by=manager, rating="green", rationale="Low level need")
    cases.assign(decided, by=manager, member="council-worker")
    cases.decide(decided, by=manager, outcome="section_17", rationale="Child in need", recipient_type="social_worker",
                 receiving_professional="social-worker")
    consent.record_consent(decided, by=manager, status="given", given_by="The child's father",
                           purposes=["onward_disclosure"])
    package = disclosure.create_package(decided, by=manager, **{k: v for k, v in PACKAGE_BODY.items()})
    disclosure.send_package(package, by=manager)
    # A subject access request about the enquiry's child, answered.
    sar = sars.log_request(by=users["dpo"], requester_name="A parent", requester_relationship="parent",
                           requester_contact="1 Sample Street", received_on=timezone.localdate(),
                           person_ids=[enquiry.child_id], identity_verified=True, identity_method="Passport")
    for item in sars.compile_request(sar, by=users["dpo"]):
        if not item.sealed:
            sars.decide_item(item, by=users["dpo"], decision="disclose", serious_harm_checked=True)
    sars.issue_pack(sar, by=users["dpo"])
    merge = merging.merge_people(*[Person.objects.create(created_by=manager, first_name="Lee", last_name="Twiceton")
                                   for _ in range(2)], reason="Recorded twice", by=manager)
    return {**users, "enquiry": enquiry, "request": police_request, "package": package, "override": proposed,
            "other": decided.child, "merge": merge,
            "consent": enquiry.consent_records.get(), "sar": sar, "sar_item": sar.items.first(),
            "item": education_item, "attachment": attachment}


def _fill(path: str, h) -> str:
    return "/" + path.replace("{ref}", h["enquiry"].reference).replace("{req}", str(h["request"].pk)) \
        .replace("{child}", h["enquiry"].child.last_name).replace("{person}", str(h["enquiry"].child_id)) \
        .replace("{actor}", str(h["police"].pk)).replace("{pkg}", str(h["package"].pk)) \
        .replace("{rec}", str(h["consent"].pk)).replace("{ovr}", str(h["override"].pk)) \
        .replace("{sar}", h["sar"].reference).replace("{sitem}", str(h["sar_item"].pk)) \
        .replace("{item}", str(h["item"].pk)).replace("{att}", str(h["attachment"].pk)) \
        .replace("{other}", str(h["other"].pk)).replace("{merge}", str(h["merge"].pk))


def _observe(client, method, key, matrix_case, subject):
    url = _fill(key, matrix_case)
    api = key.startswith("api/")
    if method == "GET":
        return client.get(url)
    if key in UPLOADS:
        return client.post(url, {"file": SimpleUploadedFile("note.pdf", PDF, content_type="application/pdf")})
    if api:
        body = BODIES[key.split("?")[0]](matrix_case)
        send = client.put if method == "PUT" else client.post
        return send(url, data=json.dumps(body, default=str), content_type="application/json")
    return client.post(url, {})


def _code(response, key, matrix_case) -> str:
    status = response.status_code
    if status == 302 and "/login/" in response.get("Location", ""):
        return "L"
    if status == 401:
        return "U"
    if status == 403 and b"training refresher lapsed" in response.content:
        return "T"
    if status == 404:
        return "H"
    if status == 403:
        return "F"
    if key.endswith(("enquiries/", "enquiries/?show=all", "enquiries/?q={child}", "api/v1/enquiries",
                     "api/v1/enquiries?q={child}")) or key.startswith("enquiries/export.csv"):
        present = matrix_case["enquiry"].reference.encode() in response.content
        return "O" if status == 200 and present else "E" if status == 200 else f"?{status}"
    if key in ("packages/", "api/v1/packages"):
        marker = (f'/packages/{matrix_case["package"].pk}/' if not key.startswith("api/")
                  else f'"id": {matrix_case["package"].pk},').encode()
        content = response.content if not key.startswith("api/") else json.dumps(response.json()).encode()
        return "O" if status == 200 and marker in content else "E" if status == 200 else f"?{status}"
    if key in ("requests/", "api/v1/information-requests"):
        marker = (f'/requests/{matrix_case["request"].pk}/' if not key.startswith("api/")
                  else f'"id": {matrix_case["request"].pk},').encode()
        content = response.content if not key.startswith("api/") else json.dumps(response.json()).encode()
        return "O" if status == 200 and marker in content else "E" if status == 200 else f"?{status}"
    # Through the gate: success, or a refusal that is about the input or the state, not the user.
    if key == "audit/people/?reference={ref}":
        return "O" if status == 302 else f"?{status}"
    if status in (200, 201, 302, 400, 409, 422):
        return "O"
    return f"?{status}"


def _policy_of_key(key: str, method: str = "GET") -> str:
    for route, ns, p in all_patterns():
        if ns != "admin" and route_key(route) == key.split("?")[0]:
            name = policy_of(p.callback)
            return name.get(method, "") if isinstance(name, dict) else name
    raise AssertionError(f"no route for {key}")


READS = {"case:enquiry.view", "case:request.view", "audit:audit.person_trail", "audit:audit.user_activity",
         "case:enquiry.read_field", "case:package.view", "reports:reports.view", "case:attachment.read"}


def _missing_audit(method, key, matrix_case, subject, response, last_event) -> str | None:
    """What the audit log should hold after a request the gate let through, if it does not."""
    new = AuditEvent.objects.filter(id__gt=last_event)
    child = matrix_case["enquiry"].child_id
    if "{pkg}" in key or key in ("packages/", "api/v1/packages"):
        child = matrix_case["package"].enquiry.child_id
    name = _policy_of_key(key, method)
    if method == "GET" and name in READS and response.status_code == 200 and key not in ("audit/people/",
                                                                                  "people/search/"):
        downloads = "export.csv" in key or key.rstrip("/").endswith("pdf") or name == "case:attachment.read"
        kind = Kind.EXPORT if downloads else Kind.READ
        events = [e for e in new if e.kind == kind and e.actor_id == matrix_case[subject].pk]
        if not events:
            return f"read case data ({name}) but no {kind} event was recorded"
        if name.startswith("case:") and not any(child in e.people for e in events):
            return f"the {kind} event does not name the child it read about"
        if "people" in key and not any(child in e.people for e in events):
            return "viewing the child's audit trail is not in the child's audit trail"
    if key in POST_READS and response.status_code == 200:
        reads = new.filter(kind=Kind.READ, actor_id=matrix_case[subject].pk)
        answer = response.json()
        found = answer.get("people") if isinstance(answer, dict) else answer  # a search's answer lists `people`
        if found and not any(child in e.people for e in reads):
            return "found people but no read of them was recorded"
        return None
    if method == "POST" and response.status_code in (200, 201, 302):
        if not new.filter(kind__in=[Kind.WRITE, Kind.DISCLOSURE, Kind.ADMIN],
                          actor_id=matrix_case[subject].pk).exists():
            return "changed case data but no write was recorded"
    return None


def test_the_table_covers_every_route():
    routes = {route_key(route) for route, ns, p in all_patterns() if ns != "admin"}
    listed = {key.split("?")[0] for _, key in MATRIX}
    assert routes - listed - NOT_ENDPOINTS - OUTSIDE_TABLE == set(), "routes missing from the access matrix"
    assert listed - routes == set(), "the matrix lists routes that do not exist"
    for route, ns, p in all_patterns():
        if ns != "admin" and route_key(route) in listed:
            assert policy_of(p.callback), route


@pytest.mark.django_db
def test_role_by_endpoint_matrix(client, matrix_case):
    mismatches = []
    for (method, key), row in MATRIX.items():
        expected = row.split()
        assert len(expected) == len(SUBJECTS), key
        for subject, want in zip(SUBJECTS, expected):
            with transaction.atomic():
                if subject == "anon":
                    client.logout()
                else:
                    client.force_login(matrix_case[subject])
                denials = AuditEvent.objects.filter(kind=Kind.DENIAL).count()
                last_event = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
                response = _observe(client, method, key, matrix_case, subject)
                got = _code(response, key, matrix_case)
                if got != want:
                    mismatches.append(f"{method} /{key} as {subject}: expected {want}, got {got} "
                                      f"({response.status_code})")
                elif want in "HFT" and AuditEvent.objects.filter(kind=Kind.DENIAL).count() <= denials:
                    mismatches.append(f"{method} /{key} as {subject}: refused but no denial recorded")
                elif want == "O":
                    missing = _missing_audit(method, key, matrix_case, subject, response, last_event)
                    if missing:
                        mismatches.append(f"{method} /{key} as {subject}: {missing}")
                transaction.set_rollback(True)
    assert mismatches == [], "\n" + "\n".join(mismatches)


@pytest.mark.django_db
def test_a_closed_window_hides_the_enquiry_from_asked_agencies_only(client, matrix_case, settings):
    """After the ISA's days (after_decision), asked agencies lose the enquiry; the team keeps it."""
    from mash.cases.models import Enquiry

    enquiry = matrix_case["enquiry"]
    cases.decide(enquiry, by=matrix_case["manager"], outcome="no_further_action", rationale="Resolved")
    Enquiry.objects.filter(pk=enquiry.pk).update(decided_at=timezone.now() - timedelta(days=29))
    expected = {"manager": 200, "assigned": 200, "police": 404, "education": 404}
    for subject, status in expected.items():
        client.force_login(matrix_case[subject])
        for url in (f"/enquiries/{enquiry.reference}/", f"/api/v1/enquiries/{enquiry.reference}",
                    f"/requests/{matrix_case['request'].pk}/",
                    f"/api/v1/information-requests/{matrix_case['request'].pk}"):
            assert client.get(url).status_code == status, (subject, url)
        listed = client.get("/api/v1/enquiries?state=decided").json()
        assert (enquiry.reference in [e["reference"] for e in listed]) == (status == 200), subject
    # One day inside the window, the asked agencies still see it.
    Enquiry.objects.filter(pk=enquiry.pk).update(decided_at=timezone.now() - timedelta(days=27))
    client.force_login(matrix_case["police"])
    assert client.get(f"/api/v1/enquiries/{enquiry.reference}").status_code == 200
