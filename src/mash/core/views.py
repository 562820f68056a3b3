"""The one view core keeps: the 500 handler (handler500 in mash.urls). The pages are in the apps above."""

from django.http import JsonResponse
from django.views import defaults

from mash.core.api import SERVER_ERROR


def server_error(request):
    """Django's 500 handler: the JSON API answers JSON (never an HTML page), the web the 500 page."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": SERVER_ERROR}, status=500)
    return defaults.server_error(request)
