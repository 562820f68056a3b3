"""On the enquiry page: "Possible matches to review" for a MASH manager (people already known who may be the
child, recorded as a new person), and the way to record a contact about another child in the household.
Read through `people.selectors.identity`, so the enquiry page (cases) needs nothing more.

    {% load people_matches %}
    {% possible_matches enquiry %}
"""

from django import template

from mash.access import gate
from mash.access.rules import RECORD_CONTACT

from ..selectors import identity

register = template.Library()


@register.inclusion_tag("people/possible_matches.html", takes_context=True)
def possible_matches(context, enquiry):
    user = context["request"].user
    return {"enquiry": enquiry, "matches": identity.possible_matches(user, enquiry),
            "may_record_contact": bool(gate.decide(user, RECORD_CONTACT)), "csrf_token": context.get("csrf_token")}
