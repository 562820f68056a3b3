"""What a signed-in session must satisfy on every request: not idle too long, and a second factor given.

- Idle timeout: a session with no request for MASH_IDLE_TIMEOUT_MINUTES is signed out (and recorded);
  the next page is the sign-in page saying why. A shared office computer left signed in is the risk.
  However busy, a session ends SESSION_COOKIE_AGE (10 hours) after it began (the same page says so).
- Two-factor: until the person has given a code (django-otp's `user.is_verified()`), the only pages they
  reach are the code page, setting up an authenticator, and signing out. To the JSON API such a session
  is not signed in at all (401); bearer tokens are unaffected (mash.site.api.ApiTokenAuth).
"""

import time
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.models import AnonymousUser
from django.http import HttpResponseRedirect
from django.urls import reverse

from mash.core.declare import declared_policy
from mash.audit import services as audit
from mash.audit.models import Kind

from . import services

LAST_SEEN = "mash_last_seen"
STARTED = "mash_session_started"
# The session is written at most this often just to move the idle clock (a write per request is waste).
TOUCH_SECONDS = 30
# Pages a signed-in person reaches before giving their second factor (declared with these policies).
BEFORE_SECOND_FACTOR = {"public", "two-factor"}


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


def _login_url(request, **query) -> str:
    return reverse(settings.LOGIN_URL) + "?" + urlencode(query)


def session_security_middleware(get_response):
    def middleware(request):
        user = request.user
        if not user.is_authenticated:
            return get_response(request)

        now = time.time()
        last_seen = request.session.get(LAST_SEEN)
        started = request.session.setdefault(STARTED, now)
        ended = None  # (why, for the audit log, and the sign-in page's notice)
        # Django's own expiry moves on with every session write; this limit does not.
        if now - started > settings.SESSION_COOKIE_AGE:
            ended = (f"signed in for {settings.SESSION_COOKIE_AGE // 3600} hours", "expired")
        elif last_seen is not None and now - last_seen > settings.MASH_IDLE_TIMEOUT_MINUTES * 60:
            ended = (f"no request for {settings.MASH_IDLE_TIMEOUT_MINUTES} minutes", "idle")
        if ended:
            audit.record(Kind.LOGOUT, "signed out: session ended", actor=user, detail=ended[0])
            logout(request)
            if _is_api(request):
                return get_response(request)
            query = {"signed_out": ended[1]}
            if request.method == "GET":
                query["next"] = request.get_full_path()
            return HttpResponseRedirect(_login_url(request, **query))
        if last_seen is None or now - last_seen > TOUCH_SECONDS:
            request.session[LAST_SEEN] = now

        if not user.is_verified() and services.needs_second_factor(user):
            request.mash_fully_signed_in = False  # the pages it reaches show no menu (context_processors)
            if _is_api(request):
                request.user = AnonymousUser()
            elif declared_policy(request) not in BEFORE_SECOND_FACTOR:
                name = "accounts:verify" if services.has_two_factor(user) else "accounts:setup"
                target = reverse(name)
                if request.method == "GET" and request.path != reverse("home"):
                    target += "?" + urlencode({"next": request.get_full_path()})
                return HttpResponseRedirect(target)
        return get_response(request)

    return middleware
