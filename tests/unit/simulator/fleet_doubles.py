"""A scripted agent-v4 server behind httpx's MockTransport, and a fleet context built on it."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from spotopt.entrypoints.simulator.agent import Process, SimAgent
from spotopt.entrypoints.simulator.context import Cadence, FleetContext
from spotopt.entrypoints.simulator.market import Market
from spotopt.entrypoints.simulator.protocol import InstanceFacts
from spotopt.entrypoints.simulator.recorder import AckLog, Recorder
from spotopt.entrypoints.simulator.scheduler import Scheduler
from spotopt.entrypoints.simulator.transport import AgentWire

Reply = tuple[int, Any]


@dataclass
class ScriptedServer:
    """Answers by (method, path suffix); records every request as (method, path, headers, JSON body or None)."""

    replies: dict[tuple[str, str], Reply | Callable[[Any], Reply]] = field(default_factory=dict)
    seen: list[tuple[str, str, httpx.Headers, Any]] = field(default_factory=list)

    def handle(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content) if request.content else None
        path = request.url.raw_path.decode()
        self.seen.append((request.method, path, request.headers, body))
        for (method, suffix), reply in self.replies.items():
            if request.method == method and path.endswith(suffix):
                status, payload = reply(body) if callable(reply) else reply
                return httpx.Response(status, json=payload)
        return httpx.Response(200, json={"success": True})

    def calls(self) -> list[tuple[str, str]]:
        return [(method, path) for method, path, _, _ in self.seen]

    def body_of(self, suffix: str) -> Any:
        return next(body for _, path, _, body in self.seen if path.endswith(suffix))


def fleet(server: ScriptedServer, *, launch_failure_rate: float = 0.0) -> FleetContext:
    """Time compressed ×100,000: every simulated wait (launch, boot, a 300 s terminate wait) takes milliseconds."""
    recorder = Recorder()
    scheduler = Scheduler()
    wire = AgentWire(
        "http://sim.test",
        recorder,
        concurrency=4,
        started=scheduler.started,
        transport=httpx.MockTransport(server.handle),
    )
    return FleetContext(
        wire=wire,
        market=Market(seed=1),
        recorder=recorder,
        acks=AckLog(None),
        scheduler=scheduler,
        cadence=Cadence(),
        speed=100_000,
        rng=random.Random(1),
        launch_failure_rate=launch_failure_rate,
    )


def registered_process(ctx: FleetContext, instance: InstanceFacts, agent_id: str = "agent-1") -> Process:
    agent = SimAgent(ctx, logical_id="web-prod-01", token="spo_token", client_id="client-1", instance=instance)
    process = Process(agent, instance)
    process.agent_id = agent_id
    agent.processes.append(process)
    return process
