"""Routes enforce what they declare: every web URL's view goes through `guarded` and every API operation
through `guarded_operation` (mash.access.guard), and the policy the guard declares is the one the URL
carries (what the door check and the audit purpose read) and, for the API, the operation's x-access-policy."""

from django.urls import URLPattern, URLResolver, get_resolver

from mash.access.guard import guard_of
from mash.core.api import POLICY_KEY
from mash.core.declare import policy_of


def _patterns(patterns=None, prefix="", namespace=""):
    for p in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(p, URLResolver):
            yield from _patterns(p.url_patterns, prefix + str(p.pattern), p.namespace or namespace)
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern), namespace, p


def test_every_web_url_goes_through_guarded():
    unguarded, mismatched = [], []
    for route, namespace, pattern in _patterns():
        if namespace == "admin" or route.startswith("api/"):  # the API's URLs: its operations, below
            continue
        guard = guard_of(pattern.callback)
        if guard is None or guard.api:
            unguarded.append(route)
        elif guard.policy != policy_of(pattern.callback):
            mismatched.append(f"{route}: guarded as {guard.policy}, declares {policy_of(pattern.callback)}")
    assert unguarded == [], f"web URLs whose view is not @guarded: {unguarded}"
    assert mismatched == [], "\n".join(mismatched)


def _operations():
    from mash.site.api import api

    for bound in api._get_bound_routers():
        for path, path_view in bound.path_operations.items():
            for operation in path_view.operations:
                yield path, operation


def test_every_api_operation_goes_through_guarded_operation():
    unguarded, mismatched, walked = [], [], 0
    for path, operation in _operations():
        func = operation.view_func
        where = f"{'/'.join(operation.methods)} {path} ({func.__module__}.{func.__name__})"
        guard = guard_of(func)
        walked += 1
        if guard is None or not guard.api:
            unguarded.append(where)
        elif guard.policy != (operation.openapi_extra or {}).get(POLICY_KEY):
            mismatched.append(f"{where}: guarded as {guard.policy}, documented as "
                              f"{(operation.openapi_extra or {}).get(POLICY_KEY)}")
    assert walked > 40
    assert unguarded == [], "API operations not @guarded_operation:\n" + "\n".join(unguarded)
    assert mismatched == [], "\n".join(mismatched)

