"""Two-factor sign-in, lockout after repeated failures, and the idle timeout (issue 9)."""

import re
import time
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from mash.accounts import services
from mash.accounts.middleware import LAST_SEEN, STARTED
from mash.accounts.models import Role
from mash.audit.models import AuditEvent, Kind
from mash.testing.world import PASSWORD

pytestmark = pytest.mark.django_db

VERIFY, SETUP, ACCOUNT = "/account/two-factor/verify/", "/account/two-factor/setup/", "/account/"


@pytest.fixture(autouse=True)
def two_factor_required(settings):
    settings.MASH_TWO_FACTOR_REQUIRED = True


def code_for(device: TOTPDevice, *, offset: int = 0) -> str:
    return str(totp(device.bin_key, step=device.step, t0=device.t0 - offset * device.step,
                    digits=device.digits)).zfill(device.digits)


def enrolled(user) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name=services.AUTHENTICATOR, confirmed=True)


def unthrottle(device):
    """As if the wait after a wrong code had passed."""
    device.refresh_from_db()
    device.throttle_reset()


def sign_in(client: Client, username: str, password: str = PASSWORD):
    return client.post("/login/", {"username": username, "password": password})


def test_password_alone_reaches_only_the_code_page(client, manager):
    device = enrolled(manager)
    response = sign_in(client, "manager")
    assert response.status_code == 302
    # Every page, case data or not, sends them to the code page; the API treats them as signed out.
    for url in ("/", "/enquiries/", "/isa/", "/training/", ACCOUNT):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(VERIFY), url
    assert client.get("/api/v1/me").status_code == 401
    assert client.get("/enquiries/")["Location"] == VERIFY + "?next=%2Fenquiries%2F"

    page = client.get(VERIFY)
    assert page.status_code == 200 and b"Code from your authenticator app" in page.content
    # Half signed in: no menu, no account link, nothing it could not follow.
    assert b"Enquiry queue" not in page.content and b'href="/account/"' not in page.content
    response = client.post(VERIFY, {"code": code_for(device), "next": "/enquiries/"})
    assert response.status_code == 302 and response["Location"] == "/enquiries/"
    assert client.get("/enquiries/").status_code == 200
    assert client.get("/api/v1/me").status_code == 200


def test_wrong_and_reused_codes_are_refused_and_recorded(client, manager):
    device = enrolled(manager)
    sign_in(client, "manager")
    response = client.post(VERIFY, {"code": "000000"})
    assert response.status_code == 400 and b"The code is not right" in response.content
    assert b'href="#id_code"' in response.content  # the error summary links to the field
    assert AuditEvent.objects.filter(kind=Kind.LOGIN_FAILED, action="sign in: second factor",
                                     actor="manager").exists()
    assert b"Wait 1 second" in response.content  # django-otp slows down guessing, and says so
    assert client.post(VERIFY, {"code": ""}).status_code == 400
    unthrottle(device)
    code = code_for(device)
    assert client.post(VERIFY, {"code": code}).status_code == 302
    # The same code cannot be used again, even by someone who watched it typed.
    other = Client()
    sign_in(other, "manager")
    unthrottle(device)
    assert other.post(VERIFY, {"code": code}).status_code == 400


def test_open_redirects_are_ignored(client, manager):
    device = enrolled(manager)
    sign_in(client, "manager")
    response = client.post(VERIFY, {"code": code_for(device), "next": "https://evil.example/"})
    assert response["Location"] == "/"


def test_setting_up_an_authenticator_app(client, manager):
    sign_in(client, "manager")
    assert client.get("/")["Location"] == SETUP
    assert client.get(VERIFY)["Location"] == "/account/two-factor/setup/"
    page = client.get(SETUP)
    html = page.content.decode()
    assert page.status_code == 200 and "<svg" in html and 'aria-label="QR code' in html
    typed = re.search(r'id="setup-key">([A-Z2-7 ]+)<', html).group(1).replace(" ", "")
    device = TOTPDevice.objects.get(user=manager, confirmed=False)
    import base64
    assert base64.b32decode(typed + "=" * (-len(typed) % 8)) == device.bin_key
    # Reloading shows the same key: it is not confirmed until a code from it is entered.
    assert typed in client.get(SETUP).content.decode().replace(" ", "")

    assert b"Enter the 6-digit code" in client.post(SETUP, {"code": "12"}).content
    assert b"The code is not right" in client.post(SETUP, {"code": "000000"}).content
    response = client.post(SETUP, {"code": code_for(device)})
    assert response.status_code == 200 and b"Two-factor sign-in is set up" in response.content
    codes = re.findall(r"<li>([a-z2-7]{8})</li>", response.content.decode())
    assert len(codes) == services.BACKUP_CODE_COUNT
    assert client.get("/").status_code == 200  # signed in with the second factor now
    assert AuditEvent.objects.filter(action="account.two_factor.enrol", actor="manager").exists()
    # Set up once: the set-up page no longer offers a new key.
    assert client.get(SETUP)["Location"] == ACCOUNT

    # A backup code works once, instead of the app.
    fresh = Client()
    sign_in(fresh, "manager")
    assert fresh.post(VERIFY, {"code": codes[0].upper()}).status_code == 302
    assert StaticToken.objects.filter(device__user=manager).count() == services.BACKUP_CODE_COUNT - 1
    again = Client()
    sign_in(again, "manager")
    assert again.post(VERIFY, {"code": codes[0]}).status_code == 400


def test_demo_mode_lets_password_only_accounts_in(client, manager, settings):
    settings.MASH_TWO_FACTOR_REQUIRED = False
    sign_in(client, "manager")
    assert client.get("/").status_code == 200
    # ...but whoever has set up an app is asked for a code even so.
    device = enrolled(manager)
    other = Client()
    sign_in(other, "manager")
    assert other.get("/")["Location"] == VERIFY
    assert other.post(VERIFY, {"code": code_for(device)}).status_code == 302


def test_replacing_the_app_and_new_backup_codes(client, manager):
    device = enrolled(manager)
    sign_in(client, "manager")
    client.post(VERIFY, {"code": code_for(device)})
    page = client.get(ACCOUNT)
    assert b"Replace your authenticator app" in page.content
    response = client.post("/account/two-factor/backup-codes/")
    assert b"Your new backup codes" in response.content
    response = client.post("/account/two-factor/reset/")
    assert response["Location"] == SETUP
    assert not TOTPDevice.objects.filter(user=manager, confirmed=True).exists()
    assert client.get("/")["Location"] == SETUP  # the old verification went with the device
    assert AuditEvent.objects.filter(action="account.two_factor.reset", actor="manager").exists()


def test_administrator_resets_two_factor(manager):
    enrolled(manager)
    out = StringIO()
    call_command("twofactor", "status", "manager", stdout=out)
    assert "manager" in out.getvalue() and "on (" in out.getvalue()
    call_command("twofactor", "reset", "manager", "--reason", "lost phone, ticket 42", stdout=out)
    assert not services.has_two_factor(manager)
    event = AuditEvent.objects.get(action="account.two_factor.reset")
    assert event.object_ref == "manager" and "ticket 42" in event.detail


def test_repeated_wrong_passwords_lock_the_account(client, manager, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert sign_in(client, "manager", "wrong-password").status_code == 200
    response = sign_in(client, "manager", "wrong-password")
    assert response.status_code == 429 and b"Sign-in is locked for now" in response.content
    # Now even the right password is refused, until the cool-off passes.
    response = sign_in(client, "manager")
    assert response.status_code == 429
    assert client.get("/")["Location"].startswith("/login/")
    assert AuditEvent.objects.filter(action="sign-in locked", actor="manager").exists()
    # Another account from the same address is not locked by it.
    assert sign_in(Client(), "nobody-else", "x").status_code == 200


def test_repeated_wrong_codes_lock_and_sign_out(client, manager, settings):
    enrolled(manager)
    sign_in(client, "manager")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert client.post(VERIFY, {"code": "000000"}).status_code == 400
    response = client.post(VERIFY, {"code": "000000"})
    assert response.status_code == 429
    assert client.get("/")["Location"].startswith("/login/")  # the half-signed-in session is gone
    assert sign_in(Client(), "manager").status_code == 429


def test_idle_sessions_are_signed_out(client, make_user, settings):
    settings.MASH_TWO_FACTOR_REQUIRED = False
    user = make_user(Role.MASH_MANAGER)
    client.force_login(user)
    assert client.get("/enquiries/").status_code == 200
    session = client.session
    session[LAST_SEEN] = time.time() - settings.MASH_IDLE_TIMEOUT_MINUTES * 60 - 5
    session.save()
    response = client.get("/enquiries/")
    assert response.status_code == 302
    assert response["Location"] == "/login/?signed_out=idle&next=%2Fenquiries%2F"
    assert b"You were signed out because" in client.get(response["Location"]).content
    assert client.get("/enquiries/")["Location"].startswith("/login/")
    event = AuditEvent.objects.get(kind=Kind.LOGOUT, action="signed out: session ended", actor=user.username)
    assert event.detail == f"no request for {settings.MASH_IDLE_TIMEOUT_MINUTES} minutes"


def test_a_busy_session_still_ends_after_a_working_day(client, make_user, settings):
    settings.MASH_TWO_FACTOR_REQUIRED = False
    user = make_user(Role.MASH_MANAGER)
    client.force_login(user)
    client.get("/")
    session = client.session
    session[STARTED] = time.time() - settings.SESSION_COOKIE_AGE - 5
    session[LAST_SEEN] = time.time() - 10  # active a moment ago
    session.save()
    response = client.get("/enquiries/")
    assert response["Location"] == "/login/?signed_out=expired&next=%2Fenquiries%2F"
    assert b"signed in for a working day" in client.get(response["Location"]).content
    assert AuditEvent.objects.get(action="signed out: session ended", actor=user.username).detail == "signed in for 10 hours"


def test_activity_keeps_the_session(client, make_user, settings):
    settings.MASH_TWO_FACTOR_REQUIRED = False
    user = make_user(Role.MASH_MANAGER)
    client.force_login(user)
    client.get("/")
    session = client.session
    session[LAST_SEEN] = time.time() - (settings.MASH_IDLE_TIMEOUT_MINUTES - 1) * 60
    session.save()
    assert client.get("/enquiries/").status_code == 200
    assert time.time() - client.session[LAST_SEEN] < 5  # the clock moved on


def test_the_admin_site_needs_the_second_factor_too(client, make_user):
    admin_user = make_user(Role.SYSADMIN, username="admin-person")
    device = enrolled(admin_user)
    response = client.post("/admin/login/", {"username": "admin-person", "password": PASSWORD,
                                             "next": "/admin/"})
    assert response.status_code == 302
    assert client.get("/admin/")["Location"] == VERIFY + "?next=%2Fadmin%2F"
    client.post(VERIFY, {"code": code_for(device)})
    assert client.get("/admin/").status_code == 200
