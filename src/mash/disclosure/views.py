"""Disclosure packages on the web: the manager's builder and preview, and the recipient's packages.

Reads go through mash.disclosure.selectors; changes through mash.disclosure.services. The page a manager
previews and the page the recipient reads render the same content with the same template.
"""

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render

from mash.access.guard import FORM, POST, SAFE, guarded, its_enquiry
from mash.access.rules import BUILD_PACKAGE, PACKAGES, VIEW_PACKAGE
from mash.cases import selectors as cases
from mash.accounts.models import Role, User
from mash.cases.services import current_decision
from mash.core.web import submit, translate_errors
from mash.partners import services as isa
from mash.sharing.models import Confidentiality

from . import selectors, services
from .api import pdf_response
from .forms import PackageForm, WithdrawPackageForm
from .models import PackageStatus


def _builder(user, enquiry, data=None, initial=None):
    """The form and what it offers: only items the manager may read, and of those only normal ones go."""
    _, agreement = isa.current()
    views = [v for v in selectors.package_choices(user, enquiry, agreement) if not v.sealed]
    choosable = [i for v in views for i in v.items if i.confidentiality == Confidentiality.NORMAL]
    bases = {b for rule in agreement.doc.onward_disclosure for b in rule.lawful_bases}
    form = PackageForm(
        data, initial=initial,
        professionals=User.objects.filter(role=Role.RECEIVING_PROFESSIONAL, is_active=True)
        .order_by("last_name", "first_name"),
        teams=services.teams(), lawful_bases=[b for b in agreement.lawful_bases() if b.id in bases],
        items=choosable)
    rules = [{"label": r.recipient_type.label, "clause": r.clause, "days": r.package_expires_after_days,
              "categories": ", ".join(agreement.category_label(c) for c in r.categories),
              "bases": ", ".join(r.lawful_bases), "conditions": r.conditions}
             for r in agreement.doc.onward_disclosure]
    return form, views, rules


def _render_builder(request, enquiry, form, views, rules, package=None, status=200):
    groups = [{"view": v, "rows": [{"item": i, "field": form[f"item_{i.id}"] if f"item_{i.id}" in form.fields else None}
                                   for i in v.items]} for v in views if v.items]
    return render(request, "disclosure/builder.html", {
        "enquiry": enquiry, "child": enquiry.child, "form": form, "groups": groups, "rules": rules,
        "package": package, "decision": current_decision(enquiry)}, status=status)


def _save(request, enquiry, form, views, rules, call, package=None):
    saved, status = submit(form, lambda f: call(f.package_data()))
    if status is None:
        messages.success(request, "Draft saved. Check the preview: it is exactly what the recipient will see")
        return redirect("disclosure:package", package_id=saved.pk)
    return _render_builder(request, enquiry, form, views, rules, package, status)


@guarded(BUILD_PACKAGE, load=cases.enquiry, require=BUILD_PACKAGE, methods=FORM)
@translate_errors
def new(request, enquiry):
    user = request.user
    if request.method != "POST":
        form, views, rules = _builder(user, enquiry, initial=PackageForm.initial_from(decision=current_decision(enquiry)))
        return _render_builder(request, enquiry, form, views, rules)
    form, views, rules = _builder(user, enquiry, request.POST)
    return _save(request, enquiry, form, views, rules,
                 lambda data: services.create_package(enquiry, by=user, **data))


@guarded(BUILD_PACKAGE, load=selectors.package, keys=("package_id",), require=BUILD_PACKAGE, on=its_enquiry,
         methods=FORM)
@translate_errors
def edit(request, package):
    user = request.user
    enquiry = package.enquiry
    if package.status != PackageStatus.DRAFT:
        messages.info(request, "A package that has been sent cannot be changed: withdraw it and build a new one")
        return redirect("disclosure:package", package_id=package.pk)
    if request.method != "POST":
        form, views, rules = _builder(user, enquiry, initial=PackageForm.initial_from(package))
        return _render_builder(request, enquiry, form, views, rules, package)
    form, views, rules = _builder(user, enquiry, request.POST)
    return _save(request, enquiry, form, views, rules,
                 lambda data: services.update_package(package, by=user, **data), package)


class SendForm(forms.Form):
    """No fields: it carries what the send was refused for to the error summary."""


def _render_package(request, package, may, send_form=None, withdraw_form=None, status=200):
    content = selectors.package_content(request.user, package)
    return render(request, "disclosure/package.html", {
        "package": package, "content": content, "team": may.read(PACKAGES),
        "may_build": may.build_package,
        "send_form": send_form or SendForm(), "withdraw_form": withdraw_form or WithdrawPackageForm(),
        "bound_forms": [f for f in (send_form, withdraw_form) if f is not None and f.is_bound],
    }, status=status)


@guarded(VIEW_PACKAGE, load=selectors.package, keys=("package_id",), methods=SAFE)
@translate_errors
def package_detail(request, package, may):
    return _render_package(request, package, may)


# Sending and withdrawing: the service requires BUILD_PACKAGE, and a refusal shows on the package's page.
@guarded(BUILD_PACKAGE, load=selectors.package, keys=("package_id",), methods=POST)
@translate_errors
def send(request, package, may):
    user = request.user
    form = SendForm(request.POST)
    sent, status = submit(form, lambda f: services.send_package(package, by=user))
    if status is not None:
        package.refresh_from_db()
        return _render_package(request, package, may, send_form=form, status=status)
    messages.success(request, f"Package {sent.pk} sent to {sent.addressed_to}. It expires on "
                              f"{sent.expires_at:%-d %B %Y}")
    return redirect("disclosure:package", package_id=sent.pk)


@guarded(BUILD_PACKAGE, load=selectors.package, keys=("package_id",), methods=POST)
@translate_errors
def withdraw(request, package, may):
    user = request.user
    form = WithdrawPackageForm(request.POST)
    _, status = submit(form, lambda f: services.withdraw_package(package, by=user, reason=f.cleaned_data["reason"]))
    if status is None:
        messages.success(request, "The package is withdrawn: its recipient can no longer open it")
        return redirect("disclosure:package", package_id=package.pk)
    package.refresh_from_db()
    return _render_package(request, package, may, withdraw_form=form, status=status)


@guarded(VIEW_PACKAGE, load=selectors.package, keys=("package_id",), methods=SAFE)
@translate_errors
def pdf(request, package):
    return pdf_response(request.user, package)


@guarded(VIEW_PACKAGE, methods=SAFE)
def packages(request):
    """A receiving professional's packages (live ones addressed to them or their team); the team's all."""
    qs = selectors.packages(request.user).order_by("-sent_at", "-created_at", "-id")
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render(request, "disclosure/packages.html", {
        "page": page, "rows": list(page.object_list),
        "recipient_view": request.user.role == Role.RECEIVING_PROFESSIONAL})
