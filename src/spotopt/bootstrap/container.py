"""The composition root: one function builds the container for a process."""

from __future__ import annotations

from typing import Any

from dishka import (
    AsyncContainer,
    Provider,
    ValidationSettings,
    make_async_container,
)

from spotopt.bootstrap.providers.adapters import AdaptersProvider
from spotopt.bootstrap.providers.admin_views import AdminViewsProvider
from spotopt.bootstrap.providers.background import JobsProvider
from spotopt.bootstrap.providers.client_views import ClientViewsProvider
from spotopt.bootstrap.providers.client_writes import ClientWritesProvider
from spotopt.bootstrap.providers.hotpath import HotPathProvider
from spotopt.bootstrap.providers.infrastructure import InfrastructureProvider
from spotopt.bootstrap.providers.models import ModelsProvider, ModelUseCasesProvider
from spotopt.bootstrap.providers.savings_views import SavingsViewsProvider
from spotopt.bootstrap.providers.use_cases import UseCasesProvider
from spotopt.bootstrap.settings import Settings


def make_container(settings: Settings, *overrides: Provider, extra: tuple[Provider, ...] = ()) -> AsyncContainer:
    """Build the APP-scope container. Test overrides must say ``override=True`` (nothing is overridden silently)."""
    return make_async_container(
        *default_providers(),
        *extra,
        *overrides,
        context={Settings: settings},
        validation_settings=ValidationSettings(nothing_overridden=True, implicit_override=True),
    )


def default_providers() -> list[Any]:
    return [
        InfrastructureProvider(),
        AdaptersProvider(),
        ModelsProvider(),
        UseCasesProvider(),
        JobsProvider(),
        HotPathProvider(),
        ClientViewsProvider(),
        SavingsViewsProvider(),
        AdminViewsProvider(),
        ClientWritesProvider(),
        ModelUseCasesProvider(),
    ]
