"""C5 – C8 and C16 over HTTP: the real app on SQLite (api.md §5, §1.3, §1.4, A.1, A.5; domain A9, M1 – M7)."""

from __future__ import annotations

from pathlib import Path

from spotopt.domain.agents.values import InstanceRole, TerminationReason
from spotopt.domain.shared.ids import ClientId
from tests.factories.client_world import PRIMARY, World, database, error, ok, world

SETTINGS_KEYS = {"enabled", "auto_switch_enabled", "manual_replica_enabled", "auto_terminate_enabled"}


def agent_path(w: World, route: str = "") -> str:
    return f"/api/client/agents/{w.acme.agent_id}{route}"


async def queue_api_switch(w: World) -> str:
    queued = ok(
        await w.acme.post(f"/api/agents/{w.acme.agent_id}/issue-switch-command", {"target_mode": "ondemand"}), 201
    )
    return str(queued["command"]["id"])


async def test_c5_disable_cancels_the_pending_api_switch_and_a3_reports_it(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        command_id = await queue_api_switch(w)
        body = ok(await w.acme.post(agent_path(w, "/toggle-enabled"), {"enabled": False}))
        assert body == {
            "success": True, "agent_id": w.acme.agent_id, "enabled": False, "cancelled_command_ids": [command_id],
        }  # fmt: skip
        assert ok(await w.acme.get(f"/api/agents/{w.acme.agent_id}/config"))["enabled"] is False
        again = ok(await w.acme.post(agent_path(w, "/toggle-enabled"), {"enabled": False}))
        assert again["cancelled_command_ids"] == []


async def test_c6_domain_m3_manual_mode_turns_auto_switch_off_and_cancels_api_commands(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        command_id = await queue_api_switch(w)
        body = ok(await w.acme.post(agent_path(w, "/settings"), {"manual_replica_enabled": True}))
        assert body["settings"] == {
            "enabled": True, "auto_switch_enabled": False, "manual_replica_enabled": True,
            "auto_terminate_enabled": True, "terminate_wait_seconds": 300,
        }  # fmt: skip
        assert (body["success"], body["cancelled_command_ids"], body["retired_replica_ids"]) == (True, [command_id], [])
        config = ok(await w.acme.get(f"/api/agents/{w.acme.agent_id}/config"))
        assert (config["replica_enabled"], config["auto_switch_enabled"]) == (True, False)


async def test_c6_domain_m1_both_modes_true_is_400_and_writes_nothing(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        detail = error(
            await w.acme.post(
                agent_path(w, "/settings"), {"auto_switch_enabled": True, "manual_replica_enabled": True}
            ),
            400,
            "validation_error",
        )
        assert detail["field"] == "manual_replica_enabled"
        config = ok(await w.acme.get(f"/api/agents/{w.acme.agent_id}/config"))
        assert (config["auto_switch_enabled"], config["manual_replica_enabled"]) == (True, False)


async def test_s1_4_c6_c7_bad_bodies_name_the_field(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        cases = [
            ("/settings", {"terminate_wait_seconds": 10}, "terminate_wait_seconds"),
            ("/settings", {"auto_switch_enabled": "true"}, "auto_switch_enabled"),
            ("/settings", {}, "body"),
            ("/settings", {"colour": "red"}, "colour"),
            ("/config", {"max_switches_per_day": 2.5}, "max_switches_per_day"),
            ("/config", {"risk_threshold": 1.5}, "risk_threshold"),
            ("/config", {"max_switches_per_day": 5, "max_switches_per_week": 4}, "max_switches_per_week"),
            ("/toggle-enabled", {"enabled": 0}, "enabled"),
        ]
        for route, body, field in cases:
            detail = error(await w.acme.post(agent_path(w, route), body), 400, "validation_error")
            assert detail["field"] == field, (route, body, detail)


async def test_c7_thresholds_answer_the_agent_config(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        body = ok(await w.acme.post(agent_path(w, "/config"), {"min_savings_percent": 20.5, "cooldown_minutes": 0}))
        assert (body["success"], body["agent_id"]) == (True, w.acme.agent_id)
        assert (body["config"]["min_savings_percent"], body["config"]["cooldown_minutes"]) == (20.5, 0)
        assert set(body["config"]) >= SETTINGS_KEYS | {"replica_count", "max_switches_per_week"}


async def test_cl4_another_tenants_agent_is_404_on_every_write_route(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        foreign = f"/api/client/agents/{w.other.agent_id}"
        for route, body in [("/toggle-enabled", {"enabled": False}), ("/settings", {"auto_switch_enabled": False})]:
            assert error(await w.acme.post(foreign + route, body), 404, "not_found") == {"code": "not_found"}
        assert error(await w.acme.call("DELETE", foreign), 404, "not_found") == {"code": "not_found"}
        force = f"/api/client/instances/{PRIMARY.replace('0a1b', '0fed')}/force-switch"
        error(await w.acme.post(force, {"target": "ondemand"}), 404, "not_found")
        assert ok(await w.other.get(f"/api/agents/{w.other.agent_id}/config"))["enabled"] is True


async def test_c8_domain_a9_delete_then_404_and_the_instance_is_terminated_unconfirmed(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        body = ok(await w.acme.call("DELETE", agent_path(w)))
        assert body == {
            "success": True, "agent_id": w.acme.agent_id, "message": "Agent deleted",
            "instances_possibly_running": [PRIMARY],
        }  # fmt: skip
        error(await w.acme.call("DELETE", agent_path(w)), 404, "not_found")
        error(await w.acme.post(f"/api/agents/{w.acme.agent_id}/heartbeat", {"status": "online"}), 404, "not_found")
        async with database(w.settings) as uow:
            instance = await uow.instances.get(ClientId(w.acme.client_id), PRIMARY)
            assert instance is not None
            assert (instance.role, instance.termination_reason) == (
                InstanceRole.TERMINATED,
                TerminationReason.AGENT_DELETED,
            )
            assert await uow.ledger.open_entry(ClientId(w.acme.client_id), PRIMARY) is None
        names = [n["type"] for n in ok(await w.acme.get("/api/notifications"))["notifications"]]
        assert "agent-deleted" in names


async def test_c16_force_switch_201_then_replay_200_and_not_primary_409(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        path = f"/api/client/instances/{PRIMARY}/force-switch"
        body = {"target_mode": "spot", "target_pool_id": "t3.medium.us-east-1b", "idempotency_key": "k1"}
        created = ok(await w.acme.post(path, body), 201)
        assert (created["success"], created["created"]) == (True, True)
        assert created["message"] == "Force switch to t3.medium.us-east-1b queued"
        command = created["command"]
        assert (command["origin"], command["priority"], command["status"], command["instance_id"]) == (
            "manual", 75, "pending", PRIMARY,
        )  # fmt: skip
        assert command["expires_at"] == "2026-11-29T09:00:00Z"
        replay = ok(await w.acme.post(path, body))
        assert (replay["created"], replay["command"]["id"]) == (False, command["id"])
        error(await w.acme.post(path, {"target": "pool", "pool_id": "c5.large.us-east-1b"}), 422, "pool_mismatch")
        error(await w.acme.post(path, {"target": "pool"}), 400, "validation_error")
        error(await w.acme.post(path, {"target": "ondemand", "bogus": True}), 400, "validation_error")
        listed = ok(await w.acme.get("/api/notifications?type=manual-switch-queued"))
        assert listed["total"] == 1
        ok(await w.acme.call("DELETE", agent_path(w)))
        error(await w.acme.post(path, {"target": "ondemand"}), 409, "not_primary")
