"""The JSON API at /api/v1/: each domain's router, under session or bearer-token authentication.

Partner systems send `Authorization: Bearer mash_...` (tokens from `mash token create`); the browser
uses the Django session, with a CSRF token on unsafe methods. The OpenAPI document
(/api/v1/openapi.json) and its docs page (/api/v1/docs) need no sign-in.
"""

from mash.accounts.api import router as accounts_router
from mash.attachments.api import router as attachments_router
from mash.cases.api import router as cases_router
from mash.consent.api import router as consent_router
from mash.disclosure.api import router as disclosure_router
from mash.core.api import ApiTokenAuth, MashAPI, install_error_handlers, session_auth
from mash.partners.api import router as partners_router
from mash.reports.api import router as reports_router
from mash.sar.api import router as sar_router
from mash.sharing.api import router as sharing_router
from mash.training.api import router as training_router

api = MashAPI(
    title="MASH Hub API",
    version="1",
    description=(
        "Multi-Agency Safeguarding Hub: contacts, enquiries, and information shared under the ISA.\n\n"
        "Errors are JSON, `{\"detail\": \"...\"}`, 500 included. A stored value that fails its integrity "
        "check is answered as `null`; an object body then lists each such value in `integrity_errors` "
        "(`[{\"field\": \"contact.concern\", \"detail\": \"This item cannot be shown: ...\"}]`), and the "
        "`X-Integrity-Errors` header counts them."
    ),
    urls_namespace="api",
    auth=[ApiTokenAuth(), session_auth],
)
install_error_handlers(api)

api.add_router("/", accounts_router)
api.add_router("/", partners_router)
api.add_router("/", cases_router)
api.add_router("/", sharing_router)
api.add_router("/", attachments_router)
api.add_router("/", consent_router)
api.add_router("/", disclosure_router)
api.add_router("/", reports_router)
api.add_router("/", training_router)
api.add_router("/", sar_router)
