import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mash.settings")
application = get_wsgi_application()

# Refuse to start (gunicorn's worker fails to boot, runserver stops) rather than serve with a master
# keyring that cannot open the database's data keys, or with none at all (mash.keys.checks).
from mash.keys.checks import refuse_to_serve  # noqa: E402

refuse_to_serve()
