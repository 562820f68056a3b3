"""Reading disclosure packages, through the gate: the packages a user may see, one package, what it says
(`package_content`, for a draft what it would say if sent now: `build_content` is the one code that makes
it), and the contributions a manager builds one from."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils import timezone

from mash.access import gate
from mash.access.filters import package_filter
from mash.access.rules import BUILD_PACKAGE, PACKAGES, READ_FIELD, VIEW_PACKAGE
from mash.audit import services as audit
from mash.cases.models import Enquiry
from mash.cases.selectors import current_decision
from mash.partners.selectors import current
from mash.sharing.models import ContributionItem
from mash.sharing.selectors import ContributionView, contribution_views

from .models import DisclosurePackage


def build_content(enquiry: Enquiry, decision, selection: dict, cover_note: str, agreement) -> dict:
    """Exactly what the recipient will see: the preview shows it, and sending fixes it."""
    child = enquiry.child
    child_out = {"full_name": child.full_name}
    for f in selection.get("child", []):
        child_out[f] = {"date_of_birth": child.date_of_birth.isoformat() if child.date_of_birth else "",
                        "gender": child.get_gender_display(), "nhs_number": child.nhs_number, "upn": child.upn,
                        "address": child.address}[f]
    decision_out = {"outcome": decision.outcome, "outcome_label": decision.get_outcome_display(),
                    "decided_on": timezone.localdate(decision.decided_at).isoformat()}
    if "rationale" in selection.get("decision", []):
        decision_out["rationale"] = decision.rationale
    chosen = selection.get("items", {})
    items = (ContributionItem.objects.filter(pk__in=[int(i) for i in chosen], contribution__enquiry=enquiry)
             .select_related("contribution__partner").order_by("contribution__partner__name", "id"))
    items_out = []
    for item in items:
        entry = {"agency": item.contribution.partner.name, "category": item.category,
                 "category_label": agreement.category_label(item.category)}
        for f in chosen[str(item.pk)]:
            value = getattr(item, f)
            entry[f] = value.isoformat() if isinstance(value, dt.date) else (value or "")
        items_out.append(entry)
    return {"enquiry_reference": enquiry.reference, "child": child_out, "decision": decision_out,
            "cover_note": cover_note, "items": items_out}


def preview(package: DisclosurePackage) -> dict:
    """What the recipient sees: the fixed content of a sent package, or what a draft would send now."""
    if package.content is not None:
        return package.content
    _, agreement = current()
    return build_content(package.enquiry, current_decision(package.enquiry), package.selection,
                         package.cover_note, agreement)


# --- Through the gate ------------------------------------------------------------------------------


def _describe_package(obj: DisclosurePackage):
    return f"package {obj.pk}", [obj.enquiry.child_id]


def _packages(user) -> QuerySet[DisclosurePackage]:
    return gate.filtered(user, DisclosurePackage.objects.select_related("enquiry", "enquiry__child", "recipient",
                                                                    "isa_version"),
                     lambda: package_filter(user))


def packages(user) -> QuerySet[DisclosurePackage]:
    """The disclosure packages `user` may see. Rows loaded from it are recorded as read."""
    return audit.track(_packages(user), "package", _describe_package)


def enquiry_packages(user, enquiry_obj: Enquiry) -> list[DisclosurePackage]:
    """The packages built from one enquiry (the team's), newest first; looking is a read of the enquiry."""
    gate.require(user, READ_FIELD, enquiry_obj, PACKAGES)
    audit.note_read("enquiry", enquiry_obj.reference, [enquiry_obj.child_id], (PACKAGES,))
    return list(packages(user).filter(enquiry=enquiry_obj).order_by("-created_at", "-id"))


def package(user, pk: int) -> DisclosurePackage:
    """One disclosure package the user may see; its content is read through `package_content`."""
    found = _packages(user).filter(pk=pk).first()
    if found is None:
        raise gate.not_found(user, VIEW_PACKAGE, "disclosurepackage", pk,
                             DisclosurePackage.objects.filter(pk=pk).select_related("enquiry").first(),
                             "no such package")
    return found


def package_content(user, package_obj: DisclosurePackage) -> dict:
    """What the package says (for a draft, what it would say if sent now), recorded as read.

    The recipient reads the content fixed when it was sent and nothing of the enquiry behind it."""
    gate.require(user, VIEW_PACKAGE, package_obj)
    content = preview(package_obj)
    audit.note_read("package", str(package_obj.pk), [package_obj.enquiry.child_id], ("package",))
    return content


@dataclass
class PackageRead:
    """A package as one user reads it: what it says (`content`, from `package_content`) and whether they
    read the enquiry's packages as the MASH team (`team`: the selection and a withdrawal are theirs
    only). The package's own fields read through to it."""

    package: DisclosurePackage
    content: dict
    team: bool

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.package, name)


def package_read(user, package_obj: DisclosurePackage) -> PackageRead:
    content = package_content(user, package_obj)
    team = bool(gate.decide(user, READ_FIELD, package_obj.enquiry, PACKAGES))
    return PackageRead(package=package_obj, content=content, team=team)


def package_choices(user, enquiry_obj: Enquiry, agreement=None) -> list[ContributionView]:
    """The contributions a manager builds a package from: only what they may read, redacted as ever."""
    gate.require(user, BUILD_PACKAGE, enquiry_obj)
    return contribution_views(user, enquiry_obj, agreement)

