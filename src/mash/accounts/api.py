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

    @staticmethod
    def resolve_role_label(user) -> str:
        return user.get_role_display()


@router.get("/me", response=responses({200: MeOut}), openapi_extra=access(AUTHENTICATED), summary="The signed-in user")
@guarded_operation(AUTHENTICATED)
def me(request):
    return request.user
