"""The child's previous contacts and household on the enquiry page, and the repeat-contact flag on its
decision form: read through `people.selectors.history`, so the enquiry page (cases) needs nothing more.

    {% load people_history %}
    {% previous_contacts enquiry %}                   the "Previous contacts and household" section
    {% repeat_contacts_flag enquiry as flag %}        the flag when raised and the user is the MASH team
"""

from django import template

from ..selectors import history

register = template.Library()


@register.inclusion_tag("people/history_panel.html", takes_context=True)
def previous_contacts(context, enquiry):
    panel = history.enquiry_panel(context["request"].user, enquiry)
    return {"panel": panel, "history": panel.history, "flag": panel.flag, "enquiry": enquiry}


@register.simple_tag(takes_context=True)
def repeat_contacts_flag(context, enquiry):
    return history.flag_for_team(context["request"].user, enquiry)
