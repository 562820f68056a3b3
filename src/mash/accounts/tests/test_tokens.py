"""`mash token create|list|revoke`, and bearer tokens at the API's door."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from mash.accounts.models import ApiToken, Role
from mash.accounts.services import create_token
from mash.testing.api import bearer

ME = "/api/v1/me"


def token_command(*args) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("token", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


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


# --- Scoped to one agency, expiring, revocable (issue 9) ------------------------------------------

@pytest.mark.django_db
def test_a_token_is_scoped_to_its_users_agency(client, police_worker, manager, partner):
    token, raw = create_token(police_worker)
    assert token.partner.slug == "essex-police"
    # Council staff belong to no partner agency: their tokens are scoped to the council hosting the MASH.
    council_token, _ = create_token(manager)
    assert council_token.partner.partner_type == "local_authority"
    with pytest.raises(CommandError, match="can only be scoped to that agency"):
        token_command("create", "police-worker", "--agency", "education")

    assert client.get(ME, headers=bearer(raw)).status_code == 200
    # The worker moves to another agency: the old agency's token no longer works for them.
    police_worker.partner = partner("education")
    police_worker.save()
    assert client.get(ME, headers=bearer(raw)).status_code == 401


@pytest.mark.django_db
def test_a_token_stops_when_its_agency_leaves_the_isa(client, police_worker, monkeypatch):
    from mash.partners import services as isa
    from mash.partners.models import Partner

    _, raw = create_token(police_worker)
    assert client.get(ME, headers=bearer(raw)).status_code == 200
    monkeypatch.setattr(isa, "signatories", lambda: Partner.objects.exclude(slug="essex-police"))
    assert client.get(ME, headers=bearer(raw)).status_code == 401


@pytest.mark.django_db
def test_tokens_expire(client, police_worker):
    from datetime import timedelta

    from django.utils import timezone

    token, raw = create_token(police_worker, days=30)
    assert (token.expires_at - timezone.now()).days in (29, 30)
    assert client.get(ME, headers=bearer(raw)).status_code == 200
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert client.get(ME, headers=bearer(raw)).status_code == 401
    out, _ = token_command("list", "police-worker")
    assert "expired" in out
    with pytest.raises(CommandError, match="at least one day"):
        token_command("create", "police-worker", "--days", "0")


@pytest.mark.django_db
def test_revoke_every_token_of_an_agency(client, police_worker, make_user, education_worker):
    other_police = make_user(Role.MASH_WORKER, "essex-police")
    raws = [create_token(u)[1] for u in (police_worker, other_police)]
    _, education_raw = create_token(education_worker)
    out, _ = token_command("revoke", "--agency", "essex-police")
    assert "Revoked 2 tokens of essex-police" in out
    assert all(client.get(ME, headers=bearer(r)).status_code == 401 for r in raws)
    assert client.get(ME, headers=bearer(education_raw)).status_code == 200
    with pytest.raises(CommandError, match="either"):
        token_command("revoke")


@pytest.mark.django_db
def test_people_revoke_their_own_tokens_on_the_account_page(client, police_worker, education_worker):
    token, raw = create_token(police_worker, name="Athena link")
    other, _ = create_token(education_worker)
    client.force_login(police_worker)
    page = client.get("/account/")
    assert token.key_prefix.encode() in page.content and b"Athena link" in page.content
    assert other.key_prefix.encode() not in page.content
    # Someone else's token cannot be revoked from here.
    client.post(f"/account/tokens/{other.key_prefix}/revoke/")
    other.refresh_from_db()
    assert other.revoked_at is None
    response = client.post(f"/account/tokens/{token.key_prefix}/revoke/")
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None and token.revoked_by == "police-worker"
    assert Client().get(ME, headers=bearer(raw)).status_code == 401
