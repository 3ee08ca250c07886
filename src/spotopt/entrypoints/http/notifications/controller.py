"""Notification routes N1 – N3 (``/api/notifications``): the token's client's in-app notifications (NT-3)."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.params import FromPath, JSONBody, QueryParameter

from spotopt.application.notifications.list_notifications import ListNotifications, ListNotificationsQuery
from spotopt.application.notifications.mark_all_notifications_read import (
    MarkAllNotificationsRead,
    MarkAllNotificationsReadCommand,
)
from spotopt.application.notifications.mark_notification_read import (
    MarkNotificationRead,
    MarkNotificationReadCommand,
)
from spotopt.entrypoints.http.auth import client_guard, client_id_of
from spotopt.entrypoints.http.notifications.schemas import (
    SEVERITIES,
    MarkAllReadRequest,
    MarkAllReadResponse,
    MarkReadResponse,
    NotificationListResponse,
    notification_response,
)
from spotopt.entrypoints.http.queries import comma_list
from spotopt.entrypoints.http.running import run_use_case
from spotopt.entrypoints.http.wire import dt

Req = Request[Any, Any, Any]
TypeList = Annotated[str | None, QueryParameter(name="type", description="Comma-separated notification types.")]
SeverityList = Annotated[str | None, QueryParameter(description="Comma-separated severities: info, warning, critical.")]
UnreadOnly = Annotated[bool, QueryParameter(description="Only unread notifications.")]
Limit = Annotated[int, QueryParameter(ge=1, le=500, description="Page size (§1.8).")]
Offset = Annotated[int, QueryParameter(ge=0, description="Matches to skip before the page (§1.8).")]


class NotificationController(Controller):
    path = "/api/notifications"
    guards = [client_guard]
    opt = {"group": "notification", "rate_bucket": "client"}

    @get("/")
    async def list_notifications(
        self,
        request: Req,
        unread_only: UnreadOnly = False,
        severity: SeverityList = None,
        type_: TypeList = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> NotificationListResponse:
        """N1: newest first; ``unread_count`` ignores the filters."""
        query = ListNotificationsQuery(
            client_id=client_id_of(request),
            unread_only=unread_only,
            severities=comma_list("severity", severity, SEVERITIES),
            types=comma_list("type", type_),
            limit=limit,
            offset=offset,
        )
        result = await run_use_case(request, ListNotifications, lambda uc: uc.execute(query))
        return NotificationListResponse(
            notifications=[notification_response(n) for n in result.notifications],
            total=result.total,
            unread_count=result.unread_count,
        )

    @post("/{notification_id:str}/mark-read", status_code=200)
    async def mark_read(self, request: Req, notification_id: FromPath[str]) -> MarkReadResponse:
        """N2: ``is_read`` true, ``read_at`` set once (NT-5); idempotent."""
        command = MarkNotificationReadCommand(client_id=client_id_of(request), notification_id=notification_id)
        n = await run_use_case(request, MarkNotificationRead, lambda uc: uc.execute(command))
        return MarkReadResponse(success=True, id=n.notification_id, is_read=n.is_read, read_at=dt(n.read_at))

    @post("/mark-all-read", status_code=200)
    async def mark_all_read(self, request: Req, data: JSONBody[MarkAllReadRequest]) -> MarkAllReadResponse:
        """N3: unread notifications created at or before ``before`` (all when omitted); idempotent."""
        command = MarkAllNotificationsReadCommand(client_id=client_id_of(request), before=data.before_utc())
        marked = await run_use_case(request, MarkAllNotificationsRead, lambda uc: uc.execute(command))
        return MarkAllReadResponse(success=True, marked=marked)
