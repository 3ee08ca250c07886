"""Policy store adapters (DP-17, DP-18). Uploads (M18) come later; until then the built-in document is active."""

from __future__ import annotations

from spotopt.domain.decisions.policy import PolicyDocument


class BuiltinPolicyStore:
    """Serves one fixed document: the DP-17 defaults (``policy_version`` ``builtin``) unless another is given."""

    def __init__(self, document: PolicyDocument | None = None) -> None:
        self._document = document or PolicyDocument()

    async def active(self) -> PolicyDocument:
        return self._document
