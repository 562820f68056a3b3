"""Sign-ins, sign-outs, failed sign-ins and changes made in the admin site go into the audit log."""

from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import post_save
from django.dispatch import receiver

from axes.signals import user_locked_out

from .models import Kind, Result
from .services import record
from .typed import username_if_account


@receiver(user_logged_in)
def _signed_in(sender, request, user, **kwargs):
    record(Kind.LOGIN, "sign in", actor=user)


@receiver(user_logged_out)
def _signed_out(sender, request, user, **kwargs):
    if user is not None:
        record(Kind.LOGOUT, "sign out", actor=user)


@receiver(user_login_failed)
def _sign_in_failed(sender, credentials, request=None, **kwargs):
    # The username tried is kept if it is an account's; the password or code never is.
    if credentials.get("second_factor"):
        record(Kind.LOGIN_FAILED, "sign in: second factor", result=Result.REFUSED,
               username=username_if_account(credentials.get("username")), detail="wrong authenticator or backup code")
        return
    record(Kind.LOGIN_FAILED, "sign in", result=Result.REFUSED, username=username_if_account(credentials.get("username")),
           detail="wrong username or password, the account is inactive, or sign-in is locked")


@receiver(user_locked_out)
def _locked_out(sender, request, username=None, ip_address=None, **kwargs):
    record(Kind.LOGIN_FAILED, "sign-in locked", result=Result.REFUSED, username=username_if_account(username),
           detail=f"too many failed attempts from {ip_address or 'an unknown address'}; locked for a while")


_ADMIN_VERBS = {ADDITION: "add", CHANGE: "change", DELETION: "delete"}


@receiver(post_save, sender=LogEntry)
def _admin_change(sender, instance: LogEntry, created, **kwargs):
    """The admin site writes a LogEntry inside the change's transaction; the audit event joins it."""
    if not created:
        return
    model = instance.content_type.model if instance.content_type_id else ""
    record(Kind.ADMIN, f"admin {_ADMIN_VERBS.get(instance.action_flag, 'change')} {model}", actor=instance.user,
           object_type=model, object_ref=f"{instance.object_id or ''} {instance.object_repr or ''}".strip(),
           detail=instance.get_change_message()[:500])
