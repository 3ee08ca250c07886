"""The client routes' read models and query use cases (api.md §5), REQUEST scope over the request's session."""

from __future__ import annotations

from dishka import Provider, Scope, provide, provide_all
from sqlalchemy.ext.asyncio import AsyncSession

from spotopt.adapters.persistence.views.client_views import SqlAlchemyClientViews
from spotopt.application.agents.list_client_agents import ListClientAgents
from spotopt.application.agents.list_client_instances import ListClientInstances
from spotopt.application.clients.get_client_summary import GetClientSummary
from spotopt.application.decisions.list_client_decisions import ListClientDecisions
from spotopt.application.ports.client_views import ClientViews
from spotopt.application.pricing.list_pricing_history import ListPricingHistory
from spotopt.application.replicas.list_client_replicas import ListClientReplicas


class ClientViewsProvider(Provider):
    scope = Scope.REQUEST

    @provide
    def views(self, session: AsyncSession) -> ClientViews:
        return SqlAlchemyClientViews(session)

    use_cases = provide_all(
        GetClientSummary,
        ListClientAgents,
        ListClientInstances,
        ListClientReplicas,
        ListClientDecisions,
        ListPricingHistory,
    )
