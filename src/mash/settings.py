"""Settings for MASH Hub.

Everything that differs between a laptop and production comes from the environment:
MASH_DATABASE_URL (SQLite under var/ when unset), MASH_SECRET_KEY, MASH_DEBUG,
MASH_ALLOWED_HOSTS, MASH_ISA_FILE, the audit log's MASH_AUDIT_* (see docs/audit.md), and email
for reminders: MASH_EMAIL_HOST, MASH_EMAIL_PORT, MASH_EMAIL_USER, MASH_EMAIL_PASSWORD, MASH_EMAIL_FROM, MASH_SITE_URL.
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
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "mash.keys.services.key_cache_middleware",
    "mash.audit.middleware.audit_middleware",
    "mash.access.middleware.gate_middleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
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
# the file MASH_KEY_FILE, made on first use; the register of destroyed data keys beside it.
MASH_KEY_FILE = os.environ.get("MASH_KEY_FILE", str(VAR_DIR / "master-keys.json"))
MASH_SHRED_REGISTER = os.environ.get("MASH_SHRED_REGISTER", "")

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
