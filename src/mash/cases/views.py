"""The MASH team's pages: the enquiry queue, recording a contact, and an enquiry with its actions.

Every read goes through the gate (mash.cases.selectors and the other domains' selectors); every change
through mash.cases.services or mash.sharing.services. A domain error is shown on the form that caused it, with the input kept.
"""

import csv
from dataclasses import dataclass

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import F
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from mash.consent import selectors as consent_selectors
from mash.disclosure import selectors as disclosure_selectors
from mash.access.guard import FORM, POST, SAFE, guarded
from mash.access.rules import (CONSENT, CONTRIBUTIONS, FIELDS, PACKAGES, RECORD_CONTACT, VIEW_ENQUIRY,
                               VIEW_PERSON_TRAIL, VIEW_REQUEST)
from mash.accounts.models import Role, User
from mash.audit import services as audit
from mash.core.errors import DomainError, ValidationFailed
from mash.core.web import (INVALID, apply_domain_error, csv_cell, lawful_basis_labels, split_key, submit, time_left,
                           translate_errors)
from mash.partners import services as isa
from mash.people import services as people
from mash.people.selectors import identity as identity_selectors
from mash.people.selectors import kept_record
from mash.people.services import PERSON_FIELDS
from mash.core.vocabulary import Outcome
from mash.sharing import services as sharing

from . import selectors, services, steps
from .forms import (AmendDecisionForm, AssignForm, ChildForm, CloseForm, ContactForm, DecisionForm, EndAssignmentForm,
                    MarkReadyForm, RateForm,
                    RequestInformationForm, related_forms)
from .states import OPEN_STATES, EnquiryState


# --- Queue -------------------------------------------------------------------------------

@guarded(VIEW_ENQUIRY, methods=SAFE)
def queue(request):
    """Open enquiries: those awaiting a rating first (oldest first), then by decision deadline."""
    query = (request.GET.get("q") or "").strip()[:100]
    show_all = request.GET.get("show") == "all" or bool(query)
    visible = selectors.search_enquiries(request.user, query) if query else selectors.enquiries(request.user)
    now = timezone.now()
    page = None
    if show_all:
        page = Paginator(visible.order_by("-created_at", "-id"), 50).get_page(request.GET.get("page"))
        enquiries = list(page.object_list)
    else:
        open_ = visible.filter(state__in=OPEN_STATES)
        enquiries = list(open_.filter(state=EnquiryState.AWAITING_RATING).order_by("contact__received_at", "id"))
        enquiries += list(open_.exclude(state=EnquiryState.AWAITING_RATING)
                          .order_by(F("decision_due_at").asc(nulls_last=True), "id"))
    rows = [{"enquiry": e, "left": time_left(e.decision_due_at, now) if e.is_open else None} for e in enquiries]
    return render(request, "cases/queue.html", {"rows": rows, "show_all": show_all, "page": page, "query": query})


EXPORT_COLUMNS = ["Reference", "Child", "Date of birth", "State", "RAG rating", "Received", "Decision due",
                  "Overdue", "Outcome"]


@guarded(VIEW_ENQUIRY, methods=SAFE)
def export(request):
    """The enquiries the user may see (and the search, if one is given), as CSV for a spreadsheet.

    Only parts every link that can see an enquiry may read (rules.FIELDS: child, RAG, outcome).
    """
    query = (request.GET.get("q") or "").strip()[:100]
    visible = selectors.search_enquiries(request.user, query) if query else selectors.enquiries(request.user)
    if request.GET.get("show") != "all" and not query:
        visible = visible.filter(state__in=OPEN_STATES)
    rows = selectors.with_outcome(visible).order_by("-created_at", "-id")
    outcomes = dict(Outcome.choices)
    audit.mark_export()
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="mash-enquiries-{timezone.localdate():%Y-%m-%d}.csv"'
    response["Cache-Control"] = "no-store"
    writer = csv.writer(response)
    writer.writerow(EXPORT_COLUMNS)
    for e in rows.iterator(chunk_size=500):
        due = timezone.localtime(e.decision_due_at) if e.decision_due_at else None
        writer.writerow([csv_cell(v) for v in (
            e.reference, e.child.full_name, e.child.date_of_birth.isoformat() if e.child.date_of_birth else "",
            e.get_state_display(), e.get_rag_display() if e.rag else "",
            f"{timezone.localtime(e.contact.received_at):%Y-%m-%d %H:%M}", f"{due:%Y-%m-%d %H:%M}" if due else "",
            "yes" if e.is_overdue else "", outcomes.get(e.outcome, "") if e.outcome else "")])
    return response


# --- Recording a contact -----------------------------------------------------------------
# Before saving, the people already known who may be the child or a related person are offered (within the
# user's need-to-know); the user chooses for each "same person as ..." or "a new person" and submits the same
# form again. Matching never picks: a person with offers and no choice is shown again.

HOUSEHOLD_REASON = "In the household of enquiry {reference}, which this contact started from"
PERSON_ADDRESS = ("address_line_1", "address_line_2", "town", "postcode")


@dataclass
class Household:
    """A contact about another child in the household of an enquiry the user may view (?household=)."""

    reference: str
    child_name: str
    rows: list
    address: dict

    @property
    def person_ids(self) -> set[int]:
        return {row["person_id"] for row in self.rows}


def _household(request) -> Household | None:
    reference = (request.GET.get("household") or "").strip()[:20]
    if not reference:
        return None
    enquiry = selectors.enquiry(request.user, reference)  # NotFound (404) outside need-to-know
    record = selectors.case_record(request.user, enquiry)
    rows = []
    for rel in record.relationships:
        person = kept_record(rel.person)
        if rel.to_date is None and person.anonymised_at is None and person.pk not in {r["person_id"] for r in rows}:
            rows.append({"first_name": person.first_name, "last_name": person.last_name, "person_id": person.pk,
                         "relationship": rel.relationship, "lives_with_child": rel.lives_with_child,
                         "parental_responsibility": rel.parental_responsibility})
    child = record.child
    address = {n: getattr(child, n) for n in PERSON_ADDRESS} if child is not None else {}
    return Household(enquiry.reference, child.full_name if child is not None else "", rows, address)


def _contact_forms(data=None, household: Household | None = None):
    partners = isa.signatories().order_by("name")
    child_initial = household.address if household else None
    return (ContactForm(data, partners=partners), ChildForm(data, initial=child_initial),
            related_forms(data, initial=household.rows if household else ()))


@guarded(RECORD_CONTACT, require=RECORD_CONTACT, methods=FORM)
@translate_errors
def contact_new(request, may):
    household = _household(request)
    if request.method != "POST":
        form, child_form, related = _contact_forms(household=household)
        return _render_contact(request, form, child_form, related, household)

    form, child_form, related = _contact_forms(request.POST, household)
    valid = all([form.is_valid(), child_form.is_valid()] + [r.is_valid() for r in related])
    rows = [(i, r) for i, r in enumerate(related) if not r.is_blank()]

    def resolve(key):
        group, index, name = split_key(key)
        if group == "child":
            return child_form, name
        if group == "related_people" and index is not None and index < len(rows):
            return rows[index][1], name
        return form, key

    if not valid:
        _check_people(request.user, child_form, [r for _, r in rows])
        return _render_contact(request, form, child_form, related, household, INVALID)
    people_forms = [child_form] + [r for _, r in rows]
    try:
        # Everything else is checked before the people already known are offered, and again on saving.
        services.record_contact(by=request.user, child=child_form.person_data(), check_only=True,
                                related_people=[_with_choice(r, household) for r in people_forms[1:]],
                                **form.contact_data())
        status = _offer_known_people(request, child_form, people_forms[1:], household)
        if status is None:
            enquiry = services.record_contact(by=request.user, child=_with_choice(child_form, household),
                                              related_people=[_with_choice(r, household) for r in people_forms[1:]],
                                              **form.contact_data())
    except DomainError as exc:
        status = apply_domain_error(exc, resolve, form)
        if not hasattr(child_form, "offers"):  # shown with the errors, so no choice made is lost
            _offer_known_people(request, child_form, people_forms[1:], household)
    if status is not None:
        return _render_contact(request, form, child_form, related, household, status)
    messages.success(request, f"Contact recorded: enquiry {enquiry.reference} is awaiting a RAG rating")
    if may(VIEW_ENQUIRY, enquiry):
        return redirect("cases:detail", reference=enquiry.reference)
    return redirect("home")


def _offer_known_people(request, child_form, related_rows, household) -> int | None:
    """Offer each person's candidates (set as `offers` on their form). None when every person offered someone
    has a choice among them (or none was offered); else the status to show the page again with: 200 the
    first time, 400 when the choices shown were not all made."""
    user, shown = request.user, request.POST.get("matches_shown") == "1"
    postcode = child_form.cleaned_data.get("postcode") or ""
    child_form.offers = identity_selectors.offers(user, identity_selectors.details_of(child_form.person_data()))
    missing = not _chosen(child_form, shown)
    for row in related_rows:
        row.offers = []
        if row.cleaned_data.get("person_id"):
            if household is None or row.cleaned_data["person_id"] not in household.person_ids:
                row.add_error(None, "Unknown person: start again from the enquiry's household")
                missing = True
            continue
        details = identity_selectors.details_of(
            row.person_data(), postcode=postcode if row.cleaned_data.get("lives_with_child") else "")
        row.offers = identity_selectors.offers(user, details, around=[o.person_id for o in child_form.offers])
        missing = not _chosen(row, shown) or missing
    if not missing:
        return None
    return INVALID if shown else 200


def _chosen(person_form, shown: bool) -> bool:
    """Whether the user chose for this person among the offers (always, when none were offered)."""
    offers = getattr(person_form, "offers", [])
    choice = person_form.chosen()
    if not offers or choice == "new" or choice in {str(o.person_id) for o in offers}:
        return True
    if shown:
        name = " ".join(filter(None, (person_form.cleaned_data.get("first_name"),
                                      person_form.cleaned_data.get("last_name")))) or "this person"
        person_form.add_error("identity", f"Choose whether {name} is someone already known or a new person")
    return False


def _with_choice(person_form, household) -> dict:
    """The person's details for the service, with the identity choice the user made."""
    data = person_form.person_data()
    person_id = person_form.cleaned_data.get("person_id")
    if person_id and household is not None and person_id in household.person_ids:
        return {**data, "person_id": person_id, "identity_reason": HOUSEHOLD_REASON.format(
            reference=household.reference)}
    if not getattr(person_form, "offers", []):
        return data
    choice, reason = person_form.chosen(), person_form.cleaned_data.get("identity_reason") or ""
    if choice == "new":
        return {**data, "identity_checked": True, "identity_reason": reason}
    return {**data, "person_id": int(choice), "identity_reason": reason}


def _check_people(user, child_form, related_rows):
    """When the page must be shown again anyway, also say what is wrong with each person's details
    (NHS number, UPN, postcode...), so that one correction does not reveal the next problem."""
    for person_form in [child_form] + related_rows:
        data = {k: v for k, v in person_form.person_data().items()
                if k in PERSON_FIELDS and k not in person_form.errors}
        try:
            people.build_person(data, by=user)
        except ValidationFailed as exc:
            for field, field_messages in exc.errors.items():
                # Only what was typed: the service words the "enter this" messages better.
                if field in person_form.fields and field not in person_form.errors and data.get(field):
                    for message in field_messages:
                        person_form.add_error(field, message)


def _render_contact(request, form, child_form, related, household=None, status=200):
    offered = any(getattr(f, "offers", []) for f in [child_form] + list(related))
    more_open = any(r.has_changed() or r.errors or r.initial.get("person_id") or getattr(r, "offers", [])
                    for r in related[1:])
    return render(request, "cases/contact_new.html",
                  {"form": form, "child_form": child_form, "related": related, "household": household,
                   "offered": offered, "more_rows": related[1:], "more_open": more_open}, status=status)


# --- One enquiry -------------------------------------------------------------------------

def _team_members():
    return (User.objects.filter(role__in=[Role.MASH_WORKER, Role.MASH_MANAGER], is_active=True)
            .select_related("partner").order_by("last_name", "first_name"))


def _professionals():
    return User.objects.filter(role=Role.RECEIVING_PROFESSIONAL, is_active=True).order_by("last_name", "first_name")


def _unasked_partners(enquiry):
    asked = enquiry.information_requests.values_list("partner_id", flat=True)
    return isa.signatories().exclude(pk__in=list(asked)).order_by("name")


def _action_forms(enquiry, data=None, which=None):
    """The forms for each action; the one named `which` is bound to the posted data."""

    def bound(name):
        return data if name == which else None

    current = services.current_decision(enquiry)
    amend_initial = {}
    if current is not None:
        amend_initial = {"outcome": current.outcome, "rationale": current.rationale,
                         "recipient_type": current.recipient_type, "receiving_team": current.receiving_team,
                         "receiving_professional": current.receiving_professional.username
                         if current.receiving_professional else ""}
    professionals = _professionals()
    return {
        "rate": RateForm(bound("rate"), initial={"rating": enquiry.rag} if enquiry.rag else None),
        "request_information": RequestInformationForm(bound("request_information"),
                                                      partners=_unasked_partners(enquiry)),
        "mark_ready": MarkReadyForm(bound("mark_ready")),
        "decide": DecisionForm(bound("decide"), professionals=professionals),
        "amend_decision": AmendDecisionForm(bound("amend_decision"), professionals=professionals,
                                            initial=amend_initial),
        "close": CloseForm(bound("close")),
        "assign": AssignForm(bound("assign"), members=_team_members().exclude(
            pk__in=enquiry.assignments.filter(ended_at__isnull=True).values("user_id"))),
        "end_assignment": EndAssignmentForm(bound("end_assignment"), members=_team_members().filter(
            pk__in=enquiry.assignments.filter(ended_at__isnull=True).values("user_id"))),
    }


def _render_detail(request, enquiry, may, forms=None, status=200):
    """The enquiry as this user may read it (selectors.case_record leaves out the rest)."""
    user = request.user
    _, agreement = isa.current()
    record = selectors.case_record(user, enquiry, agreement)
    forms = forms or _action_forms(enquiry)
    available = set(record.actions)
    context = {
        "record": record,
        "enquiry": enquiry,
        "child": record.child,
        "contact": record.contact,
        "relationships": record.relationships,
        "team_view": record.can(CONTRIBUTIONS),
        "team": record.team,
        "ratings": record.ratings,
        "current_rating": record.ratings[-1] if record.ratings else None,
        "left": time_left(enquiry.decision_due_at) if enquiry.is_open else None,
        "information_requests": [
            {"request": r, "can_view": may(VIEW_REQUEST, r)}
            for r in record.information_requests
        ],
        "contributions": record.contributions,
        "lawful_bases": lawful_basis_labels(agreement),
        "decision": record.decision,
        "earlier_decisions": record.earlier_decisions,
        "events": [{"event": e, "label": steps.history_label(e.action)} for e in record.events],
        "can": {s.name: s.name in available for s in steps.STEPS if s.offered},
        "forms": forms,
        "bound_forms": [f for f in forms.values() if f.is_bound],
        "state_labels": dict(EnquiryState.choices),
        "may_see_trail": may.read_audit(VIEW_PERSON_TRAIL),
        "consent": consent_selectors.consent_position(user, enquiry) if record.can(CONSENT) else None,
        "packages": disclosure_selectors.enquiry_packages(user, enquiry) if record.can(PACKAGES) else [],
        "may_build_package": may.take(steps.step("send_package")),
    }
    return render(request, "cases/detail.html", context, status=status)


@guarded(VIEW_ENQUIRY, load=selectors.enquiry, methods=SAFE)
@translate_errors
def detail(request, enquiry, may):
    return _render_detail(request, enquiry, may)


def _action_view(action: str, call):
    """A POST-only view for one action: parse its form, call the service, show errors on the enquiry page.
    The service requires the action, once the form is read (a refusal then shows on the form)."""

    @translate_errors
    def view(request, enquiry, may):
        forms = _action_forms(enquiry, request.POST, which=action)
        form = forms[action]
        message, status = submit(form, lambda f: call(request, enquiry, f))
        if status is None:
            messages.success(request, message)
            return redirect("cases:detail", reference=enquiry.reference)
        return _render_detail(request, enquiry, may, forms, status)

    view.__name__ = view.__qualname__ = action
    return guarded(steps.step(action).action, load=selectors.enquiry, methods=POST)(view)


def _rate(request, enquiry, form):
    record = services.rate(enquiry, by=request.user, rating=form.cleaned_data["rating"],
                           rationale=form.cleaned_data["rationale"])
    due = timezone.localtime(record.decision_due_at)
    return f"Rated {record.get_rating_display().lower()}: a decision is due by {due:%-d %B %Y, %H:%M}"


def _request(request, enquiry, form):
    made = sharing.request_information(enquiry, by=request.user, partners=form.cleaned_data["partners"],
                                       question=form.cleaned_data["question"])
    return "Information requested from " + ", ".join(r.partner.name for r in made)


def _ready(request, enquiry, form):
    services.mark_ready(enquiry, by=request.user, note=form.cleaned_data["note"])
    return "The enquiry is ready for a decision"


def _decide(request, enquiry, form):
    decision = services.decide(enquiry, by=request.user, **form.decision_data())
    return f"Decision recorded: {decision.get_outcome_display()}"


def _amend(request, enquiry, form):
    decision = services.amend_decision(enquiry, by=request.user, reason=form.cleaned_data["reason"],
                                       **form.decision_data())
    return f"Decision amended (version {decision.version}): {decision.get_outcome_display()}"


def _close(request, enquiry, form):
    services.close(enquiry, by=request.user, note=form.cleaned_data["note"])
    return f"Enquiry {enquiry.reference} is closed"


rate = _action_view("rate", _rate)
request_information = _action_view("request_information", _request)
mark_ready = _action_view("mark_ready", _ready)
decide = _action_view("decide", _decide)
amend_decision = _action_view("amend_decision", _amend)
close = _action_view("close", _close)


def _assign(request, enquiry, form):
    a = services.assign(enquiry, by=request.user, member=form.cleaned_data["member"], note=form.cleaned_data["note"])
    return f"{a.user.display_name} is now on enquiry {enquiry.reference}"


def _end_assignment(request, enquiry, form):
    a = services.end_assignment(enquiry, by=request.user, member=form.cleaned_data["member"],
                                note=form.cleaned_data["note"])
    return f"{a.user.display_name} is no longer on enquiry {enquiry.reference}"


assign = _action_view("assign", _assign)
end_assignment = _action_view("end_assignment", _end_assignment)

