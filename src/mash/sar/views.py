"""Subject access request pages, for the data protection officer. Reads go through mash.sar.selectors (the gate),
changes through mash.sar.services; a refused change is shown on the form that made it."""

from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render

from mash.access.guard import GET_OR_POST, POST, SAFE, guarded
from mash.access.rules import MANAGE_SAR
from mash.core.web import submit, translate_errors
from mash.keys.fields import DamagedData

from . import selectors, services
from .forms import (ExtensionForm, IdentityForm, ItemDecisionForm, LogRequestForm, PauseForm, ResumeForm,
                    WithdrawForm)
from .models import ItemDecision, SarStatus
from .pack import as_issued, build_content, download

@guarded(MANAGE_SAR, methods=SAFE)
@translate_errors
def open_requests(request):
    rows = selectors.open_subject_access_requests(request.user)
    closed = selectors.subject_access_requests(request.user).exclude(status=SarStatus.OPEN).order_by("-responded_on", "-id")[:20]
    return render(request, "sar/list.html", {"rows": rows, "closed": closed,
                                             "overdue": sum(1 for _, c in rows if c.overdue)})


@guarded(MANAGE_SAR, methods=GET_OR_POST)
@translate_errors
def log_request(request):
    user = request.user
    query = (request.GET.get("q") or request.POST.get("q") or "").strip()
    found = selectors.sar_people(user, query)
    chosen = request.POST.getlist("person_ids") if request.method == "POST" else []
    if chosen:  # keep people chosen before a new search on the form
        from mash.people.models import Person

        found = list({p.pk: p for p in [*Person.objects.filter(pk__in=[c for c in chosen if c.isdigit()]),
                                         *found]}.values())
    if request.method == "GET":
        form = LogRequestForm(people=found)
        return render(request, "sar/new.html", {"form": form, "q": query, "found": found})
    form = LogRequestForm(request.POST, people=found)
    if "search" in request.POST:
        return render(request, "sar/new.html", {"form": form, "q": query, "found": found})
    made, status = submit(form, lambda f: services.log_request(by=user, **f.service_args()))
    if status is None:
        messages.success(request, f"Subject access request {made.reference} logged")
        return redirect("sar:detail", reference=made.reference)
    return render(request, "sar/new.html", {"form": form, "q": query, "found": found}, status=status)


def _detail(request, sar, forms=None, status=200):
    forms = forms or {}
    items = list(sar.items.select_related("person"))
    context = {
        "sar": sar, "clock": services.clock_of(sar), "pauses": list(sar.pauses.all()),
        "subjects": [s.person for s in sar.subjects.select_related("person")],
        "items": items, "pending": sum(1 for i in items if i.decision == ItemDecision.PENDING),
        "problems": services.pack_problems(sar) if sar.status == SarStatus.OPEN else [],
        "identity_form": forms.get("identity") or IdentityForm(), "pause_form": forms.get("pause") or PauseForm(),
        "resume_form": forms.get("resume") or ResumeForm(), "extension_form": forms.get("extension") or ExtensionForm(),
        "withdraw_form": forms.get("withdraw") or WithdrawForm(),
        "bound_forms": [f for f in forms.values() if f.is_bound],
        "has_pack": hasattr(sar, "pack"),
    }
    return render(request, "sar/detail.html", context, status=status)


@guarded(MANAGE_SAR, load=selectors.subject_access_request, methods=SAFE)
@translate_errors
def detail(request, sar):
    return _detail(request, sar)


def _action(name, form_class, call, success):
    @translate_errors
    def view(request, sar):
        form = (form_class or _Button)(request.POST)
        _, status = submit(form, lambda f: call(sar, request.user, f.cleaned_data))
        if status is None:
            messages.success(request, success)
            return redirect("sar:detail", reference=sar.reference)
        sar.refresh_from_db()
        return _detail(request, sar, {name: form}, status)

    view.__name__ = f"sar_{name}"
    return guarded(MANAGE_SAR, load=selectors.subject_access_request, methods=POST)(view)


class _Button(forms.Form):
    """A button's form: no fields; a refusal shows as the form's error."""


identity = _action("identity", IdentityForm, lambda s, u, c: services.verify_identity(
    s, by=u, method=c["method"], verified_on=c["verified_on"]), "Identity confirmed")
pause = _action("pause", PauseForm, lambda s, u, c: services.pause(
    s, by=u, reason=c["reason"] or "", started_on=c["started_on"], note=c["note"]), "Clock stopped")
resume = _action("resume", ResumeForm, lambda s, u, c: services.resume(s, by=u, ended_on=c["ended_on"]),
                 "Clock restarted")
extend = _action("extension", ExtensionForm, lambda s, u, c: services.extend(
    s, by=u, months=c["months"] or 0, reason=c["reason"]), "Deadline extended")
withdraw = _action("withdraw", WithdrawForm, lambda s, u, c: services.withdraw(s, by=u, reason=c["reason"]),
                   "Request closed")
compile_items = _action("compile", None, lambda s, u, c: services.compile_request(s, by=u),
                        "Everything held has been compiled for review")


def _with_item(user, reference, item_id):
    sar = selectors.subject_access_request(user, reference)
    return sar, selectors.sar_item(user, sar, item_id)


@guarded(MANAGE_SAR, load=_with_item, methods=GET_OR_POST)
@translate_errors
def review_item(request, found):
    user = request.user
    sar, item = found
    if request.method == "GET":
        form = ItemDecisionForm(proposed=item.proposed_redactions, initial={
            "decision": "" if item.decision == ItemDecision.PENDING else item.decision,
            "exemption": item.exemption, "redactions": item.redactions, "reason": item.reason,
            "neither_confirm_nor_deny": item.neither_confirm_nor_deny})
        return render(request, "sar/item.html", {"sar": sar, "item": item, "form": form})
    form = ItemDecisionForm(request.POST, proposed=item.proposed_redactions)
    _, status = submit(form, lambda f: services.decide_item(item, by=user, **f.service_args()))
    if status is None:
        messages.success(request, f"Decision recorded: {item.title}")
        return redirect("sar:detail", reference=sar.reference)
    return render(request, "sar/item.html", {"sar": sar, "item": item, "form": form}, status=status)


@guarded(MANAGE_SAR, load=selectors.subject_access_request, methods=GET_OR_POST)
@translate_errors
def pack(request, sar):
    """GET: the pack as it stands (issued, or a preview built by the same code); POST: issue it."""
    user = request.user
    if request.method == "POST":
        form = _Button(request.POST)
        _, status = submit(form, lambda f: services.issue_pack(sar, by=user))
        if status is None:
            messages.success(request, "Response pack issued: download it and send it to the requester")
            return redirect("sar:pack", reference=sar.reference)
        sar.refresh_from_db()
        return _detail(request, sar, {"pack": form}, status)
    issued = getattr(sar, "pack", None)
    content = as_issued(sar, issued) if issued else build_content(sar)
    return render(request, "sar/pack.html", {"sar": sar, "c": content, "issued": issued})


@guarded(MANAGE_SAR, load=selectors.issued_sar_pack, methods=SAFE)
@translate_errors
def pack_pdf(request, found):
    return _download(request, found, as_pdf=True)


@guarded(MANAGE_SAR, load=selectors.issued_sar_pack, methods=SAFE)
@translate_errors
def pack_json(request, found):
    return _download(request, found, as_pdf=False)


def _download(request, found, as_pdf: bool):
    sar, issued = found
    try:
        return download(sar, issued, as_pdf=as_pdf)
    except DamagedData as exc:
        # The pack's page, saying it cannot be shown, instead of a file that could be sent on unread.
        messages.error(request, exc.message)
        return render(request, "sar/pack.html", {"sar": sar, "c": as_issued(sar, issued), "issued": issued},
                      status=DamagedData.status)
