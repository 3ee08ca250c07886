"""Path tenancy (api.md §1.3): a ``{client_id}`` in the path must be the token's client."""

from __future__ import annotations

from typing import Any

from litestar import Request

from spotopt.application.errors import ForbiddenError
from spotopt.domain.shared.ids import ClientId
from spotopt.entrypoints.http.auth import client_id_of


def own_client(request: Request[Any, Any, Any], client_id: str) -> ClientId:
    """The token's client when ``client_id`` names it, else 403 ``client_mismatch`` (never 404: CL-4)."""
    own = client_id_of(request)
    if client_id != own:
        raise ForbiddenError("The path names another client", code="client_mismatch")
    return own
