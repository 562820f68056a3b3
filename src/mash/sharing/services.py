"""Asking partner agencies for information, and each agency's answer, checked against the ISA."""

from django.db import transaction
from django.utils import timezone

from mash.access import gate, rules
from mash.accounts.models import User
from mash.cases.models import Enquiry
from mash.cases.history import transition
from mash.cases.states import next_state
from mash.consent import services as consent
from mash.core.errors import DomainError, IsaViolation, ValidationFailed
from mash.core.vocabulary import ConsentPurpose
from mash.partners import services as isa
from mash.partners.models import Partner

from .models import (ConfidentialReason, Confidentiality, Contribution, ContributionItem, ContributionKind,
                     InformationRequest, RequestStatus)


def request_information(enquiry: Enquiry, *, by: User, partners: list[str], question: str = "") -> list[InformationRequest]:
    """Ask each named agency (by ISA id) for what it holds about the child."""
    gate.require(by, rules.REQUEST_INFORMATION, enquiry)
    next_state(enquiry.state, "request_information")  # a step out of order is reported before any field error
    _, agreement = isa.current()
    slugs = list(dict.fromkeys(partners or []))
    errors: dict[str, list[str]] = {}
    if not slugs:
        errors["partners"] = ["Choose at least one partner agency to ask"]
    for slug in slugs:
        if agreement.partner(slug) is None:
            errors.setdefault("partners", []).append(f"'{slug}' is not a partner to the current ISA")
    already = set(enquiry.information_requests.filter(partner__slug__in=slugs).values_list("partner__name", flat=True))
    if already:
        errors.setdefault("partners", []).append(f"Already asked: {', '.join(sorted(already))}")
    if errors:
        raise ValidationFailed(errors)
    # Asking an agency shares the child's details and the concern with it: consent, or approved
    # sharing without consent, must cover it.
    basis = consent.basis_for(enquiry, ConsentPurpose.MASH_ENQUIRY, slugs)
    with transaction.atomic():
        transition(enquiry, "request_information", by, note=", ".join(slugs) + f" ({basis.state})")
        now = timezone.now()
        made = [
            InformationRequest.objects.create(enquiry=enquiry, partner=p, question=(question or "").strip(),
                                              requested_by=by, requested_at=now, consent_record=basis.consent,
                                              consent_override=basis.override)
            for p in Partner.objects.filter(slug__in=slugs).order_by("name")
        ]
    gate.forget_facts(enquiry)
    return made


def _check(request: InformationRequest, agreement, *, kind, decision_reason, items, lawful_basis,
           confidential_reason):
    """Validate an answer against the ISA; returns the items to create, or raises naming each problem."""
    errors: dict[str, list[str]] = {}
    if kind not in ContributionKind.values:
        errors["kind"] = ["Choose whether to share, decline, or record confidential information held"]
    if not (decision_reason or "").strip():
        errors["decision_reason"] = ["Record why your agency made this decision"]
    entry = agreement.partner(request.partner.slug)
    if entry is None:
        raise IsaViolation(f"{request.partner.name} is not a partner to ISA {agreement.version}")
    items = list(items or [])
    if kind == ContributionKind.DECLINE:
        if items:
            errors["items"] = ["A decision not to share has no items"]
    elif kind in ContributionKind.values:
        if not items:
            errors["items"] = ["Add at least one item of information"]
        if lawful_basis not in entry.lawful_bases:
            errors["lawful_basis"] = [
                f"Choose the lawful basis from those the ISA gives {request.partner.name}: {', '.join(entry.lawful_bases)}"
            ]
    if kind == ContributionKind.CONFIDENTIAL_HELD and confidential_reason not in ConfidentialReason.values:
        errors["confidential_reason"] = ["Choose why the information is confidential"]
    if kind != ContributionKind.CONFIDENTIAL_HELD and confidential_reason:
        errors["confidential_reason"] = ["Only confidential information held has a confidentiality reason"]
    built = []
    refused = []
    for i, item in enumerate(items):
        category = (item.get("category") or "").strip()
        for name, label in (("content", "the information"), ("relevance_note", "why it is relevant")):
            if not (item.get(name) or "").strip():
                errors.setdefault(f"items[{i}].{name}", []).append(f"Enter {label}")
        permission = agreement.contribution_permission(request.partner.slug, category)
        if permission is None:
            refused.append((i, category))
            continue
        sealed = kind == ContributionKind.CONFIDENTIAL_HELD or item.get("confidentiality") == Confidentiality.SEALED
        confidentiality = Confidentiality.SEALED if sealed else item.get("confidentiality") or Confidentiality.NORMAL
        if confidentiality not in Confidentiality.values:
            errors.setdefault(f"items[{i}].confidentiality", []).append("Choose normal, restricted or sealed")
        built.append(dict(category=category, content=(item.get("content") or "").strip(),
                          relevance_note=(item.get("relevance_note") or "").strip(),
                          occurred_on=item.get("occurred_on") or None, confidentiality=confidentiality,
                          isa_clause=permission.clause))
    if refused:
        allowed = ", ".join(c.id for c in agreement.permitted_categories(request.partner.slug))
        names = ", ".join(f"'{c}' (items[{i}])" for i, c in refused)
        raise IsaViolation(
            f"ISA {agreement.version} does not allow {request.partner.name} to share {names}. "
            f"Its permitted categories are: {allowed}",
            field="items",
        )
    if errors:
        raise ValidationFailed(errors)
    return built


def _save(request, by, version, *, kind, decision_reason, lawful_basis, confidential_reason, items,
          number=1, supersedes=None, amendment_reason="", unsealed=False):
    contribution = Contribution.objects.create(
        request=request, enquiry=request.enquiry, partner=request.partner, version=number, supersedes=supersedes,
        amendment_reason=amendment_reason, unsealed=unsealed, kind=kind, decision_reason=decision_reason.strip(),
        lawful_basis=lawful_basis if kind != ContributionKind.DECLINE else "",
        confidential_reason=confidential_reason or "", contributed_by=by, isa_version=version,
    )
    for i in items:  # one by one: each item's text is encrypted with its own row id (keys.fields)
        ContributionItem.objects.create(contribution=contribution, **i)
    if supersedes is not None:  # the files of items the new version leaves as they were go with them
        from mash.attachments.services import carry_forward

        carry_forward(supersedes, contribution)
    if request.status != RequestStatus.ANSWERED:
        request.status = RequestStatus.ANSWERED
        request.save(update_fields=["status"])
    return contribution


def contribute(request: InformationRequest, *, by: User, kind: str, decision_reason: str, items: list[dict] = (),
               lawful_basis: str = "", confidential_reason: str = "") -> Contribution:
    """The agency's case-by-case answer: share items, decline with a reason, or record confidential information held."""
    gate.require(by, rules.ANSWER_REQUEST, request)
    if request.status == RequestStatus.ANSWERED:
        raise DomainError("Your agency has already answered this request: amend the answer instead")
    if request.status == RequestStatus.LAPSED:
        raise DomainError("This request lapsed when the MASH manager recorded the decision")
    version, agreement = isa.current()
    built = _check(request, agreement, kind=kind, decision_reason=decision_reason, items=items,
                   lawful_basis=lawful_basis, confidential_reason=confidential_reason)
    with transaction.atomic():
        transition(request.enquiry, "contribute", by, note=f"{request.partner.slug}: {kind}")
        return _save(request, by, version, kind=kind, decision_reason=decision_reason, lawful_basis=lawful_basis,
                     confidential_reason=confidential_reason, items=built)


def amend_contribution(request: InformationRequest, *, by: User, reason: str, kind: str, decision_reason: str,
                       items: list[dict] = (), lawful_basis: str = "", confidential_reason: str = "") -> Contribution:
    """A new version of the agency's answer; the earlier version is kept."""
    gate.require(by, rules.ANSWER_REQUEST, request)
    if not (reason or "").strip():
        raise ValidationFailed({"reason": ["Give a reason for the amendment"]})
    previous = request.contributions.filter(superseded_by__isnull=True).first()
    if previous is None:
        raise DomainError("Your agency has not answered this request yet")
    version, agreement = isa.current()
    built = _check(request, agreement, kind=kind, decision_reason=decision_reason, items=items,
                   lawful_basis=lawful_basis, confidential_reason=confidential_reason)
    with transaction.atomic():
        transition(request.enquiry, "contribute", by, note=f"{request.partner.slug}: amended")
        return _save(request, by, version, kind=kind, decision_reason=decision_reason, lawful_basis=lawful_basis,
                     confidential_reason=confidential_reason, items=built, number=previous.version + 1,
                     supersedes=previous, amendment_reason=reason.strip())


UNSEAL_LEVELS = (Confidentiality.RESTRICTED, Confidentiality.NORMAL)


def unseal(request: InformationRequest, *, by: User, reason: str, level: str = Confidentiality.RESTRICTED) -> Contribution:
    """The contributing agency lifts its own seal: a new version of its answer in which every sealed
    item is readable at `level` (restricted: the MASH managers and the agency; normal: the MASH team),
    and "confidential information held" becomes a share. Only that agency may do it, and it is
    recorded: the version is marked `unsealed`, with the reason, and the enquiry's history says so."""
    gate.require(by, rules.UNSEAL, request)
    errors: dict[str, list[str]] = {}
    if not (reason or "").strip():
        errors["reason"] = ["Give the reason the information can now be shared"]
    if level not in UNSEAL_LEVELS:
        errors["level"] = ["Choose who may read the unsealed information: restricted or normal"]
    with transaction.atomic():
        enquiry = Enquiry.objects.select_for_update().get(pk=request.enquiry_id)
        next_state(enquiry.state, "unseal")
        # The enquiry row is locked above, so two unseals (or an unseal and an amendment) cannot race.
        previous = request.contributions.filter(superseded_by__isnull=True).first()
        if previous is None:
            raise DomainError("Your agency has not answered this request yet")
        sealed_items = [i for i in previous.items.all() if i.confidentiality == Confidentiality.SEALED]
        if previous.kind != ContributionKind.CONFIDENTIAL_HELD and not sealed_items:
            raise DomainError("Nothing in your agency's answer is sealed")
        if errors:
            raise ValidationFailed(errors)
        version, _ = isa.current()
        items = [dict(category=i.category, content=i.content, relevance_note=i.relevance_note,
                      occurred_on=i.occurred_on, isa_clause=i.isa_clause,
                      confidentiality=level if i.confidentiality == Confidentiality.SEALED else i.confidentiality)
                 for i in previous.items.all()]
        transition(request.enquiry, "unseal", by, note=f"{request.partner.slug}: unsealed to {level}")
        kind = ContributionKind.SHARE if previous.kind == ContributionKind.CONFIDENTIAL_HELD else previous.kind
        return _save(request, by, version, kind=kind, decision_reason=previous.decision_reason,
                     lawful_basis=previous.lawful_basis, confidential_reason="", items=items,
                     number=previous.version + 1, supersedes=previous, amendment_reason=reason.strip(),
                     unsealed=True)
