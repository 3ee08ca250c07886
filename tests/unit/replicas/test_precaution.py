"""RP-11 precautionary standby: wanted only while a spot placement is young, never when the rule is off."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from spotopt.domain.replicas.precaution import PrecautionSettings, precautionary_standby_wanted
from spotopt.domain.shared.errors import InvalidValueError
from spotopt.domain.shared.pools import Mode

NOW = datetime(2026, 1, 1, tzinfo=UTC)
FOUR_HOURS = PrecautionSettings(Decimal(4))


def wanted(settings: PrecautionSettings, age: timedelta, mode: Mode = Mode.SPOT, *, episode: bool = False) -> bool:
    return precautionary_standby_wanted(settings, mode=mode, placement_since=NOW - age, episode_open=episode, now=NOW)


def test_rp11_a_young_spot_placement_wants_a_standby() -> None:
    assert wanted(FOUR_HOURS, timedelta(hours=3, minutes=59))


def test_rp11_the_standby_is_released_once_the_placement_is_old_enough() -> None:
    assert not wanted(FOUR_HOURS, timedelta(hours=4))


def test_rp11_on_demand_and_open_episodes_never_want_one() -> None:
    assert not wanted(FOUR_HOURS, timedelta(minutes=1), Mode.ONDEMAND)
    assert not wanted(FOUR_HOURS, timedelta(minutes=1), episode=True)
    assert not precautionary_standby_wanted(
        FOUR_HOURS, mode=Mode.SPOT, placement_since=None, episode_open=False, now=NOW
    )


@given(age_minutes=st.integers(min_value=0, max_value=10_000))
def test_rp11_off_by_default_so_rp5_holds(age_minutes: int) -> None:
    assert not PrecautionSettings().enabled
    assert not wanted(PrecautionSettings(), timedelta(minutes=age_minutes))


@pytest.mark.parametrize("hours", [Decimal(-1), Decimal(169), Decimal("NaN")])
def test_rp11_hold_must_be_between_0_and_168_hours(hours: Decimal) -> None:
    with pytest.raises(InvalidValueError):
        PrecautionSettings(hours)
