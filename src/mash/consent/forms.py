"""Reading the consent page's input. mash.consent.services decides what is valid."""

from django import forms

from mash.core.forms import OpenChoiceField, OpenMultipleChoiceField
from mash.core.vocabulary import ConsentPurpose, ConsentStatus, NotSoughtReason


def _area(label, **kw):
    return forms.CharField(label=label, required=False, strip=True, widget=forms.Textarea, **kw)


class ConsentForm(forms.Form):
    prefix = "consent"

    person_id = OpenChoiceField(label="Whose consent", required=False)
    status = OpenChoiceField(label="Consent", required=False, choices=ConsentStatus.choices, widget=forms.RadioSelect)
    not_sought_reason = OpenChoiceField(label="If consent was not sought, why not", required=False,
                                        choices=NotSoughtReason.choices, widget=forms.RadioSelect)
    given_by = forms.CharField(label="Who gave or refused consent", required=False, strip=True,
                               help_text="For example, the child's mother, by telephone")
    purposes = OpenMultipleChoiceField(label="What it covers (given) or refuses (refused)", required=False,
                                       help_text="A refusal that names no purpose refuses everything",
                                       choices=ConsentPurpose.choices, widget=forms.CheckboxSelectMultiple)
    agencies = OpenMultipleChoiceField(label="The partner agencies it covers", required=False,
                                       widget=forms.CheckboxSelectMultiple,
                                       help_text="For sharing with the partner agencies for the MASH enquiry")
    notes = _area("Notes (optional)")

    def __init__(self, *args, people=(), partners=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["person_id"].choices = [(str(p.pk), label) for p, label in people]
        self.fields["agencies"].choices = [(p.slug, p.name) for p in partners]
        if not self.is_bound:
            self.initial.setdefault("agencies", [p.slug for p in partners])

    def consent_data(self) -> dict:
        c = self.cleaned_data
        return {"person_id": int(c["person_id"]) if (c["person_id"] or "").isdigit() else None,
                "status": c["status"] or "", "not_sought_reason": c["not_sought_reason"] or "",
                "given_by": c["given_by"], "notes": c["notes"], "purposes": c["purposes"] or [],
                "agencies": (c["agencies"] or []) if "mash_enquiry" in (c["purposes"] or []) else []}


class WithdrawalForm(forms.Form):
    reason = _area("What the person said, or why consent is withdrawn")


class OverrideForm(forms.Form):
    prefix = "override"

    justification = _area("Why the child or an adult may be at risk of significant harm")
    lawful_basis = OpenChoiceField(label="Lawful basis", required=False, widget=forms.RadioSelect)
    purposes = OpenMultipleChoiceField(label="What is to be shared without consent", required=False,
                                       choices=ConsentPurpose.choices, widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, lawful_bases=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["lawful_basis"].choices = [(b.id, f"{b.description} (clause {b.clause})") for b in lawful_bases]


class OverrideDecisionForm(forms.Form):
    decision = OpenChoiceField(label="Your decision", required=False, widget=forms.RadioSelect,
                               choices=[("approve", "Approve sharing without consent"), ("reject", "Reject it")])
    note = _area("Note (required to reject)")
