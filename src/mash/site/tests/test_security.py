"""Security headers, the Content Security Policy, production settings and the API's rate limits (issue 9)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from mash.accounts.services import create_token
from mash.core.security import parse_rate
from mash.testing.api import bearer

pytestmark = pytest.mark.django_db

SRC = Path(__file__).resolve().parents[3]


def test_pages_carry_a_strict_policy_and_the_security_headers(client, manager):
    client.force_login(manager)
    for url in ("/login/", "/", "/enquiries/", "/api/v1/docs"):
        response = client.get(url)
        csp = response["Content-Security-Policy"]
        directives = dict(d.strip().split(" ", 1) for d in csp.split(";") if d.strip())
        assert directives["default-src"] == "'none'", url
        assert directives["script-src"] == "'self'" and directives["style-src"] == "'self'", url
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, url
        assert directives["frame-ancestors"] == "'none'" and directives["object-src"] == "'none'", url
        assert response["X-Frame-Options"] == "DENY"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Referrer-Policy"] == "same-origin"
        assert response["Cross-Origin-Opener-Policy"] == "same-origin"
        assert "camera=()" in response["Permissions-Policy"]
        assert "no-store" in response["Cache-Control"], url  # case data is not left in caches


def test_no_template_has_inline_script_or_style():
    """The policy forbids them, so a page that used one would break: none may exist."""
    offenders = []
    for template in SRC.joinpath("mash").rglob("templates/**/*.html"):
        if "pdf" in template.name:
            continue  # rendered to PDF by WeasyPrint on the server, never served to a browser
        text = template.read_text()
        for needle in ("<script>", "<script type=\"text/javascript\">", " style=\"", "<style", " onclick=",
                       " onload=", " onsubmit=", "javascript:"):
            if needle in text:
                offenders.append(f"{template.relative_to(SRC)}: {needle.strip()}")
    assert offenders == []


def _deploy_check(extra_env: dict) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MASH_")}
    env.update({"MASH_VAR_DIR": os.environ.get("MASH_VAR_DIR", str(SRC.parent / "var")),
                "PYTHONPATH": str(SRC), "DJANGO_SETTINGS_MODULE": "mash.settings"}, **extra_env)
    return subprocess.run([sys.executable, "-m", "django", "check", "--deploy", "--fail-level", "WARNING"],
                          env=env, capture_output=True, text=True, timeout=120)


def test_check_deploy_is_clean_with_the_production_settings():
    result = _deploy_check({"MASH_PRODUCTION": "1", "MASH_SECRET_KEY": "k" * 10 + "x9Yz!" * 10,
                            "MASH_ALLOWED_HOSTS": "mash.example.org"})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_demo_mode_and_a_missing_secret_key():
    result = _deploy_check({"MASH_PRODUCTION": "1", "MASH_ALLOWED_HOSTS": "mash.example.org"})
    assert result.returncode != 0 and "needs MASH_SECRET_KEY" in result.stderr
    result = _deploy_check({"MASH_PRODUCTION": "1", "MASH_SECRET_KEY": "k" * 60, "MASH_DEMO_MODE": "1"})
    assert result.returncode != 0 and "cannot run with MASH_DEMO_MODE" in result.stderr


def test_development_settings_are_not_production_ones():
    # The same check fails without MASH_PRODUCTION: HTTPS redirects, HSTS and secure cookies are off.
    result = _deploy_check({})
    assert result.returncode != 0
    assert "SECURE_HSTS_SECONDS" in result.stdout + result.stderr


def test_rates_are_parsed_and_bad_ones_refused():
    assert parse_rate("300/min") == (300, 60)
    assert parse_rate("10/s") == (10, 1)
    assert parse_rate("5000/day") == (5000, 86400)
    with pytest.raises(ValueError, match="like 300/min"):
        parse_rate("lots")


def test_api_rate_limit_per_token(client, police_worker, education_worker, settings):
    settings.MASH_API_RATE = "3/min"
    _, raw = create_token(police_worker)
    _, other = create_token(education_worker)
    headers = bearer(raw)
    assert [client.get("/api/v1/me", headers=headers).status_code for _ in range(3)] == [200, 200, 200]
    response = client.get("/api/v1/me", headers=headers)
    assert response.status_code == 429
    assert response.json()["detail"].startswith("Too many requests: at most 3 a minute")
    assert 1 <= int(response["Retry-After"]) <= 60
    # Another agency's system is not held back by it.
    assert client.get("/api/v1/me", headers=bearer(other)).status_code == 200
    # Web pages are not rate limited by the API's limit.
    assert client.get("/login/").status_code == 200


def test_api_rate_limit_per_client_address(client, settings, isa_version):
    """Made-up tokens, each new, still count against the address they come from."""
    settings.MASH_API_CLIENT_RATE = "5/min"
    codes = [client.get("/api/v1/me", headers=bearer(f"mash_guess{n}")).status_code
             for n in range(7)]
    assert codes == [401] * 5 + [429] * 2


def test_the_openapi_document_declares_429():
    from mash.site.api import api

    schema = api.get_openapi_schema()
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            assert {429, "429"} & set(operation["responses"]), f"{method.upper()} {path}"


def _redis_url() -> str | None:
    import socket

    url = os.environ.get("MASH_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    host, port = url.split("//")[1].split("/")[0].split(":")
    try:
        socket.create_connection((host, int(port)), timeout=0.5).close()
    except OSError:
        return None
    return url


def test_rate_limits_are_shared_through_redis(client, police_worker, settings):
    """With MASH_CACHE_URL every worker process counts against the same limit."""
    url = _redis_url()
    if url is None:
        pytest.skip("no Redis reachable at MASH_TEST_REDIS_URL (default redis://127.0.0.1:6379/15)")
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}}
    from django.core.cache import cache

    cache.clear()
    settings.MASH_API_RATE = "2/min"
    _, raw = create_token(police_worker)
    headers = bearer(raw)
    assert [client.get("/api/v1/me", headers=headers).status_code for _ in range(3)] == [200, 200, 429]
    assert any(key.startswith(b":1:mash-rate:token:") for key in cache._cache.get_client().keys("*"))
    cache.clear()
