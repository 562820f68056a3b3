"""Browser journeys: each role's main path through MASH Hub, in Debian's Chromium driven by Playwright
against a live server.

The data a journey starts from is made with the project's services and fixtures; the journey itself goes
through the browser, finding fields by their labels as a user would (which also proves they are labelled).
`look` is called on every page a journey visits: axe-core finds no serious or critical problem, the
browser logged no error (a Content-Security-Policy refusal is one), and a full-page screenshot is saved
under build/screenshots/<journey>/ for a person to look at.
"""

import os
import re
import shutil
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.conf import settings
from playwright.sync_api import expect, sync_playwright

from mash.testing.world import PASSWORD

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
AXE = settings.BASE_DIR / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = settings.BASE_DIR / "build" / "screenshots"
FAILING_IMPACTS = {"serious", "critical"}
TWO_FACTOR_PATH = "/account/two-factor/verify/"
AUTHENTICATOR = "Authenticator app"


def pytest_collection_modifyitems(config, items):
    """The journeys drive the pages in a browser; what they reach on the server runs on both engines in the
    other tests, so they run once, in the SQLite pass (`make run`'s engine): docs/decisions/0006."""
    if "postgresql" not in settings.DATABASES["default"]["ENGINE"]:
        return
    once = pytest.mark.skip(reason="browser journey: runs in the SQLite pass of `make test`")
    for item in items:
        if "/journeys/" in item.nodeid.replace("\\", "/"):
            item.add_marker(once)


def _missing(reason: str):
    """Outside CI a missing browser (or axe) skips the journeys; CI must run them."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}, and CI must run the browser journeys", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        _missing("needs Debian's Chromium at /usr/bin/chromium (make test installs it: scripts/install-chromium)")
    if not AXE.exists():
        _missing("needs axe-core in node_modules (make test installs it: npm ci)")

    # Playwright's sync API keeps an asyncio event loop running in this thread, and Django refuses ORM
    # calls from a thread with a running loop (SynchronousOnlyOperation) though these calls are plain
    # synchronous ones: the fixtures seed data and pytest-django empties the tables from this thread.
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            yield chromium
            chromium.close()


class KeepTheAuditLog:
    """A database router that leaves the audit log's tables out of the flush."""

    def allow_migrate(self, db, app_label, **hints):
        return False if app_label == "audit" else None


@pytest.fixture(scope="module", autouse=True)
def keep_the_audit_log():
    """The journeys are transactional (the live server reads what the test wrote), so the tables are
    emptied after each one. The audit log refuses that (docs/audit.md): its rows stay, and the flush,
    which empties only the tables the router lets it migrate, leaves them alone. (Leaving the audit app
    out of `available_apps` instead would take its models' relations away from the live server.)"""
    from django.db import router

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(router, "routers", [KeepTheAuditLog(), *router.routers])
        yield


@pytest.fixture(autouse=True)
def dispose_of_sent_packages(transactional_db):
    """A sent disclosure package may be deleted only under a retention permit (disclosure migration 0003),
    and on SQLite the flush deletes row by row: so, before it, the sent packages go as retention's go."""
    yield
    from django.db import transaction

    from mash.disclosure.models import DisclosurePackage, DisposalPermit, PackageStatus

    with transaction.atomic():
        sent = list(DisclosurePackage.objects.exclude(status=PackageStatus.DRAFT).values_list("pk", flat=True))
        DisposalPermit.objects.bulk_create(DisposalPermit(package_id=pk) for pk in sent)
        DisclosurePackage.objects.filter(pk__in=sent).delete()
        DisposalPermit.objects.filter(package_id__in=sent).delete()


@pytest.fixture(scope="session")
def axe_source() -> str:
    return AXE.read_text()


@pytest.fixture(autouse=True)
def two_factor_required(settings):
    """The journeys sign in as production does: password, then a code from the authenticator app."""
    settings.MASH_TWO_FACTOR_REQUIRED = True


@pytest.fixture
def browser_log():
    """What the browser logged as an error on the journey's pages (and scripts that failed), the
    Content-Security-Policy the page showing now was served with, and how many pages have loaded."""
    return SimpleNamespace(errors=[], policy=None, loads=0, looked_at=0)


@pytest.fixture
def page(browser, live_server, browser_log):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900},
                                  locale="en-GB", timezone_id="Europe/London")
    context.set_default_timeout(10_000)
    page = context.new_page()

    def on_console(message):
        if message.type != "error":
            return
        # A page showing a form's errors answers 400 (or 409, 422): Chromium logs its own document's
        # status as a failed load. That is the page working as designed; any other failed load is not.
        own_status = (message.text.startswith("Failed to load resource: the server responded with a status of 4")
                      and message.location.get("url") == page.url)
        if not own_status:
            browser_log.errors.append(f"console: {message.text} ({message.location.get('url')})")

    def on_response(response):
        if response.request.is_navigation_request() and response.frame == page.main_frame:
            browser_log.policy = response.headers.get("content-security-policy")

    page.on("console", on_console)
    page.on("pageerror", lambda error: browser_log.errors.append(f"page error: {error}"))
    page.on("response", on_response)
    page.on("load", lambda _: setattr(browser_log, "loads", browser_log.loads + 1))
    yield page
    context.close()


@pytest.fixture
def look(axe_source, browser_log):
    """`look(page, journey, name)`: check the page now showing, then save its screenshot as
    build/screenshots/<journey>/<NN>-<name>.png. The journey's folder is emptied on its first look."""
    numbers: dict[str, int] = {}

    def look(page, journey: str, name: str):
        # Every look is at a page loaded since the last one (a click need not wait for the page it opens).
        deadline = time.monotonic() + 10
        while browser_log.loads == browser_log.looked_at:
            assert time.monotonic() < deadline, f"{name}: no new page has loaded since the last look"
            page.wait_for_timeout(50)
        browser_log.looked_at = browser_log.loads
        page.wait_for_load_state("load")
        folder = SCREENSHOTS / journey
        if journey not in numbers:
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True)
        numbers[journey] = numbers.get(journey, 0) + 1
        page.screenshot(path=folder / f"{numbers[journey]:02d}-{name}.png", full_page=True)

        if not page.evaluate("typeof window.axe !== 'undefined'"):
            page.evaluate(axe_source)  # DevTools evaluation: the page's CSP does not apply to it
        results = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
        failing = [v for v in results["violations"] if v["impact"] in FAILING_IMPACTS]
        problems = [f"axe {v['impact']}: {v['id']}: {v['help']} ({v['helpUrl']})\n"
                    + "\n".join(f"    {', '.join(map(str, n['target']))}: {n['html'][:200]}" for n in v["nodes"])
                    for v in failing]
        # Each link in an error summary leads to the field it is about.
        problems += [f"error summary link to {href}: nothing on the page has that id" for href in page.evaluate(
            """[...document.querySelectorAll('.govuk-error-summary a[href^="#"]')].map(a => a.getAttribute('href'))
               .filter(href => !document.getElementById(decodeURIComponent(href.slice(1))))""")]
        if not browser_log.policy:
            problems.append("served without a Content-Security-Policy: the journeys would not prove it holds")
        problems += browser_log.errors
        assert not problems, f"{name} page, {page.url}:\n" + "\n".join(problems)

    return look


def _authenticator_code(user) -> str:
    """The code the user's authenticator app shows now. The device accepts each time step once: a second
    sign-in within the same 30 seconds uses the next step's code, which its tolerance allows."""
    from django_otp.oath import totp
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.get(user=user, name=AUTHENTICATOR)
    while True:
        now = int(time.time() - device.t0) // device.step + device.drift
        ahead = max(0, device.last_t + 1 - now)
        if ahead <= device.tolerance:
            break
        time.sleep(1)
    code = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=device.drift + ahead)
    return str(code).zfill(device.digits)


@pytest.fixture
def sign_in(look):
    """`sign_in(page, user, journey)`: the sign-in page, then the two-factor page when it is asked for,
    landing on the home page. Each user gets an authenticator app (once two-factor sign-in exists)."""

    def sign_in(page, user, journey: str):
        if apps.is_installed("django_otp.plugins.otp_totp"):
            from django_otp.plugins.otp_totp.models import TOTPDevice

            TOTPDevice.objects.get_or_create(user=user, name=AUTHENTICATOR, defaults={"confirmed": True})
        page.goto("/login/")
        look(page, journey, f"sign-in-{user.username}")
        page.get_by_label("Username").fill(user.username)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page).not_to_have_url(re.compile(r"/login/"))
        if TWO_FACTOR_PATH in page.url:
            look(page, journey, f"two-factor-{user.username}")
            page.get_by_label("Code from your authenticator app").fill(_authenticator_code(user))
            page.get_by_role("button", name="Continue").click()
        expect(page).to_have_url(re.compile(r"^https?://[^/]+/$"))
        look(page, journey, f"home-{user.username}")

    return sign_in


@pytest.fixture
def sign_out():
    def sign_out(page):
        page.get_by_role("button", name="Sign out").click()
        expect(page).to_have_url(re.compile(r"/login/"))

    return sign_out
