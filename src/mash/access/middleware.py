"""The gates at the door: a signed-in user whom a gate refuses (their training refresher has lapsed, say)
gets a page saying why and what to do, on every URL whose declared policy guards case data.

The policy's own functions refuse them too (lists come back empty, objects not found); this says so
plainly instead, and records the refusal. API requests signed with a token are checked the same way
when the token is read (mash.site.api.ApiTokenAuth), since Django does not know their user yet here.
"""

import json

from django.http import HttpResponse
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse

from . import gate


def gate_middleware(get_response):
    def middleware(request):
        refused = gate.door(request, getattr(request, "user", None))
        if refused:
            return refused_response(request, refused)
        return get_response(request)

    return middleware


def refused_response(request, refused: gate.GateRefusal) -> HttpResponse:
    if request.path.startswith("/api/"):
        return HttpResponse(json.dumps({"detail": refused.message}), status=403, content_type="application/json")
    try:
        link = reverse(refused.link_name) if refused.link_name else ""
    except NoReverseMatch:
        link = ""
    body = render_to_string("access/refused.html", {"refused": refused, "link": link, "hide_training_banner": True}, request=request)
    return HttpResponse(body, status=403)
