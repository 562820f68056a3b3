"""The one API client for tests, and `bearer()`."""

from __future__ import annotations

import json

from django.test import Client

API = "/api/v1"


def bearer(who) -> dict:
    """Headers (`client.get(url, headers=bearer(...))`) carrying a bearer token: `who` is a raw token, or a
    user, for whom a new token is made."""
    if not isinstance(who, str):
        from mash.accounts.services import create_token

        who = create_token(who)[1]
    return {"Authorization": f"Bearer {who}"}


class Api:
    """A test client that calls the API (paths after /api/v1) with one bearer token: a raw token, or a
    user's new one."""

    def __init__(self, who):
        self.client = Client()
        self.headers = bearer(who)

    def get(self, path, **params):
        return self.client.get(API + path, params, headers=self.headers)

    def post(self, path, data=None):
        return self.client.post(API + path, json.dumps(data if data is not None else {}),
                                content_type="application/json", headers=self.headers)
