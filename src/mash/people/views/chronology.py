"""A child's chronology: the page, filtered by agency and kind of event, and its PDF for the receiving team.

Both read `mash.people.selectors.chronology` (through the gate); a merged record's URL redirects to the
chronology of the record it was merged into."""

from urllib.parse import urlencode

from django import forms
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils import timezone
from django.utils.safestring import mark_safe

from mash.access.guard import SAFE, guarded
from mash.access.rules import VIEW_ENQUIRY
from mash.audit import services as audit
from mash.core.pdf import css_string, html_to_pdf
from mash.partners.models import Partner

from ..selectors import chronology as selectors


class FilterForm(forms.Form):
    agency = forms.ChoiceField(label="Agency", required=False,
                               error_messages={"invalid_choice": "Choose an agency from the list"})
    kind = forms.ChoiceField(label="Kind of event", required=False,
                             choices=[("", "All kinds of event")] + list(selectors.KINDS.items()),
                             error_messages={"invalid_choice": "Choose a kind of event from the list"})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The ISA's partner agencies: reference data, not case data.
        self.fields["agency"].choices = [("", "All agencies")] + list(
            Partner.objects.order_by("name").values_list("slug", "name"))


def _filters(request) -> tuple[FilterForm, dict]:
    """The filter form, and the filters to apply: none while the form is invalid."""
    form = FilterForm(request.GET or None)
    if form.is_bound and form.is_valid():
        return form, {k: v for k, v in form.cleaned_data.items() if v}
    return form, {}


def _moved(child, name: str, chosen: dict):
    """A merged record's URL: the same view of the record it was merged into."""
    url = reverse(name, args=[child.person.pk])
    return redirect(url + (f"?{urlencode(chosen)}" if chosen else ""))


@guarded(VIEW_ENQUIRY, load=selectors.child_records, keys=("person_id",), methods=SAFE)
def chronology(request, child):
    form, chosen = _filters(request)
    if child.merged:
        return _moved(child, "people:chronology", chosen)
    found = selectors.chronology(request.user, child, **chosen)
    status = 400 if form.is_bound and form.errors else 200
    return render(request, "people/chronology.html", {
        "chronology": found, "form": form, "filter_query": urlencode(chosen)}, status=status)


@guarded(VIEW_ENQUIRY, load=selectors.child_records, keys=("person_id",), methods=SAFE)
def chronology_pdf(request, child):
    form, chosen = _filters(request)
    if child.merged:
        return _moved(child, "people:chronology_pdf", chosen)
    found = selectors.chronology(request.user, child, export=True, **chosen)
    audit.mark_export()
    printed = timezone.localtime()
    header = f"Chronology for {request.user.display_name}, {printed:%-d %B %Y %H:%M}"
    body = html_to_pdf(render_to_pdf_html(found, header, printed))
    response = HttpResponse(body, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="chronology-{found.person.pk}.pdf"'
    response["Cache-Control"] = "no-store"
    return response


def render_to_pdf_html(found, header: str, printed) -> str:
    return render_to_string("people/chronology_pdf.html", {
        "chronology": found, "printed": printed,
        "header_css": mark_safe(css_string(header)),  # escaped for CSS; HTML escaping would break it
    })


urlpatterns = [
    path("<int:person_id>/chronology/", chronology, name="chronology"),
    path("<int:person_id>/chronology/pdf/", chronology_pdf, name="chronology_pdf"),
]
