"""Requests for information as the asked agency sees them, and the agency's answer."""

from django.contrib import messages
from django.db.models import Case, IntegerField, Value, When
from django.shortcuts import redirect, render

from mash.access import gate
from mash.access.guard import FORM, POST, SAFE, guarded
from mash.access.rules import ANSWER_REQUEST, UNSEAL, VIEW_ENQUIRY, VIEW_REQUEST
from mash.accounts.models import Role
from mash.cases import steps
from mash.core.errors import DomainError
from mash.core.web import INVALID, apply_domain_error, lawful_basis_labels, split_key, submit, translate_errors
from mash.partners import services as isa

from . import selectors, services
from .forms import AmendContributionForm, ContributionForm, UnsealForm, item_forms
from .models import RequestStatus


@guarded(VIEW_REQUEST, methods=SAFE)
def requests(request):
    """A worker sees the requests to their agency, open ones first; a manager every open request."""
    user = request.user
    qs = selectors.information_requests(user)
    if user.role == Role.MASH_MANAGER:
        qs = qs.filter(status=RequestStatus.OPEN).order_by("requested_at", "id")
    else:
        qs = qs.annotate(open_first=Case(When(status=RequestStatus.OPEN, then=Value(0)), default=Value(1),
                                         output_field=IntegerField())).order_by("open_first", "-requested_at", "id")
    return render(request, "sharing/requests.html", {"information_requests": qs,
                                                     "manager": user.role == Role.MASH_MANAGER})


def _forms(info_request, agreement, data=None, amending=False, current=None):
    entry = agreement.partner(info_request.partner.slug)
    bases = [b for b in (agreement.lawful_basis(i) for i in (entry.lawful_bases if entry else [])) if b]
    categories = agreement.permitted_categories(info_request.partner.slug)
    form_class = AmendContributionForm if amending else ContributionForm
    initial, items_initial = None, ()
    if amending and current is not None and data is None:
        initial = {"kind": current.kind, "decision_reason": current.decision_reason or "",
                   "lawful_basis": current.lawful_basis or "", "confidential_reason": current.confidential_reason}
        items_initial = [{"category": i.category, "content": i.content, "relevance_note": i.relevance_note,
                          "occurred_on": i.occurred_on, "confidentiality": i.confidentiality}
                         for i in current.items]
    form = form_class(data, lawful_bases=bases, initial=initial)
    return form, item_forms(data, categories, items_initial)


def _may_answer_now(may, info_request) -> bool:
    """The agency may answer (or amend its answer) now: the rule, on a request that has not lapsed."""
    return may.answer and info_request.status != RequestStatus.LAPSED


@guarded(VIEW_REQUEST, load=selectors.information_request, methods=FORM)  # a POST answers it: ANSWER_REQUEST
@translate_errors
def request_detail(request, info_request, may):
    """The request, the agency's current answer, and the form to answer (or amend the answer)."""
    user = request.user
    enquiry = info_request.enquiry
    _, agreement = isa.current()
    views = [v for v in selectors.contribution_views(user, enquiry, agreement)
             if v.partner_slug == info_request.partner.slug]
    current = views[-1] if views else None
    amending = info_request.status == RequestStatus.ANSWERED

    status = 200
    if request.method == "POST":
        status = INVALID
        if not may.answer:  # refused (and recorded) once the answer shown with the form has been read
            gate.require(user, ANSWER_REQUEST, info_request)
        form, items = _forms(info_request, agreement, request.POST, amending)
        if all([form.is_valid()] + [i.is_valid() for i in items]):
            rows = [item for item in items if not item.is_blank()]

            def resolve(key):
                group, index, name = split_key(key)
                if group == "items" and index is not None and index < len(rows):
                    return rows[index], name
                if key == "items":
                    return form, None
                return form, key

            kwargs = dict(form.answer_data(), items=[i.item_data() for i in rows])
            try:
                if amending:
                    services.amend_contribution(info_request, by=user, reason=form.cleaned_data["reason"], **kwargs)
                else:
                    services.contribute(info_request, by=user, **kwargs)
            except DomainError as exc:
                status = apply_domain_error(exc, resolve, form)
            else:
                messages.success(request, "Your agency's answer has been amended" if amending
                                 else "Your agency's answer has been sent to the MASH")
                return redirect("sharing:request", pk=info_request.pk)
    else:
        form, items = _forms(info_request, agreement, None, amending, current)
    return _render_request(request, info_request, may, current, status, amending=amending, form=form, items=items,
                           agreement=agreement)


def _render_request(request, info_request, may, current, status=200, *, amending, form, items, agreement,
                    unseal_form=None):
    user, enquiry = request.user, info_request.enquiry
    # The answer's earlier versions, newest first, redacted as ever (each with why it was replaced).
    earlier = [v for v in selectors.contribution_views(user, enquiry, agreement, include_superseded=True)
               if v.partner_slug == info_request.partner.slug and current and v.id != current.id][::-1]
    can_answer = _may_answer_now(may, info_request)
    return render(request, "sharing/request.html", {
        "info_request": info_request,
        "enquiry": enquiry,
        "current": current,
        "earlier": earlier,
        "can_answer": can_answer,
        "amending": amending,
        "form": form,
        "items": items,
        "lawful_bases": lawful_basis_labels(agreement),
        "can_view_enquiry": may(VIEW_ENQUIRY),
        "unseal_form": unseal_form or UnsealForm(),
        # Files are added to the items of the agency's current answer while the enquiry takes answers.
        "can_add_files": bool(can_answer and current and not current.sealed) and may.take(steps.step("contribute")),
    }, status=status)


@guarded(UNSEAL, load=selectors.information_request, require=UNSEAL, methods=POST)
@translate_errors
def unseal(request, info_request, may):
    """The contributing agency lifts its own seal. Anyone else gets not found, or is refused."""
    user = request.user
    form = UnsealForm(request.POST)
    _, status = submit(form, lambda f: services.unseal(info_request, by=user, reason=f.cleaned_data["reason"],
                                                       level=f.cleaned_data["level"] or ""))
    if status is None:
        messages.success(request, "Your agency's information is unsealed. The change is recorded")
        return redirect("sharing:request", pk=info_request.pk)
    _, agreement = isa.current()
    views = [v for v in selectors.contribution_views(user, info_request.enquiry, agreement)
             if v.partner_slug == info_request.partner.slug]
    current = views[-1] if views else None
    amending = info_request.status == RequestStatus.ANSWERED
    form_, items = _forms(info_request, agreement, None, amending, current)
    return _render_request(request, info_request, may, current, status, amending=amending, form=form_, items=items,
                           agreement=agreement, unseal_form=form)
