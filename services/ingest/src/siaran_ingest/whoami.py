"""`GET /v1/keys/me`: the calling key's own name, scope and roles (never its value), so a
client such as the console shows a person only what their key may do. Any valid key may ask;
it learns nothing about other keys."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field
from siaran_shared.auth import ROLES
from siaran_shared.http import AuthKey
from siaran_shared.responses import error_doc

router = APIRouter(prefix="/v1/keys", tags=["keys"])


class Me(BaseModel):
    """The key that made the request."""

    id: str
    name: str = Field(description="As it appears in `submitted_by` and the history")
    scope: str = Field(examples=["province:73"])
    roles: list[str] = Field(description="What the key may do (an admin key holds every role)")


@router.get(
    "/me",
    response_model=Me,
    summary="The calling key: its name, scope and roles",
    responses={401: error_doc("Missing, malformed or revoked API key", "unauthorized",
                              "invalid or revoked API key")},
)  # fmt: skip
async def me(key: AuthKey) -> Me:
    roles = ROLES if key.parsed_scope.is_admin else key.roles
    return Me(id=key.id, name=key.name, scope=key.scope, roles=list(roles))
