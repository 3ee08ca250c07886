"""N1 – N3 over HTTP (api.md §6, A.9; domain NT-3, NT-5): the real app on SQLite, two tenants."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from spotopt.domain.notifications.notification import Notification
from spotopt.domain.shared.events import Severity
from spotopt.domain.shared.ids import AgentId, ClientId, new_id
from tests.factories.client_world import NOW, Tenant, World, database, error, ok, world

NOTIFICATION_KEYS = {
    "id", "client_id", "agent_id", "type", "severity", "title", "message", "is_read", "read_at", "created_at",
}  # fmt: skip


async def notify(w: World, tenant: Tenant, type_: str, severity: Severity, minutes_ago: int) -> str:
    notification = Notification(
        notification_id=new_id(), client_id=ClientId(tenant.client_id), type=type_, severity=severity,
        title=type_, message=f"{type_} happened", dedup_key=f"{type_}:{new_id()}",
        created_at=NOW - timedelta(minutes=minutes_ago), agent_id=AgentId(tenant.agent_id),
    )  # fmt: skip
    async with database(w.settings) as uow:
        await uow.events.add_notification(notification)
        await uow.commit()
    return notification.notification_id


async def test_n1_newest_first_filters_paging_and_an_unread_count_that_ignores_filters(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        offline = await notify(w, w.acme, "agent-offline", Severity.WARNING, 10)
        failed = await notify(w, w.acme, "failover-failed", Severity.CRITICAL, 5)
        await notify(w, w.other, "agent-offline", Severity.WARNING, 1)
        listed = ok(await w.acme.get("/api/notifications"))
        assert (listed["total"], listed["unread_count"]) == (3, 3)  # with the registration notice
        first = listed["notifications"][0]
        assert set(first) == NOTIFICATION_KEYS
        assert [n["id"] for n in listed["notifications"][1:]] == [failed, offline]
        assert {n["client_id"] for n in listed["notifications"]} == {w.acme.client_id}  # NT-3
        warnings = ok(await w.acme.get("/api/notifications?severity=warning,critical&limit=1&offset=1"))
        assert (warnings["total"], [n["id"] for n in warnings["notifications"]]) == (2, [offline])
        typed = ok(await w.acme.get("/api/notifications?type=agent-offline"))
        assert [n["id"] for n in typed["notifications"]] == [offline]
        assert typed["unread_count"] == 3


async def test_n1_bad_query_values_are_400_naming_the_parameter(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        for query, field in [("severity=error", "severity"), ("limit=0", "limit"), ("offset=-1", "offset")]:
            assert error(await w.acme.get(f"/api/notifications?{query}"), 400, "validation_error")["field"] == field


async def test_n2_nt5_read_at_is_set_once_and_a_foreign_id_is_404(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        mine = await notify(w, w.acme, "agent-offline", Severity.WARNING, 3)
        theirs = await notify(w, w.other, "agent-offline", Severity.WARNING, 3)
        marked = ok(await w.acme.post(f"/api/notifications/{mine}/mark-read"))
        assert marked == {"success": True, "id": mine, "is_read": True, "read_at": "2026-11-28T09:00:00Z"}
        w.clock.advance(minutes=5)
        again = ok(await w.acme.post(f"/api/notifications/{mine}/mark-read"))
        assert again["read_at"] == "2026-11-28T09:00:00Z"
        assert error(await w.acme.post(f"/api/notifications/{theirs}/mark-read"), 404, "not_found") == {
            "code": "not_found"
        }
        unread = ok(await w.acme.get("/api/notifications?unread_only=true"))
        assert mine not in [n["id"] for n in unread["notifications"]]
        assert ok(await w.other.get("/api/notifications?unread_only=true"))["unread_count"] == 2


async def test_n3_marks_up_to_before_then_all_and_is_idempotent(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        await notify(w, w.acme, "agent-offline", Severity.WARNING, 60)
        await notify(w, w.acme, "agent-offline", Severity.WARNING, 1)
        marked = ok(await w.acme.post("/api/notifications/mark-all-read", {"before": "2026-11-28T08:30:00Z"}))
        assert marked == {"success": True, "marked": 1}
        assert ok(await w.acme.post("/api/notifications/mark-all-read"))["marked"] == 2  # the rest, registration too
        assert ok(await w.acme.post("/api/notifications/mark-all-read", {}))["marked"] == 0
        assert ok(await w.acme.get("/api/notifications"))["unread_count"] == 0
        assert ok(await w.other.get("/api/notifications"))["unread_count"] == 1  # another tenant untouched
        error(await w.acme.post("/api/notifications/mark-all-read", {"before": "yesterday"}), 400, "validation_error")
        error(await w.acme.post("/api/notifications/mark-all-read", {"after": "x"}), 400, "validation_error")
