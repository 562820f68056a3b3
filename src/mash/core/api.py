"""What every router of the JSON API shares: access-policy declarations, input, error bodies, session auth.

Each operation names the access policy that guards it with `openapi_extra=access("case:enquiry.view")`;
the name appears in the OpenAPI document as `x-access-policy`, and `MashAPI` (mash.site.api, where the
API is assembled with the bearer-token authentication) copies it onto each URL's view (see
mash.core.declare) so that a test can walk every URL and find one. An operation that declares no
policy stops the URLs from loading.
"""

from __future__ import annotations

import logging
import operator
from typing import Any

from django.http import HttpRequest
from ninja import NinjaAPI, Schema
from ninja.security import SessionAuth
from pydantic import ConfigDict, model_validator

try:
    from ninja import Status
except ImportError:  # pragma: no cover - django-ninja before 1.6 took a (status, body) tuple
    def Status(status_code, value):  # noqa: N802
        return status_code, value

from mash.core import errors

log = logging.getLogger(__name__)

POLICY_KEY = "x-access-policy"
PUBLIC = "public"
AUTHENTICATED = "authenticated"


def access(name: str) -> dict:
    """The `openapi_extra` that declares an operation's access policy."""
    return {POLICY_KEY: name}


def listing(name: str) -> dict:
    """The `openapi_extra` of a paged list: its access policy, and the X-Total-Count header its 200 carries."""
    total = {"description": "how many there are in all, before `limit` and `offset`",
             "schema": {"type": "string", "pattern": "^[0-9]+$"}}
    return {**access(name), "responses": {200: {"headers": {"X-Total-Count": total}}}}


def case_policy(action: str) -> str:
    """The policy name of an operation guarded by the access gate, e.g. case:enquiry.view."""
    return f"case:{action}"


def created(body):
    """A 201 Created response with `body`."""
    return Status(201, body)


# --- Authentication (the bearer token's, which needs the accounts, is in mash.site.api) ----------------

class SessionCookieAuth(SessionAuth):
    """Django's session, as ninja's django_auth, with its CSRF check on unsafe methods.

    The one difference: a request that carries no session cookie cannot be signed in by its session,
    so it is passed over without a CSRF check. A partner system whose token is wrong or revoked then
    gets 401 Unauthorized rather than a confusing 403 about CSRF. A request that does carry the
    cookie is checked exactly as django_auth checks it.
    """

    def _get_key(self, request: HttpRequest):
        if self.param_name not in request.COOKIES:
            return None
        return super()._get_key(request)

    def authenticate(self, request: HttpRequest, key):
        if key is None:
            return None
        return super().authenticate(request, key)


session_auth = SessionCookieAuth()


# --- Input ---------------------------------------------------------------------------------

def _has_nul(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return any(_has_nul(v) for v in value)
    return False


class InputSchema(Schema):
    """A request body: unknown fields are refused rather than dropped, and text may not hold NUL
    characters (PostgreSQL cannot store them)."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _no_nul_characters(cls, data):
        if _has_nul(data):
            raise ValueError("text may not contain NUL characters")
        return data


# --- Output --------------------------------------------------------------------------------

def read(path: str):
    """A `resolve_<field>` for an output schema that reads a view object (ninja `Schema`, from attributes):
    the field is the object's `path`, dotted (`read("person.first_name")`)."""
    get = operator.attrgetter(path)
    return staticmethod(lambda obj: get(obj))


# Path parameters: an enquiry reference (MASH-2026-000123) and a row id within the database's range.
REFERENCE_PATTERN = r"^[A-Za-z0-9-]{1,20}$"
from .ids import MAX_ID  # noqa: E402,F401  (the API validates path ids against it)


# --- Error bodies ---------------------------------------------------------------------------

class ErrorOut(Schema):
    detail: str


class ValidationErrorOut(Schema):
    """400: input a rule refuses; `errors` maps each field (e.g. child.nhs_number) to its messages.
    A body that is not JSON at all gets the detail alone."""

    detail: str
    errors: dict[str, list[str]] = {}


class UnprocessableOut(Schema):
    """422: a share the ISA does not permit (detail and field), or a request ninja could not parse
    (detail is then ninja's list of errors, each with its location)."""

    detail: str | list[dict[str, Any]]
    field: str | None = None


SERVER_ERROR = ("Something went wrong on our side and it has been logged. Try again; if it keeps happening, "
                "tell your system administrator.")

ERROR_SCHEMAS = {
    400: ValidationErrorOut,
    401: ErrorOut,
    403: ErrorOut,
    404: ErrorOut,
    409: ErrorOut,
    422: UnprocessableOut,
    429: ErrorOut,  # over the API's rate limit (mash.core.security); Retry-After says when to try again
    503: ErrorOut,
}


def responses(ok: dict, *codes: int, authenticated: bool = True) -> dict:
    """The response schemas of an operation: its success, 401/403 when it needs a user, `codes`, and 429."""
    out = dict(ok)
    for code in ((401, 403) if authenticated else ()) + codes + (429,):
        out[code] = ERROR_SCHEMAS[code]
    return out


def install_error_handlers(api: NinjaAPI) -> None:
    """Translate the domain's errors. Bodies carry the message written for the user, nothing internal.
    (mash.site.api adds the one for an Information Sharing Agreement not yet loaded.)"""

    def respond(request, status: int, body: dict):
        return api.create_response(request, body, status=status)

    def validation_failed(request, exc: errors.ValidationFailed):
        return respond(request, 400, {"detail": exc.message, "errors": exc.errors})

    def isa_violation(request, exc: errors.IsaViolation):
        return respond(request, 422, {"detail": exc.message, "field": exc.field})

    def invalid_transition(request, exc: errors.InvalidTransition):
        return respond(request, 409, {"detail": exc.message})

    def not_found(request, exc: errors.NotFound):
        # Missing and outside need-to-know look the same; the message never says which.
        return respond(request, 404, {"detail": "Not found"})

    def permission_denied(request, exc: errors.PermissionDenied):
        return respond(request, 403, {"detail": exc.message})

    def domain_error(request, exc: errors.DomainError):
        status = exc.status if exc.status in ERROR_SCHEMAS else 400
        body: dict[str, Any] = {"detail": exc.message}
        if status == 400:
            body["errors"] = {exc.field or "__all__": [exc.message]}
        return respond(request, status, body)

    api.add_exception_handler(errors.ValidationFailed, validation_failed)
    api.add_exception_handler(errors.IsaViolation, isa_violation)
    api.add_exception_handler(errors.InvalidTransition, invalid_transition)
    api.add_exception_handler(errors.NotFound, not_found)
    api.add_exception_handler(errors.PermissionDenied, permission_denied)
    api.add_exception_handler(errors.DomainError, domain_error)

    def server_error(request, exc: Exception):
        # Anything else is our fault: logged with its traceback, answered in JSON (never an HTML page).
        log.exception("API: %s %s failed", request.method, request.path)
        return respond(request, 500, {"detail": SERVER_ERROR})

    api.add_exception_handler(Exception, server_error)
