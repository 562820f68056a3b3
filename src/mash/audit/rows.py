"""Reading audit events in bulk, without building model instances (the sealer and `verify`).

- `values_from_raw` turns a raw row of `HASHED_COLUMNS` (from `connection.cursor()`) into the values
  `chain.canonical` hashes, exactly as `AuditEvent.canonical_values` does for a model instance.
- `canonical_sql` is the same canonical encoding written in SQL, so that `verify` can have the
  database build each event's bytes while Python only hashes them. It is a shortcut, not a
  definition: wherever its bytes do not give the sealed leaf, `verify` recomputes the leaf with
  `chain.canonical` before it calls the event altered (a string SQLite stored with \\u escapes,
  say), so the shortcut can cost time, never a false alarm.
"""

from __future__ import annotations

import datetime as dt
import json

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
