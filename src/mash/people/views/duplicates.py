"""The managers' review of duplicate records: candidate pairs (highest score first, with the matcher's
reasons and any conflict to resolve), one pair side by side with "Merge into this one" and "Not the same
person", and the recent merges with "Undo merge". MASH managers only (anyone else: 404, recorded)."""

from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import path

from mash.access.guard import FORM, POST, SAFE, guarded
from mash.core.web import submit, translate_errors

from ..selectors import duplicates as selectors
from ..selectors.duplicates import MERGE_PEOPLE, REVIEW_DUPLICATES
from ..services import merging


def _reason(label: str, hint: str) -> forms.CharField:
    return forms.CharField(label=label, help_text=hint, strip=True, widget=forms.Textarea,
                           error_messages={"required": "Give a reason"})


class MergeForm(forms.Form):
    prefix = "merge"
    summary_anchor = "merge"

    kept = forms.TypedChoiceField(label="Which record to keep", coerce=int, widget=forms.RadioSelect,
                                  error_messages={"required": "Choose which record to keep"})
    reason = _reason("Why these records are the same person",
                     "For example, the same NHS number and date of birth, confirmed with the school")

    def __init__(self, *args, pair=None, **kwargs):
        super().__init__(*args, **kwargs)
        if pair is not None:
            self.fields["kept"].choices = [(s.person.pk, f"{s.person.full_name} (record {s.person.pk})")
                                           for s in pair.sides]


class NotSameForm(forms.Form):
    prefix = "apart"
    summary_anchor = "not-the-same"

    reason = _reason("Why these are different people", "For example, twins: same date of birth and address")


class UndoForm(forms.Form):
    prefix = "undo"
    summary_anchor = "undo"

    reason = _reason("Why the merge is being undone", "For example, they are twins, not one child recorded twice")


@guarded(REVIEW_DUPLICATES, methods=SAFE)
@translate_errors
def review(request):
    return render(request, "people/duplicates.html", {
        "pairs": selectors.duplicate_pairs(request.user),
        "merges": selectors.recent_merges(request.user)})


def _render_pair(request, pair, merge_form=None, apart_form=None, status=200):
    return render(request, "people/duplicates_pair.html", {
        "pair": pair, "merge_form": merge_form or MergeForm(pair=pair), "apart_form": apart_form or NotSameForm(),
        "bound_forms": [f for f in (merge_form, apart_form) if f is not None]}, status=status)


@guarded(REVIEW_DUPLICATES, load=selectors.duplicate_pair, keys=("a", "b"), methods=SAFE)
@translate_errors
def pair(request, pair):
    return _render_pair(request, pair)


@guarded(MERGE_PEOPLE, load=selectors.duplicate_pair, keys=("a", "b"), methods=POST)
@translate_errors
def merge(request, pair):
    form = MergeForm(request.POST, pair=pair)
    people = {pair.a.person.pk: pair.a.person, pair.b.person.pk: pair.b.person}

    def call(f):
        kept = people[f.cleaned_data["kept"]]
        other = pair.b.person if kept.pk == pair.a.person.pk else pair.a.person
        return merging.merge_people(kept, other, reason=f.cleaned_data["reason"], by=request.user)

    made, status = submit(form, call)
    if status is not None:
        return _render_pair(request, pair, merge_form=form, status=status)
    messages.success(request, f"Record {made.merged_id} ({made.merged.full_name}) is merged into record "
                              f"{made.kept_id} ({made.kept.full_name})")
    return redirect("people:duplicates")


@guarded(MERGE_PEOPLE, load=selectors.duplicate_pair, keys=("a", "b"), methods=POST)
@translate_errors
def not_the_same(request, pair):
    form = NotSameForm(request.POST)
    made, status = submit(form, lambda f: merging.not_the_same(
        pair.a.person, pair.b.person, reason=f.cleaned_data["reason"], by=request.user,
        score=pair.comparison.score, reasons=pair.comparison.reasons))
    if status is not None:
        return _render_pair(request, pair, apart_form=form, status=status)
    messages.success(request, f"Recorded: {pair.a.person.full_name} (record {pair.a.person.pk}) and "
                              f"{pair.b.person.full_name} (record {pair.b.person.pk}) are different people")
    return redirect("people:duplicates")


@guarded(MERGE_PEOPLE, load=selectors.merge, keys=("merge_id",), methods=FORM)
@translate_errors
def undo(request, merge):
    form = UndoForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        made, status = submit(form, lambda f: merging.unmerge(merge, reason=f.cleaned_data["reason"],
                                                               by=request.user))
        if status is None:
            messages.success(request, f"The merge is undone: record {made.merged_id} ({made.merged.full_name}) "
                                      "is a record of its own again")
            return redirect("people:duplicates")
    else:
        status = 200
    return render(request, "people/merge_undo.html", {"merge": merge, "form": form,
                                                      "bound_forms": [form] if form.is_bound else []},
                  status=status)


urlpatterns = [
    path("duplicates/", review, name="duplicates"),
    path("duplicates/<int:a>/<int:b>/", pair, name="duplicate_pair"),
    path("duplicates/<int:a>/<int:b>/merge/", merge, name="duplicate_merge"),
    path("duplicates/<int:a>/<int:b>/not-the-same/", not_the_same, name="duplicate_not_the_same"),
    path("merges/<int:merge_id>/undo/", undo, name="merge_undo"),
]
