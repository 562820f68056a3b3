"""Every request's reads of case data become one audit event before the response leaves.

If that event cannot be written the response is withheld and the user told why (fail closed)."""

import logging

from django.conf import settings
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.urls import Resolver404, resolve

from mash.core.declare import declared_policy

from . import sealing, services

log = logging.getLogger(__name__)

REFUSED = ("The audit log could not record this, so it is not shown. Try again in a moment; "
           "if it keeps happening, tell your system administrator.")


def audit_middleware(get_response):
    def middleware(request):
        token = services.begin_request(request)
        try:
            ctx = services.current()
            declared = declared_policy(request)
            if declared:
                ctx.purpose = declared[:120]
            else:
                try:
                    ctx.purpose = resolve(request.path_info).view_name[:120]
                except Resolver404:
                    pass
            response = get_response(request)
            try:
                written = services.flush_request(ctx)
            except Exception:
                log.exception("audit: the reads of %s could not be recorded; response withheld", request.path)
                return _refused(request)
            if (written is not None or ctx.recorded) and settings.MASH_AUDIT_SEAL_INLINE:
                # Seal once the response has gone (the server closes it), so no one waits for the hashing.
                response._resource_closers.append(sealing.seal_quietly)
            return response
        finally:
            services.end_request(token)

    return middleware


def _refused(request) -> HttpResponse:
    if request.path.startswith("/api/"):
        return HttpResponse(b'{"detail": "%s"}' % REFUSED.encode(), status=503, content_type="application/json")
    body = render_to_string("503.html", {"message": REFUSED}, request=request)
    return HttpResponse(body, status=503)
