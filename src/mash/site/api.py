"""The JSON API at /api/v1/: each domain's router, under session or bearer-token authentication.

Partner systems send `Authorization: Bearer mash_...` (tokens from `mash token create`); the browser
uses the Django session, with a CSRF token on unsafe methods. The OpenAPI document
(/api/v1/openapi.json) and its docs page (/api/v1/docs) need no sign-in. What the routers share
(policy declarations, InputSchema, error bodies) is in mash.core.api.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest
from ninja import NinjaAPI
from ninja.security import HttpBearer

from mash.access.gate import door
from mash.accounts.api import router as accounts_router
from mash.accounts.services import token_for
from mash.attachments.api import router as attachments_router
from mash.cases.api import router as cases_router
from mash.consent.api import router as consent_router
from mash.core import errors
from mash.core.api import POLICY_KEY, PUBLIC, install_error_handlers, session_auth
from mash.core.declare import policy as declare_policy
from mash.core.declare import policy_of
from mash.disclosure.api import router as disclosure_router
from mash.keys.integrity import redact_for_api
from mash.oversight.api import router as reports_router
from mash.partners.api import router as partners_router
from mash.partners.services import NoAgreementLoaded
from mash.people.api import chronology as people_chronology, history as people_history, matches as people_matches
from mash.people.api import merges as people_merges, search as people_search
from mash.sar.api import router as sar_router
from mash.sharing.api import router as sharing_router
from mash.training.api import router as training_router


# --- Authentication -------------------------------------------------------------------------

class ApiTokenAuth(HttpBearer):
    """`Authorization: Bearer mash_...` for partner systems; tokens come from `mash token create`.

    A token stands in for the whole sign-in, second factor included: it is made by an administrator for
    one agency's system, stored only as a hash, expires, and can be revoked."""

    def authenticate(self, request: HttpRequest, token: str):
        api_token = token_for(token)
        if api_token is None:
            return None
        user = api_token.user
        request.user = user
        request.api_token = api_token
        # The gates at the door (mash.access.middleware), for a user Django only learns of here.
        refused = door(request, user)
        if refused:
            raise errors.PermissionDenied(refused.message)
        return user


# --- The API --------------------------------------------------------------------------------

class MashAPI(NinjaAPI):
    """NinjaAPI that insists every operation declares its access policy and marks each URL's view.

    A value that failed its integrity check (mash.keys.integrity) is answered as null, and a JSON object
    body lists each in `integrity_errors` ([{"field": "contact.concern", "detail": "..."}]); the header
    X-Integrity-Errors counts them (for list bodies too)."""

    def create_response(self, request, data, *, status=None, temporal_response=None):
        data, damaged = redact_for_api(data)
        response = super().create_response(request, data, status=status, temporal_response=temporal_response)
        if damaged:
            response["X-Integrity-Errors"] = str(len(damaged))
        return response

    def _operation_policy(self, operation) -> str:
        name = (operation.openapi_extra or {}).get(POLICY_KEY) or policy_of(operation.view_func)
        if not name:
            func = operation.view_func
            raise ImproperlyConfigured(
                f"API operation {func.__module__}.{func.__name__} declares no access policy: "
                f"add openapi_extra=access(...) (mash.core.api)"
            )
        declare_policy(name)(operation.view_func)
        return name

    def _get_urls(self):
        urls = super()._get_urls()
        bound_routers = getattr(self, "_get_bound_routers", None)
        if bound_routers is None:  # pragma: no cover - older django-ninja
            return urls
        # Each URL's view is made by its PathView (ninja's get_view, a closure over it), so the policy is
        # found through the PathView: URL names come from function names, which two routers may share
        # (cases' decide and sar's decide), and would give one URL the other's policy.
        by_view: dict[int, Any] = {}
        for bound in bound_routers():
            for path_view in bound.path_operations.values():
                names = {}
                for operation in path_view.operations:
                    policy_name = self._operation_policy(operation)
                    for method in operation.methods:
                        names[method] = policy_name
                by_view[id(path_view)] = next(iter(names.values())) if len(set(names.values())) == 1 else names
        for pattern in urls:
            callback = pattern.callback
            if pattern.name in ("openapi-json", "openapi-view", "api-root"):
                declared = PUBLIC
            else:
                cells = [c.cell_contents for c in (getattr(callback, "__closure__", None) or ())]
                declared = next((by_view[id(c)] for c in cells if id(c) in by_view), None)
            if declared is not None and policy_of(callback) is None:
                setattr(callback, "access_policy", declared)
        return urls


def no_agreement(request, exc: NoAgreementLoaded):
    return api.create_response(request, {"detail": "No Information Sharing Agreement is loaded"}, status=503)



api = MashAPI(
    title="MASH Hub API",
    version="1",
    description=(
        "Multi-Agency Safeguarding Hub: contacts, enquiries, and information shared under the ISA.\n\n"
        "Errors are JSON, `{\"detail\": \"...\"}`, 500 included. A stored value that fails its integrity "
        "check is answered as `null`; an object body then lists each such value in `integrity_errors` "
        "(`[{\"field\": \"contact.concern\", \"detail\": \"This item cannot be shown: ...\"}]`), and the "
        "`X-Integrity-Errors` header counts them."
    ),
    urls_namespace="api",
    auth=[ApiTokenAuth(), session_auth],
)
install_error_handlers(api)
api.add_exception_handler(NoAgreementLoaded, no_agreement)

api.add_router("/", accounts_router)
api.add_router("/", partners_router)
api.add_router("/", cases_router)
api.add_router("/", sharing_router)
api.add_router("/", attachments_router)
api.add_router("/", consent_router)
api.add_router("/", disclosure_router)
api.add_router("/", reports_router)
api.add_router("/", training_router)
api.add_router("/", sar_router)
# merges before search: /people/merges must not be taken for a person id by GET /people/{person_id}.
for _people in (people_matches, people_merges, people_search, people_history, people_chronology):
    api.add_router("/", _people.router)
