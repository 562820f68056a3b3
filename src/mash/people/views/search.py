"""search pages: finding a person (a form posted, so the names typed never sit in a URL or a server log),
and a person's page (their names, identifiers, addresses and the people related to them).

Both read through mash.people.selectors.search: a search looks only among the people the user may see,
and a person outside their need-to-know is "Page not found", as an id that is nobody's."""

from django import forms
from django.shortcuts import render
from django.urls import Resolver404, path, resolve

from mash.access.guard import FORM, SAFE, guarded
from mash.access.rules import VIEW_ENQUIRY
from mash.core.forms import DateInputField
from mash.core.web import submit, translate_errors

from ..selectors import search as selectors


def _text(label: str, **kw):
    attrs = {"autocomplete": "off", "spellcheck": "false", **kw.pop("attrs", {})}
    return forms.CharField(label=label, required=False, strip=True, max_length=100,
                           widget=forms.TextInput(attrs=attrs), **kw)


class SearchForm(forms.Form):
    given_name = _text("First name", help_text="Or a nickname, a previous name or an alias")
    family_name = _text("Last name", help_text="Or a previous surname")
    date_of_birth = DateInputField(label="Date of birth", required=False, help_text="For example, 27 3 2015")
    nhs_number = _text("NHS number", help_text="10 digits, for example 485 777 3456", attrs={"inputmode": "numeric"})
    upn = _text("Unique pupil number", help_text="13 characters, for example A123456789012")
    postcode = _text("Postcode", help_text="Finds everyone recorded at the address, now or before")


# Search is a MASH team's read of people gathered from enquiries: declared as viewing enquiries (the door
# check and the audit purpose read it); who may search is decided by selectors.require_searcher.
@guarded(VIEW_ENQUIRY, methods=FORM)
@translate_errors
def search(request):
    selectors.require_searcher(request.user)
    if request.method != "POST":
        return render(request, "people/search.html", {"form": SearchForm(), "hub_wide": selectors.hub_wide(request.user)})
    form = SearchForm(request.POST)
    result, status = submit(form, lambda f: selectors.search_people(request.user, selectors.terms_from(f.cleaned_data)))
    return render(request, "people/search.html", {"form": form, "result": result,
                                                  "hub_wide": selectors.hub_wide(request.user)}, status=status or 200)


def _page(person_id: int, name: str) -> str | None:
    """The person's history or chronology page, where the site has one."""
    url = f"/people/{person_id}/{name}/"
    try:
        resolve(url)
    except Resolver404:
        return None
    return url


@guarded(VIEW_ENQUIRY, load=selectors.person, methods=SAFE)
@translate_errors
def person(request, found):
    summary = selectors.person_summary(request.user, found)
    return render(request, "people/person.html", {
        "summary": summary, "person": found, "may_search": selectors.may_search(request.user),
        "history_url": _page(found.pk, "history"), "chronology_url": _page(found.pk, "chronology")})


urlpatterns: list = [
    path("search/", search, name="search"),
    path("<int:person_id>/", person, name="person"),
]
