"""Client-side writes: settings and mode changes, force-switch, deletions, notifications (REQUEST scope)."""

from __future__ import annotations

from collections.abc import AsyncIterator

from dishka import Provider, Scope, provide, provide_all

from spotopt.adapters.notification_jobs import SaqNotificationJobs
from spotopt.adapters.persistence.repositories.inbox import SqlAlchemyNotificationInbox
from spotopt.adapters.persistence.repositories.tenant_agents import SqlAlchemyTenantAgents
from spotopt.adapters.persistence.repositories.webhooks import SqlAlchemyWebhookStore
from spotopt.adapters.webhook_sender import HttpxWebhookSender
from spotopt.application.agents.change_agent_config import ChangeAgentConfig
from spotopt.application.agents.change_agent_settings import ChangeAgentSettings
from spotopt.application.agents.delete_agent import DeleteAgent
from spotopt.application.agents.deletion import AgentDeletion
from spotopt.application.agents.toggle_agent_enabled import ToggleAgentEnabled
from spotopt.application.clients.delete_client import DeleteClient
from spotopt.application.commands.force_switch import ForceSwitch
from spotopt.application.notifications.configure_webhook import ConfigureWebhook
from spotopt.application.notifications.deliver_notification import DeliverNotification
from spotopt.application.notifications.fan_out_notifications import FanOutNotifications
from spotopt.application.notifications.list_notifications import ListNotifications
from spotopt.application.notifications.mark_all_notifications_read import MarkAllNotificationsRead
from spotopt.application.notifications.mark_notification_read import MarkNotificationRead
from spotopt.application.ports.notifications import NotificationInbox, NotificationJobs, WebhookSender, WebhookStore
from spotopt.application.ports.tenants import AgentRemoval, TenantAgents
from spotopt.bootstrap.background import JobBackend


class ClientWritesProvider(Provider):
    scope = Scope.REQUEST
    inbox = provide(SqlAlchemyNotificationInbox, provides=NotificationInbox)
    tenant_agents = provide(SqlAlchemyTenantAgents, provides=TenantAgents)
    webhooks = provide(SqlAlchemyWebhookStore, provides=WebhookStore)
    deletion = provide(AgentDeletion)

    @provide(scope=Scope.APP)
    async def webhook_sender(self) -> AsyncIterator[WebhookSender]:
        sender = HttpxWebhookSender()
        yield sender
        await sender.close()

    @provide(scope=Scope.APP)
    def notification_jobs(self, backend: JobBackend) -> NotificationJobs:
        return SaqNotificationJobs(backend.queue)

    @provide
    def removal(self, deletion: AgentDeletion) -> AgentRemoval:
        return deletion

    use_cases = provide_all(
        ToggleAgentEnabled,
        ChangeAgentSettings,
        ChangeAgentConfig,
        DeleteAgent,
        ForceSwitch,
        DeleteClient,
        ListNotifications,
        MarkNotificationRead,
        MarkAllNotificationsRead,
        FanOutNotifications,
        DeliverNotification,
        ConfigureWebhook,
    )
