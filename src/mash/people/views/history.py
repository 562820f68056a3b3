"""A person's history (their and their siblings' previous contacts) and household, and managers recording
or ending relationships. A person outside the user's need-to-know is "not found", as one who does not exist."""

from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import path

from mash.access.guard import POST, SAFE, guarded
from mash.access.rules import AMEND_PERSON, VIEW_ENQUIRY
from mash.accounts.models import Role
from mash.core.forms import DateInputField
from mash.core.web import submit, translate_errors

from ..models import RelationshipType
from ..selectors import history as selectors
from ..services import households


class RelationshipForm(forms.Form):
    prefix = "rel"

    other = forms.CharField(label="Record number of the other person", required=False, strip=True,
                            help_text="Shown on their history page",
                            widget=forms.TextInput(attrs={"inputmode": "numeric", "class": "govuk-input--width-5"}))
    relationship = forms.ChoiceField(label="They are this person's", required=False,
                                     choices=[("", "Choose")] + RelationshipType.choices)
    lives_with_child = forms.BooleanField(label="Lives with this person", required=False)
    parental_responsibility = forms.BooleanField(label="Has parental responsibility", required=False)
    from_date = DateInputField(label="From (optional)", required=False, help_text="For example, 27 3 2024")
    to_date = DateInputField(label="Until (optional)", required=False)


class EndRelationshipForm(forms.Form):
    prefix = "end"

    relationship = forms.IntegerField(widget=forms.HiddenInput, required=False)
    to_date = DateInputField(label="Ended on (optional)", required=False, help_text="Today if left empty")


@guarded(VIEW_ENQUIRY, load=selectors.person, methods=SAFE)
@translate_errors
def history(request, person):
    found = selectors.history(request.user, person)
    return render(request, "people/history.html", {"person": person, "history": found})


def _render_household(request, person, form=None, end_form=None, status=200):
    context = {"person": person, "household": selectors.household_of(request.user, person),
               "manager": request.user.role == Role.MASH_MANAGER,
               "form": form or RelationshipForm(), "end_form": end_form or EndRelationshipForm()}
    return render(request, "people/household.html", context, status=status)


@guarded(VIEW_ENQUIRY, load=selectors.person, methods=SAFE)
@translate_errors
def household(request, person):
    return _render_household(request, person)


@guarded(AMEND_PERSON, load=selectors.person, methods=POST)
@translate_errors
def add_relationship(request, person):
    form = RelationshipForm(request.POST)

    def call(f):
        data = f.cleaned_data
        return households.add_relationship(
            person, data["other"], data["relationship"], by=request.user, lives_with_child=data["lives_with_child"],
            parental_responsibility=data["parental_responsibility"], from_date=data["from_date"],
            to_date=data["to_date"])

    rel, status = submit(form, call)
    if status is not None:
        return _render_household(request, person, form=form, status=status)
    messages.success(request, f"Recorded: {rel.person.full_name}, {rel.get_relationship_display().lower()} "
                              f"of {rel.child.full_name}")
    return redirect("people:household", person_id=person.pk)


@guarded(AMEND_PERSON, load=selectors.person, methods=POST)
@translate_errors
def end_relationship(request, person):
    form = EndRelationshipForm(request.POST)
    rel, status = submit(form, lambda f: households.end_relationship(
        person, f.cleaned_data["relationship"], by=request.user, to_date=f.cleaned_data["to_date"]))
    if status is not None:
        return _render_household(request, person, end_form=form, status=status)
    messages.success(request, f"Ended on {rel.to_date:%-d %B %Y}: {rel.person.full_name}, "
                              f"{rel.get_relationship_display().lower()} of {rel.child.full_name}")
    return redirect("people:household", person_id=person.pk)


urlpatterns = [
    path("<int:person_id>/history/", history, name="history"),
    path("<int:person_id>/household/", household, name="household"),
    path("<int:person_id>/household/relationships/", add_relationship, name="add_relationship"),
    path("<int:person_id>/household/relationships/end/", end_relationship, name="end_relationship"),
]
