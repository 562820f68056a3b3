"""Your account: the second factor at sign-in, setting up an authenticator app, backup codes, API tokens."""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout, user_login_failed
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django_otp import login as otp_login

from mash.access.guard import GET_OR_POST, POST, SAFE, guarded
from mash.core.errors import DomainError
from mash.core.web import INVALID, apply_domain_error

from . import services
from .models import ApiToken


class CodeForm(forms.Form):
    code = forms.CharField(
        max_length=40, strip=True,
        error_messages={"required": "Enter the code from your authenticator app"},
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "spellcheck": "false",
                                      "autocapitalize": "none"}),
    )


def _next(request, default="home") -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                   require_https=request.is_secure()):
        return target
    return reverse(default)


def _axes_locked(request, user) -> bool:
    from axes.handlers.proxy import AxesProxyHandler

    return AxesProxyHandler.is_locked(request, credentials={"username": user.get_username()})


def locked_out_response(request, original_response=None, credentials=None):
    """django-axes' lockout page (AXES_LOCKOUT_CALLABLE): 429, saying for how long and what to do."""
    from axes.helpers import get_cool_off, get_failure_limit

    cool_off = get_cool_off(request)
    return render(request, "accounts/locked_out.html", {
        "failure_limit": get_failure_limit(request, credentials),
        "minutes": round(cool_off.total_seconds() / 60) if cool_off else None,
    }, status=429)


def _locked_out(request, user):
    """Too many wrong codes: sign the session out, as too many wrong passwords would have stopped it."""
    credentials = {"username": user.get_username()}
    logout(request)
    return locked_out_response(request, credentials=credentials)


@guarded("two-factor", methods=GET_OR_POST)
def verify(request):
    """The second step of signing in: a code from the person's authenticator app, or a backup code."""
    user = request.user
    if user.is_verified():
        return redirect(_next(request))
    if not services.has_two_factor(user):
        return redirect("accounts:setup")
    form = CodeForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if _axes_locked(request, user):
            return _locked_out(request, user)
        if form.is_valid():
            device = services.check_second_factor(user, form.cleaned_data["code"])
            if device is not None:
                otp_login(request, device)
                if device.name == services.BACKUP_CODES:
                    left = services.backup_codes_left(user)
                    messages.warning(request, f"You signed in with a backup code. You have {left} left: "
                                              f"make new ones from your account page if you are running out.")
                return redirect(_next(request))
            # Counted by django-axes like a wrong password, and recorded in the audit log.
            user_login_failed.send(sender=__name__, request=request,
                                   credentials={"username": user.get_username(), "second_factor": True})
            if getattr(request, "axes_locked_out", False) or _axes_locked(request, user):
                return _locked_out(request, user)
            wait = services.second_factor_wait(user)
            form.add_error("code", "The code is not right. " + (
                f"Wait {wait} second{'s' if wait != 1 else ''}, then enter the code your app shows then"
                if wait else "Enter the code your app shows now, or a backup code"))
        status = INVALID
    return render(request, "accounts/verify.html", {"form": form, "next": _next(request)}, status=status)


@guarded("two-factor", methods=GET_OR_POST)
def setup(request):
    """Add MASH Hub to an authenticator app: scan the QR code (or type the key), then confirm a code."""
    user = request.user
    if services.has_two_factor(user):
        # Replacing an app needs the current one (or an administrator's reset): account page.
        return redirect("accounts:account" if user.is_verified() else "accounts:verify")
    device = services.start_enrolment(user)
    form = CodeForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                device, codes = services.confirm_enrolment(user, form.cleaned_data["code"])
            except DomainError as exc:
                status = apply_domain_error(exc, lambda key: (form, "code"), form)
            else:
                otp_login(request, device)
                return render(request, "accounts/backup_codes.html",
                              {"codes": codes, "first_time": True, "next": _next(request)})
        else:
            status = INVALID
    return render(request, "accounts/setup.html", {
        "form": form, "next": _next(request), "qr_svg": services.qr_code_svg(device.config_url),
        "key_groups": services.key_for_typing(device), "required": settings.MASH_TWO_FACTOR_REQUIRED,
    }, status=status)


@guarded("authenticated", methods=SAFE)
def account(request):
    user = request.user
    tokens = ApiToken.objects.filter(user=user).select_related("partner").order_by("-created_at")
    return render(request, "accounts/account.html", {
        "has_two_factor": services.has_two_factor(user),
        "backup_codes_left": services.backup_codes_left(user),
        "tokens": tokens,
        "idle_minutes": settings.MASH_IDLE_TIMEOUT_MINUTES,
        "now": timezone.now(),
    })


@guarded("authenticated", methods=POST)
def backup_codes(request):
    try:
        codes = services.new_backup_codes(request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("accounts:account")
    return render(request, "accounts/backup_codes.html", {"codes": codes, "first_time": False})


@guarded("authenticated", methods=POST)
def reset_authenticator(request):
    """Replace the authenticator app (a new phone): remove it, then set up again straight away."""
    services.reset_two_factor(request.user, by=request.user, reason="replaced by its owner from the account page")
    return redirect("accounts:setup")


@guarded("authenticated", methods=POST)
def revoke_token(request, prefix):
    try:
        token = services.revoke_token(prefix, by=request.user, owner=request.user)
    except DomainError:
        messages.error(request, "That token is already revoked, or is not yours")
    else:
        messages.success(request, f"Token {token.key_prefix}… is revoked: it no longer works")
    return redirect("accounts:account")
