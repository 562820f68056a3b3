"""Declaring which access policy guards an endpoint, so a test can walk every URL and find one.

Routes declare through `mash.access.guard` (`guarded`, `guarded_operation`), which calls `policy` here
and also enforces what it declares. The policy name is a label for review, for the door check and the
audit purpose, and for tests; the checks themselves live in mash.access. JSON API operations carry the same name in
their OpenAPI document as `x-access-policy` (see mash.core.api). It lives in core, below every app,
because the audit middleware names each request's purpose by it.
"""

ATTRIBUTE = "access_policy"


def policy(name: str):
    """Mark a view (or API operation) with the name of the access policy that guards it."""
    if not name or not isinstance(name, str):
        raise ValueError("an access policy needs a name")

    def mark(func):
        setattr(func, ATTRIBUTE, name)
        return func

    return mark


def policy_of(view) -> str | None:
    """The declared policy of a view, or None when it declares none."""
    return getattr(view, ATTRIBUTE, None)


def declared_policy(request) -> str:
    """The policy declared by the view a request resolves to, for its method ("" when none); kept on the
    request so that the middlewares resolve each request once."""
    cached = getattr(request, "_declared_policy", None)
    if cached is not None:
        return cached
    from django.urls import Resolver404, resolve

    try:
        declared = policy_of(resolve(request.path_info).func)
    except Resolver404:
        declared = None
    if isinstance(declared, dict):  # an API path whose methods declare different policies
        declared = declared.get(request.method, "")
    request._declared_policy = declared or ""
    return request._declared_policy
