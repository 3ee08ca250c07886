"""Token issue and hashing (CL-1): 32 random bytes, base64url, stored only as SHA-256 hex."""

from __future__ import annotations

import hashlib
import secrets


class Sha256TokenHasher:
    def issue_client_token(self) -> str:
        return "spo_" + secrets.token_urlsafe(32)

    def issue_admin_token(self) -> str:
        return "spoa_" + secrets.token_urlsafe(32)

    def hash(self, token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()
