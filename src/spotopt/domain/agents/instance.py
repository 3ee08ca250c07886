"""Instance aggregate (domain §2.3, §3.2)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from spotopt.domain.agents.values import ExpectedCause, InstanceOrigin, InstanceRole, KeptReason, TerminationReason
from spotopt.domain.shared.ids import AgentId, ClientId, InstanceId
from spotopt.domain.shared.pools import Mode, pool_id_for


@dataclass(eq=False, slots=True)
class Instance:
    client_id: ClientId
    instance_id: InstanceId
    agent_id: AgentId
    role: InstanceRole
    origin: InstanceOrigin
    instance_type: str
    region: str
    az: str
    mode: Mode
    first_seen_at: datetime
    role_changed_at: datetime
    ami_id: str | None = None
    private_ip: str | None = None
    public_ip: str | None = None
    kept_reason: KeptReason | None = None
    launched_at: datetime | None = None
    primary_since: datetime | None = None
    last_seen_at: datetime | None = None
    termination_expected_at: datetime | None = None
    expected_cause: ExpectedCause | None = None
    termination_requested_at: datetime | None = None
    terminated_at: datetime | None = None
    termination_reason: TerminationReason | None = None
    termination_confirmed: bool = False
    kept_notified_at: datetime | None = None

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Instance) and other.client_id == self.client_id and other.instance_id == self.instance_id
        )

    def __hash__(self) -> int:
        return hash((self.client_id, self.instance_id))

    @property
    def pool_id(self) -> str | None:
        """Pool id iff on spot with known facts (§2.3)."""
        return pool_id_for(self.instance_type, self.az) if self.mode is Mode.SPOT else None

    @property
    def is_terminated(self) -> bool:
        return self.role is InstanceRole.TERMINATED

    def _set_role(self, role: InstanceRole, now: datetime) -> None:
        self.role = role
        self.role_changed_at = now
        if role is not InstanceRole.KEPT_OLD:
            self.kept_reason = None
            self.termination_expected_at = None
            self.expected_cause = None

    def make_primary(self, now: datetime) -> None:
        self._set_role(InstanceRole.PRIMARY, now)
        self.primary_since = now

    def make_standby(self, now: datetime) -> None:
        self._set_role(InstanceRole.STANDBY, now)

    def keep_old(
        self,
        reason: KeptReason,
        now: datetime,
        *,
        expected_at: datetime | None = None,
        cause: ExpectedCause | None = None,
    ) -> None:
        self._set_role(InstanceRole.KEPT_OLD, now)
        self.kept_reason = reason
        self.termination_expected_at = expected_at
        self.expected_cause = cause
        if reason is KeptReason.TERMINATION_REQUESTED:
            self.termination_requested_at = now

    def terminate(self, reason: TerminationReason, at: datetime, now: datetime, *, confirmed: bool) -> None:
        """IN-6/IN-7: a confirmed termination is absorbing; ``terminated_at`` is set once per termination."""
        if self.role is InstanceRole.TERMINATED:
            if confirmed and not self.termination_confirmed:
                self.termination_confirmed = True
            return
        self._set_role(InstanceRole.TERMINATED, now)
        self.terminated_at = at
        self.termination_reason = reason
        self.termination_confirmed = confirmed
