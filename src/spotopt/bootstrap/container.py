"""The composition root: one function builds the container for a process."""

from __future__ import annotations

from dishka import AsyncContainer, Provider, ValidationSettings, make_async_container

from spotopt.bootstrap.providers import default_providers
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
