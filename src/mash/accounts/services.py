"""Operations on users and API tokens."""

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from mash.audit import services as audit
from mash.audit.models import Kind as AuditKind
from mash.core.errors import NotFound, ValidationFailed

from .models import ApiToken, Role, User


def create_user(*, username: str, role: str, password: str | None, first_name: str = "", last_name: str = "",
                email: str = "", partner=None, team: str = "", job_title: str = "") -> User:
    if role not in Role.values:
        raise ValidationFailed(f"Unknown role '{role}': choose one of {', '.join(Role.values)}", field="role")
    if User.objects.filter(username=username).exists():
        raise ValidationFailed(f"A user called '{username}' already exists", field="username")
    user = User(username=username, role=role, first_name=first_name, last_name=last_name, email=email,
                partner=partner, team=team, job_title=job_title)
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.full_clean()
    with transaction.atomic():
        user.save()
        audit.record(AuditKind.ADMIN, "user.create", object_type="user", object_ref=username,
                     detail=f"role {role}" + (f", agency {partner.slug}" if partner else ""))
    return user


def token_agency(user: User, agency_slug: str | None = None):
    """The agency a token for `user` is scoped to: their own; for council staff (who belong to no partner
    agency) the council that hosts the MASH, which must be a signatory of the current ISA."""
    from mash.core.vocabulary import PartnerType
    from mash.partners import services as isa

    signatories = isa.signatories()
    if user.partner_id:
        if agency_slug and agency_slug != user.partner.slug:
            raise ValidationFailed(f"{user.username} belongs to {user.partner.name}: a token for them can only be "
                                   f"scoped to that agency", field="agency")
        if not signatories.filter(pk=user.partner_id).exists():
            raise ValidationFailed(f"{user.partner.name} is not a signatory of the current ISA", field="agency")
        return user.partner
    councils = signatories.filter(partner_type=PartnerType.LOCAL_AUTHORITY)
    if agency_slug:
        councils = councils.filter(slug=agency_slug)
    councils = list(councils[:2])
    if len(councils) != 1:
        raise ValidationFailed(f"{user.username} belongs to no partner agency: name the council that hosts the "
                               f"MASH (--agency)", field="agency")
    return councils[0]


@transaction.atomic
def create_token(user: User, name: str = "", agency_slug: str | None = None,
                 days: int | None = None) -> tuple[ApiToken, str]:
    """Returns the token record and the token itself, which is not stored and cannot be shown again.
    The token is scoped to one agency (token_agency) and expires after `days` (MASH_API_TOKEN_DAYS)."""
    if not user.is_active:
        raise ValidationFailed(f"User '{user.username}' is inactive", field="user")
    days = settings.MASH_API_TOKEN_DAYS if days is None else days
    if days < 1:
        raise ValidationFailed("A token must last at least one day", field="days")
    agency = token_agency(user, agency_slug)
    raw = ApiToken.generate()
    token = ApiToken.objects.create(user=user, partner=agency, name=name, key_prefix=raw[:12],
                                    key_hash=ApiToken.hash(raw),
                                    expires_at=timezone.now() + dt.timedelta(days=days))
    audit.record(AuditKind.ADMIN, "token.create", object_type="apitoken", object_ref=token.key_prefix,
                 detail=f"for {user.username}, scoped to {agency.slug}, expires {token.expires_at:%Y-%m-%d}")
    return token, raw


def token_for(raw: str) -> ApiToken | None:
    """The token `raw` names, if it may be used now (see ApiToken)."""
    from mash.partners import services as isa

    if not raw or not raw.startswith(ApiToken.PREFIX):
        return None
    now = timezone.now()
    token = (
        ApiToken.objects.select_related("user", "user__partner", "partner")
        .filter(key_hash=ApiToken.hash(raw), revoked_at__isnull=True, user__is_active=True, partner__isnull=False)
        .exclude(expires_at__lte=now)
        .first()
    )
    if token is None:
        return None
    # Scoped to one agency: a user who has moved agency, or an agency that has left the ISA, loses it.
    if token.user.partner_id not in (None, token.partner_id):
        return None
    if not isa.signatories().filter(pk=token.partner_id).exists():
        return None
    # Write the last use at most once a minute, so reads do not each cost a write.
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token


def user_for_token(raw: str) -> User | None:
    token = token_for(raw)
    return token.user if token else None


@transaction.atomic
def revoke_token(prefix: str, by: User | None = None, owner: User | None = None) -> ApiToken:
    """Revoke the active token starting `prefix`; with `owner`, only one of theirs."""
    tokens = ApiToken.objects.select_for_update().filter(key_prefix=prefix, revoked_at__isnull=True)
    if owner is not None:
        tokens = tokens.filter(user=owner)
    token = tokens.first()
    if token is None:
        raise NotFound(f"No active token starts with '{prefix}'")
    token.revoked_at = timezone.now()
    token.revoked_by = by.username if by else ""
    token.save(update_fields=["revoked_at", "revoked_by"])
    audit.record(AuditKind.ADMIN, "token.revoke", actor=by, object_type="apitoken", object_ref=token.key_prefix,
                 detail=f"of {token.user.username}, scoped to {token.partner.slug if token.partner else 'no agency'}")
    return token


@transaction.atomic
def revoke_agency_tokens(agency_slug: str, by: User | None = None) -> int:
    """Revoke every active token scoped to one agency: its system is compromised, or it left the ISA."""
    from mash.partners.models import Partner

    agency = Partner.objects.filter(slug=agency_slug).first()
    if agency is None:
        raise NotFound(f"No partner agency '{agency_slug}'")
    tokens = list(ApiToken.objects.select_for_update().filter(partner=agency, revoked_at__isnull=True))
    now = timezone.now()
    for token in tokens:
        token.revoked_at = now
        token.revoked_by = by.username if by else ""
        token.save(update_fields=["revoked_at", "revoked_by"])
    audit.record(AuditKind.ADMIN, "token.revoke_agency", actor=by, object_type="partner", object_ref=agency.slug,
                 detail=f"{len(tokens)} token(s) revoked")
    return len(tokens)


# --- Two-factor sign-in (django-otp) --------------------------------------------------------------
# Each person has at most one authenticator app (a TOTP device) and one set of single-use backup codes.

AUTHENTICATOR = "Authenticator app"
BACKUP_CODES = "Backup codes"
BACKUP_CODE_COUNT = 10


def has_two_factor(user: User) -> bool:
    from django_otp.plugins.otp_totp.models import TOTPDevice

    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def needs_second_factor(user: User) -> bool:
    """Whether this signed-in user must give a code before anything else: everyone outside demo mode,
    and in demo mode whoever has set up an authenticator app."""
    return settings.MASH_TWO_FACTOR_REQUIRED or has_two_factor(user)


@transaction.atomic
def start_enrolment(user: User):
    """The unconfirmed authenticator device whose key the person is adding to their app (the same one
    until they confirm it, so reloading the page does not change the key)."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    if has_two_factor(user):
        raise ValidationFailed("You already have an authenticator app set up", field="code")
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-id").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=AUTHENTICATOR, confirmed=False)
    return device


@transaction.atomic
def confirm_enrolment(user: User, code: str) -> tuple[object, list[str]]:
    """Confirm the person's new authenticator with a code from it. Returns the device and new backup
    codes, which are shown once."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=False).order_by("-id").first()
    if device is None:
        raise ValidationFailed("Start again: set up your authenticator app from the beginning", field="code")
    code = _clean_code(code)
    if not code.isdigit() or len(code) != device.digits:
        raise ValidationFailed(f"Enter the {device.digits}-digit code from your authenticator app", field="code")
    if not device.verify_token(code):
        raise ValidationFailed("The code is not right: check the time on your phone, and enter the code "
                               "your app shows now", field="code")
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    codes = _new_backup_codes(user)
    audit.record(AuditKind.ADMIN, "account.two_factor.enrol", actor=user, object_type="user", object_ref=user.username,
                 detail="authenticator app set up; backup codes issued")
    return device, codes


def _new_backup_codes(user: User) -> list[str]:
    from django_otp.plugins.otp_static.models import StaticDevice, StaticToken

    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=BACKUP_CODES, confirmed=True)
    codes = [StaticToken.random_token() for _ in range(BACKUP_CODE_COUNT)]
    for code in codes:
        device.token_set.create(token=code)
    return codes


@transaction.atomic
def new_backup_codes(user: User) -> list[str]:
    if not has_two_factor(user):
        raise ValidationFailed("Set up an authenticator app first", field="code")
    codes = _new_backup_codes(user)
    audit.record(AuditKind.ADMIN, "account.two_factor.backup_codes", actor=user, object_type="user",
                 object_ref=user.username, detail="new backup codes issued; the old ones no longer work")
    return codes


def backup_codes_left(user: User) -> int:
    from django_otp.plugins.otp_static.models import StaticToken

    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def _clean_code(code: str) -> str:
    return "".join((code or "").split()).replace("-", "").lower()


def check_second_factor(user: User, code: str):
    """The device that accepts `code` (an authenticator code or an unused backup code), or None.
    django-otp refuses a code used before and slows down guessing per device."""
    from django_otp import devices_for_user

    code = _clean_code(code)
    if not code:
        return None
    with transaction.atomic():
        for device in devices_for_user(user, confirmed=True):
            if device.verify_token(code):
                return device
    return None


def second_factor_wait(user: User) -> int:
    """Seconds until django-otp accepts another code from this person's app (it doubles the wait after
    each wrong code); 0 when it would accept one now."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        return 0
    allowed, data = device.verify_is_allowed()
    if allowed or not data or not data.get("locked_until"):
        return 0
    return max(1, int((data["locked_until"] - timezone.now()).total_seconds() + 0.999))


@transaction.atomic
def reset_two_factor(user: User, by: User | None = None, reason: str = "") -> int:
    """Remove a person's authenticator and backup codes (a lost phone): they set up again at next sign-in."""
    from django_otp.plugins.otp_static.models import StaticDevice
    from django_otp.plugins.otp_totp.models import TOTPDevice

    removed = TOTPDevice.objects.filter(user=user).delete()[0] + StaticDevice.objects.filter(user=user).delete()[0]
    audit.record(AuditKind.ADMIN, "account.two_factor.reset", actor=by, object_type="user", object_ref=user.username,
                 detail=(reason or "reset")[:300])
    return removed


def qr_code_svg(otpauth_url: str) -> str:
    """The authenticator's otpauth:// address as an inline SVG QR code (no script, no inline style, so
    the Content Security Policy allows it; no image request that could leak the key to a log)."""
    import qrcode
    import qrcode.image.svg

    image = qrcode.make(otpauth_url, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=4)
    svg = image.to_string(encoding="unicode")
    return svg.replace("<svg ", '<svg class="mash-qr" role="img" aria-label="QR code for your authenticator app" ', 1)


def key_for_typing(device) -> list[str]:
    """The device's key in base32, in groups of four, for people who type it in rather than scan."""
    import base64

    key = base64.b32encode(device.bin_key).decode().rstrip("=")
    return [key[i:i + 4] for i in range(0, len(key), 4)]
