"""Reading the package builder's input. mash.disclosure.services decides what may go."""

from django import forms

from mash.core.forms import OpenChoiceField, OpenMultipleChoiceField
from mash.core.vocabulary import RecipientType

from .services import CHILD_FIELDS, DECISION_FIELDS, ITEM_FIELDS


class PackageForm(forms.Form):
    recipient_type = OpenChoiceField(label="Kind of service receiving the case", required=False,
                                     choices=RecipientType.choices, widget=forms.RadioSelect)
    recipient = OpenChoiceField(label="Receiving professional", required=False,
                                help_text="Or choose a team below: one or the other")
    recipient_team = OpenChoiceField(label="Or a team", required=False)
    lawful_basis = OpenChoiceField(label="Lawful basis for passing this on", required=False, widget=forms.RadioSelect)
    cover_note = forms.CharField(label="Note for the recipient (optional)", required=False, strip=True,
                                 widget=forms.Textarea, help_text="Why this is being passed on")
    child = OpenMultipleChoiceField(label="About the child (the name always goes)", required=False,
                                    choices=list(CHILD_FIELDS.items()), widget=forms.CheckboxSelectMultiple)
    decision = OpenMultipleChoiceField(label="About the decision (the outcome always goes)", required=False,
                                       choices=list(DECISION_FIELDS.items()), widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, professionals=(), teams=(), lawful_bases=(), items=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["recipient"].choices = [("", "Choose a professional")] + [
            (u.username, f"{u.display_name}{f' ({u.team})' if u.team else ''}") for u in professionals]
        self.fields["recipient_team"].choices = [("", "Choose a team")] + [(t, t) for t in teams]
        self.fields["lawful_basis"].choices = [(b.id, f"{b.description} (clause {b.clause})") for b in lawful_bases]
        # One group of checkboxes per item the manager may choose: which of its fields go.
        self.item_ids = []
        for item in items:
            name = f"item_{item.id}"
            self.fields[name] = OpenMultipleChoiceField(label=item.category_label, required=False,
                                                        choices=list(ITEM_FIELDS.items()),
                                                        widget=forms.CheckboxSelectMultiple)
            self.item_ids.append(item.id)

    def package_data(self) -> dict:
        c = self.cleaned_data
        return {
            "recipient_type": c["recipient_type"] or "", "recipient": c["recipient"] or "",
            "recipient_team": c["recipient_team"] or "", "lawful_basis": c["lawful_basis"] or "",
            "cover_note": c["cover_note"],
            "selection": {"child": c["child"] or [], "decision": c["decision"] or [],
                          "items": {str(i): c[f"item_{i}"] for i in self.item_ids if c.get(f"item_{i}")}},
        }

    @classmethod
    def initial_from(cls, package=None, decision=None) -> dict:
        if package is not None:
            initial = {"recipient_type": package.recipient_type, "lawful_basis": package.lawful_basis,
                       "recipient": package.recipient.username if package.recipient_id else "",
                       "recipient_team": package.recipient_team, "cover_note": package.cover_note,
                       "child": package.selection.get("child", []), "decision": package.selection.get("decision", [])}
            for item_id, fields in package.selection.get("items", {}).items():
                initial[f"item_{item_id}"] = fields
            return initial
        initial = {"child": ["date_of_birth", "address"]}
        if decision is not None:
            initial["recipient_type"] = decision.recipient_type
            if decision.receiving_professional_id:
                initial["recipient"] = decision.receiving_professional.username
        return initial


class WithdrawPackageForm(forms.Form):
    reason = forms.CharField(label="Why the package is withdrawn", required=False, strip=True, widget=forms.Textarea)
