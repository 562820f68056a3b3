"""Settings for MASH Hub.

Everything that differs between a laptop and production comes from the environment:
MASH_DATABASE_URL (SQLite under var/ when unset), MASH_SECRET_KEY, MASH_DEBUG,
MASH_ALLOWED_HOSTS, MASH_ISA_FILE, the audit log's MASH_AUDIT_* (see docs/audit.md), and email
for reminders: MASH_EMAIL_HOST, MASH_EMAIL_PORT, MASH_EMAIL_USER, MASH_EMAIL_PASSWORD, MASH_EMAIL_FROM, MASH_SITE_URL.
Sign-in and transport security (docs/security.md): MASH_PRODUCTION, MASH_DEMO_MODE, MASH_IDLE_TIMEOUT_MINUTES,
MASH_API_RATE, MASH_API_CLIENT_RATE, MASH_CACHE_URL, MASH_TRUST_X_FORWARDED_PROTO.
"""

import os
import secrets
from pathlib import Path

import dj_database_url

SRC_DIR = Path(__file__).resolve().parent
BASE_DIR = SRC_DIR.parent.parent
VAR_DIR = Path(os.environ.get("MASH_VAR_DIR", BASE_DIR / "var"))


def _secret_key() -> str:
    """The key comes from the environment; a development checkout keeps one in var/."""
    key = os.environ.get("MASH_SECRET_KEY")
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
PRODUCTION = os.environ.get("MASH_PRODUCTION", "0") == "1"
# Demo mode (`make run`): the demo logins work without a second factor. Never in production.
MASH_DEMO_MODE = os.environ.get("MASH_DEMO_MODE", "0") == "1"
if PRODUCTION and not os.environ.get("MASH_SECRET_KEY"):
    raise RuntimeError("MASH_PRODUCTION=1 needs MASH_SECRET_KEY from the environment (a long random string)")
if PRODUCTION and (MASH_DEMO_MODE or os.environ.get("MASH_DEBUG", "0") == "1"):
    raise RuntimeError("MASH_PRODUCTION=1 cannot run with MASH_DEMO_MODE or MASH_DEBUG")

SECRET_KEY = _secret_key()
DEBUG = os.environ.get("MASH_DEBUG", "0") == "1"
ALLOWED_HOSTS = [h for h in os.environ.get("MASH_ALLOWED_HOSTS", "localhost,127.0.0.1,testserver").split(",") if h]

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
    "mash.accounts",
    "mash.partners",
    "mash.people",
    "mash.cases",
    "mash.sharing",
    "mash.consent",
    "mash.disclosure",
    "mash.reports",
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
                "mash.core.context_processors.navigation",
                "mash.training.context_processors.training_notice",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("MASH_DATABASE_URL") or f"sqlite:///{VAR_DIR / 'mash.sqlite3'}",
        conn_max_age=int(os.environ.get("MASH_DB_CONN_MAX_AGE", "60")),
    )
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
# Two-factor sign-in (TOTP, django-otp) for every account, except in demo mode.
MASH_TWO_FACTOR_REQUIRED = not MASH_DEMO_MODE
OTP_TOTP_ISSUER = os.environ.get("MASH_OTP_ISSUER", "MASH Hub")
# Signed out after this many minutes without a request, and after a working day whatever happens.
MASH_IDLE_TIMEOUT_MINUTES = int(os.environ.get("MASH_IDLE_TIMEOUT_MINUTES", "15"))
SESSION_COOKIE_AGE = 10 * 60 * 60
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
# django-axes: five wrong passwords (or codes) for one username from one address lock it for 15 minutes.
AXES_FAILURE_LIMIT = int(os.environ.get("MASH_LOCKOUT_FAILURES", "5"))
AXES_COOLOFF_TIME = float(os.environ.get("MASH_LOCKOUT_MINUTES", "15")) / 60  # hours
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
# Features no page uses are switched off for every page.
MASH_PERMISSIONS_POLICY = ("accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), "
                           "microphone=(), payment=(), usb=()")

# --- API rate limits (mash.core.security) ------------------------------------------------------
# Per token or signed-in user, and per client address whatever it sends. Counted in the cache:
# per process unless MASH_CACHE_URL names a shared Redis (redis://host:6379/0).
MASH_API_RATE = os.environ.get("MASH_API_RATE", "300/min")
MASH_API_CLIENT_RATE = os.environ.get("MASH_API_CLIENT_RATE", "1200/min")
# API tokens (`mash token create`) expire after this many days unless given another life.
MASH_API_TOKEN_DAYS = int(os.environ.get("MASH_API_TOKEN_DAYS", "365"))
if os.environ.get("MASH_CACHE_URL"):
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                          "LOCATION": os.environ["MASH_CACHE_URL"]}}
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
    if os.environ.get("MASH_TRUST_X_FORWARDED_PROTO", "0") == "1":
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# The Information Sharing Agreement loaded by `mash demo` when none is loaded yet.
MASH_ISA_FILE = Path(os.environ.get("MASH_ISA_FILE", BASE_DIR / "isa" / "mash-isa.yaml"))

# The audit log (docs/audit.md). The checkpoint-signing key: MASH_AUDIT_SIGNING_KEY (base64 Ed25519),
# else this file, made on first use. MASH_AUDIT_CHECKPOINT_FILE: append each checkpoint to a file
# outside the database as it is signed.
MASH_AUDIT_SIGNING_KEY_FILE = os.environ.get("MASH_AUDIT_SIGNING_KEY_FILE", str(VAR_DIR / "audit-signing.key"))
MASH_AUDIT_CHECKPOINT_FILE = os.environ.get("MASH_AUDIT_CHECKPOINT_FILE", "")
MASH_AUDIT_CHECKPOINT_EVERY = int(os.environ.get("MASH_AUDIT_CHECKPOINT_EVERY", "1000"))
MASH_AUDIT_CHECKPOINT_MINUTES = int(os.environ.get("MASH_AUDIT_CHECKPOINT_MINUTES", "60"))
# Seal after each request that recorded something (off: run `mash audit seal` from a timer instead).
MASH_AUDIT_SEAL_INLINE = os.environ.get("MASH_AUDIT_SEAL_INLINE", "1") == "1"
# How long a transaction may take to commit an event before the sealer's cursor moves past it.
MASH_AUDIT_SEAL_GRACE_SECONDS = int(os.environ.get("MASH_AUDIT_SEAL_GRACE_SECONDS", "300"))
# Behind a reverse proxy that sets it, the client's address comes from X-Forwarded-For.
# Encryption at rest (docs/encryption.md): the master keyring from MASH_MASTER_KEYS (its JSON text) or
# the file MASH_KEY_FILE, made by `mash keys init` or the first migrate (never on first use); the register
# of destroyed data keys beside it.
MASH_KEY_FILE = os.environ.get("MASH_KEY_FILE", str(VAR_DIR / "master-keys.json"))
MASH_SHRED_REGISTER = os.environ.get("MASH_SHRED_REGISTER", "")
# The register of enquiries and people retention disposed of (ids only), which `mash restore` re-applies;
# beside the shred register when unset (docs/retention.md).
MASH_DISPOSAL_REGISTER = os.environ.get("MASH_DISPOSAL_REGISTER", "")

MASH_TRUST_X_FORWARDED_FOR = os.environ.get("MASH_TRUST_X_FORWARDED_FOR", "") == "1"

# Files attached to contribution items (docs/attachments.md): at most this many MiB each.
MASH_ATTACHMENT_MAX_BYTES = int(float(os.environ.get("MASH_ATTACHMENT_MAX_MB", "10")) * 1024 * 1024)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}

# Training (issue 6): staff complete a refresher every year. A completion is current for this many
# months (a completion on 29 February lasts until the last day of February).
MASH_TRAINING_VALID_MONTHS = int(os.environ.get("MASH_TRAINING_VALID_MONTHS", "12"))
# Reminders go this many days before a refresher expires (`mash training remind`, run daily).
MASH_TRAINING_REMINDER_DAYS = tuple(sorted(
    int(d) for d in os.environ.get("MASH_TRAINING_REMINDER_DAYS", "30,14,7").split(",") if d.strip()))

# Email: printed to the console unless an SMTP server is configured (MASH_EMAIL_HOST and friends).
# MASH_SITE_URL is how links in emails reach the site.
MASH_SITE_URL = os.environ.get("MASH_SITE_URL", "http://127.0.0.1:8000").rstrip("/")
DEFAULT_FROM_EMAIL = os.environ.get("MASH_EMAIL_FROM", "MASH Hub <mash-hub@localhost>")
if os.environ.get("MASH_EMAIL_HOST"):
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = os.environ["MASH_EMAIL_HOST"]
    EMAIL_PORT = int(os.environ.get("MASH_EMAIL_PORT", "587"))
    EMAIL_HOST_USER = os.environ.get("MASH_EMAIL_USER", "")
    EMAIL_HOST_PASSWORD = os.environ.get("MASH_EMAIL_PASSWORD", "")
    EMAIL_USE_TLS = os.environ.get("MASH_EMAIL_USE_TLS", "1") == "1"
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
