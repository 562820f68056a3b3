"""Fixtures for the audit log's tests."""

import contextlib
import io

import pytest
from django.core.management import call_command
from django.db import connection


@pytest.fixture
def as_application_role():
    """`with as_application_role("name") as cur:` runs SQL as a new role given only what `mash audit grant`
    gives the application (PostgreSQL), and puts the test's own role back afterwards."""

    @contextlib.contextmanager
    def switch(role: str):
        with connection.cursor() as cur:
            cur.execute(f"CREATE ROLE {role} NOLOGIN")
        call_command("audit", "grant", role, stdout=io.StringIO())
        with connection.cursor() as cur:
            cur.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cur.execute(f"SET ROLE {role}")
            try:
                yield cur
            finally:
                cur.execute("RESET ROLE")

    return switch
