"""The webhook channel end to end (domain §7.2 notification fan-out): the real container on SQLite, the real httpx
sender, the worker's job functions called directly, and a real HTTP receiver on 127.0.0.1 (aiohttp).

Time is the fixed clock: retries are due 1 min, 5 min, 30 min and 2 h after a failed attempt; nobody sleeps.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import cast

import pytest
from aiohttp import web
from dishka import AsyncContainer, Provider, Scope, provide
from saq import Job

from spotopt.application.clients.create_client import CreateClient, CreateClientCommand
from spotopt.application.jobs.names import JobName
from spotopt.application.notifications.configure_webhook import ConfigureWebhook, ConfigureWebhookCommand
from spotopt.application.ports.notifications import NotificationJobs
from spotopt.application.ports.system import Clock
from spotopt.application.ports.uow import UnitOfWork
from spotopt.bootstrap.container import make_container
from spotopt.domain.notifications.notification import Notification
from spotopt.domain.notifications.webhooks import RETRY_DELAYS, SIGNATURE_HEADER, verify
from spotopt.domain.shared.events import Severity
from spotopt.domain.shared.ids import ClientId, new_id
from spotopt.domain.shared.time import utc_iso
from spotopt.entrypoints.running import run_in_new_scope
from spotopt.entrypoints.worker.context import CONTAINER, WorkerContext
from spotopt.entrypoints.worker.notification_jobs import deliver_notification, fan_out_notifications
from tests.factories.client_world import NOW
from tests.fakes.system import FixedClock
from tests.fakes.webhooks import RecordingNotificationJobs
from tests.http_app import make_settings, reset_database
from tests.services import sqlite_url


@dataclass
class Receiver:
    """Answers the scripted statuses in turn (the last repeats) and keeps what it received."""

    statuses: list[int]
    received: list[tuple[bytes, dict[str, str]]] = field(default_factory=list)
    url: str = ""

    async def handle(self, request: web.Request) -> web.Response:
        self.received.append((await request.read(), dict(request.headers)))
        status = self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]
        return web.Response(status=status, text="ok")


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    found = Receiver(statuses=[200])
    app = web.Application()
    app.router.add_post("/hook", found.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    found.url = f"http://{host}:{port}/hook"
    yield found
    await runner.cleanup()


class FixedProvider(Provider):
    def __init__(self, clock: FixedClock, jobs: RecordingNotificationJobs) -> None:
        super().__init__()
        self._clock, self._jobs = clock, jobs

    @provide(scope=Scope.APP, override=True)
    def clock(self) -> Clock:
        return self._clock

    @provide(scope=Scope.APP, override=True)
    def jobs(self) -> NotificationJobs:
        return self._jobs


@dataclass
class Fleet:
    container: AsyncContainer
    clock: FixedClock
    jobs: RecordingNotificationJobs
    client_id: ClientId
    secret: str
    tick: int = 0

    def ctx(self, job: JobName) -> WorkerContext:
        return cast("WorkerContext", {CONTAINER: self.container, "job": Job(function=job.value)})

    async def notify(self) -> str:
        notification = Notification(
            notification_id=new_id(), client_id=self.client_id, type="failover-failed", severity=Severity.CRITICAL,
            title="Failover failed", message="i-0a1b2c3d4e5f67890 was interrupted", dedup_key=new_id(),
            created_at=self.clock.now(),
        )  # fmt: skip

        async def add(uow: UnitOfWork) -> None:
            await uow.events.add_notification(notification)
            await uow.commit()

        async with self.container() as scope:
            await add(await scope.get(UnitOfWork))
        return notification.notification_id

    async def sweep(self) -> dict[str, object]:
        """The fan-out job, its tick at the clock's time (each call a new tick: JB-1 runs a tick once)."""
        return await fan_out_notifications(self.ctx(JobName.FAN_OUT_NOTIFICATIONS), tick=utc_iso(self.clock.now()))

    async def deliver_enqueued(self) -> list[dict[str, object]]:
        enqueued, self.jobs.enqueued = self.jobs.enqueued, []
        ctx = self.ctx(JobName.DELIVER_NOTIFICATION)
        return [await deliver_notification(ctx, delivery_id=delivery_id) for delivery_id, _, _ in enqueued]


@pytest.fixture
async def fleet(tmp_path: Path, receiver: Receiver) -> AsyncIterator[Fleet]:
    settings = make_settings(sqlite_url(tmp_path), tmp_path)
    reset_database(settings)
    clock, jobs = FixedClock(NOW), RecordingNotificationJobs()
    container = make_container(settings, FixedProvider(clock, jobs))
    created = await run_in_new_scope(container, CreateClient, lambda uc: uc.execute(CreateClientCommand(name="Acme")))
    command = ConfigureWebhookCommand(client_id=created.client.client_id, url=receiver.url)
    configured = await run_in_new_scope(container, ConfigureWebhook, lambda uc: uc.execute(command))
    assert configured.secret is not None
    yield Fleet(container, clock, jobs, created.client.client_id, configured.secret)
    await container.close()


async def test_fan_out_delivers_a_signed_json_post_without_token_or_secret(fleet: Fleet, receiver: Receiver) -> None:
    notification_id = await fleet.notify()
    swept = await fleet.sweep()
    assert (swept["created"], swept["enqueued"]) == (1, 1)
    [result] = await fleet.deliver_enqueued()
    assert (result["status"], result["attempts"], result["sent"]) == ("delivered", 1, True)
    [(body, headers)] = receiver.received
    assert headers["Content-Type"] == "application/json"
    assert verify(fleet.secret, headers[SIGNATURE_HEADER], body)
    timestamp = int(headers[SIGNATURE_HEADER].split(",")[0].removeprefix("t="))
    assert timestamp == int(NOW.timestamp())
    sent = json.loads(body)
    assert (sent["id"], sent["client_id"], sent["severity"]) == (notification_id, fleet.client_id, "critical")
    assert "token" not in body.decode()
    assert fleet.secret not in body.decode() + json.dumps(headers)
    fleet.clock.advance(seconds=1)
    assert (await fleet.sweep())["due"] == 0  # delivered: nothing more to send
    assert len(receiver.received) == 1


async def test_fan_out_retries_500s_on_schedule_then_gives_up(fleet: Fleet, receiver: Receiver) -> None:
    receiver.statuses = [500]
    await fleet.notify()
    await fleet.sweep()
    [result] = await fleet.deliver_enqueued()
    assert (result["status"], result["attempts"]) == ("pending", 1)
    for attempt, delay in enumerate(RETRY_DELAYS, start=2):
        fleet.clock.advance(seconds=delay.total_seconds() - 1)
        assert (await fleet.sweep())["due"] == 0  # one second early: not due
        fleet.clock.advance(seconds=1)
        assert (await fleet.sweep())["enqueued"] == 1
        [result] = await fleet.deliver_enqueued()
        assert result["attempts"] == attempt
    assert result["status"] == "delivery_failed"
    assert len(receiver.received) == 1 + len(RETRY_DELAYS)
    assert all(verify(fleet.secret, headers[SIGNATURE_HEADER], body) for body, headers in receiver.received)
    fleet.clock.advance(seconds=timedelta(hours=3).total_seconds())
    assert (await fleet.sweep())["due"] == 0


async def test_a_retry_after_a_500_succeeds_and_a_rerun_of_the_job_sends_nothing(
    fleet: Fleet, receiver: Receiver
) -> None:
    receiver.statuses = [500, 204]
    await fleet.notify()
    await fleet.sweep()
    await fleet.deliver_enqueued()
    fleet.clock.advance(minutes=1)
    assert (await fleet.sweep())["enqueued"] == 1
    delivery_id = fleet.jobs.enqueued[0][0]
    [result] = await fleet.deliver_enqueued()
    assert (result["status"], result["attempts"]) == ("delivered", 2)
    rerun = await deliver_notification(fleet.ctx(JobName.DELIVER_NOTIFICATION), delivery_id=delivery_id)
    assert (rerun["sent"], rerun["status"]) == (False, "delivered")  # SAQ re-running a finished job: idempotent
    assert len(receiver.received) == 2
