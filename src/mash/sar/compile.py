"""What is held about a person, gathered for a subject access request (docs/sar.md).

For each person the request concerns: their details; the family and household recorded with them;
every enquiry in which they are the child or one of the child's recorded people, with its contact,
RAG ratings, decisions, agencies' answers and every item shared (sealed ones as a marker only: their
content is never read here), disclosure packages sent, consent records and sharing without consent;
and, from the audit log, which organisations received or read their data.

Each piece becomes a candidate SarItem: (source, source_id, title, date, agency, category, fields).
Other people's details found in the text are proposed for redaction; the subject's own never are.

Per person, not per record: a record merged into another (`Person.merged_into`) keeps its enquiries,
contacts and consent where they are, so everything is gathered over `people.selectors.records_of` of
the record kept, and what several records or contacts say alike (the same family link recorded at two
contacts) is one item.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from django.db.models import Count, Max, Min, Q
from django.utils import timezone

from mash.audit.models import AuditEvent, EventPerson
from mash.cases.models import Enquiry
from mash.consent.models import ConsentRecord, ConsentOverride
from mash.core.dates import long_date
from mash.disclosure.models import DisclosurePackage
from mash.keys import integrity
from mash.partners import services as isa
from mash.partners.models import Partner
from mash.people.models import LocalIdentifier, NameKind, Person, PersonAddress, PersonName, Relationship
from mash.people.selectors import kept_record, records_of
from mash.sharing.models import Confidentiality, Contribution, ContributionKind

from .models import ItemSource

SOCIAL_WORK_AGENCIES = frozenset({"thurrock-council"})
COUNCIL = "Thurrock Council (MASH)"


@dataclass
class Candidate:
    person_id: int
    source: str
    source_id: int
    title: str
    fields: dict[str, str]
    held_on: dt.date | None = None
    enquiry_reference: str = ""
    agency: str = ""
    category: str = ""
    sealed: bool = False
    social_work: bool = False
    proposed_redactions: list[str] = field(default_factory=list)


def _day(value) -> dt.date | None:
    if value is None:
        return None
    return timezone.localtime(value).date() if isinstance(value, dt.datetime) else value


def _fmt(value) -> str:
    if value is None or value == "":
        return ""
    if integrity.unreadable(value):
        return value  # kept as the stand-in, so it can never be sealed into the compile as if genuine
    if isinstance(value, dt.datetime):
        value = timezone.localtime(value)
        return f"{long_date(value.date())} {value:%H:%M}"
    if isinstance(value, dt.date):
        return long_date(value)
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    return str(value)


def _passed_on(content: dict) -> str:
    """The agencies and categories a package passed on. A content that failed its integrity check gives its
    stand-in text, which can never be copied into the compile (DamagedData): not compiled as empty."""
    if integrity.unreadable(content):
        return content[integrity.UnreadableData.LABEL]
    return "; ".join(f"{i.get('agency', '')}: {i.get('category_label', '')}" for i in content.get("items", []))


def _fields(**pairs) -> dict[str, str]:
    """Label -> text, leaving out what is empty. Labels are written with underscores for spaces."""
    return {k.replace("_", " "): _fmt(v) for k, v in pairs.items() if _fmt(v)}


def person_details(person: Person, records=()) -> dict[str, str]:
    """The person's details as recorded: the kept record's, their previous names and aliases, earlier
    addresses and the agencies' own identifiers, and what records merged into theirs hold differently."""
    ids = list(records) or [person.pk]
    others = [p for p in Person.objects.filter(pk__in=ids).exclude(pk=person.pk)]
    names = list(PersonName.objects.filter(person_id__in=ids))

    def differing(attr):
        return sorted({_fmt(getattr(o, attr)) for o in others if getattr(o, attr)} - {_fmt(getattr(person, attr))})

    addresses = {a.address for a in PersonAddress.objects.filter(person_id__in=ids)} | {o.address for o in others}
    return _fields(
        Name=person.full_name, Other_names=person.other_names,
        Previous_names=sorted({n.full_name for n in names if n.kind == NameKind.PREVIOUS} - {person.full_name}),
        Also_known_as=sorted({n.full_name for n in names if n.kind == NameKind.ALIAS} - {person.full_name}),
        Also_recorded_as=differing("full_name"),
        Date_of_birth=person.date_of_birth, Other_dates_of_birth_recorded=differing("date_of_birth"),
        Gender=person.get_gender_display(), NHS_number=person.nhs_number,
        Other_NHS_numbers_recorded=differing("nhs_number"), Unique_pupil_number=person.upn,
        Other_unique_pupil_numbers_recorded=differing("upn"), Address=person.address,
        Other_addresses=sorted(addresses - {person.address, ""}),
        Identifiers_held_by_agencies=sorted(f"{i.agency.name}: {i.value}" for i in
                                            LocalIdentifier.objects.filter(person_id__in=ids).select_related("agency")))


def enquiries_concerning(person: Person):
    """Enquiries in which the person (any of their records) is the child, or one of the people recorded
    with the child."""
    records = records_of(kept_record(person))
    children = Relationship.objects.filter(person_id__in=records).values("child_id")
    return (Enquiry.objects.filter(Q(child_id__in=records) | Q(child_id__in=children))
            .select_related("contact", "child").order_by("created_at", "id"))


def gather(person: Person) -> list[Candidate]:
    """Everything held about the person, over every record that is them (`records_of` of the record
    kept): each piece once, under the record kept."""
    person = kept_record(person)
    records = records_of(person)
    _, agreement = isa.current()
    out: list[Candidate] = [Candidate(person.pk, ItemSource.PERSON, person.pk, "Your details as recorded",
                                      person_details(person, records), held_on=_day(person.created_at),
                                      agency=COUNCIL)]
    out += _family(person, records)
    for enquiry in enquiries_concerning(person):
        out += _enquiry(person, enquiry, agreement)
    for record in ConsentRecord.objects.filter(person_id__in=records).select_related("enquiry"):
        out.append(Candidate(person.pk, ItemSource.CONSENT, record.pk, "Consent to share information", _fields(
            Consent=record.get_status_display(), Why_not_sought=record.get_not_sought_reason_display(),
            Given_or_refused_by=record.given_by, Covers=record.purposes, Agencies=record.agencies,
            Notes=record.notes, Withdrawn=record.withdrawn_at, Reason_for_withdrawal=record.withdrawal_reason),
            held_on=_day(record.recorded_at), enquiry_reference=record.enquiry.reference or "", agency=COUNCIL))
    recipients = recipients_of(person)
    if recipients:
        out.append(Candidate(person.pk, ItemSource.RECIPIENTS, person.pk, "Organisations that received or read "
                             "your information", {r["organisation"]: r["summary"] for r in recipients},
                             agency=COUNCIL))
    return out


def _family(person: Person, records: list[int]) -> list[Candidate]:
    """Family and household: each link once. The same link recorded at several contacts (or on records
    since merged) is one item, naming the other person by the record kept."""
    out, seen = [], set()
    links = (Relationship.objects.filter(Q(child_id__in=records) | Q(person_id__in=records))
             .select_related("child", "person").order_by("created_at", "id"))
    for rel in links:
        as_child = rel.child_id in records
        other = rel.person if as_child else rel.child
        if other.pk in records:
            continue
        other = kept_record(other)
        fields = _fields(
            Person=f"{other.first_name} {other.last_name}",
            Relationship=(f"{rel.get_relationship_display()} of the child" if as_child
                          else f"You are recorded as {rel.get_relationship_display().lower()} of this child"),
            Lives_with_the_child="yes" if rel.lives_with_child else "no",
            Parental_responsibility="yes" if rel.parental_responsibility else "no", From=rel.from_date,
            Until=rel.to_date)
        key = (other.pk, as_child, tuple(fields.items()))
        if key in seen:
            continue
        seen.add(key)
        out.append(Candidate(person.pk, ItemSource.RELATIONSHIP, rel.pk, "Family and household", fields,
                             held_on=_day(rel.created_at), agency=COUNCIL))
    return out


def _enquiry(person: Person, enquiry: Enquiry, agreement) -> list[Candidate]:
    ref = enquiry.reference or ""
    contact = enquiry.contact
    out = [Candidate(person.pk, ItemSource.CONTACT, contact.pk, "Contact to the MASH", _fields(
        Received=contact.received_at, Reported_by=contact.get_reporter_type_display(),
        Reporter=contact.reporter_name, Reporter_organisation=contact.reporter_organisation,
        Concern=contact.concern, Concern_categories=contact.concern_categories,
        Consent_at_the_contact=contact.get_consent_at_intake_display(), Consent_notes=contact.consent_notes),
        held_on=_day(contact.received_at), enquiry_reference=ref, agency=COUNCIL, social_work=True)]
    for rating in enquiry.ratings.all().order_by("rated_at", "id"):
        out.append(Candidate(person.pk, ItemSource.RATING, rating.pk, "RAG rating", _fields(
            Rating=rating.get_rating_display(), Why=rating.rationale, Rated=rating.rated_at),
            held_on=_day(rating.rated_at), enquiry_reference=ref, agency=COUNCIL, social_work=True))
    for decision in enquiry.decisions.all().order_by("decided_at", "id"):
        out.append(Candidate(person.pk, ItemSource.DECISION, decision.pk, "The MASH manager's decision", _fields(
            Outcome=decision.get_outcome_display(), Why=decision.rationale, Decided=decision.decided_at,
            Passed_to=decision.get_recipient_type_display() if decision.recipient_type else "",
            Amended_because=decision.amendment_reason),
            held_on=_day(decision.decided_at), enquiry_reference=ref, agency=COUNCIL, social_work=True))
    out += _contributions(person, enquiry, agreement, ref)
    for package in DisclosurePackage.objects.filter(enquiry=enquiry).exclude(status="draft"):
        content = package.content or {}
        out.append(Candidate(person.pk, ItemSource.PACKAGE, package.pk, "Information passed on after the decision",
                             _fields(Passed_to=package.addressed_to, Kind_of_recipient=package.get_recipient_type_display(),
                                     Sent=package.sent_at, Lawful_basis=package.lawful_basis,
                                     What_was_passed_on=_passed_on(content),
                                     Status=package.state_label, Withdrawn_because=package.withdrawal_reason),
                             held_on=_day(package.sent_at), enquiry_reference=ref, agency=COUNCIL, social_work=True))
    for override in ConsentOverride.objects.filter(enquiry=enquiry):
        out.append(Candidate(person.pk, ItemSource.OVERRIDE, override.pk, "Information shared without consent",
                             _fields(Why=override.justification, Lawful_basis=override.lawful_basis,
                                     For=override.purposes, Status=override.get_status_display(),
                                     Decided=override.decided_at),
                             held_on=_day(override.proposed_at), enquiry_reference=ref, agency=COUNCIL,
                             social_work=True))
    return out


def _contributions(person: Person, enquiry: Enquiry, agreement, ref: str) -> list[Candidate]:
    """What the agencies answered on the enquiry: each item, or that an answer is held or declined."""
    out = []
    contributions = (Contribution.objects.filter(enquiry=enquiry).select_related("partner")
                     .prefetch_related("items").order_by("contributed_at", "id"))
    for c in contributions:
        social = c.partner.slug in SOCIAL_WORK_AGENCIES
        if c.kind == ContributionKind.CONFIDENTIAL_HELD:
            # Only the agency may read what it holds: the compile records that something is held, no more.
            out.append(Candidate(person.pk, ItemSource.CONTRIBUTION, c.pk, f"Confidential information held by "
                                 f"{c.partner.name}", {}, held_on=_day(c.contributed_at), enquiry_reference=ref,
                                 agency=c.partner.name, sealed=True, social_work=social))
            continue
        if c.kind == ContributionKind.DECLINE:
            out.append(Candidate(person.pk, ItemSource.CONTRIBUTION, c.pk, f"{c.partner.name} declined to share",
                                 _fields(Answer=c.get_kind_display(), Reason=c.decision_reason),
                                 held_on=_day(c.contributed_at), enquiry_reference=ref, agency=c.partner.name,
                                 social_work=social))
            continue
        for item in c.items.all():
            label = agreement.category_label(item.category)
            if item.confidentiality == Confidentiality.SEALED:
                out.append(Candidate(person.pk, ItemSource.ITEM, item.pk, f"Sealed item from {c.partner.name}", {},
                                     held_on=_day(c.contributed_at), enquiry_reference=ref, agency=c.partner.name,
                                     category=label, sealed=True, social_work=social))
                continue
            out.append(Candidate(person.pk, ItemSource.ITEM, item.pk, label, _fields(
                What_was_shared=item.content, Why_it_is_relevant=item.relevance_note, Date=item.occurred_on,
                Shared=c.contributed_at), held_on=_day(c.contributed_at), enquiry_reference=ref,
                agency=c.partner.name, category=label, social_work=social))
    return out


def recipients_of(person: Person) -> list[dict]:
    """From the audit log: each organisation whose staff read, received or exported the person's data,
    with how often and when (first and last)."""
    names = {p.slug: p.name for p in Partner.objects.all()}
    records = records_of(kept_record(person))
    rows = (AuditEvent.objects.filter(pk__in=EventPerson.objects.filter(person_id__in=records).values("event_id"),
                                      kind__in=["read", "disclosure", "export"], result="ok")
            .values("organisation").annotate(n=Count("id"), first=Min("at"), last=Max("at")).order_by("organisation"))
    out = []
    for row in rows:
        org = names.get(row["organisation"], row["organisation"]) or COUNCIL
        out.append({"organisation": org, "times": row["n"], "first": _day(row["first"]), "last": _day(row["last"]),
                    "summary": f"{row['n']} time{'s' if row['n'] != 1 else ''}, {_fmt(_day(row['first']))}"
                               f" to {_fmt(_day(row['last']))}"})
    for package in DisclosurePackage.objects.filter(
            enquiry__in=enquiries_concerning(person), sent_at__isnull=False):
        out.append({"organisation": package.addressed_to, "times": 1, "first": _day(package.sent_at),
                    "last": _day(package.sent_at),
                    "summary": f"disclosure package sent {_fmt(_day(package.sent_at))}"})
    return out


# --- Third parties ---------------------------------------------------------------------------------

def _dates(day: dt.date | None) -> set[str]:
    return {day.isoformat(), long_date(day), day.strftime("%d/%m/%Y")} if day else set()


def _details_of(ids) -> dict[int, set[str]]:
    """Each person's names and details as they may appear in free text: current, previous and other
    names (whole and each word), NHS number, UPN, addresses (first line and postcode, current and
    earlier), agencies' identifiers, date of birth; keyed by person id."""
    out: dict[int, set[str]] = {}
    for p in Person.objects.filter(pk__in=ids):
        out.setdefault(p.pk, set()).update({p.full_name, p.first_name, p.last_name, p.other_names, p.nhs_number,
                                            p.upn, p.address_line_1, p.postcode, *_dates(p.date_of_birth)})
    for n in PersonName.objects.filter(person_id__in=ids):
        out.setdefault(n.person_id, set()).update({n.full_name, n.first_name, n.last_name})
    for a in PersonAddress.objects.filter(person_id__in=ids):
        out.setdefault(a.person_id, set()).update({a.address_line_1, a.postcode})
    for i in LocalIdentifier.objects.filter(person_id__in=ids):
        out.setdefault(i.person_id, set()).add(i.value)
    return {pk: {t.strip() for t in terms if t and t.strip()} for pk, terms in out.items()}


def _proposable(term: str, pk_full_names: set[str]) -> bool:
    """A whole name is always proposed; a single word, an identifier or an address only when distinctive
    (three characters for a name word, four for the rest)."""
    return term in pk_full_names or len(term) >= (3 if term.replace(" ", "").isalpha() else 4)


def third_party_terms(subjects: list[Person], enquiries) -> list[str]:
    """Other people's names and details that may appear in free text: the people recorded on the
    enquiries who are not subjects of the request (over every record of each child), and the contacts'
    reporters. A subject's own details (any of their records: names current and previous, addresses
    current and earlier, identifiers, date of birth) are never proposed, even where someone else shares
    them: a surname, the home a child shares with a parent. Longest first."""
    subject_ids = {pk for p in subjects for pk in records_of(kept_record(p))}
    people: set[int] = set()
    reporters = set()
    for enquiry in enquiries:
        child_records = records_of(kept_record(enquiry.child))
        people.update(child_records)
        people.update(Relationship.objects.filter(child_id__in=child_records).values_list("person_id", flat=True))
        if enquiry.contact.reporter_name:
            reporters.add(enquiry.contact.reporter_name.strip())
    own = {t.lower() for terms in _details_of(subject_ids).values() for t in terms}
    full_names = {f"{p.first_name} {p.last_name}".strip() for p in Person.objects.filter(pk__in=people - subject_ids)}
    terms = set(reporters) | full_names
    for terms_of_one in _details_of(people - subject_ids).values():
        terms.update(t for t in terms_of_one if _proposable(t, full_names))
    return sorted((t for t in terms if t and t.lower() not in own), key=lambda t: (-len(t), t.lower()))


def _pattern(term: str) -> re.Pattern:
    return re.compile(r"(?<!\w)" + re.escape(term) + r"(?!\w)", re.IGNORECASE)


def found_in(fields: dict[str, str], terms: list[str]) -> list[str]:
    text = "\n".join(f"{k}\n{v}" for k, v in fields.items())
    return [t for t in terms if _pattern(t).search(text)]


def redact(fields: dict[str, str], terms: list[str], mark: str) -> dict[str, str]:
    """The fields with every term (longest first, whole words, any case) replaced by `mark`."""
    ordered = sorted(set(terms), key=lambda t: (-len(t), t.lower()))
    out = {}
    for label, value in fields.items():
        for term in ordered:
            label = _pattern(term).sub(mark, label)
            value = _pattern(term).sub(mark, value)
        out[label] = value
    return out
