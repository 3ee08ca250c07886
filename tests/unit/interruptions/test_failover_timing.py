"""V9 ``failover_ms`` (domain §2.7: notice received → promotion committed) for a promotion made in the notice's own
call: measured from the notice's receipt to the promotion written (flushed), so the lock wait and the promotion's
own work count; never the constant 0 that the transaction's single ``now`` would give.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from spotopt.domain.interruptions.emergency import Action
from spotopt.domain.replicas.values import ReplicaStatus
from spotopt.entrypoints.http.interruptions.answers import r9_answer
from tests.factories.replica_world import STANDBY, ReplicaWorld
from tests.fakes.system import FixedClock

STEP = timedelta(milliseconds=40)


class SteppingClock(FixedClock):
    """Every reading is ``step`` later than the one before: time passes while a use case runs."""

    def __init__(self, now: datetime, step: timedelta) -> None:
        super().__init__(now)
        self.step = step

    def now(self) -> datetime:
        reading = self.current
        self.current += self.step
        return reading


async def test_domain_v9_failover_ms_counts_the_time_from_notice_receipt_to_an_in_call_promotion() -> None:
    world = ReplicaWorld()
    agent = await world.agent(manual=True)
    standby = await world.ready_standby(agent)
    received = world.clock.now()
    world.clock = SteppingClock(received, STEP)
    outcome = await world.imminent(agent, termination_time=received + timedelta(minutes=2))
    episode = outcome.episode
    assert outcome.action is Action.REPLICA_PROMOTED
    assert episode is not None
    assert standby.status is ReplicaStatus.PROMOTED
    assert episode.notice_at == received
    assert standby.promoted_at == received  # the promotion's logical time is the notice's
    assert episode.failover_ms == 40
    [event] = [e for e in world.uow.store.events if e.type == "failover_completed"]
    assert event.metadata["failover_ms"] == 40
    assert agent.primary_instance_id == STANDBY
    assert r9_answer(outcome).status == 200
