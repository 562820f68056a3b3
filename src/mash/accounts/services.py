"""Operations on users and API tokens."""

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


@transaction.atomic
def create_token(user: User, name: str = "") -> tuple[ApiToken, str]:
    """Returns the token record and the token itself, which is not stored and cannot be shown again."""
    if not user.is_active:
        raise ValidationFailed(f"User '{user.username}' is inactive", field="user")
    raw = ApiToken.generate()
    token = ApiToken.objects.create(user=user, name=name, key_prefix=raw[:12], key_hash=ApiToken.hash(raw))
    audit.record(AuditKind.ADMIN, "token.create", object_type="apitoken", object_ref=token.key_prefix,
                 detail=f"for {user.username}")
    return token, raw


def user_for_token(raw: str) -> User | None:
    if not raw or not raw.startswith(ApiToken.PREFIX):
        return None
    token = (
        ApiToken.objects.select_related("user", "user__partner")
        .filter(key_hash=ApiToken.hash(raw), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    # Write the last use at most once a minute, so reads do not each cost a write.
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


@transaction.atomic
def revoke_token(prefix: str) -> ApiToken:
    token = ApiToken.objects.filter(key_prefix=prefix, revoked_at__isnull=True).first()
    if token is None:
        raise NotFound(f"No active token starts with '{prefix}'")
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    audit.record(AuditKind.ADMIN, "token.revoke", object_type="apitoken", object_ref=token.key_prefix,
                 detail=f"of {token.user.username}")
    return token
