"""The training banner: on every page, a user whose refresher is expiring, lapsed or never recorded is told."""

import datetime as dt

from . import services


def training_notice(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    status = services.current_status(user)
    if status.state not in ("expiring", "lapsed", "never"):
        return {}
    return {"training_notice": {"state": status.state, "expires_on": status.expires_on,
                                "lapsed_on": status.expires_on and status.expires_on + dt.timedelta(days=1),
                                "days_left": status.days_left}}
