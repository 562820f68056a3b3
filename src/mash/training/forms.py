"""Reading the form that records a completion. mash.training.services decides what is valid."""

from django import forms

from mash.core.forms import DateInputField, OpenChoiceField

DEFAULT_COURSE = "Handling confidential information: annual refresher"


class CompletionForm(forms.Form):
    username = OpenChoiceField(label="Who completed it")
    course = forms.CharField(label="Course", max_length=200, strip=True, initial=DEFAULT_COURSE)
    completed_on = DateInputField(label="Date completed", help_text="For example, 27 3 2026")
    evidence_reference = forms.CharField(label="Evidence reference", max_length=200, strip=True,
                                         help_text="The certificate number or the learning system's record id")

    def __init__(self, *args, staff=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["username"].choices = [("", "Choose a person")] + [
            (u.username, f"{u.display_name} ({u.get_role_display()}{', ' + u.partner.name if u.partner else ''})")
            for u in staff]
