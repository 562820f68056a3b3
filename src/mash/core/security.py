"""Headers every response carries, and the JSON API's rate limits (docs/security.md).

The Content Security Policy itself comes from django-csp (settings.CONTENT_SECURITY_POLICY); Django's
SecurityMiddleware sets nosniff, the referrer policy, the opener policy and, in production, HSTS.
"""

from __future__ import annotations

import hashlib
import json
import math
import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse

from mash.core.config import parse_rate
from mash.core.web import client_ip


def security_headers_middleware(get_response):
    """Switch off browser features no page uses, and keep pages out of caches: a page of case data left
    in a shared computer's browser cache, or a proxy's, is a disclosure."""

    static_prefix = "/" + settings.STATIC_URL.lstrip("/")

    def middleware(request):
        response = get_response(request)
        response.headers.setdefault("Permissions-Policy", settings.MASH_PERMISSIONS_POLICY)
        if not request.path.startswith(static_prefix) and "Cache-Control" not in response.headers:
            response.headers["Cache-Control"] = "no-store"
        return response

    return middleware


# --- API rate limits ---------------------------------------------------------------------------

# parse_rate ('300/min' -> (300, 60)) lives with the settings it reads (mash.core.config).
_PERIOD_WORDS = {1: "a second", 60: "a minute", 3600: "an hour", 86400: "a day"}


def _hit(bucket: str, rate: str) -> float | None:
    """Count one request against `bucket`; None if within its limit, else the seconds until the window
    ends. Fixed windows: simple and cheap, at the cost of allowing up to twice the rate across a boundary."""
    limit, period = parse_rate(rate)
    now = time.time()
    key = f"mash-rate:{bucket}:{int(now // period)}"
    cache.add(key, 0, timeout=period + 1)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=period + 1)
        count = 1
    if count <= limit:
        return None
    return period - (now % period)


def _credential(request) -> str | None:
    """What identifies the caller before authentication: a hash of the bearer token, or of the session
    cookie. Never the token itself (cache keys can be read by whoever reads the cache)."""
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if header.lower().startswith("bearer "):
        return "token:" + hashlib.sha256(header[7:].strip().encode()).hexdigest()[:32]
    session = request.COOKIES.get(settings.SESSION_COOKIE_NAME)
    if session:
        return "session:" + hashlib.sha256(session.encode()).hexdigest()[:32]
    return None


def api_rate_limit_middleware(get_response):
    """At most MASH_API_RATE requests per token or session, and MASH_API_CLIENT_RATE per client address
    whatever it sends (so a stream of made-up tokens is limited too). Over either: 429 with Retry-After."""

    def middleware(request):
        if not request.path.startswith("/api/"):
            return get_response(request)
        waits = []
        credential = _credential(request)
        if credential:
            waits.append((_hit(credential, settings.MASH_API_RATE), settings.MASH_API_RATE))
        waits.append((_hit("client:" + client_ip(request), settings.MASH_API_CLIENT_RATE),
                      settings.MASH_API_CLIENT_RATE))
        over = [(wait, rate) for wait, rate in waits if wait is not None]
        if not over:
            return get_response(request)
        wait, rate = max(over)
        limit, period = parse_rate(rate)
        seconds = max(1, math.ceil(wait))
        body = {"detail": f"Too many requests: at most {limit} {_PERIOD_WORDS.get(period, f'per {period} seconds')}. "
                          f"Try again in {seconds} second{'s' if seconds != 1 else ''}."}
        response = HttpResponse(json.dumps(body), status=429, content_type="application/json")
        response["Retry-After"] = str(seconds)
        return response

    return middleware
