"""Every MASH_* setting, declared once: its name, type, default, when it is read and what it means.

An operator configures MASH Hub with environment variables. This module is the one list of them.
`mash.settings` calls `load(os.environ, BASE_DIR)` once, at process start, and puts each typed value into
Django's settings, so code reads `settings.MASH_X` when it runs (which is what lets a test override one
with `settings.MASH_X = ...`) and never repeats a default. A few variables are deliberately read from the
environment at the moment they are used (READ_AT_CALL) and a few only by the benchmarks, scripts and
tests (READ_BY_TOOLS); they are declared here too, so that nothing reads a MASH_* name that this list
does not explain. docs/settings.md is generated from these declarations (`python -m mash.core.config`),
and a test keeps the two equal.

A value that cannot be read stops the process with an error naming the variable, e.g.
`MASH_AUDIT_SEAL_GRACE_SECONDS must be a whole number of seconds, got "abc"`.

No imports beyond the standard library and Django's exception: `mash.settings` imports this module
before Django is configured.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.core.exceptions import ImproperlyConfigured

READ_AT_START = "at start"  # by mash.settings, once per process; code reads the Django setting
READ_AT_CALL = "at each use"  # from the environment, by the code that uses it, every time
READ_BY_TOOLS = "by tools"  # by bench/, scripts/ or the tests only, never by the running site
DERIVED = "derived"  # a Django setting made from other settings (or fixed), not from the environment

SAME = "same"  # the Django setting carrying the value has the variable's own name


class ConfigError(ImproperlyConfigured):
    """A MASH_* variable whose text is not a value of its type."""


@dataclass(frozen=True)
class Kind:
    """A type: how a variable's text becomes a value, and how the type is named in errors and docs."""

    what: str  # completes "MASH_X must be ..."
    parse: Callable[[str], Any]


def _flag(text: str) -> bool:
    if text not in ("0", "1", ""):
        raise ValueError(text)
    return text == "1"


def _whole(text: str) -> int:
    if not re.fullmatch(r"\s*\d+\s*", text):
        raise ValueError(text)
    return int(text)


def _number(text: str) -> float:
    value = float(text)
    if not value >= 0 or value == float("inf"):
        raise ValueError(text)
    return value


def _days(text: str) -> tuple[int, ...]:
    return tuple(sorted(_whole(part) for part in text.split(",") if part.strip()))


_RATE = re.compile(r"^\s*(\d+)\s*/\s*(s|sec|second|m|min|minute|h|hour|d|day)\s*$")
_PERIOD_SECONDS = {"s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60, "h": 3600, "hour": 3600,
                   "d": 86400, "day": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    """'300/min' -> (300, 60): a rate limit as (requests, seconds in the period)."""
    match = _RATE.match(rate or "")
    if not match:
        raise ValueError(f"A rate limit is a number per period, like 300/min; not {rate!r}")
    return int(match[1]), _PERIOD_SECONDS[match[2]]


def _rate(text: str) -> str:
    parse_rate(text)
    return text


TEXT = Kind("text", str)
SECRET = Kind("text (a secret)", str)
URL = Kind("a URL", str)
PATH = Kind("a file or folder path", Path)
FLAG = Kind("1 (on) or 0 (off)", _flag)
RATE = Kind("a number of requests per period, like 300/min (s, min, h or day)", _rate)
HOSTS = Kind("host names separated by commas", lambda text: [host for host in text.split(",") if host])
SITE_URL = Kind("a URL (without a trailing /)", lambda text: text.rstrip("/"))
DAY_LIST = Kind("whole numbers of days separated by commas", _days)


def whole(unit: str) -> Kind:
    return Kind(f"a whole number of {unit}", _whole)


def number(unit: str) -> Kind:
    return Kind(f"a number of {unit}", _number)


@dataclass(frozen=True)
class Setting:
    name: str  # the environment variable (or, for a DERIVED one, the Django setting)
    kind: Kind
    default: str | None  # as it would be written in the environment; None: unset. {MASH_VAR_DIR} and
    meaning: str  # {BASE_DIR} (the checkout) stand for those folders.
    read: str = READ_AT_START
    setting: str | None = SAME  # the Django setting that carries the value, if any
    empty_is_unset: bool = False  # an empty value means the default (a path or URL that must be something)
    derive: Callable[[dict[str, Any]], Any] | None = None  # DERIVED: from the values read at start

    @property
    def django_name(self) -> str | None:
        return self.name if self.setting == SAME else self.setting


_PERMISSIONS_POLICY = ("accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), "
                       "microphone=(), payment=(), usb=()")

GROUPS: tuple[tuple[str, tuple[Setting, ...]], ...] = (
    ("Where things are", (
        Setting("MASH_VAR_DIR", PATH, "{BASE_DIR}/var", "Folder for what a checkout keeps between runs: "
                "the development database, secret key, keyring and audit signing key.", setting="VAR_DIR"),
        Setting("MASH_DATABASE_URL", URL, "sqlite:///{MASH_VAR_DIR}/mash.sqlite3", "The database, e.g. "
                "postgres://user@host:5432/mash.", setting="DATABASES", empty_is_unset=True),
        Setting("MASH_DB_CONN_MAX_AGE", whole("seconds"), "60", "How long a PostgreSQL connection is kept "
                "open between requests (SQLite: never).", setting="DATABASES"),
        Setting("MASH_ISA_FILE", PATH, "{BASE_DIR}/isa/mash-isa.yaml", "The Information Sharing Agreement "
                "`mash demo` loads when none is loaded yet."),
    )),
    ("Deployment and sign-in (docs/security.md)", (
        Setting("MASH_PRODUCTION", FLAG, "0", "HTTPS only, secure cookies, HSTS; refuses demo mode and "
                "debug pages, and needs MASH_SECRET_KEY.", setting="PRODUCTION"),
        Setting("MASH_SECRET_KEY", SECRET, None, "Django's secret key; unset (not in production): made once "
                "in $MASH_VAR_DIR/secret-key.", setting="SECRET_KEY", empty_is_unset=True),
        Setting("MASH_DEBUG", FLAG, "0", "Django's debug pages. Never in production.", setting="DEBUG"),
        Setting("MASH_ALLOWED_HOSTS", HOSTS, "localhost,127.0.0.1,testserver", "The host names the site "
                "answers to.", setting="ALLOWED_HOSTS"),
        Setting("MASH_DEMO_MODE", FLAG, "0", "Demo logins work without a second factor (`make run`). "
                "Never in production."),
        Setting("MASH_IDLE_TIMEOUT_MINUTES", whole("minutes"), "15", "A session with no request for this "
                "long is signed out."),
        Setting("MASH_LOCKOUT_FAILURES", whole("attempts"), "5", "Wrong passwords or codes, for one "
                "username from one address, that lock it.", setting="AXES_FAILURE_LIMIT"),
        Setting("MASH_LOCKOUT_MINUTES", number("minutes"), "15", "How long such a lockout lasts.",
                setting="AXES_COOLOFF_TIME"),
        Setting("MASH_OTP_ISSUER", TEXT, "MASH Hub", "The name authenticator apps show beside the code.",
                setting="OTP_TOTP_ISSUER"),
        Setting("MASH_TRUST_X_FORWARDED_PROTO", FLAG, "0", "In production, behind a TLS proxy that sets "
                "X-Forwarded-Proto: trust it for HTTPS.", setting="SECURE_PROXY_SSL_HEADER"),
        Setting("MASH_TRUST_X_FORWARDED_FOR", FLAG, "0", "Behind a proxy that sets X-Forwarded-For: the "
                "client's address comes from it (audit log, rate limits)."),
    )),
    ("The JSON API (docs/security.md)", (
        Setting("MASH_API_RATE", RATE, "300/min", "Requests allowed per API token or signed-in session."),
        Setting("MASH_API_CLIENT_RATE", RATE, "1200/min", "Requests allowed per client address, whatever "
                "it sends."),
        Setting("MASH_API_TOKEN_DAYS", whole("days"), "365", "Life of a token `mash token create` makes "
                "when not given --days."),
        Setting("MASH_CACHE_URL", URL, None, "A shared Redis (redis://host:6379/0) for the rate limits; "
                "unset: counted per process.", setting="CACHES"),
    )),
    ("The audit log (docs/audit.md)", (
        Setting("MASH_AUDIT_SIGNING_KEY_FILE", TEXT, "{MASH_VAR_DIR}/audit-signing.key", "The Ed25519 key "
                "that signs checkpoints, made on first use (unless MASH_AUDIT_SIGNING_KEY).",
                empty_is_unset=True),
        Setting("MASH_AUDIT_CHECKPOINT_FILE", TEXT, "", "A file outside the database each checkpoint is "
                "appended to as it is signed; empty: none."),
        Setting("MASH_AUDIT_CHECKPOINT_EVERY", whole("events"), "1000", "A checkpoint is signed after this "
                "many events..."),
        Setting("MASH_AUDIT_CHECKPOINT_MINUTES", whole("minutes"), "60", "...or after this long, whichever "
                "comes first."),
        Setting("MASH_AUDIT_SEAL_INLINE", FLAG, "1", "Seal after each request that recorded something "
                "(0: run `mash audit seal` from a timer)."),
        Setting("MASH_AUDIT_SEAL_GRACE_SECONDS", whole("seconds"), "300", "How long a transaction may take "
                "to commit an event before the sealer moves past it."),
    )),
    ("Encryption, retention and attachments (docs/encryption.md, docs/retention.md, docs/attachments.md)", (
        Setting("MASH_KEY_FILE", TEXT, "{MASH_VAR_DIR}/master-keys.json", "The master keyring file (made by "
                "`mash keys init` or the first migrate), unless MASH_MASTER_KEYS.", empty_is_unset=True),
        Setting("MASH_SHRED_REGISTER", TEXT, "", "The register of destroyed data keys; empty: "
                "`shredded-keys` beside the keyring file."),
        Setting("MASH_DISPOSAL_REGISTER", TEXT, "", "The register of what retention disposed of; empty: "
                "`disposals` beside the shred register."),
        Setting("MASH_ATTACHMENT_MAX_MB", number("MiB"), "10", "The largest file that may be attached to a "
                "contribution item.", setting="MASH_ATTACHMENT_MAX_BYTES"),
    )),
    ("Training and email (docs/training.md)", (
        Setting("MASH_TRAINING_VALID_MONTHS", whole("months"), "12", "How long a training completion stays "
                "current."),
        Setting("MASH_TRAINING_REMINDER_DAYS", DAY_LIST, "30,14,7", "Reminders go this many days before a "
                "refresher expires (`mash training remind`)."),
        Setting("MASH_SITE_URL", SITE_URL, "http://127.0.0.1:8000", "How links in emails reach the site."),
        Setting("MASH_EMAIL_FROM", TEXT, "MASH Hub <mash-hub@localhost>", "The sender of the emails the "
                "site sends.", setting="DEFAULT_FROM_EMAIL"),
        Setting("MASH_EMAIL_HOST", TEXT, None, "The SMTP server; unset: emails are printed to the console.",
                setting="EMAIL_HOST"),
        Setting("MASH_EMAIL_PORT", Kind("a port number", _whole), "587", "The SMTP server's port.", setting="EMAIL_PORT"),
        Setting("MASH_EMAIL_USER", TEXT, "", "The SMTP user name.", setting="EMAIL_HOST_USER"),
        Setting("MASH_EMAIL_PASSWORD", SECRET, "", "The SMTP password.", setting="EMAIL_HOST_PASSWORD"),
        Setting("MASH_EMAIL_USE_TLS", FLAG, "1", "STARTTLS to the SMTP server.", setting="EMAIL_USE_TLS"),
    )),
    ("Made from other settings, not from the environment", (
        Setting("MASH_TWO_FACTOR_REQUIRED", FLAG, None, "Two-factor sign-in for every account: on unless "
                "MASH_DEMO_MODE.", read=DERIVED, derive=lambda values: not values["MASH_DEMO_MODE"]),
        Setting("MASH_ATTACHMENT_MAX_BYTES", whole("bytes"), None, "MASH_ATTACHMENT_MAX_MB in bytes.",
                read=DERIVED, derive=lambda values: int(values["MASH_ATTACHMENT_MAX_MB"] * 1024 * 1024)),
        Setting("MASH_PERMISSIONS_POLICY", TEXT, _PERMISSIONS_POLICY, "The Permissions-Policy header: "
                "features no page uses are switched off.", read=DERIVED),
    )),
    ("Read from the environment each time they are used", (
        Setting("MASH_MASTER_KEYS", SECRET, None, "The master keyring as JSON text (from a secrets manager), "
                "instead of MASH_KEY_FILE.", read=READ_AT_CALL, setting=None),
        Setting("MASH_AUDIT_SIGNING_KEY", SECRET, None, "The checkpoint-signing key (base64 Ed25519), "
                "instead of MASH_AUDIT_SIGNING_KEY_FILE.", read=READ_AT_CALL, setting=None),
        Setting("MASH_DEMO_PASSWORD", SECRET, None, "`mash demo`'s password for every demo user when "
                "--password is not given.", read=READ_AT_CALL, setting=None),
        Setting("MASH_FAULT_POINT", TEXT, None, "Crash tests only: kill the process at these named points "
                "(mash.core.faults).", read=READ_AT_CALL, setting=None),
    )),
    ("Read by the benchmarks, scripts and tests only", (
        Setting("MASH_TEST_POSTGRES_URL", URL, "postgres://postgres@127.0.0.1:5432/mash", "scripts/test-all: "
                "the PostgreSQL server of the second pass.", read=READ_BY_TOOLS, setting=None),
        Setting("MASH_TEST_WORKERS", TEXT, "auto", "scripts/test-all: pytest-xdist workers (0: one process).",
                read=READ_BY_TOOLS, setting=None),
        Setting("MASH_TEST_ENGINE_SPLIT", TEXT, None, "1: each engine-independent test runs in one of the two "
                "passes only (scripts/test-all sets it when both run; docs/decisions/0006); 0: every test in both.",
                read=READ_BY_TOOLS, setting=None),
        Setting("MASH_TEST_REDIS_URL", URL, "redis://127.0.0.1:6379/15", "The Redis the shared rate-limit "
                "test uses (skipped when none answers).", read=READ_BY_TOOLS, setting=None),
        Setting("MASH_LEAK_EXAMPLES", whole("examples"), "8", "How many examples the access leak test "
                "tries.", read=READ_BY_TOOLS, setting=None),
        Setting("MASH_FAULT_TEST", TEXT, None, "Marks the subprocesses of the backup fault tests, so that "
                "they can be found and waited for.", read=READ_BY_TOOLS, setting=None),
        Setting("MASH_BENCH_POSTGRES_URL", URL, None, "bench/queue_postgres.py's own database; unset: "
                "its own default (bench/README.md).", read=READ_BY_TOOLS, setting=None),
        Setting("MASH_BENCH_AUDIT_POSTGRES_URL", URL, None, "bench/audit_append.py's own database; unset: "
                "its own default (bench/README.md).", read=READ_BY_TOOLS, setting=None),
    )),
)

SETTINGS: tuple[Setting, ...] = tuple(setting for _, group in GROUPS for setting in group)
BY_NAME: dict[str, Setting] = {setting.name: setting for setting in SETTINGS}


def _text(setting: Setting, environ: Mapping[str, str], base_dir: Path, values: dict) -> str | None:
    text = environ.get(setting.name)
    if text is None or (text == "" and setting.empty_is_unset):
        if setting.default is None:
            return None
        return setting.default.format(BASE_DIR=base_dir, **values)
    return text


def value(setting: Setting, text: str | None) -> Any:
    """The typed value of `text` for `setting` (None stays None), or ConfigError naming the variable."""
    if text is None:
        return None
    try:
        return setting.kind.parse(text)
    except ValueError:
        shown = "(not shown)" if setting.kind is SECRET else f'"{text}"'
        raise ConfigError(f"{setting.name} must be {setting.kind.what}, got {shown}") from None


def load(environ: Mapping[str, str], base_dir: Path) -> dict[str, Any]:
    """Every setting read at start and every derived one, by name, typed."""
    values: dict[str, Any] = {}
    for setting in SETTINGS:
        if setting.read == READ_AT_START:
            values[setting.name] = value(setting, _text(setting, environ, base_dir, values))
        elif setting.read == DERIVED:
            values[setting.name] = (setting.derive(values) if setting.derive
                                    else value(setting, setting.default))
    return values


def mash_settings(values: Mapping[str, Any]) -> dict[str, Any]:
    """The Django settings named after their variable (MASH_X), for mash.settings to take as they are."""
    return {setting.name: values[setting.name] for setting in SETTINGS
            if setting.name in values and setting.django_name == setting.name}


def names() -> frozenset[str]:
    """Every MASH_* name code may use: each variable, and each Django setting named MASH_*."""
    carried = {s.django_name for s in SETTINGS if s.django_name and s.django_name.startswith("MASH_")}
    return frozenset(BY_NAME) | carried


# --- The reference (docs/settings.md) --------------------------------------------------------------

def _shown_default(setting: Setting) -> str:
    if setting.read == DERIVED and setting.derive:
        return "made from other settings"
    if setting.default is None:
        return "unset"
    if setting.default == "":
        return "empty"
    text = setting.default.replace("{BASE_DIR}", "<checkout>").replace("{MASH_VAR_DIR}", "$MASH_VAR_DIR")
    return f"`{text}`"


def _shown_read(setting: Setting) -> str:
    if setting.read not in (READ_AT_START, DERIVED):
        return setting.read
    return f"{setting.read}, as `{setting.django_name}`" if setting.django_name else setting.read


def reference() -> str:
    """The tables in docs/settings.md, one per group, from the declarations above."""
    lines: list[str] = []
    for title, group in GROUPS:
        lines += [f"### {title}", "", "| Variable | Type | Default | Read | Meaning |", "|---|---|---|---|---|"]
        for s in group:
            lines.append(f"| `{s.name}` | {s.kind.what} | {_shown_default(s)} | {_shown_read(s)} | {s.meaning} |")
        lines.append("")
    return "\n".join(lines)


def write_reference(path: Path) -> None:
    """Replace the tables between the markers in `path` (docs/settings.md) with `reference()`."""
    text = path.read_text()
    begin = text.index("-->\n", text.index(BEGIN_MARK)) + len("-->\n")
    end = text.index(END_MARK)
    path.write_text(text[:begin] + reference() + text[end:])


BEGIN_MARK, END_MARK = "<!-- settings:begin", "<!-- settings:end -->"

if __name__ == "__main__":  # python -m mash.core.config [--write docs/settings.md]
    import sys

    if sys.argv[1:2] == ["--write"]:
        write_reference(Path(sys.argv[2]))
    else:
        print(reference(), end="")
