"""`mash token create|list|revoke`, and bearer tokens at the API's door."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from mash.accounts.models import ApiToken, Role
from mash.accounts.services import create_token

ME = "/api/v1/me"


def token_command(*args) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("token", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.django_db
def test_create_prints_the_token_once_and_stores_only_its_hash(client, police_worker):
    out, err = token_command("create", "police-worker", "--name", "Athena")
    raw = out.strip()
    assert raw.startswith("mash_") and "\n" not in raw
    assert "only time it is shown" in err and "stores only a hash" in err
    token = ApiToken.objects.get(user=police_worker)
    assert token.name == "Athena"
    assert token.key_hash == ApiToken.hash(raw) and raw not in (token.key_hash, token.key_prefix)
    assert raw.startswith(token.key_prefix)

    response = client.get(ME, headers=bearer(raw))
    assert response.status_code == 200
    assert response.json() == {
        "username": "police-worker",
        "display_name": police_worker.display_name,
        "role": "mash_worker",
        "role_label": "MASH worker",
        "partner": {"slug": "essex-police", "name": "Essex Police"},
    }
    token.refresh_from_db()
    assert token.last_used_at is not None


@pytest.mark.django_db
def test_create_for_an_unknown_or_inactive_user_is_a_clear_error(manager):
    with pytest.raises(CommandError, match="No user called 'nobody'"):
        token_command("create", "nobody")
    manager.is_active = False
    manager.save()
    with pytest.raises(CommandError, match="inactive"):
        token_command("create", "manager")
    assert not ApiToken.objects.exists()


@pytest.mark.django_db
def test_list_shows_prefixes_and_status_never_the_token(manager, police_worker):
    _, raw_manager = create_token(manager, name="case system")
    token, raw_police = create_token(police_worker)
    out, _ = token_command("list")
    assert "PREFIX" in out and "manager" in out and "police-worker" in out and "case system" in out
    assert raw_manager not in out and raw_police not in out
    assert out.count("active") == 2

    token_command("revoke", token.key_prefix)
    out, _ = token_command("list", "police-worker")
    assert token.key_prefix in out and "revoked" in out and "manager" not in out

    with pytest.raises(CommandError, match="No user called 'nobody'"):
        token_command("list", "nobody")


@pytest.mark.django_db
def test_list_with_no_tokens(manager):
    out, _ = token_command("list", "manager")
    assert out.strip() == "No API tokens for manager"


@pytest.mark.django_db
def test_revoked_token_is_refused(client, manager):
    token, raw = create_token(manager)
    assert client.get(ME, headers=bearer(raw)).status_code == 200
    out, _ = token_command("revoke", token.key_prefix)
    assert f"Revoked {token.key_prefix}" in out
    response = client.get(ME, headers=bearer(raw))
    assert response.status_code == 401
    assert response.json() == {"detail": "Unauthorized"}
    # POST as well: a refused token is 401, not a CSRF error.
    assert client.post("/api/v1/contacts", {}, content_type="application/json",
                       headers=bearer(raw)).status_code == 401
    with pytest.raises(CommandError, match="No active token"):
        token_command("revoke", token.key_prefix)


@pytest.mark.django_db
def test_token_of_a_deactivated_user_is_refused(client, make_user):
    user = make_user(Role.MASH_WORKER, "education")
    _, raw = create_token(user)
    user.is_active = False
    user.save()
    assert client.get(ME, headers=bearer(raw)).status_code == 401


@pytest.mark.django_db
@pytest.mark.parametrize("header", ["Bearer mash_not-a-real-token", "Bearer ", "Bearer nonsense", "Basic abc"])
def test_bad_credentials_are_401(client, manager, header):
    response = client.get(ME, headers={"Authorization": header})
    assert response.status_code == 401


@pytest.mark.django_db
def test_no_credentials_are_401(client, isa_version):
    assert client.get(ME).status_code == 401
    assert client.get("/api/v1/enquiries").status_code == 401
    assert client.post("/api/v1/contacts", {}, content_type="application/json").status_code == 401
