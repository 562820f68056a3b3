import pytest
from mash import settings as project_settings
from django.contrib.auth import authenticate
from django.test import RequestFactory  # django-axes needs the request to count attempts
from django.core.exceptions import ValidationError

from mash.accounts.models import Role, User
from mash.accounts.services import create_user
from mash.core.errors import ValidationFailed

pytestmark = pytest.mark.django_db


def test_passwords_are_hashed_with_argon2(settings):
    settings.PASSWORD_HASHERS = project_settings.PASSWORD_HASHERS
    assert settings.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")
    user = create_user(username="argon", role=Role.MASH_MANAGER, password="a-long-passphrase-for-test")
    assert user.password.startswith("argon2$")
    assert authenticate(RequestFactory().post("/login/"), username="argon", password="a-long-passphrase-for-test") == user


def test_worker_must_belong_to_an_agency():
    with pytest.raises(ValidationError) as exc:
        create_user(username="w", role=Role.MASH_WORKER, password="a-long-passphrase-for-test")
    assert "partner agency" in str(exc.value)


def test_unknown_role_is_refused():
    with pytest.raises(ValidationFailed, match="Unknown role 'chief'"):
        create_user(username="x", role="chief", password=None)


@pytest.mark.parametrize("role", [r for r in Role.values if r != Role.SYSADMIN])
def test_only_system_administrators_reach_django_admin(role, isa_version):
    from mash.partners.models import Partner

    partner = Partner.objects.first() if role == Role.MASH_WORKER else None
    user = User(username=f"u-{role}", role=role, partner=partner, is_staff=True, is_superuser=True)
    user.save()
    user.refresh_from_db()
    assert not user.is_staff and not user.is_superuser


def test_system_administrator_is_staff():
    user = User(username="admin", role=Role.SYSADMIN)
    user.save()
    assert user.is_staff


def test_duplicate_username_is_refused():
    create_user(username="same", role=Role.AUDITOR, password=None)
    with pytest.raises(ValidationFailed, match="already exists"):
        create_user(username="same", role=Role.AUDITOR, password=None)
