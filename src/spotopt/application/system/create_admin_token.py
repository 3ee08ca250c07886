"""Issue an admin token (CLI ``spotopt admin create-token``)."""

from __future__ import annotations

from dataclasses import dataclass

from spotopt.application.ports.clients import TokenHasher
from spotopt.application.ports.system import Clock
from spotopt.application.ports.uow import UnitOfWork


@dataclass(frozen=True, slots=True, kw_only=True)
class CreateAdminTokenResult:
    token: str
    token_hint: str


class CreateAdminToken:
    """- The token is shown once; only its SHA-256 hash and last 4 characters are stored."""

    def __init__(self, uow: UnitOfWork, hasher: TokenHasher, clock: Clock) -> None:
        self._uow = uow
        self._hasher = hasher
        self._clock = clock

    async def execute(self) -> CreateAdminTokenResult:
        token = self._hasher.issue_admin_token()
        await self._uow.admin_tokens.add(self._hasher.hash(token), token[-4:], self._clock.now())
        await self._uow.commit()
        return CreateAdminTokenResult(token=token, token_hint=token[-4:])
