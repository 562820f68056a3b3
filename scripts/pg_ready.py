"""Exit 0 when the PostgreSQL server in the URL answers, creating the named database if missing."""

import sys

import dj_database_url
import psycopg
from psycopg import sql


def main(url: str) -> int:
    cfg = dj_database_url.parse(url)
    params = dict(host=cfg["HOST"] or None, port=cfg["PORT"] or None, user=cfg["USER"] or None,
                  password=cfg["PASSWORD"] or None, connect_timeout=3)
    try:
        with psycopg.connect(dbname="postgres", autocommit=True, **params) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [cfg["NAME"]]).fetchone()
            if not exists:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(cfg["NAME"])))
    except psycopg.Error as exc:
        print(f"PostgreSQL not available: {exc}".strip(), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
