"""Request and response bodies of access: password login, users, employee tokens."""

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from central_server.access.tokens import Role
from hajiri_common.strict import Strict


class LoginRequest(Strict):
    username: Annotated[str, StringConstraints(min_length=1, max_length=128)]
    password: Annotated[str, StringConstraints(min_length=1, max_length=1024)]


class LoginIssued(Strict):
    token: str = Field(description="bearer token; send as Authorization: Bearer <token>")
    token_type: str
    expires_at: str
    role: str
    site_id: str | None
    district: str | None
    employee_id: str | None


class UserCreate(Strict):
    username: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.@-]{1,64}$")]
    password: Annotated[str, StringConstraints(min_length=1, max_length=1024)]
    role: Role
    site_id: str | None = None
    district: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)] | None = None
    employee_id: str | None = None


class UserPublic(Strict):
    username: str
    role: str
    site_id: str | None
    district: str | None
    employee_id: str | None
    disabled: bool
    created_at: str
    updated_at: str


class TokenIssued(Strict):
    employee_id: str
    token: str = Field(description="shown once; store it on the phone")
    token_id: str = Field(description="how the token is listed and revoked (a prefix of its sha256)")
    expires_at: str = Field(description="UTC; the phone is bound again after this")


class PhoneToken(Strict):
    token_id: str
    label: str
    created_at: str
    expires_at: str | None
    issued_by: str | None = Field(description="the login that issued it; disabling that login revokes it")
    state: Literal["active", "expired", "revoked"]
