"""The JSON API at /api/v1/: each domain's router, under session or bearer-token authentication."""

from ninja import NinjaAPI

api = NinjaAPI(title="MASH Hub API", version="1", urls_namespace="api")
