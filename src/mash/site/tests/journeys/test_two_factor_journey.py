"""Setting up two-factor sign-in in the browser: a new member of staff's first sign-in (issue 9)."""

import base64
import re

import pytest
from django_otp.oath import totp
from playwright.sync_api import expect

from mash.accounts.models import Role
from mash.testing.world import PASSWORD

pytestmark = pytest.mark.browser


def code_from_key(typed_key: str) -> str:
    """What an authenticator app given this key shows now (30-second steps, 6 digits)."""
    key = typed_key.replace(" ", "")
    return str(totp(base64.b32decode(key + "=" * (-len(key) % 8)))).zfill(6)


def test_first_sign_in_sets_up_an_authenticator_app(page, look, make_user):
    journey = "two-factor-setup"
    worker = make_user(Role.MASH_WORKER, "essex-police", username="new-police-worker")
    page.goto("/login/")
    look(page, journey, "sign-in")
    page.get_by_label("Username").fill(worker.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/account/two-factor/setup/"))
    look(page, journey, "set-up")
    expect(page.get_by_role("img", name="QR code for your authenticator app")).to_be_visible()

    page.get_by_role("button", name="Confirm").click()
    look(page, journey, "set-up-errors")

    key = page.locator("#setup-key").inner_text()
    page.get_by_label("Code from your authenticator app").fill(code_from_key(key))
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("heading", name="Two-factor sign-in is set up")).to_be_visible()
    look(page, journey, "backup-codes")
    assert page.get_by_role("list", name="Backup codes").get_by_role("listitem").count() == 10

    page.get_by_role("link", name="Continue").click()
    expect(page).to_have_url(re.compile(r"^https?://[^/]+/$"))
    look(page, journey, "home")
    page.get_by_role("link", name=re.compile("your account")).click()
    expect(page.get_by_role("heading", name="Your account")).to_be_visible()
    look(page, journey, "account")
    expect(page.get_by_text("Authenticator app, and 10 unused backup codes")).to_be_visible()
