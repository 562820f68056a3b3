"""Is this child already known? A manager records, from an enquiry's "Possible matches to review", that a
person offered is not its child (people.services.identity.record_different); merging is the duplicates
review's (people/views/duplicates.py)."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path

from mash.access.guard import POST, guarded
from mash.access.rules import AMEND_PERSON, VIEW_ENQUIRY
from mash.cases import selectors as cases
from mash.core.errors import ValidationFailed
from mash.core.ids import in_range
from mash.core.web import translate_errors

from ..selectors import identity as selectors
from ..services import identity


@guarded(VIEW_ENQUIRY, load=cases.enquiry, require=AMEND_PERSON, methods=POST)
@translate_errors
def not_same(request, enquiry, person_id: int):
    """`person_id`: the person offered, recorded as not the enquiry's child."""
    if not in_range(person_id):
        raise Http404("No such person")
    offer = next((o for o in selectors.possible_matches(request.user, enquiry) if o.person_id == person_id), None)
    reason = (request.POST.get("reason") or "").strip()[:2000]
    if offer is None:  # decided meanwhile, merged, or never offered: the user may amend the enquiry's people
        return render(request, "people/not_same.html", {"enquiry": enquiry, "reason": reason, "error": (
            "This person is not among the possible matches for this child any more")}, status=400)
    try:
        identity.record_different(enquiry.child, offer.person, by=request.user, reason=reason,
                                  context=enquiry.reference)
    except ValidationFailed as exc:
        return render(request, "people/not_same.html", {"enquiry": enquiry, "offer": offer, "reason": reason,
                                                        "error": exc.message}, status=400)
    messages.success(request, f"Recorded: {offer.name} is not the same person as {enquiry.child.full_name}")
    return redirect("cases:detail", reference=enquiry.reference)


urlpatterns = [
    path("possible-matches/<str:reference>/<int:person_id>/not-same/", not_same, name="not_same"),
]
