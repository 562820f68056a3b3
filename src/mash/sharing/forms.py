"""Parsing an agency's answer to a request. The ISA checks are the service's: categories and lawful
bases offered here are a convenience, and anything else posted is passed on for the service to refuse."""

import re

from django import forms

from mash.core.forms import DateInputField, OpenChoiceField, is_blank

from .models import ConfidentialReason, Confidentiality, ContributionKind

ITEM_ROWS = 3
MAX_ROWS = 50
_ROW = re.compile(r"^item-(\d+)-")


class ContributionForm(forms.Form):
    summary_anchor = "answer"

    kind = forms.ChoiceField(label="What is your agency's answer?", required=False,
                             choices=ContributionKind.choices, widget=forms.RadioSelect,
                             help_text="Confidential information held: the MASH manager sees only that your agency "
                                       "holds information and why it cannot be shared; the content stays sealed "
                                       "to your agency")
    decision_reason = forms.CharField(label="Why did your agency make this decision?", required=False,
                                      widget=forms.Textarea,
                                      help_text="Your case-by-case reason for sharing, declining or holding back")
    lawful_basis = OpenChoiceField(label="Lawful basis for sharing", required=False,
                                   help_text="Not needed when you decline to share")
    confidential_reason = forms.ChoiceField(label="Why is the information confidential?", required=False,
                                            choices=[("", "Not applicable")] + ConfidentialReason.choices,
                                            help_text="Only for confidential information held")

    def __init__(self, *args, lawful_bases=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["lawful_basis"].choices = [("", "Choose a lawful basis")] + [
            (b.id, f"{b.description} (clause {b.clause})") for b in lawful_bases
        ]

    def answer_data(self) -> dict:
        c = self.cleaned_data
        return dict(kind=c["kind"], decision_reason=c["decision_reason"], lawful_basis=c["lawful_basis"],
                    confidential_reason=c["confidential_reason"])


class AmendContributionForm(ContributionForm):
    reason = forms.CharField(label="Why are you amending your agency's answer?", required=False,
                             widget=forms.Textarea)

    field_order = ["reason", "kind", "decision_reason", "lawful_basis", "confidential_reason"]


class ItemForm(forms.Form):
    category = OpenChoiceField(label="Category of information", required=False,
                               help_text="Only the categories the ISA lets your agency share")
    content = forms.CharField(label="The information", required=False, widget=forms.Textarea)
    relevance_note = forms.CharField(label="Why is it relevant to the concern?", required=False,
                                     widget=forms.Textarea)
    occurred_on = DateInputField(label="Date it happened (optional)", required=False,
                                 help_text="For example, 27 3 2026")
    confidentiality = forms.ChoiceField(
        label="Who may read this item?", required=False, widget=forms.RadioSelect,
        choices=[(Confidentiality.NORMAL, "The MASH team: managers and team members on the enquiry"),
                 (Confidentiality.RESTRICTED, "Restricted: the MASH managers and your agency only"),
                 (Confidentiality.SEALED, "Sealed: your agency only; others see that something is held back")],
        help_text="Anyone it is not open to sees only that an item is withheld")

    def __init__(self, *args, categories=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [("", "Choose a category")] + [(c.id, c.label) for c in categories]

    def is_blank(self) -> bool:
        # Who may read it is only a choice about the item: a row with nothing else in it is blank.
        return is_blank(self.cleaned_data, [f for f in self.fields if f != "confidentiality"])

    def item_data(self) -> dict:
        c = self.cleaned_data
        return dict(category=c["category"], content=c["content"], relevance_note=c["relevance_note"],
                    occurred_on=c["occurred_on"], confidentiality=c["confidentiality"] or Confidentiality.NORMAL)


def item_forms(data=None, categories=(), initial=()):
    """At least ITEM_ROWS rows; more when amending an answer with more items (or when more were posted)."""
    initial = list(initial)
    rows = max(ITEM_ROWS, len(initial))
    if data is not None:
        posted = [int(m[1]) for key in data if (m := _ROW.match(key))]
        rows = max([rows] + [i + 1 for i in posted if i < MAX_ROWS])
    return [ItemForm(data, prefix=f"item-{i}", categories=categories,
                     initial=initial[i] if i < len(initial) else None) for i in range(rows)]


class UnsealForm(forms.Form):
    prefix = "unseal"
    summary_anchor = "unseal"

    reason = forms.CharField(label="Why can the information now be shared?", required=False, widget=forms.Textarea,
                             help_text="For example, the investigation has concluded. This is recorded")
    level = forms.ChoiceField(label="Who may read it once unsealed?", required=False, widget=forms.RadioSelect,
                              initial=Confidentiality.RESTRICTED,
                              choices=[(Confidentiality.RESTRICTED, "Restricted: the MASH managers and your agency"),
                                       (Confidentiality.NORMAL, "The MASH team: managers and team members on the "
                                                                "enquiry")])
