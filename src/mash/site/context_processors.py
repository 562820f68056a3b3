"""What every page needs to draw its navigation."""

from mash.accounts.models import Role


def navigation(request):
    """The menu, for someone fully signed in. Before the second factor a session is only half signed
    in (mash.accounts.middleware): no menu, and no links it could not follow."""
    user = getattr(request, "user", None)
    items = []
    fully_signed_in = bool(user is not None and user.is_authenticated
                           and getattr(request, "mash_fully_signed_in", True))
    if fully_signed_in:
        items.append(("home", "Home"))
        if user.role == Role.MASH_MANAGER:
            items += [("cases:queue", "Enquiry queue"), ("cases:contact_new", "Record a contact")]
            items.append(("people:duplicates", "Duplicate records"))
        elif user.role == Role.MASH_WORKER:
            items += [("sharing:requests", "Requests to my agency"), ("cases:contact_new", "Record a contact")]
        if user.role in (Role.MASH_MANAGER, Role.MASH_WORKER):  # mash.people.selectors.search.SEARCHERS
            items.append(("people:search", "Find a person"))
        if user.role == Role.DPO:
            items.append(("sar:open", "Subject access requests"))
        if user.role in (Role.MASH_MANAGER, Role.SYSADMIN):
            items.append(("training:compliance", "Training"))
        items.append(("partners:isa", "Information Sharing Agreement"))
    return {"nav_items": items, "fully_signed_in": fully_signed_in}
