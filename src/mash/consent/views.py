"""The consent page of an enquiry: consent per person, its withdrawal, and sharing without consent.

Reads go through mash.consent.selectors; changes through mash.consent.services. A refused change is shown
on the form that made it, with the input kept.
"""

from django.contrib import messages
from django.shortcuts import redirect, render

from mash.access.guard import POST, SAFE, guarded
from mash.access.rules import APPROVE_OVERRIDE, PROPOSE_OVERRIDE, READ_FIELD, RECORD_CONSENT
from mash.cases import selectors as cases
from mash.core.errors import DomainError
from mash.core.vocabulary import ConsentPurpose
from mash.core.web import lawful_basis_labels, submit, translate_errors
from mash.partners import services as isa

from . import selectors, services
from .forms import ConsentForm, OverrideDecisionForm, OverrideForm, WithdrawalForm


def _people(position, enquiry):
    child = enquiry.child
    out = [(child, f"{child.full_name} (the child)")]
    for rel in child.relationships.select_related("person"):
        out.append((rel.person, f"{rel.person.full_name} ({rel.get_relationship_display().lower()})"))
    return out


def _render(request, enquiry, may, forms=None, status=200, failed_id=None):
    user = request.user
    _, agreement = isa.current()
    position = selectors.consent_position(user, enquiry)
    bases = [agreement.lawful_basis(b) for b in agreement.consent.without_consent.lawful_bases]
    forms = forms or {}
    context = {
        "enquiry": enquiry,
        "child": enquiry.child,
        "position": position,
        "current": position.current_by_person(),
        "consent_form": forms.get("consent") or ConsentForm(people=_people(position, enquiry),
                                                            partners=isa.signatories().order_by("name")),
        "override_form": forms.get("override") or OverrideForm(lawful_bases=bases),
        # One form per record, each with its own prefix so that ids stay unique on the page.
        "withdrawal_forms": {r.pk: forms.get("withdraw") if failed_id == r.pk and "withdraw" in forms
                             else WithdrawalForm(prefix=f"withdraw-{r.pk}") for r in position.records},
        "decision_forms": {o.pk: forms.get("decide") if failed_id == o.pk and "decide" in forms
                           else OverrideDecisionForm(prefix=f"decide-{o.pk}") for o in position.overrides},
        "failed_id": failed_id,
        "lawful_bases": lawful_basis_labels(agreement),
        "purpose_labels": dict(ConsentPurpose.choices),
        "clause": agreement.consent.clause,
        "without_clause": agreement.consent.without_consent.clause,
        "may_approve": may.approve_override,
        "bound_forms": [f for f in forms.values() if f.is_bound],
    }
    return render(request, "consent/consent.html", context, status=status)


@guarded(READ_FIELD, load=cases.enquiry, methods=SAFE)
@translate_errors
def consent_page(request, enquiry, may):
    return _render(request, enquiry, may)


def _post(request, enquiry, may, name, form, call, success, failed_id=None):
    _, status = submit(form, call)
    if status is None:
        messages.success(request, success)
        return redirect("consent:page", reference=enquiry.reference)
    return _render(request, enquiry, may, {name: form}, status, failed_id)


@guarded(RECORD_CONSENT, load=cases.enquiry, require=RECORD_CONSENT, methods=POST)
@translate_errors
def record(request, enquiry, may):
    user = request.user
    form = ConsentForm(request.POST, people=_people(None, enquiry), partners=isa.signatories().order_by("name"))
    return _post(request, enquiry, may, "consent", form,
                 lambda f: services.record_consent(enquiry, by=user, **f.consent_data()), "Consent recorded")


@guarded(RECORD_CONSENT, load=selectors.record_on, methods=POST)
@translate_errors
def withdraw(request, found, may):
    user = request.user
    enquiry, record_obj = found
    form = WithdrawalForm(request.POST, prefix=f"withdraw-{record_obj.pk}")
    return _post(request, enquiry, may, "withdraw", form,
                 lambda f: services.withdraw_consent(record_obj, by=user, reason=f.cleaned_data["reason"]),
                 "The withdrawal of consent is recorded. Nothing more is shared on it, and packages sent on it "
                 "are withdrawn", failed_id=record_obj.pk)


@guarded(PROPOSE_OVERRIDE, load=cases.enquiry, require=PROPOSE_OVERRIDE, methods=POST)
@translate_errors
def propose(request, enquiry, may):
    user = request.user
    _, agreement = isa.current()
    form = OverrideForm(request.POST, lawful_bases=[agreement.lawful_basis(b) for b in
                                                    agreement.consent.without_consent.lawful_bases])

    def call(f):
        c = f.cleaned_data
        made = services.propose_override(enquiry, by=user, justification=c["justification"],
                                         lawful_basis=c["lawful_basis"] or "", purposes=c["purposes"] or [])
        if not made.is_approved:
            messages.info(request, "A MASH manager must approve it before anything is shared on it")

    return _post(request, enquiry, may, "override", form, call, "Sharing without consent is recorded")


@guarded(APPROVE_OVERRIDE, load=selectors.override_on, methods=POST)
@translate_errors
def decide(request, found, may):
    user = request.user
    enquiry, override = found
    form = OverrideDecisionForm(request.POST, prefix=f"decide-{override.pk}")

    def call(f):
        choice = f.cleaned_data["decision"]
        if choice not in ("approve", "reject"):
            raise DomainError("Choose whether to approve or reject it", field="decision")
        services.decide_override(override, by=user, approve=choice == "approve", note=f.cleaned_data["note"])

    return _post(request, enquiry, may, "decide", form, call, "Your decision on sharing without consent is recorded",
                 failed_id=override.pk)
