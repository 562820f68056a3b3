"""Reading the subject access pages' input. mash.sar.services decides what is valid."""

from django import forms

from mash.core.forms import DateInputField, OpenChoiceField, OpenMultipleChoiceField

from .models import Exemption, ItemDecision, PauseReason, RequesterRelationship


def _area(label, required=False, **kw):
    return forms.CharField(label=label, required=required, strip=True, widget=forms.Textarea, **kw)


class LogRequestForm(forms.Form):
    requester_name = forms.CharField(label="Requester's name", required=False, strip=True)
    requester_relationship = OpenChoiceField(label="Who is asking", required=False, widget=forms.RadioSelect,
                                             choices=RequesterRelationship.choices)
    requester_contact = _area("Where the response goes", help_text="Postal address or email address")
    received_on = DateInputField(label="Date received", required=False, help_text="For example, 27 3 2026")
    description = _area("What was asked for (optional)")
    person_ids = OpenMultipleChoiceField(label="Who the request is about", required=False,
                                         widget=forms.CheckboxSelectMultiple)
    identity = OpenChoiceField(label="Identity", required=False, widget=forms.RadioSelect, choices=[
        ("verified", "Confirmed already"), ("awaiting", "Proof of identity requested: stop the clock until it arrives"),
        ("later", "Not yet checked")])
    identity_method = forms.CharField(label="If confirmed, how", required=False, strip=True,
                                      help_text="For example, passport and a utility bill seen at the office")

    # The page's order, which the error summary follows.
    field_order = ["person_ids", "requester_name", "requester_relationship", "requester_contact", "received_on",
                   "identity", "identity_method", "description"]

    def __init__(self, *args, people=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["person_ids"].choices = [
            (str(p.pk), f"{p.full_name}{', born ' + p.date_of_birth.strftime('%d/%m/%Y') if p.date_of_birth else ''}"
                        f"{', ' + p.postcode if p.postcode else ''}") for p in people]
        if not people:
            # Nobody to tick until a search finds them: "choose a person" belongs to the search box.
            self.summary_targets = {"person_ids": "q"}

    @property
    def search_errors(self) -> list:
        return [] if self.fields["person_ids"].choices else list(self["person_ids"].errors)

    def service_args(self) -> dict:
        c = self.cleaned_data
        return {"requester_name": c["requester_name"], "requester_relationship": c["requester_relationship"] or "",
                "requester_contact": c["requester_contact"], "received_on": c["received_on"] or "",
                "description": c["description"], "person_ids": c["person_ids"],
                "identity_verified": c["identity"] == "verified", "awaiting_identity": c["identity"] == "awaiting",
                "identity_method": c["identity_method"]}


class IdentityForm(forms.Form):
    prefix = "identity"
    method = forms.CharField(label="How the identity was confirmed", required=False, strip=True)
    verified_on = DateInputField(label="Date confirmed", required=False, help_text="Leave empty for today")


class PauseForm(forms.Form):
    prefix = "pause"
    reason = OpenChoiceField(label="What is awaited", required=False, widget=forms.RadioSelect,
                             choices=PauseReason.choices)
    started_on = DateInputField(label="Clock stopped on", required=False, help_text="Leave empty for today")
    note = forms.CharField(label="Note (optional)", required=False, strip=True)


class ResumeForm(forms.Form):
    prefix = "resume"
    ended_on = DateInputField(label="Arrived on", required=False, help_text="Leave empty for today")


class ExtensionForm(forms.Form):
    prefix = "extension"
    months = OpenChoiceField(label="Further months", required=False, widget=forms.RadioSelect,
                             choices=[("1", "1 month"), ("2", "2 months")])
    reason = _area("Why the request is complex")


class WithdrawForm(forms.Form):
    prefix = "withdraw"
    reason = _area("Why the request is closed without a response")


class ItemDecisionForm(forms.Form):
    decision = OpenChoiceField(label="Decision", required=False, widget=forms.RadioSelect,
                               choices=[(v, l) for v, l in ItemDecision.choices if v != ItemDecision.PENDING])
    exemption = OpenChoiceField(label="Exemption", required=False, choices=Exemption.choices)
    redactions = OpenMultipleChoiceField(label="Redact these words (other people's details found in the text)",
                                         required=False, widget=forms.CheckboxSelectMultiple)
    other_redactions = _area("Other words to redact (one per line)")
    neither_confirm_nor_deny = forms.BooleanField(
        label="Do not say this information exists (disclosing that it exists would prejudice an investigation)",
        required=False)
    serious_harm_checked = forms.BooleanField(
        label="Serious-harm test: disclosing this is not likely to cause serious harm to anyone's physical or "
              "mental health", required=False)
    serious_harm_opinion = _area("Opinion of the appropriate social work professional (when withholding for serious "
                                 "harm: who, and their view)")
    reason = _area("Reason (required when anything is held back)")

    def __init__(self, *args, proposed=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["redactions"].choices = [(t, t) for t in proposed]

    def service_args(self) -> dict:
        c = self.cleaned_data
        extra = [line.strip() for line in (c["other_redactions"] or "").splitlines() if line.strip()]
        return {"decision": c["decision"] or "", "exemption": c["exemption"] or "", "reason": c["reason"],
                "redactions": list(c["redactions"]) + extra,
                "neither_confirm_nor_deny": c["neither_confirm_nor_deny"],
                "serious_harm_checked": c["serious_harm_checked"], "serious_harm_opinion": c["serious_harm_opinion"]}
