"""Onward disclosure: building, sending and withdrawing the packages that go to whoever receives a case.

Only relevant parts go on (the seed): the manager chooses items of agencies' contributions and,
within each, the fields. Each choice is checked against the ISA's onward-disclosure rule for the
kind of recipient (its categories, its lawful bases, its expiry). Sealed items never go on, nor do
restricted ones (their agency limited them to the MASH managers). The consent, or the approved
sharing without consent, that the package relies on is checked when it is sent and recorded on it.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import BigIntegerField
from django.utils import timezone

from mash.access import gate, rules
from mash.accounts.models import Role, User
from mash.cases.models import Enquiry
from mash.cases.selectors import current_decision
from mash.cases.history import transition
from mash.cases.states import next_state
from mash.consent import selectors as consent
from mash.core.errors import InvalidTransition, IsaViolation, ValidationFailed
from mash.core.vocabulary import ConsentPurpose, RecipientType
from mash.partners import services as isa
from mash.sharing.models import Confidentiality, ContributionItem, ContributionKind

from .models import ConsentState, DisclosurePackage, PackageStatus
from .selectors import build_content, preview  # noqa: F401 (preview: what a draft would send, for callers)

# What may be chosen. The child's name, the outcome and, for each item, its agency and category
# always go: without them nothing else can be understood.
CHILD_FIELDS = {"date_of_birth": "Date of birth", "gender": "Gender", "nhs_number": "NHS number",
                "upn": "Unique pupil number", "address": "Address"}
DECISION_FIELDS = {"rationale": "The MASH's reasons for the decision"}
ITEM_FIELDS = {"content": "The information", "occurred_on": "When it happened",
               "relevance_note": "Why it is relevant"}


class PackageRefused(IsaViolation):
    """An item that may not go to this recipient: sealed, restricted, or outside the ISA's rule."""


def teams() -> list[str]:
    """The teams of active receiving professionals: the teams a package can be addressed to."""
    return sorted(set(User.objects.filter(role=Role.RECEIVING_PROFESSIONAL, is_active=True)
                      .exclude(team="").values_list("team", flat=True)))


def _recipient(errors: dict, recipient: str, recipient_team: str) -> tuple[User | None, str]:
    recipient, recipient_team = (recipient or "").strip(), (recipient_team or "").strip()
    if recipient and recipient_team:
        errors["recipient"] = ["Choose one professional or one team, not both"]
        return None, ""
    if not recipient and not recipient_team:
        errors["recipient"] = ["Choose the receiving professional or team"]
        return None, ""
    if recipient:
        user = User.objects.filter(username=recipient, is_active=True, role=Role.RECEIVING_PROFESSIONAL).first()
        if user is None:
            errors["recipient"] = [f"'{recipient}' is not an active receiving professional"]
        return user, ""
    match = next((t for t in teams() if t.lower() == recipient_team.lower()), None)
    if match is None:
        errors["recipient_team"] = [f"No active receiving professional is in the team '{recipient_team}'"]
    return None, match or ""


def _fields(errors: dict, key: str, chosen, allowed: dict) -> list[str]:
    chosen = list(dict.fromkeys(chosen or []))
    unknown = [f for f in chosen if f not in allowed]
    if unknown:
        errors.setdefault(key, []).append(f"Unknown field {', '.join(unknown)}: choose from {', '.join(allowed)}")
    return [f for f in allowed if f in chosen]  # in a fixed order


def _check(enquiry: Enquiry, agreement, *, recipient_type: str, lawful_basis: str, selection: dict):
    """Check a package against the ISA; returns (rule, normalised selection, items), or raises."""
    errors: dict[str, list[str]] = {}
    rule = None
    if recipient_type not in RecipientType.values:
        errors["recipient_type"] = ["Choose the kind of service receiving the case"]
    else:
        rule = agreement.onward_rule(recipient_type)
        if rule is None:
            raise IsaViolation(f"ISA {agreement.version} allows nothing to go to a "
                               f"{RecipientType(recipient_type).label.lower()}", field="recipient_type")
    if not (lawful_basis or "").strip():
        errors["lawful_basis"] = ["Choose the lawful basis this disclosure relies on"
                                  + (f": one of {', '.join(rule.lawful_bases)}" if rule else "")]
    selection = selection or {}
    if not isinstance(selection, dict):
        raise ValidationFailed({"selection": ["Choose the parts to pass on"]})
    chosen = {"child": _fields(errors, "selection.child", selection.get("child"), CHILD_FIELDS),
              "decision": _fields(errors, "selection.decision", selection.get("decision"), DECISION_FIELDS)}
    chosen["items"], ids = _chosen_items(errors, selection.get("items") or {})
    if errors:
        raise ValidationFailed(errors)
    if lawful_basis not in rule.lawful_bases:
        raise IsaViolation(
            f"ISA {agreement.version} clause {rule.clause} does not give '{lawful_basis}' as a lawful basis for "
            f"passing information to a {RecipientType(recipient_type).label.lower()}: choose one of "
            f"{', '.join(rule.lawful_bases) or '(none)'}", field="lawful_basis")
    return rule, chosen, _items_to_pass_on(enquiry, agreement, rule, recipient_type, ids)


def _chosen_items(errors: dict[str, list[str]], raw_items) -> tuple[dict[str, list[str]], list[int]]:
    """The items chosen ({item id: [fields]}, as given) and their ids; each problem added to `errors`."""
    if not isinstance(raw_items, dict):
        errors["selection.items"] = ["Give the chosen items as {item id: [fields]}"]
        raw_items = {}
    chosen, ids = {}, []
    for key, fields in raw_items.items():
        try:
            item_id = int(key)
        except (TypeError, ValueError):
            errors.setdefault("selection.items", []).append(f"'{key}' is not an item id")
            continue
        item_fields = _fields(errors, f"selection.items[{item_id}]", fields, ITEM_FIELDS)
        if not item_fields:
            continue  # nothing of it chosen
        if "content" not in item_fields:
            errors.setdefault(f"selection.items[{item_id}]", []).append(
                "An item passed on includes its information (content)")
        chosen[str(item_id)] = item_fields
        ids.append(item_id)
    return chosen, ids


def _items_to_pass_on(enquiry: Enquiry, agreement, rule, recipient_type: str, ids: list[int]) -> list:
    """The chosen items of this enquiry, in order; PackageRefused if the agency or the ISA keeps any of them
    back, ValidationFailed if any is not this enquiry's or not from the current answer."""
    errors: dict[str, list[str]] = {}
    # An id outside the database's range is no item of this enquiry (and the query would fail).
    in_range = [i for i in ids if 0 < i <= BigIntegerField.MAX_BIGINT]
    items = {i.pk: i for i in ContributionItem.objects.filter(pk__in=in_range, contribution__enquiry=enquiry)
             .select_related("contribution", "contribution__partner", "contribution__superseded_by")}
    refused = []
    for item_id in ids:
        item = items.get(item_id)
        if item is None:
            errors.setdefault("selection.items", []).append(f"Item {item_id} is not part of this enquiry")
            continue
        agency = item.contribution.partner.name
        if item.confidentiality == Confidentiality.SEALED or item.contribution.kind == ContributionKind.CONFIDENTIAL_HELD:
            refused.append(f"item {item_id} from {agency} is sealed to its agency and can never be passed on")
        elif item.confidentiality == Confidentiality.RESTRICTED:
            refused.append(f"item {item_id} from {agency} is restricted by its agency to the MASH managers; "
                           "it can be passed on only if the agency lifts the restriction")
        elif not item.contribution.is_current:
            errors.setdefault("selection.items", []).append(
                f"Item {item_id} is from an earlier version of {agency}'s answer: choose from the current one")
        elif item.category not in rule.categories:
            refused.append(f"item {item_id} from {agency} is {agreement.category_label(item.category).lower()}, "
                           f"which ISA {agreement.version} clause {rule.clause} does not let go to a "
                           f"{RecipientType(recipient_type).label.lower()}")
    if refused:
        raise PackageRefused("This package cannot be sent: " + "; ".join(refused), field="selection.items")
    if errors:
        raise ValidationFailed(errors)
    return [items[i] for i in ids]


def _draft_fields(enquiry, *, by, recipient_type, recipient, recipient_team, lawful_basis, selection):
    gate.require(by, rules.BUILD_PACKAGE, enquiry)
    next_state(enquiry.state, "send_package")  # only after the decision
    decision = current_decision(enquiry)
    _, agreement = isa.current()
    errors: dict[str, list[str]] = {}
    user, team = _recipient(errors, recipient, recipient_team)
    if errors:
        raise ValidationFailed(errors)
    _, chosen, _ = _check(enquiry, agreement, recipient_type=recipient_type, lawful_basis=lawful_basis,
                          selection=selection)
    return decision, user, team, chosen


def create_package(enquiry: Enquiry, *, by: User, recipient_type: str, lawful_basis: str, selection: dict,
                   recipient: str = "", recipient_team: str = "", cover_note: str = "") -> DisclosurePackage:
    """A draft package: nothing reaches the recipient until it is sent."""
    decision, user, team, chosen = _draft_fields(
        enquiry, by=by, recipient_type=recipient_type, recipient=recipient, recipient_team=recipient_team,
        lawful_basis=lawful_basis, selection=selection)
    with transaction.atomic():
        return DisclosurePackage.objects.create(
            enquiry=enquiry, decision=decision, recipient_type=recipient_type, recipient=user,
            recipient_team=team, cover_note=(cover_note or "").strip(), lawful_basis=lawful_basis,
            selection=chosen, created_by=by)


def update_package(package: DisclosurePackage, *, by: User, recipient_type: str, lawful_basis: str,
                   selection: dict, recipient: str = "", recipient_team: str = "",
                   cover_note: str = "") -> DisclosurePackage:
    """Change a draft. A sent package never changes."""
    decision, user, team, chosen = _draft_fields(
        package.enquiry, by=by, recipient_type=recipient_type, recipient=recipient, recipient_team=recipient_team,
        lawful_basis=lawful_basis, selection=selection)
    with transaction.atomic():
        locked = DisclosurePackage.objects.select_for_update().get(pk=package.pk)
        if locked.status != PackageStatus.DRAFT:
            raise InvalidTransition("A package that has been sent cannot be changed: withdraw it and build a new one")
        locked.decision, locked.recipient_type, locked.recipient, locked.recipient_team = (
            decision, recipient_type, user, team)
        locked.cover_note, locked.lawful_basis, locked.selection = (cover_note or "").strip(), lawful_basis, chosen
        locked.updated_at = timezone.now()
        locked.save()
    return locked


def send_package(package: DisclosurePackage, *, by: User) -> DisclosurePackage:
    """Check the draft again (the ISA, the items and consent may have changed), fix its content, send it."""
    enquiry = package.enquiry
    gate.require(by, rules.BUILD_PACKAGE, enquiry)
    next_state(enquiry.state, "send_package")
    version, agreement = isa.current()
    with transaction.atomic():
        locked = DisclosurePackage.objects.select_for_update().get(pk=package.pk)
        if locked.status != PackageStatus.DRAFT:
            raise InvalidTransition(f"This package was already {locked.get_status_display().lower()}")
        if locked.recipient_id and not (locked.recipient.is_active
                                        and locked.recipient.role == Role.RECEIVING_PROFESSIONAL):
            raise ValidationFailed({"recipient": [f"{locked.recipient.display_name} can no longer receive packages"]})
        if locked.recipient_team and locked.recipient_team.lower() not in {t.lower() for t in teams()}:
            raise ValidationFailed({"recipient_team": [f"No active receiving professional is in the team "
                                                       f"'{locked.recipient_team}'"]})
        rule, chosen, _ = _check(enquiry, agreement, recipient_type=locked.recipient_type,
                                 lawful_basis=locked.lawful_basis, selection=locked.selection)
        basis = consent.basis_for(enquiry, ConsentPurpose.ONWARD_DISCLOSURE)
        decision = current_decision(enquiry)
        addressee = locked.recipient.username if locked.recipient_id else f"team {locked.recipient_team}"
        transition(enquiry, "send_package", by,
                   note=f"package {locked.pk} to {addressee}: ISA {version.version} clause {rule.clause}, "
                        f"{locked.lawful_basis}, {basis.state}")
        now = timezone.now()
        locked.decision, locked.selection = decision, chosen
        locked.content = build_content(enquiry, decision, chosen, locked.cover_note, agreement)
        locked.isa_version, locked.isa_clause = version, rule.clause
        locked.lawful_basis_clause = agreement.lawful_basis(locked.lawful_basis).clause
        locked.consent_state = ConsentState.GIVEN if basis.consent else ConsentState.WITHOUT_CONSENT
        locked.consent_record, locked.consent_override = basis.consent, basis.override
        locked.status, locked.sent_by, locked.sent_at = PackageStatus.SENT, by, now
        locked.expires_at = now + dt.timedelta(days=rule.package_expires_after_days)
        locked.updated_at = now
        locked.save()
    return locked


def withdraw_package(package: DisclosurePackage, *, by: User, reason: str) -> DisclosurePackage:
    """Take a sent package back from its recipient. It is kept, marked withdrawn, with who, when and why."""
    enquiry = package.enquiry
    gate.require(by, rules.BUILD_PACKAGE, enquiry)
    next_state(enquiry.state, "withdraw_package")
    if not (reason or "").strip():
        raise ValidationFailed({"reason": ["Give the reason for withdrawing the package"]})
    with transaction.atomic():
        return _withdraw(package.pk, by=by, reason=reason.strip())


def _withdraw(package_id: int, *, by: User, reason: str) -> DisclosurePackage:
    locked = DisclosurePackage.objects.select_for_update().get(pk=package_id)
    if locked.status != PackageStatus.SENT:
        raise InvalidTransition("Only a package that was sent can be withdrawn" if locked.status == PackageStatus.DRAFT
                                else "This package was already withdrawn")
    transition(locked.enquiry, "withdraw_package", by, note=f"package {locked.pk} withdrawn")
    locked.status, locked.withdrawn_by, locked.withdrawn_at = PackageStatus.WITHDRAWN, by, timezone.now()
    locked.withdrawal_reason = reason
    locked.save(update_fields=["status", "withdrawn_by", "withdrawn_at", "withdrawal_reason"])
    return locked


def withdraw_relying_on(record, *, by: User, reason: str = "") -> list[DisclosurePackage]:
    """Consent was withdrawn (or refused): every package sent on it is withdrawn too, inside the
    caller's transaction."""
    reason = reason or f"Consent withdrawn on {timezone.localtime(record.withdrawn_at):%-d %B %Y}"
    return [_withdraw(pk, by=by, reason=reason)
            for pk in DisclosurePackage.objects.filter(consent_record=record, status=PackageStatus.SENT)
            .values_list("pk", flat=True)]
