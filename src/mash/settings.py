"""Settings for MASH Hub.

Everything that differs between a laptop and production comes from MASH_* environment variables, each
declared once, with its type and default, in mash.core.config and listed in docs/settings.md. They are
read here, once, when the process starts: a MASH_X setting below carries its typed value, and code reads
`settings.MASH_X` when it runs (so a test may override it). Django's own settings are made from them.
"""

import os
import secrets
from pathlib import Path

import dj_database_url

from mash.core import config

SRC_DIR = Path(__file__).resolve().parent
BASE_DIR = SRC_DIR.parent.parent
_env = config.load(os.environ, BASE_DIR)  # every MASH_* value, typed; a bad one stops here, named
VAR_DIR = _env["MASH_VAR_DIR"]
# MASH_DEMO_MODE, MASH_API_RATE, MASH_AUDIT_*, MASH_KEY_FILE, ...: every setting named after its variable.
globals().update(config.mash_settings(_env))


def _secret_key() -> str:
    """The key comes from the environment; a development checkout keeps one in var/."""
    key = _env["MASH_SECRET_KEY"]
    if key:
        return key
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    key_file = VAR_DIR / "secret-key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


# Production (MASH_PRODUCTION=1): HTTPS only, secure cookies, HSTS, and no demo mode or debug pages.
# `mash check --deploy` is clean with it (docs/security.md).
PRODUCTION = _env["MASH_PRODUCTION"]
# Demo mode (`make run`, MASH_DEMO_MODE): the demo logins work without a second factor. Never in production.
if PRODUCTION and not _env["MASH_SECRET_KEY"]:
    raise RuntimeError("MASH_PRODUCTION=1 needs MASH_SECRET_KEY from the environment (a long random string)")
if PRODUCTION and (_env["MASH_DEMO_MODE"] or _env["MASH_DEBUG"]):
    raise RuntimeError("MASH_PRODUCTION=1 cannot run with MASH_DEMO_MODE or MASH_DEBUG")

SECRET_KEY = _secret_key()
DEBUG = _env["MASH_DEBUG"]
ALLOWED_HOSTS = _env["MASH_ALLOWED_HOSTS"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "ninja",  # serves the API docs' Swagger UI from local static files, not a CDN
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    "csp",
    "mash.core",
    "mash.site",
    "mash.accounts",
    "mash.partners",
    "mash.people",
    "mash.cases",
    "mash.sharing",
    "mash.consent",
    "mash.disclosure",
    "mash.oversight",
    "mash.training",
    "mash.sar",
    "mash.attachments",
    "mash.access",
    "mash.audit",
    "mash.keys",
    "mash.backups",
    "mash.retention",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "mash.core.security.security_headers_middleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "mash.core.security.api_rate_limit_middleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "mash.accounts.middleware.session_security_middleware",
    "mash.keys.services.key_cache_middleware",
    "mash.audit.middleware.audit_middleware",
    # Inside the audit middleware: a value that failed its integrity check is not counted as read.
    "mash.keys.integrity.withheld_middleware",
    "mash.access.middleware.gate_middleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it turns a locked-out sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "mash.urls"
WSGI_APPLICATION = "mash.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [SRC_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "mash.site.context_processors.navigation",
                "mash.training.context_processors.training_notice",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(_env["MASH_DATABASE_URL"], conn_max_age=_env["MASH_DB_CONN_MAX_AGE"])
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers carry on while a request writes; IMMEDIATE avoids lock upgrades mid-transaction.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON; PRAGMA busy_timeout=5000;",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
DATABASES["default"]["ATOMIC_REQUESTS"] = False

AUTH_USER_MODEL = "accounts.User"
# django-axes first, so that a locked-out account is refused before its password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "build" / "staticfiles"
# GOV.UK Frontend is built from the npm package into build/govuk by `make assets`.
STATICFILES_DIRS = [d for d in [BASE_DIR / "build" / "govuk"] if d.exists()]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # collectstatic's target; WhiteNoise warns when it is missing

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

# --- Sign-in and sessions (docs/security.md) ---------------------------------------------------
# Two-factor sign-in (TOTP, django-otp) for every account, except in demo mode (MASH_TWO_FACTOR_REQUIRED).
OTP_TOTP_ISSUER = _env["MASH_OTP_ISSUER"]
# Signed out after MASH_IDLE_TIMEOUT_MINUTES without a request, and after a working day whatever happens.
SESSION_COOKIE_AGE = 10 * 60 * 60
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
# django-axes: five wrong passwords (or codes) for one username from one address lock it for 15 minutes.
AXES_FAILURE_LIMIT = _env["MASH_LOCKOUT_FAILURES"]
AXES_COOLOFF_TIME = _env["MASH_LOCKOUT_MINUTES"] / 60  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "mash.accounts.views.locked_out_response"
AXES_SENSITIVE_PARAMETERS = ["password", "code"]
AXES_CLIENT_IP_CALLABLE = "mash.audit.services.client_ip"
AXES_VERBOSE = False

# --- Content Security Policy (django-csp) and other headers ------------------------------------
# No inline script or style anywhere: every page's script and CSS are files served by this site.
_SELF, _NONE = "'self'", "'none'"
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [_NONE],
        "script-src": [_SELF],
        "style-src": [_SELF],
        "img-src": [_SELF, "data:"],  # GOV.UK Frontend and Swagger UI use small data: images
        "font-src": [_SELF],
        "connect-src": [_SELF],
        "manifest-src": [_SELF],
        "form-action": [_SELF],
        "frame-ancestors": [_NONE],
        "base-uri": [_NONE],
        "object-src": [_NONE],
    },
}
# Features no page uses are switched off for every page: MASH_PERMISSIONS_POLICY.

# --- API rate limits (mash.core.security) ------------------------------------------------------
# Per token or signed-in user, and per client address whatever it sends. Counted in the cache:
# per process unless MASH_CACHE_URL names a shared Redis (redis://host:6379/0). API tokens
# (`mash token create`) expire after MASH_API_TOKEN_DAYS unless given another life.
if _env["MASH_CACHE_URL"]:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                          "LOCATION": _env["MASH_CACHE_URL"]}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "mash"}}

if PRODUCTION:
    SECURE_SSL_REDIRECT = True
    SECURE_HSTS_SECONDS = 365 * 24 * 60 * 60
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SESSION_COOKIE_NAME = "__Host-mash-session"
    CSRF_COOKIE_NAME = "__Host-mash-csrf"
    # Behind a TLS-terminating proxy that sets X-Forwarded-Proto (and strips it from clients).
    if _env["MASH_TRUST_X_FORWARDED_PROTO"]:
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# The Information Sharing Agreement (MASH_ISA_FILE), the audit log (MASH_AUDIT_*, docs/audit.md), the
# master keyring and the shred and disposal registers (MASH_KEY_FILE, MASH_SHRED_REGISTER,
# MASH_DISPOSAL_REGISTER; docs/encryption.md, docs/retention.md), X-Forwarded-For (MASH_TRUST_X_FORWARDED_FOR)
# and the largest attachment (MASH_ATTACHMENT_MAX_BYTES, docs/attachments.md) are set above, from mash.core.config.

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}

# Training (issue 6, MASH_TRAINING_VALID_MONTHS, MASH_TRAINING_REMINDER_DAYS) and the links in emails
# (MASH_SITE_URL) are set above. Email is printed to the console unless an SMTP server is configured.
DEFAULT_FROM_EMAIL = _env["MASH_EMAIL_FROM"]
if _env["MASH_EMAIL_HOST"]:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = _env["MASH_EMAIL_HOST"]
    EMAIL_PORT = _env["MASH_EMAIL_PORT"]
    EMAIL_HOST_USER = _env["MASH_EMAIL_USER"]
    EMAIL_HOST_PASSWORD = _env["MASH_EMAIL_PASSWORD"]
    EMAIL_USE_TLS = _env["MASH_EMAIL_USE_TLS"]
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
