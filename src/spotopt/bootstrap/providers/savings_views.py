"""Savings, switch-history and fleet-count read views, their one savings reader and the read use cases (REQUEST)."""

from __future__ import annotations

from dishka import Provider, Scope, provide, provide_all
from sqlalchemy.ext.asyncio import AsyncSession

from spotopt.adapters.persistence.views.savings_fleet import SqlAlchemyFleetViews
from spotopt.adapters.persistence.views.savings_ledger import SqlAlchemySavingsViews
from spotopt.adapters.persistence.views.savings_switches import SqlAlchemySwitchHistoryViews
from spotopt.application.clients.export_client_stats import ExportClientStats
from spotopt.application.clients.list_clients import ListClients
from spotopt.application.commands.list_switch_history import ListSwitchHistory
from spotopt.application.ledger.get_client_savings import GetClientSavings
from spotopt.application.ledger.get_savings_charts import GetSavingsCharts
from spotopt.application.ledger.savings_views import SavingsReader
from spotopt.application.ports.savings_views import FleetViews, SavingsViews, SwitchHistoryViews
from spotopt.application.system.get_global_stats import GetGlobalStats


class SavingsViewsProvider(Provider):
    scope = Scope.REQUEST

    @provide
    def savings_views(self, session: AsyncSession) -> SavingsViews:
        return SqlAlchemySavingsViews(session)

    @provide
    def switch_views(self, session: AsyncSession) -> SwitchHistoryViews:
        return SqlAlchemySwitchHistoryViews(session)

    @provide
    def fleet_views(self, session: AsyncSession) -> FleetViews:
        return SqlAlchemyFleetViews(session)

    reader = provide(SavingsReader)
    use_cases = provide_all(
        GetClientSavings, GetSavingsCharts, ListSwitchHistory, ListClients, ExportClientStats, GetGlobalStats
    )
