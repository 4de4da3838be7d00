"""The keys API (admin scope): list, create and revoke API keys over HTTP, as `siaran keys`
does, in the same keys file (`siaran_shared.auth.KeyRing`, the one the services verify with).

A key's value is shown once, in the answer to its creation; only its hash is stored and no
answer ever carries it again. Every service re-reads the keys file when it changes (its inode
changes on every write), so a revoked key is refused from the next request on by every
service that reads the same file; a service with its own copy (a Kubernetes Secret mount)
sees the change only when that copy is updated. Where the keys file is mounted read-only
(docker-compose, Kubernetes), creation and revocation answer 503 and keys are managed with
`siaran keys` where the file is writable.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel, ConfigDict, Field, field_validator
from siaran_shared.auth import ROLES, ApiKey, InvalidRole, InvalidScope, KeyRing, Scope, parse_roles
from siaran_shared.http import AdminKey, ApiError
from siaran_shared.logging import get_logger
from siaran_shared.responses import UNAUTHORIZED, Responses, error_doc, invalid

log = get_logger(__name__)

router = APIRouter(prefix="/v1/keys", tags=["keys"])

#: What a key's name may hold: it appears in logs, events (`submitted_by`) and messages.
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9 ._@:-]{0,63}$"
KeyId = Annotated[str, Path(pattern=r"^[0-9a-f]{1,64}$", description="The key's id")]


class KeyIn(BaseModel):
    """A key to create: who uses it, what it may target, what it may do."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(
        pattern=NAME_PATTERN,
        description="Who or what uses the key; unique among active keys",
        examples=["diskominfo-sulsel"],
    )
    scope: str = Field(
        description="national, admin, province:<code> or regency:<code>",
        examples=["province:73"],
    )
    roles: list[str] = Field(
        default_factory=list,
        max_length=len(ROLES),
        description="publish (the default when none is given), draft, approve; admin holds all",
        examples=[["draft"]],
    )

    @field_validator("scope")
    @classmethod
    def _scope(cls, value: str) -> str:
        try:
            return str(Scope.parse(value))
        except InvalidScope as exc:
            raise ValueError(str(exc)) from None

    @field_validator("roles")
    @classmethod
    def _roles(cls, value: list[str]) -> list[str]:
        try:
            return list(parse_roles(value))
        except InvalidRole as exc:
            raise ValueError(str(exc)) from None


class KeyOut(BaseModel):
    """A stored key: never its value or hash."""

    id: str = Field(examples=["3f9a1c0b7d2e"])
    name: str
    scope: str = Field(examples=["province:73"])
    roles: list[str] = Field(description="What the key may do (an admin key holds every role)")
    created_at: str = Field(description="ISO 8601")
    revoked_at: str | None = Field(None, description="ISO 8601; null while the key is active")

    @classmethod
    def of(cls, key: ApiKey) -> KeyOut:
        roles = ROLES if key.parsed_scope.is_admin else key.roles
        return cls(id=key.id, name=key.name, scope=key.scope, roles=list(roles),
                   created_at=key.created_at, revoked_at=key.revoked_at)  # fmt: skip


class KeyCreated(KeyOut):
    """A new key, with its value: shown in this answer only, stored nowhere."""

    key: str = Field(description="The API key itself; store it now, it is never shown again")


class KeyList(BaseModel):
    items: list[KeyOut]


READ_ONLY_MESSAGE = (
    "the keys file cannot be written by this service; create and revoke keys with "
    "`siaran keys` where the file is writable"
)
READ_ONLY = error_doc(
    "The keys file cannot be written here (mounted read-only); use `siaran keys` where it is",
    "keys_read_only",
    READ_ONLY_MESSAGE,
)
COMMON: Responses = {
    **UNAUTHORIZED,
    403: error_doc("The key is not an admin key", "forbidden",
                   "this endpoint needs an admin key; key 'sulsel' is province:73"),
}  # fmt: skip
CREATE_RESPONSES: Responses = {
    **COMMON,
    400: error_doc("The body is not JSON", "bad_request", "There was an error parsing the body"),
    409: error_doc("An active key has this name", "conflict",
                   "an active key named 'diskominfo-sulsel' exists already; revoke it or pick "
                   "another name"),
    413: error_doc("Body over the size limit", "payload_too_large",
                   "request body is larger than the limit of 262144 bytes"),
    **invalid("name, scope, roles"),
    503: READ_ONLY,
}  # fmt: skip
REVOKE_RESPONSES: Responses = {
    **COMMON,
    404: error_doc("No key with this id", "not_found", "no key with id '3f9a1c0b7d2e'"),
    409: error_doc("Already revoked, or the last active admin key", "conflict",
                   "key 'ops' is the last active admin key; create another admin key first"),
    **invalid("key_id"),
    503: READ_ONLY,
}  # fmt: skip


def _keyring(request: Request) -> KeyRing:
    keyring: KeyRing = request.app.state.keyring
    return keyring


def _read_only(exc: OSError) -> ApiError:
    log.error("keys_file_not_writable", error=type(exc).__name__)
    return ApiError(503, READ_ONLY_MESSAGE, code="keys_read_only")


@router.get("", response_model=KeyList, summary="Every key, revoked ones included (never a value)",
            responses=COMMON)  # fmt: skip
async def list_keys(request: Request, _: AdminKey) -> KeyList:
    return KeyList(items=[KeyOut.of(k) for k in _keyring(request).all_keys()])


@router.post(
    "",
    status_code=201,
    response_model=KeyCreated,
    summary="Create a key; its value is in this answer only",
    description="Like `siaran keys create`: only the key's hash is stored.",
    responses=CREATE_RESPONSES,
)
async def create_key(request: Request, admin: AdminKey, body: KeyIn) -> KeyCreated:
    ring = _keyring(request)
    if any(k.name == body.name and k.revoked_at is None for k in ring.all_keys()):
        raise ApiError(
            409,
            f"an active key named {body.name!r} exists already; revoke it or pick another name",
            details=[{"field": "name", "message": "an active key has this name"}],
        )
    try:
        key, token = ring.create(body.name, body.scope, body.roles)
    except OSError as exc:
        raise _read_only(exc) from None
    log.info("key_created", key_id=key.id, name=key.name, scope=key.scope, by=admin.name)
    return KeyCreated(**KeyOut.of(key).model_dump(), key=token)


@router.delete(
    "/{key_id}",
    response_model=KeyOut,
    summary="Revoke a key: every service refuses it from its next request",
    responses=REVOKE_RESPONSES,
)
async def revoke_key(request: Request, admin: AdminKey, key_id: KeyId) -> KeyOut:
    ring = _keyring(request)
    keys = ring.all_keys()
    key = next((k for k in keys if k.id == key_id), None)
    if key is None:
        raise ApiError(404, f"no key with id {key_id!r}")
    if key.revoked_at is not None:
        raise ApiError(409, f"key {key.name!r} was revoked at {key.revoked_at} already")
    admins = [k for k in keys if k.revoked_at is None and k.parsed_scope.is_admin]
    if admins == [key]:
        raise ApiError(
            409, f"key {key.name!r} is the last active admin key; create another admin key first"
        )
    try:
        [revoked] = ring.revoke(key_id, by_name=False)
    except OSError as exc:
        raise _read_only(exc) from None
    log.info("key_revoked", key_id=key.id, name=key.name, by=admin.name)
    return KeyOut.of(revoked)
