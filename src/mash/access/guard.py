"""Routes enforce what they declare: one decorator for web views (`guarded`) and one for JSON API operations
(`guarded_operation`).

    @guarded(RECORD_CONSENT, load=selectors.enquiry, require=RECORD_CONSENT, methods=POST)
    @translate_errors
    def record(request, enquiry, may): ...

`guarded` declares the route's access policy (mash.core.declare: the audit purpose and the door check read
it), signs the user in as `login_required` does (not for "public"), refuses any other method as Django's
`require_http_methods` does, then loads the route's object through the gate (`load`, a selector: NotFound,
recorded, outside need to know), requires `require` of it (`gate.require`: 403 or 404, recorded), and calls
the view with the object and `may`: what the user may do next, asked of the gate. A refusal while loading or
requiring answers 404 or 403, as `translate_errors` makes it.

`guarded_operation` does the same for a django-ninja operation (ninja's authentication has signed the caller
in; the policy is also the operation's `x-access-policy`, which `mash.site.api.MashAPI` puts on its URL). The
operation keeps its path and body parameters in its signature: ninja reads them from it, and the guard shows
ninja that signature without the object and `may` it hands over itself.

`is_guarded(callback)` says whether a URL's view went through either; the URL walk checks every one does.
"""

from __future__ import annotations

import functools
import inspect
from dataclasses import dataclass
from typing import Callable

from django.contrib.auth.decorators import login_required
from django.views.decorators.http import require_http_methods

from mash.core.declare import policy as declare
from mash.core.web import translate_errors

from . import gate
from .rules import (ACTIONS, AMEND_PERSON, ANSWER_REQUEST, APPROVE_OVERRIDE, ASSIGN, AUDIT_ROLES, BUILD_PACKAGE, CLOSE,
                    DECIDE, MARK_READY, PROPOSE_OVERRIDE, RATE, READ_ATTACHMENT, READ_FIELD, RECORD_CONSENT,
                    RECORD_CONTACT, REQUEST_INFORMATION, UNSEAL, VIEW_ENQUIRY, VIEW_PACKAGE, VIEW_REQUEST)

PUBLIC = "public"
# Methods a route answers (anything else: 405, as require_safe / require_POST / require_http_methods).
SAFE = ("GET", "HEAD")
POST = ("POST",)
FORM = ("GET", "HEAD", "POST")
GET_OR_POST = ("GET", "POST")

ATTRIBUTE = "access_guard"
CASE_ACTIONS = frozenset(ACTIONS) | {READ_FIELD, READ_ATTACHMENT, RECORD_CONTACT}


def policy_name(declared: str) -> str:
    """The policy a route declares: an action of mash.access.rules becomes `case:<action>` (or, for the
    audit log, reports and subject access requests, `audit:`, `reports:`, `sar:`); any other name
    ("authenticated", "training:record") is kept as it is."""
    if declared in CASE_ACTIONS:
        return f"case:{declared}"
    if declared in AUDIT_ROLES:
        return f"{declared.partition('.')[0]}:{declared}"
    return declared


@dataclass(frozen=True)
class Guard:
    """What a guarded route declares: its policy, its loader, and the action required of what it loads."""

    policy: str
    load: Callable | None
    require: str | dict | None
    methods: tuple[str, ...] | None
    api: bool


def is_guarded(view) -> bool:
    return isinstance(getattr(view, ATTRIBUTE, None), Guard)


def guard_of(view) -> Guard | None:
    found = getattr(view, ATTRIBUTE, None)
    return found if isinstance(found, Guard) else None


# --- What the user may do next --------------------------------------------------------------------

def _enquiry_of(obj):
    return obj if obj is None or type(obj).__name__ == "Enquiry" else getattr(obj, "enquiry", None)


# The actions whose rule is decided on an enquiry; the others on the request (answer, unseal) or on the
# package (view it).
ON_REQUEST = frozenset({VIEW_REQUEST, ANSWER_REQUEST, UNSEAL})


class May:
    """What `user` may do with the route's object, each answer asked of the gate (`gate.decide`) once.

    `may.rate`, `may.answer`, `may.build_package`...; `may.view` (the enquiry, the request or the package,
    whichever the object is); `may.read(part)` for a part of its enquiry (rules.FIELDS); `may(action, obj)`
    for any action, on another object; `may.take(step)` for a workflow step of mash.cases.steps (its
    action, in the enquiry's state). An action on an enquiry, asked of a request or a package, is asked of
    its enquiry."""

    NAMES = {"rate": RATE, "request_information": REQUEST_INFORMATION, "mark_ready": MARK_READY, "decide": DECIDE,
             "close": CLOSE, "assign": ASSIGN, "amend_person": AMEND_PERSON, "answer": ANSWER_REQUEST,
             "unseal": UNSEAL, "record_consent": RECORD_CONSENT, "propose_override": PROPOSE_OVERRIDE,
             "approve_override": APPROVE_OVERRIDE, "build_package": BUILD_PACKAGE, "record_contact": RECORD_CONTACT}

    def __init__(self, user, obj=None):
        self.user, self.obj = user, obj
        self._answers: dict = {}

    def __call__(self, action: str, obj=None, field_name: str | None = None) -> bool:
        target = self.obj if obj is None else obj
        if action == RECORD_CONTACT:
            target = None
        elif action not in ON_REQUEST and action != VIEW_PACKAGE:
            target = _enquiry_of(target)
        key = (action, id(target), field_name)
        if key not in self._answers:
            self._answers[key] = bool(gate.decide(self.user, action, target, field_name))
        return self._answers[key]

    def __getattr__(self, name: str) -> bool:
        if name.startswith("_") or name not in self.NAMES:
            raise AttributeError(name)
        return self(self.NAMES[name])

    @property
    def view(self) -> bool:
        kind = type(self.obj).__name__
        return self({"DisclosurePackage": VIEW_PACKAGE, "InformationRequest": VIEW_REQUEST}.get(kind, VIEW_ENQUIRY))

    def read(self, part: str) -> bool:
        return self(READ_FIELD, field_name=part)

    def read_audit(self, action: str) -> bool:
        """A part of the audit log or the reports (rules.AUDIT_ROLES): the user's role reads it."""
        return gate.may_read_audit(self.user, action)

    def take(self, step, obj=None) -> bool:
        """A workflow step (mash.cases.steps.Step): allowed in the enquiry's state, and its action allowed."""
        enquiry = _enquiry_of(self.obj if obj is None else obj)
        return step.allows(enquiry.state) and self(step.action, obj)


# --- Loading and requiring -------------------------------------------------------------------------

def _loader_keys(load: Callable, keys) -> tuple[str, ...]:
    if keys is not None:
        return tuple(keys)
    return tuple(list(inspect.signature(load).parameters)[1:])


def its_enquiry(obj):
    """For `on=`: an action decided on the enquiry of the object loaded (a package's, say)."""
    return obj.enquiry


def route_object(loaded):
    """What a loader returned, or the first of what it returned: a loader may return the route's object
    with what else the view needs ((sar, item), (enquiry, consent record)); `may` and `require` are of
    the object."""
    return loaded[0] if isinstance(loaded, tuple) else loaded


def _target(obj, on):
    obj = route_object(obj)
    return on(obj) if on is not None else obj


def _check(user, method: str, require, obj, on) -> None:
    action = require.get(method) if isinstance(require, dict) else require
    if action:
        gate.require(user, action, _target(obj, on) if obj is not None else None)


def _through_gate(user, method, kwargs, load, keys, require, on):
    """The route's object, loaded and required through the gate (raises NotFound or PermissionDenied)."""
    obj = load(user, *[kwargs[k] for k in keys]) if load is not None else None
    _check(user, method, require, obj, on)
    return obj


def _wants_may(view) -> bool:
    return "may" in inspect.signature(view).parameters


def guarded(declared: str, *, load: Callable | None = None, keys=None, require=None, on: Callable | None = None,
            methods: tuple[str, ...] | None = None):
    """Guard a web view. `declared`: an action (case:, audit:, sar:, reports:) or another policy's name
    ("public": no sign-in). `load(user, *url_args)` reads the route's object through the gate, from the URL
    arguments `keys` (by default those its own parameters name); the view is called with it, after the
    request, and the URL arguments the loader did not take (a loader may return a tuple whose first item
    is the route's object: `route_object`). `require`: an action the user must be allowed
    on the object (`on(obj)`, if given, picks what it is decided on), or {method: action}. `methods`: the
    methods the route answers. A view with a `may` parameter gets a `May`."""
    name = policy_name(declared)
    loader_keys = _loader_keys(load, keys) if load is not None else ()

    def decorate(view):
        wants_may = _wants_may(view)

        @translate_errors
        def through_gate(request, kwargs):
            return _through_gate(request.user, request.method, kwargs, load, loader_keys, require, on)

        @functools.wraps(view)
        def guarded_view(request, **kwargs):
            obj = through_gate(request, kwargs)
            rest = {k: v for k, v in kwargs.items() if k not in loader_keys}
            if wants_may:
                rest["may"] = May(request.user, route_object(obj))
            return view(request, obj, **rest) if load is not None else view(request, **rest)

        wrapped = require_http_methods(list(methods))(guarded_view) if methods else guarded_view
        if name != PUBLIC:
            wrapped = login_required(wrapped)
        setattr(wrapped, ATTRIBUTE, Guard(name, load, require, methods, api=False))
        return declare(name)(wrapped)

    return decorate


def guarded_operation(declared: str, *, load: Callable | None = None, keys=None, require=None,
                      on: Callable | None = None):
    """Guard a django-ninja operation, as `guarded` does a view (ninja's authentication signs the caller in
    and its error handlers answer the refusals). The operation is called as ninja calls it, with the
    loaded object after the request (when `load` is given) and `may` when it names one; ninja is shown
    its signature without them."""
    name = policy_name(declared)
    loader_keys = _loader_keys(load, keys) if load is not None else ()

    def decorate(view):
        signature = inspect.signature(view, eval_str=True)
        params = list(signature.parameters.values())
        handed = {"may"} | ({params[1].name} if load is not None else set())
        wants_may = "may" in signature.parameters

        @functools.wraps(view)
        def operation(request, **kwargs):
            obj = _through_gate(request.user, request.method, kwargs, load, loader_keys, require, on)
            extra = {"may": May(request.user, route_object(obj))} if wants_may else {}
            return view(request, obj, **kwargs, **extra) if load is not None else view(request, **kwargs, **extra)

        operation.__signature__ = signature.replace(parameters=[p for p in params if p.name not in handed])
        setattr(operation, ATTRIBUTE, Guard(name, load, require, None, api=True))
        return declare(name)(operation)

    return decorate
