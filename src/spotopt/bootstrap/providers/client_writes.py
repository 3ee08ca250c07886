"""Client-side writes: settings and mode changes, force-switch, deletions, notifications (REQUEST scope)."""

from __future__ import annotations

from dishka import Provider, Scope, provide, provide_all

from spotopt.adapters.persistence.repositories.inbox import SqlAlchemyNotificationInbox
from spotopt.adapters.persistence.repositories.tenant_agents import SqlAlchemyTenantAgents
from spotopt.application.agents.change_agent_config import ChangeAgentConfig
from spotopt.application.agents.change_agent_settings import ChangeAgentSettings
from spotopt.application.agents.delete_agent import DeleteAgent
from spotopt.application.agents.deletion import AgentDeletion
from spotopt.application.agents.toggle_agent_enabled import ToggleAgentEnabled
from spotopt.application.clients.delete_client import DeleteClient
from spotopt.application.commands.force_switch import ForceSwitch
from spotopt.application.notifications.list_notifications import ListNotifications
from spotopt.application.notifications.mark_all_notifications_read import MarkAllNotificationsRead
from spotopt.application.notifications.mark_notification_read import MarkNotificationRead
from spotopt.application.ports.notifications import NotificationInbox
from spotopt.application.ports.tenants import AgentRemoval, TenantAgents


class ClientWritesProvider(Provider):
    scope = Scope.REQUEST
    inbox = provide(SqlAlchemyNotificationInbox, provides=NotificationInbox)
    tenant_agents = provide(SqlAlchemyTenantAgents, provides=TenantAgents)
    deletion = provide(AgentDeletion)

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
    )
