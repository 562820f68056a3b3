"""Parsing the case pages' input. The services decide what is valid; these forms only read it."""

import datetime as dt
import re

from django import forms
from django.utils import timezone

from mash.core.forms import DateInputField, OpenChoiceField, OpenMultipleChoiceField, is_blank
from mash.core.vocabulary import ConcernCategory, IntakeConsent, Outcome, RagRating, RecipientType, ReporterType
from mash.people.models import Gender, RelationshipType

RELATED_ROWS = 3
# Household rows can make more (a contact about another child in the household); never more than this.
MAX_RELATED_ROWS = 12


def _text(label, **kw):
    return forms.CharField(label=label, required=False, strip=True, **kw)


def _area(label, **kw):
    return forms.CharField(label=label, required=False, strip=True, widget=forms.Textarea, **kw)


class IdentityChoice(forms.Form):
    """Is this person already known? The user's choice among the people offered (people.selectors.identity):
    an existing person's id, or "new"; the radios are drawn with the offers (people/known_people.html) and
    checked by the view against the offers made again at submit, and the reason by the service."""

    identity = forms.CharField(required=False, widget=forms.HiddenInput)
    identity_reason = _area("Why? (needed for the same person, or a new person over a very likely match)")

    IDENTITY_FIELDS = ("identity", "identity_reason")

    def person_fields(self):
        return [name for name in self.fields if name not in self.IDENTITY_FIELDS]

    def chosen(self) -> str:
        return (self.cleaned_data.get("identity") or "").strip() if hasattr(self, "cleaned_data") else ""


class ChildForm(IdentityChoice):
    prefix = "child"

    first_name = _text("First name", widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}))
    last_name = _text("Last name", widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}))
    other_names = _text("Other names (optional)", help_text="Known as, or previous names")
    date_of_birth = DateInputField(label="Date of birth", required=False, help_text="For example, 27 3 2015")
    date_of_birth_estimated = forms.BooleanField(label="The date of birth is an estimate", required=False)
    unborn = forms.BooleanField(label="Not born yet (a pre-birth contact)", required=False)
    expected_date = DateInputField(label="Expected date of birth (for a child not born yet)", required=False,
                                   help_text="For example, 14 6 2027")
    gender = forms.ChoiceField(label="Gender", required=False, choices=Gender.choices, widget=forms.RadioSelect,
                               initial=Gender.UNKNOWN)
    nhs_number = _text("NHS number (optional)", help_text="10 digits, for example 485 777 3456",
                       widget=forms.TextInput(attrs={"inputmode": "numeric", "spellcheck": "false"}))
    upn = _text("Unique pupil number (optional)", help_text="13 characters, for example A123456789012",
                widget=forms.TextInput(attrs={"spellcheck": "false"}))
    address_line_1 = _text("Address line 1 (optional)")
    address_line_2 = _text("Address line 2 (optional)")
    town = _text("Town or city (optional)")
    postcode = _text("Postcode (optional)", widget=forms.TextInput(attrs={"autocomplete": "off"}))

    def person_data(self) -> dict:
        data = {name: self.cleaned_data.get(name) for name in self.person_fields()}
        data["gender"] = data["gender"] or Gender.UNKNOWN
        return data


class RelatedPersonForm(IdentityChoice):
    first_name = _text("First name")
    last_name = _text("Last name")
    relationship = forms.ChoiceField(label="Relationship to the child", required=False,
                                     choices=[("", "Choose a relationship")] + RelationshipType.choices)
    lives_with_child = forms.BooleanField(label="Lives with the child", required=False)
    parental_responsibility = forms.BooleanField(label="Has parental responsibility", required=False)
    # A person of the household the contact started from (?household=): already known, chosen by id.
    person_id = forms.IntegerField(required=False, widget=forms.HiddenInput, min_value=1, max_value=2**63 - 1)
    leave_out = forms.BooleanField(label="Not part of this contact", required=False)

    ROW_FIELDS = ("first_name", "last_name", "relationship", "lives_with_child", "parental_responsibility")

    def is_blank(self) -> bool:
        return self.cleaned_data.get("leave_out") or is_blank(self.cleaned_data, self.ROW_FIELDS)

    def person_data(self) -> dict:
        return {name: self.cleaned_data.get(name) for name in self.ROW_FIELDS}


class ContactForm(forms.Form):
    reporter_type = forms.ChoiceField(label="Who reported the concern?", required=False,
                                      choices=ReporterType.choices, widget=forms.RadioSelect)
    reporter_name = _text("Reporter's name", help_text="Leave blank for an anonymous contact")
    reporter_organisation = _text("Organisation (optional)")
    reporter_partner = OpenChoiceField(label="Partner agency (optional)", required=False,
                                       help_text="If the reporter works for an agency that signed the Information "
                                                 "Sharing Agreement")
    reporter_phone = _text("Phone number (optional)", widget=forms.TextInput(attrs={"autocomplete": "off"}))
    reporter_email = forms.EmailField(label="Email address (optional)", required=False,
                                      widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}))
    concern = _area("What is the concern?", help_text="What happened, when, and what the child said, in the "
                                                       "reporter's words where you can")
    concern_categories = forms.MultipleChoiceField(label="Concern categories", required=False,
                                                   choices=ConcernCategory.choices,
                                                   widget=forms.CheckboxSelectMultiple,
                                                   help_text="Select all that apply")
    consent_at_intake = forms.ChoiceField(label="Has the family consented to the contact being shared?",
                                          required=False, choices=IntakeConsent.choices, widget=forms.RadioSelect)
    consent_notes = _area("Notes on consent (optional)")
    received_date = DateInputField(label="Date received", required=False, help_text="For example, 27 3 2026")
    received_time = forms.TimeField(label="Time received", required=False, input_formats=["%H:%M", "%H.%M"],
                                    widget=forms.TimeInput(format="%H:%M"),
                                    help_text="24-hour clock, for example 14:30",
                                    error_messages={"invalid": "Enter the time received like 14:30"})

    summary_anchor = "contact-form"

    def __init__(self, *args, partners=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reporter_partner"].choices = [("", "Not a partner agency")] + [(p.slug, p.name) for p in partners]
        if not self.is_bound:
            now = timezone.localtime()
            self.initial.setdefault("received_date", now.date())
            self.initial.setdefault("received_time", now.time().replace(second=0, microsecond=0))

    def clean(self):
        cleaned = super().clean()
        day, time = cleaned.get("received_date"), cleaned.get("received_time")
        if day and time:
            cleaned["received_at"] = timezone.make_aware(dt.datetime.combine(day, time))
        elif day and "received_time" not in self.errors:
            self.add_error("received_time", "Enter the time received like 14:30")
        elif time and "received_date" not in self.errors:
            self.add_error("received_date", "Enter the date received")
        else:
            cleaned["received_at"] = None
        return cleaned

    def contact_data(self) -> dict:
        c = self.cleaned_data
        return dict(
            reporter_type=c["reporter_type"], reporter_name=c["reporter_name"],
            reporter_organisation=c["reporter_organisation"], reporter_partner=c["reporter_partner"] or None,
            reporter_phone=c["reporter_phone"], reporter_email=c["reporter_email"], concern=c["concern"],
            concern_categories=c["concern_categories"], consent_at_intake=c["consent_at_intake"],
            consent_notes=c["consent_notes"], received_at=c.get("received_at"),
        )


def related_forms(data=None, initial=()):
    """The rows of people around the child: three, or as many as were posted or prefilled from a household
    (`initial`: one dict per row), and a blank one after those."""
    rows = RELATED_ROWS
    if data is not None:
        posted = [int(m[1]) for m in (re.match(r"^related-(\d+)-", k) for k in data) if m]
        rows = max(rows, 1 + max(posted, default=-1))
    rows = min(max(rows, len(initial) + 1), MAX_RELATED_ROWS)
    initial = list(initial)
    return [RelatedPersonForm(data, prefix=f"related-{i}", initial=initial[i] if i < len(initial) else None)
            for i in range(rows)]


# --- Actions on an enquiry ----------------------------------------------------------------

class RateForm(forms.Form):
    prefix = "rate"
    summary_anchor = "rate"

    rating = forms.ChoiceField(label="RAG rating", required=False, choices=RagRating.choices,
                               widget=forms.RadioSelect,
                               help_text="The rating sets the deadline for the decision, as the ISA says")
    rationale = _area("Why this rating?")


class RequestInformationForm(forms.Form):
    prefix = "request"
    summary_anchor = "request-information"

    partners = OpenMultipleChoiceField(label="Which agencies do you want to ask?", required=False,
                                       widget=forms.CheckboxSelectMultiple)
    question = _area("What do you want to know? (optional)",
                     help_text="Each agency also sees the child's details and the concern")

    def __init__(self, *args, partners=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["partners"].choices = [(p.slug, p.name) for p in partners]


class MarkReadyForm(forms.Form):
    prefix = "ready"
    summary_anchor = "mark-ready"

    note = _area("Note (optional)")


class DecisionForm(forms.Form):
    prefix = "decision"
    summary_anchor = "decide"

    outcome = forms.ChoiceField(label="Outcome", required=False, choices=Outcome.choices, widget=forms.RadioSelect)
    rationale = _area("Why this decision?")
    recipient_type = forms.ChoiceField(label="Who will receive the case?", required=False,
                                       choices=[("", "Nobody: the case is not handed on")] + RecipientType.choices)
    receiving_team = _text("Receiving team", help_text="Needed when the case is handed on, unless you choose "
                                                       "a receiving professional")
    receiving_professional = OpenChoiceField(label="Receiving professional (optional)", required=False)
    # Shown when the child has repeat contacts (people/templatetags/people_history.py); the service decides.
    repeat_contacts_rationale = _area("Why is no further action right despite the repeat contacts?",
                                      help_text="Needed for no further action when the child has repeat contacts")

    def __init__(self, *args, professionals=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["receiving_professional"].choices = [("", "Nobody in particular")] + [
            (u.username, f"{u.display_name}{f' ({u.team})' if u.team else ''}") for u in professionals
        ]

    def decision_data(self) -> dict:
        return {name: self.cleaned_data.get(name) or "" for name in
                ("outcome", "rationale", "recipient_type", "receiving_team", "receiving_professional",
                 *(["repeat_contacts_rationale"] if "repeat_contacts_rationale" in self.fields else []))}


class AmendDecisionForm(DecisionForm):
    prefix = "amend"
    summary_anchor = "amend-decision"

    reason = _area("Why are you amending the decision?")
    field_order = ["reason", "outcome", "rationale", "repeat_contacts_rationale", "recipient_type", "receiving_team",
                   "receiving_professional"]


class CloseForm(forms.Form):
    prefix = "close"
    summary_anchor = "close"

    note = _area("Note (optional)")


class AssignForm(forms.Form):
    prefix = "assign"
    summary_anchor = "assign"

    member = OpenChoiceField(label="MASH team member", required=False)
    note = _area("Note (optional)")

    def __init__(self, *args, members=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["member"].choices = [("", "Choose a team member")] + [
            (u.username, f"{u.display_name}{f', {u.partner.name}' if u.partner_id else ''}") for u in members
        ]


class EndAssignmentForm(AssignForm):
    prefix = "end-assignment"
    summary_anchor = "end-assignment"
