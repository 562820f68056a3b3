"""What the web views share: turning domain errors into 404/403 or messages on the right form field, CSV
cells, durations, and the client's address."""

from __future__ import annotations

import datetime as dt
import functools
import re
from typing import Callable

from django import forms
from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from django.utils import timezone

from mash.core import errors

# (form, field name or None for the form as a whole)
Target = tuple[forms.Form, str | None]


def translate_errors(view):
    """NotFound answers 404 and PermissionDenied 403, whatever view raised them."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except errors.NotFound:
            raise Http404("Not found") from None
        except errors.PermissionDenied:
            raise DjangoPermissionDenied() from None

    return wrapper


_INDEXED = re.compile(r"^(?P<list>[a-z_]+)\[(?P<index>\d+)\]\.?(?P<field>.*)$")


def split_key(key: str) -> tuple[str | None, int | None, str]:
    """'related_people[2].first_name' -> ('related_people', 2, 'first_name'); 'child.upn' -> ('child', None, 'upn')."""
    m = _INDEXED.match(key)
    if m:
        return m["list"], int(m["index"]), m["field"]
    if "." in key:
        head, _, rest = key.partition(".")
        return head, None, rest
    return None, None, key


def add_error(form: forms.Form, field: str | None, message: str):
    if field and field in form.fields:
        form.add_error(field, message)
    else:
        form.add_error(None, message)


def apply_domain_error(exc: errors.DomainError, resolve: Callable[[str], Target], main: forms.Form) -> int:
    """Put a service's complaint where the person will see it: on the field it names, else on the form.

    Returns the HTTP status to answer with (the error's own: 400, 409, 422...), as the API does.
    NotFound and PermissionDenied are not input problems and are raised again for translate_errors.
    """
    if isinstance(exc, (errors.NotFound, errors.PermissionDenied)):
        raise exc
    if isinstance(exc, errors.ValidationFailed):
        for key, messages in exc.errors.items():
            form, field = resolve(key) if key != "__all__" else (main, None)
            for message in messages:
                add_error(form, field, message)
        return exc.status
    field = exc.field
    form, name = resolve(field) if field and field != "__all__" else (main, None)
    add_error(form, name, exc.message)
    return exc.status


# The status of a page shown again because its form was not valid.
INVALID = 400


def single_form_resolver(form: forms.Form) -> Callable[[str], Target]:
    def resolve(key: str) -> Target:
        return form, (key if key in form.fields else None)

    return resolve


def submit(form: forms.Form, call: Callable[[forms.Form], object]) -> tuple[object, int | None]:
    """Validate a one-form page and hand it to `call`; what the service refuses lands on the form.

    Returns (what `call` returned, None) on success, else (None, the status to show the page with)."""
    if not form.is_valid():
        return None, INVALID
    try:
        return call(form), None
    except errors.DomainError as exc:
        return None, apply_domain_error(exc, single_form_resolver(form), form)


def lawful_basis_labels(agreement) -> dict[str, str]:
    """Each lawful basis id of an ISA with the words it stands for, to show beside a contribution."""
    return {b.id: f"{b.description} (clause {b.clause})" for b in agreement.lawful_bases()}


def _plural(n: int, unit: str) -> str:
    return f"{n} {unit}{'' if n == 1 else 's'}"


def humanise_duration(delta: dt.timedelta) -> str:
    """'3 hours 20 minutes', '2 days 4 hours', 'less than a minute'."""
    minutes = int(abs(delta).total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    parts = []
    if days:
        parts.append(_plural(days, "day"))
    if hours:
        parts.append(_plural(hours, "hour"))
    if minutes and not days:
        parts.append(_plural(minutes, "minute"))
    return " ".join(parts[:2]) or "less than a minute"


def time_left(due: dt.datetime | None, now: dt.datetime | None = None) -> dict:
    """{'text': ..., 'overdue': bool} for a deadline."""
    if due is None:
        return {"text": "Not yet rated", "overdue": False, "due": None}
    now = now or timezone.now()
    delta = due - now
    if delta.total_seconds() < 0:
        return {"text": f"Overdue by {humanise_duration(delta)}", "overdue": True, "due": due}
    return {"text": humanise_duration(delta), "overdue": False, "due": due}


def csv_cell(value: str) -> str:
    """A CSV cell that a spreadsheet would run as a formula is written as text."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def client_ip(request) -> str:
    """The client's address: from X-Forwarded-For only behind a proxy that is trusted to set it."""
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "") if settings.MASH_TRUST_X_FORWARDED_FOR else ""
    return (forwarded.split(",")[0].strip() or request.META.get("REMOTE_ADDR", ""))[:45]
