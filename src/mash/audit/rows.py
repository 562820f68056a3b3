"""Reading audit events in bulk, without building model instances (the sealer and `verify`).

- `values_from_raw` turns a raw row of `HASHED_COLUMNS` (from `connection.cursor()`) into the values
  `chain.canonical` hashes, exactly as `AuditEvent.canonical_values` does for a model instance.
- `compact_sql` is `chain.compact` of a row written in PostgreSQL's SQL: what the sealer hashes there, and
  what `verify` rebuilds and hashes in the database (tested equal to `chain.compact` on awkward values).
- `canonical_sql` is the same canonical encoding written in SQL, so that `verify` can have the
  database build each event's bytes while Python only hashes them. It is a shortcut, not a
  definition: wherever its bytes do not give the sealed leaf, `verify` recomputes the leaf with
  `chain.canonical` before it calls the event altered (a string SQLite stored with \\u escapes,
  say), so the shortcut can cost time, never a false alarm.
"""

from __future__ import annotations

import datetime as dt
import json

from . import chain
from .models import HASHED_COLUMNS, canonical_values

SELECT_COLUMNS = ", ".join(f"e.{name}" for name in HASHED_COLUMNS)

_STRINGS = {"action", "actor", "detail", "ip", "kind", "object_ref", "object_type", "organisation", "purpose",
            "request_id", "result", "role"}
_INTEGERS = {"actor_id", "id"}


def values_from_raw(row) -> dict:
    values = dict(zip(HASHED_COLUMNS, row))
    at = values["at"]
    if isinstance(at, str):  # SQLite keeps UTC as text: 2026-12-02 09:34:17[.123456]
        at = dt.datetime.fromisoformat(at)
    if at.tzinfo is None:
        at = at.replace(tzinfo=dt.timezone.utc)
    values["at"] = at
    for name in ("people", "fields"):
        if isinstance(values[name], (str, bytes)):
            values[name] = json.loads(values[name])
    return canonical_values(values)


def canonical_sql(vendor: str, alias: str = "e") -> str:
    """An SQL expression giving `chain.canonical` of the row `alias`, as text (NULL if a column is NULL)."""
    parts = []
    for name in sorted(HASHED_COLUMNS):
        column = f"{alias}.{name}"
        if name in _STRINGS:
            value = f"to_json({column})::text" if vendor == "postgresql" else f"json_quote({column})"
        elif name in _INTEGERS:
            value = f"coalesce({column}::text, 'null')" if vendor == "postgresql" else f"coalesce({column}, 'null')"
        elif name == "at":
            if vendor == "postgresql":
                value = (f"'\"' || to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US') || 'Z\"'")
            else:
                value = (f"'\"' || substr({column}, 1, 10) || 'T' || substr({column}, 12, 8) || '.' || "
                         f"CASE WHEN length({column}) > 19 THEN substr({column}, 21, 6) ELSE '000000' END || 'Z\"'")
        elif name == "people":
            value = f"replace({column}{'::text' if vendor == 'postgresql' else ''}, ' ', '')"
        elif name == "fields":
            value = f"replace({column}{'::text' if vendor == 'postgresql' else ''}, '\", \"', '\",\"')"
        else:  # a new column must be given an encoding here (test_rows checks every column is)
            raise ValueError(f"no SQL encoding for the audit column {name}")
        parts.append(f"'{',' if parts else '{'}\"{name}\":' || {value}")
    return "(" + " || ".join(parts) + " || '}')"


# The columns that may be NULL in an event (the others are NOT NULL): None is encoded only for these.
NULLABLE = ("actor_id",)
# The separators in a compact encoding of these columns: one between each two of the prefix and the values.
COMPACT_SEPARATORS = len(HASHED_COLUMNS)


def compact_values(values: dict) -> bytes | None:
    """`chain.compact` of an event's values (`canonical_values`), or None where it has none."""
    return chain.compact(values, nullable=NULLABLE)


def compact_sql(alias: str = "e") -> str:
    """PostgreSQL: an SQL expression giving `chain.compact` of the row `alias`, as text (server encoding UTF8).

    concat_ws leaves out a NULL, so a NOT NULL column made NULL gives one separator fewer: never the sealed
    bytes. Lists are jsonb's own text; where it escapes a character the sealer rebuilds the encoding with
    `chain.compact` and verify rechecks with it, so a difference could cost time, never a wrong seal."""
    parts = [f"'{chain.COMPACT_PREFIX}'"]
    for name in sorted(HASHED_COLUMNS):
        column = f"{alias}.{name}"
        if name in _STRINGS or name == "id":
            parts.append(column)
        elif name in NULLABLE:
            parts.append(f"coalesce({column}::text, '')")
        elif name == "at":
            parts.append(f"encode(timestamptz_send({column}), 'hex')")
        elif name in ("people", "fields"):
            parts.append(f"{column}::text")
        else:  # a new column must be given an encoding here (test_rows checks every column is)
            raise ValueError(f"no SQL encoding for the audit column {name}")
    return f"concat_ws(E'\\x1f', {', '.join(parts)})"


def compact_leaf_sql(alias: str = "e") -> str:
    """PostgreSQL: the row's leaf hash (hex) of its compact encoding."""
    return f"encode(sha256('\\x00'::bytea || convert_to({compact_sql(alias)}, 'UTF8')), 'hex')"


def canonical_leaf_sql(alias: str = "e") -> str:
    """PostgreSQL: the row's leaf hash (hex) of the SQL form of its canonical encoding."""
    return f"encode(sha256('\\x00'::bytea || convert_to({canonical_sql('postgresql', alias)}, 'UTF8')), 'hex')"


def rows_at(value) -> dt.datetime:
    """An event's time as the raw cursor gives it (text, or a naive datetime on SQLite): UTC, aware."""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.timezone.utc)
