"""history: the person index API."""

from ninja import Router

router = Router(tags=["people"])
