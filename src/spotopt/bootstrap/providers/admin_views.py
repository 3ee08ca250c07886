"""Admin read models (M4, M6, M8 – M12) and the job health that H1 and M11 share."""

from __future__ import annotations

from dishka import Provider, Scope, provide, provide_all

from spotopt.adapters.persistence.views.admin_activity import SqlAlchemyAdminActivityView
from spotopt.adapters.persistence.views.admin_fleet import SqlAlchemyAdminFleetView
from spotopt.adapters.persistence.views.admin_search import SqlAlchemyFleetSearch
from spotopt.application.agents.list_all_agents import ListAllAgents
from spotopt.application.agents.list_all_instances import ListAllInstances
from spotopt.application.clients.get_client_growth import GetClientGrowth
from spotopt.application.clients.get_token_metadata import GetTokenMetadata
from spotopt.application.ports.admin_views import AdminActivityView, AdminFleetView, FleetSearch
from spotopt.application.ports.system import Clock
from spotopt.application.system.get_system_health import GetSystemHealth
from spotopt.application.system.job_health import JobHealth, ServerStart
from spotopt.application.system.list_activity import ListActivity
from spotopt.application.system.search_fleet import SearchFleet


class AdminViewsProvider(Provider):
    job_health = provide(JobHealth, scope=Scope.APP)
    fleet = provide(SqlAlchemyAdminFleetView, provides=AdminFleetView, scope=Scope.REQUEST)
    activity = provide(SqlAlchemyAdminActivityView, provides=AdminActivityView, scope=Scope.REQUEST)
    search = provide(SqlAlchemyFleetSearch, provides=FleetSearch, scope=Scope.REQUEST)
    use_cases = provide_all(
        GetClientGrowth,
        GetSystemHealth,
        GetTokenMetadata,
        ListActivity,
        ListAllAgents,
        ListAllInstances,
        SearchFleet,
        scope=Scope.REQUEST,
    )

    @provide(scope=Scope.APP)
    def server_start(self, clock: Clock) -> ServerStart:
        """Resolved once when the application starts (its lifespan), so it is the server's start instant."""
        return ServerStart(clock.now())
