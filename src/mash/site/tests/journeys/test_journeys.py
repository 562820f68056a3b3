"""Each role's main journey through MASH Hub, in a browser (conftest.py says what `look` checks).

Every person here is synthetic. Pages are reached by links and buttons and forms are filled by their
labels, as a user would; each journey also sends one form empty to check its error summary.
"""

import re

import pytest
from django.utils import timezone
from django.utils.text import slugify
from playwright.sync_api import expect

from mash.accounts.models import Role
from mash.cases import services as cases
from mash.cases.models import Enquiry
from mash.cases.states import EnquiryState
from mash.disclosure.models import DisclosurePackage, PackageStatus
from mash.sar.models import Exemption, SarStatus, SubjectAccessRequest
from mash.sharing import services as sharing

# Transactional: the live server reads what the test wrote (conftest.keep_the_audit_log: what is emptied).
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CONCERN = "Rowan came to school with bruising on both arms and said she was afraid to go home."
SEALED = "An adult who visits the household is under investigation for assault; he must not learn of it."
ATTENDANCE = "Attendance 81% this term, down from 97% last year; Morgan Exampleton rang in sick for her twice."
RATIONALE = "Repeated unexplained bruising and the child's fear of going home meet the threshold for section 17."


# --- Helpers: what a user does on any page ---------------------------------------------------------------

def choose(within, question: str, *answers):
    """Tick the radios or checkboxes labelled `answers` (text, or a pattern) under a fieldset's legend."""
    group = within.get_by_role("group", name=question, exact=True)
    for answer in answers:
        group.get_by_label(answer, exact=isinstance(answer, str)).check()


def fill_date(within, legend: str, day_month_year: str):
    group = within.get_by_role("group", name=legend, exact=True)
    for part, value in zip(("Day", "Month", "Year"), day_month_year.split()):
        group.get_by_label(part).fill(value)


def error_summary(page):
    summary = page.get_by_role("alert").filter(has_text="There is a problem")
    expect(summary).to_be_visible()
    return summary


def success(page):
    return page.get_by_role("alert").filter(has_text="Success")


def open_enquiry(page, look, journey: str, enquiry, everything=False):
    """From the menu: the enquiry queue (all enquiries, once one is decided), then the enquiry."""
    page.get_by_role("navigation", name="Menu").get_by_role("link", name="Enquiry queue").click()
    look(page, journey, "enquiry-queue")
    if everything:
        page.get_by_role("link", name="All enquiries, including decided and closed").click()
        look(page, journey, "all-enquiries")
    page.get_by_role("link", name=enquiry.reference).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(enquiry.child.full_name)
    look(page, journey, "enquiry")


def agencies_answer(enquiry, police_worker, education_worker):
    """Essex Police records confidential information held; Education shares the child's attendance."""
    requests = {r.partner.slug: r for r in enquiry.information_requests.select_related("partner")}
    sharing.contribute(requests["essex-police"], by=police_worker, kind="confidential_held",
                       lawful_basis="dpa-2018-part-3", decision_reason="An investigation is under way",
                       confidential_reason="ongoing_investigation",
                       items=[dict(category="intelligence", content=SEALED, relevance_note="Risk at home")])
    sharing.contribute(requests["education"], by=education_worker, kind="share", lawful_basis="uk-gdpr-6-1-e",
                       decision_reason="Relevant to the concern",
                       items=[dict(category="school_attendance", content=ATTENDANCE, relevance_note="Falling")])


# --- Intake: a contact recorded at the front door becomes an enquiry -----------------------------------

def test_intake(page, sign_in, look, manager):
    journey = "intake"
    sign_in(page, manager, journey)
    page.get_by_role("link", name="Record a new contact").click()
    look(page, journey, "record-a-contact")

    page.get_by_role("button", name="Record contact").click()
    error_summary(page).get_by_role("link", name="Enter the child's first name").click()
    expect(page.get_by_label("First name").first).to_be_focused()  # GOV.UK Frontend's script runs
    look(page, journey, "record-a-contact-errors")

    page.get_by_label("First name").first.fill("Rowan")
    page.get_by_label("Last name").first.fill("Exampleton")
    fill_date(page, "Date of birth", "4 5 2016")
    choose(page, "Gender", "Female")
    page.get_by_label("NHS number (optional)").fill("943 476 5919")
    page.get_by_label("Postcode (optional)").fill("RM17 6SL")
    person = page.get_by_role("group", name="Person 1")
    person.get_by_label("First name").fill("Morgan")
    person.get_by_label("Last name").fill("Exampleton")
    person.get_by_label("Relationship to the child").select_option(label="Mother")
    person.get_by_label("Lives with the child").check()
    person.get_by_label("Has parental responsibility").check()
    choose(page, "Who reported the concern?", "School or education setting")
    page.get_by_label("Reporter's name").fill("Pat Reporter")
    page.get_by_label("Organisation (optional)").fill("Sample Primary School")
    page.get_by_label("What is the concern?").fill(CONCERN)
    choose(page, "Concern categories", "Physical abuse")
    choose(page, "Has the family consented to the contact being shared?", "Consent given")
    page.get_by_role("button", name="Record contact").click()

    expect(success(page)).to_contain_text("is awaiting a RAG rating")  # and so the enquiry is saved
    enquiry = Enquiry.objects.get()
    expect(success(page)).to_contain_text(f"enquiry {enquiry.reference} is awaiting a RAG rating")
    expect(page.get_by_role("heading", level=1)).to_have_text("Rowan Exampleton")
    look(page, journey, "enquiry")
    assert enquiry.state == EnquiryState.AWAITING_RATING
    assert enquiry.child.relationships.get().person.full_name == "Morgan Exampleton"

    page.get_by_role("navigation", name="Menu").get_by_role("link", name="Enquiry queue").click()
    expect(page.get_by_role("link", name=enquiry.reference)).to_be_visible()
    look(page, journey, "enquiry-queue")


# --- RAG rating: the manager rates a new enquiry, which sets the decision's deadline ----------------------

def test_rating(page, sign_in, look, manager, new_enquiry):
    journey = "rating"
    sign_in(page, manager, journey)
    expect(page.get_by_role("main")).to_contain_text("awaiting a RAG rating")
    open_enquiry(page, look, journey, new_enquiry)

    rate = page.get_by_role("region", name="RAG-rate the enquiry")
    rate.get_by_role("button", name="Save rating").click()
    expect(error_summary(page).get_by_role("link", name="Choose a RAG rating")).to_be_visible()
    look(page, journey, "enquiry-rating-errors")

    choose(rate, "RAG rating", "Amber")
    rate.get_by_label("Why this rating?").fill("Injuries seen by school staff; who caused them is not known.")
    rate.get_by_role("button", name="Save rating").click()
    expect(success(page)).to_contain_text("Rated amber: a decision is due by")
    look(page, journey, "enquiry-rated")
    new_enquiry.refresh_from_db()
    assert (new_enquiry.rag, new_enquiry.state) == ("amber", EnquiryState.GATHERING)


# --- An agency's contribution: asked by the manager, answered by two agencies, one of them sealed -----------

def test_contribution(page, sign_in, sign_out, look, manager, police_worker, education_worker, rated_enquiry):
    journey = "contribution"
    reference = rated_enquiry.reference
    sign_in(page, manager, journey)
    open_enquiry(page, look, journey, rated_enquiry)
    ask = page.get_by_role("region", name="Request information from partner agencies")
    choose(ask, "Which agencies do you want to ask?", "Essex Police",
           "Education establishments (all primary and secondary)")
    ask.get_by_label("What do you want to know? (optional)").fill("What do you hold about the child and household?")
    ask.get_by_role("button", name="Send requests").click()
    expect(success(page)).to_contain_text("Information requested from Education establishments")
    look(page, journey, "enquiry-agencies-asked")
    sign_out(page)

    # Essex Police holds something it cannot share: the manager is to see that it exists, not what it is.
    sign_in(page, police_worker, journey)
    page.get_by_role("link", name="Requests to my agency").click()
    look(page, journey, "requests-to-essex-police")
    page.get_by_role("link", name=reference).click()
    look(page, journey, "request-to-essex-police")
    page.get_by_role("button", name="Send answer").click()
    expect(error_summary(page).get_by_role("link", name="Choose whether to share, decline, or record "
                                                       "confidential information held")).to_be_visible()
    look(page, journey, "request-to-essex-police-errors")

    choose(page, "What is your agency's answer?", "Confidential information held")
    page.get_by_label("Why did your agency make this decision?").fill("An investigation is under way.")
    page.get_by_label("Lawful basis for sharing").select_option("dpa-2018-part-3")
    page.get_by_label("Why is the information confidential?").select_option(label="Ongoing investigation")
    item = page.get_by_role("group", name="Item 1")
    item.get_by_label("Category of information").select_option(label="Police intelligence")
    item.get_by_label("The information").fill(SEALED)
    item.get_by_label("Why is it relevant to the concern?").fill("A risk to the child at home.")
    page.get_by_role("button", name="Send answer").click()
    expect(success(page)).to_contain_text("Your agency's answer has been sent to the MASH")
    expect(page.get_by_role("table", name="Information shared")).to_contain_text(SEALED)  # its own agency reads it
    look(page, journey, "request-to-essex-police-answered")
    sign_out(page)

    sign_in(page, education_worker, journey)
    page.get_by_role("link", name="Requests to my agency").click()
    look(page, journey, "requests-to-education")
    page.get_by_role("link", name=reference).click()
    look(page, journey, "request-to-education")
    choose(page, "What is your agency's answer?", "Share information")
    page.get_by_label("Why did your agency make this decision?").fill("Attendance is relevant to the concern.")
    page.get_by_label("Lawful basis for sharing").select_option("uk-gdpr-6-1-e")
    item = page.get_by_role("group", name="Item 1")
    item.get_by_label("Category of information").select_option(label="School attendance")
    item.get_by_label("The information").fill(ATTENDANCE)
    item.get_by_label("Why is it relevant to the concern?").fill("Attendance has fallen this term.")
    page.get_by_role("button", name="Send answer").click()
    expect(success(page)).to_contain_text("Your agency's answer has been sent to the MASH")
    look(page, journey, "request-to-education-answered")
    sign_out(page)

    sign_in(page, manager, journey)
    open_enquiry(page, look, journey, rated_enquiry)
    shared = page.get_by_role("main")
    expect(shared).to_contain_text("Confidential information held by Essex Police")
    expect(shared).to_contain_text("category: ongoing investigation")
    expect(shared).to_contain_text(ATTENDANCE)
    assert SEALED not in page.content() and "An investigation is under way" not in page.content()


# --- The decision: the manager marks the enquiry ready and decides ----------------------------------------

def test_decision(page, sign_in, look, manager, police_worker, education_worker, receiving_professional,
                  asked_enquiry):
    journey = "decision"
    agencies_answer(asked_enquiry, police_worker, education_worker)
    sign_in(page, manager, journey)
    open_enquiry(page, look, journey, asked_enquiry)

    ready = page.get_by_role("region", name="Mark ready for decision")
    ready.get_by_label("Note (optional)").fill("Both agencies have answered.")
    ready.get_by_role("button", name="Mark ready for decision").click()
    expect(success(page)).to_contain_text("The enquiry is ready for a decision")
    look(page, journey, "enquiry-ready")

    decide = page.get_by_role("region", name="Record the decision")
    decide.get_by_role("button", name="Record decision").click()
    expect(error_summary(page)).to_be_visible()
    look(page, journey, "enquiry-decision-errors")

    choose(decide, "Outcome", "Section 17 child in need assessment")
    decide.get_by_label("Why this decision?").fill(RATIONALE)
    decide.get_by_label("Who will receive the case?").select_option(label="Children's social care social worker")
    decide.get_by_label("Receiving professional (optional)").select_option(
        label=f"{receiving_professional.display_name} (Assessment team)")
    decide.get_by_role("button", name="Record decision").click()
    expect(success(page)).to_contain_text("Decision recorded: Section 17 child in need assessment")
    look(page, journey, "enquiry-decided")
    asked_enquiry.refresh_from_db()
    assert asked_enquiry.state == EnquiryState.DECIDED


# --- A disclosure package: prepared and sent by the manager, read by the receiving professional -------------

def test_disclosure(page, sign_in, sign_out, look, manager, police_worker, education_worker, receiving_professional,
                    asked_enquiry):
    journey = "disclosure"
    enquiry = asked_enquiry
    agencies_answer(enquiry, police_worker, education_worker)
    cases.decide(enquiry, by=manager, outcome="section_17", rationale=RATIONALE, recipient_type="social_worker",
                 receiving_professional=receiving_professional.username)
    sign_in(page, manager, journey)
    open_enquiry(page, look, journey, enquiry, everything=True)

    # Passing information on needs consent of its own.
    page.get_by_role("link", name="Consent and sharing without consent").click()
    look(page, journey, "consent")
    record = page.get_by_role("region", name="Record consent")
    record.get_by_label("Whose consent").select_option(label="Rowan Exampleton (the child)")
    choose(record, "Consent", "Given")
    record.get_by_label("Who gave or refused consent").fill("Morgan Exampleton, the child's mother, by telephone")
    choose(record, "What it covers (given) or refuses (refused)",
           "Passing the relevant parts on to the professionals who receive the case")
    record.get_by_role("button", name="Record consent").click()
    expect(success(page)).to_be_visible()
    look(page, journey, "consent-recorded")

    page.get_by_role("link", name=f"Back to enquiry {enquiry.reference}").click()
    look(page, journey, "enquiry")
    page.get_by_role("link", name="Build a disclosure package").click()
    look(page, journey, "build-a-package")
    page.get_by_role("button", name="Save the draft and preview it").click()
    expect(error_summary(page)).to_be_visible()
    look(page, journey, "build-a-package-errors")

    choose(page, "Lawful basis for passing this on", re.compile(r"^Children Act 1989, section 17"))
    attendance = page.locator(".govuk-inset-text").filter(has_text=ATTENDANCE)
    choose(attendance, "Pass on", "The information")
    page.get_by_role("button", name="Save the draft and preview it").click()
    expect(success(page)).to_contain_text("Draft saved")
    look(page, journey, "package-preview")

    page.get_by_role("button", name=re.compile("^Send to ")).click()
    expect(success(page)).to_contain_text(" sent to ")
    package = DisclosurePackage.objects.get()
    expect(success(page)).to_contain_text(f"Package {package.pk} sent to")
    look(page, journey, "package-sent")
    assert package.status == PackageStatus.SENT
    sign_out(page)

    sign_in(page, receiving_professional, journey)
    page.get_by_role("link", name=re.compile("^See the packages sent to you")).click()
    look(page, journey, "packages-sent-to-you")
    page.get_by_role("link", name=f"Package {package.pk}").click()
    expect(page.get_by_role("main")).to_contain_text(ATTENDANCE)
    look(page, journey, "package")
    assert SEALED not in page.content() and RATIONALE not in page.content()


# --- A subject access request: the DPO logs it, compiles, reviews every item and issues the pack --------------

def test_subject_access_request(page, sign_in, look, make_user, police_worker, education_worker, asked_enquiry):
    journey = "subject-access-request"
    agencies_answer(asked_enquiry, police_worker, education_worker)
    dpo = make_user(Role.DPO, username="dpo")
    sign_in(page, dpo, journey)
    page.get_by_role("navigation", name="Menu").get_by_role("link", name="Subject access requests").click()
    look(page, journey, "subject-access-requests")
    page.get_by_role("link", name="Log a request").click()
    look(page, journey, "log-a-request")
    page.get_by_role("button", name="Log the request").click()
    expect(error_summary(page).get_by_role("link", name="Enter the requester's name")).to_be_visible()
    look(page, journey, "log-a-request-errors")

    page.get_by_label("Find the people it is about").fill("Rowan Exampleton")
    page.get_by_role("button", name="Search").click()
    look(page, journey, "log-a-request-people-found")
    choose(page, "Who the request is about", re.compile("^Rowan Exampleton"))
    page.get_by_label("Requester's name").fill("Morgan Exampleton")
    choose(page, "Who is asking", "A parent or carer, for a child")
    page.get_by_label("Where the response goes").fill("1 Sample Street, Grays, RM17 6SL")
    fill_date(page, "Date received", timezone.localdate().strftime("%-d %-m %Y"))
    choose(page, "Identity", "Confirmed already")
    page.get_by_label("If confirmed, how").fill("Passport and a council tax bill seen at the office")
    page.get_by_role("button", name="Log the request").click()
    expect(success(page)).to_contain_text("Subject access request")
    sar = SubjectAccessRequest.objects.get()
    expect(success(page)).to_contain_text(f"Subject access request {sar.reference} logged")
    look(page, journey, "request")

    page.get_by_role("button", name="Compile everything held").click()
    expect(success(page)).to_contain_text("Everything held has been compiled for review")
    look(page, journey, "request-compiled")

    def review(title: str, decision: str, exemption: str = "", reason: str = "", redact=(), serious_harm=False):
        page.get_by_role("link", name=title, exact=True).click()
        look(page, journey, f"item-{slugify(title)}")
        choose(page, "Decision", decision)
        if exemption:
            page.get_by_label("Exemption").select_option(label=exemption)
        if redact:
            choose(page, "Redact these words (other people's details found in the text)", *redact)
        if serious_harm:
            page.get_by_label(re.compile("^Serious-harm test")).check()
        if reason:
            page.get_by_label("Reason (required when anything is held back)").fill(reason)
        page.get_by_role("button", name="Record the decision").click()
        expect(success(page)).to_contain_text(f"Decision recorded: {title}")
        look(page, journey, f"request-reviewed-{slugify(title)}")

    third_party = Exemption.THIRD_PARTY.label
    review("Your details as recorded", "Disclose")
    review("Family and household", "Disclose")
    review("Contact to the MASH", "Disclose with redactions", third_party, "The reporter is not to be named",
           redact=["Pat Reporter"], serious_harm=True)
    review("RAG rating", "Disclose", serious_harm=True)
    review("Confidential information held by Essex Police", "Withhold", Exemption.CRIME.label,
           "Sealed by Essex Police: an investigation is under way")
    review("School attendance", "Disclose")
    review("Consent to share information", "Disclose")
    review("Organisations that received or read your information", "Disclose")

    page.get_by_role("link", name="Preview the pack").click()
    look(page, journey, "pack-preview")
    assert "Pat Reporter" not in page.content() and SEALED not in page.content()
    page.get_by_role("link", name=f"Back to {sar.reference}").click()
    look(page, journey, "request-reviewed")
    page.get_by_role("button", name="Issue the response pack").click()
    expect(success(page)).to_contain_text("Response pack issued")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Response pack, issued")
    look(page, journey, "pack-issued")
    sar.refresh_from_db()
    assert sar.status == SarStatus.RESPONDED
