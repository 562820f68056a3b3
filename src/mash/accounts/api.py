"""/me: who the API is talking to."""

from ninja import Router, Schema

from mash.access.guard import guarded_operation
from mash.core.api import AUTHENTICATED, access, responses

router = Router(tags=["accounts"])


class PartnerRef(Schema):
    slug: str
    name: str


class MeOut(Schema):
    username: str
    display_name: str
    role: str
    role_label: str
    partner: PartnerRef | None


@router.get("/me", response=responses({200: MeOut}), openapi_extra=access(AUTHENTICATED), summary="The signed-in user")
@guarded_operation(AUTHENTICATED)
def me(request):
    user = request.user
    partner = user.partner
    return {
        "username": user.username,
        "display_name": user.display_name,
        "role": user.role,
        "role_label": user.get_role_display(),
        "partner": {"slug": partner.slug, "name": partner.name} if partner else None,
    }
