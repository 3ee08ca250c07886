"""The summary's arithmetic: nearest-rank percentiles, counts by route and status, failovers, the timeline."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from spotopt.entrypoints.simulator.recorder import NO_ANSWER, Recorder
from spotopt.entrypoints.simulator.summary import build_summary, percentile, render

META = {
    "agents": 3,
    "clients": 1,
    "wall_seconds": 20.0,
    "speed": 1.0,
    "seed": 7,
    "concurrency": 8,
    "server": "http://x",
    "compressed": "nothing",
}


@pytest.mark.parametrize(
    ("values", "q", "expected"),
    [
        (list(range(1, 101)), 50, 50),
        (list(range(1, 101)), 99, 99),
        (list(range(1, 101)), 100, 100),
        ([5.0], 99, 5.0),
        ([3.0, 1.0, 2.0], 50, 2.0),
        ([1.0, 2.0, 3.0, 4.0], 50, 2.0),
        ([1.0, 2.0, 3.0, 4.0], 99, 4.0),
        ([], 50, None),
    ],
)
def test_percentile_is_the_nearest_rank(values: list[float], q: float, expected: float | None) -> None:
    assert percentile(values, q) == expected


def test_summary_counts_requests_by_route_errors_by_status_and_failovers() -> None:
    recorder = Recorder()
    for latency in range(1, 101):
        recorder.request("A2 heartbeat", 200, float(latency), 0.0, at=1.0)
    recorder.request("A2 heartbeat", 503, 5000.0, 10.0, at=12.0)
    recorder.request("A6 pricing-report", 429, 2.0, 0.0, at=12.5)
    recorder.request("A6 pricing-report", NO_ANSWER, 30_000.0, 0.0, at=15.0, error="timeout")
    recorder.request("R9 termination-imminent", 200, 40.0, 0.0, at=16.0)
    recorder.failover(31.0)
    recorder.failover(None)
    recorder.event("registered", 3)
    summary = build_summary(recorder, META)

    heartbeat = summary["routes"]["A2 heartbeat"]
    assert (heartbeat["requests"], heartbeat["ok"], heartbeat["errors"]) == (101, 100, {"503": 1})
    assert (heartbeat["p50_ms"], heartbeat["p99_ms"], heartbeat["max_ms"]) == (51.0, 100.0, 5000.0)
    assert heartbeat["observed_p99_ms"] == 100.0
    assert summary["routes"]["A6 pricing-report"]["errors"] == {"0": 1, "429": 1}
    assert summary["errors_by_status"] == {"0": 1, "429": 1, "503": 1}
    assert summary["no_answer"] == {"timeout": 1}
    assert summary["requests_total"] == 104
    assert summary["requests_per_second"] == 5.2
    assert summary["failover_ms"] == {"count": 1, "p50": 31.0, "p99": 31.0, "max": 31.0}
    assert summary["events"]["failover_promoted"] == 2
    assert summary["events"]["registered"] == 3
    assert summary["timeline"] == {"0": {"requests": 100}, "10": {"requests": 4, "503": 1, "429": 1, "0": 1}}


def test_rendered_summary_has_one_row_per_route_and_names_no_answers() -> None:
    recorder = Recorder()
    recorder.request("A1 register", 201, 3.0, 0.0, at=0.0)
    recorder.request("A2 heartbeat", NO_ANSWER, 30_000.0, 0.0, at=0.0, error="timeout")
    text = render(build_summary(recorder, META))
    assert "| A1 register | 1 | 1 | – | 3.0 | 3.0 | 3.0 | 3.0 |" in text
    assert "| A2 heartbeat | 1 | 0 | no answer: 1 |" in text
    assert "errors by status: no answer: 1" in text


@given(
    st.lists(st.floats(min_value=0, max_value=1e6), min_size=1, max_size=200), st.floats(min_value=0.1, max_value=100)
)
def test_the_nearest_rank_percentile_is_a_sample_with_at_least_q_percent_at_or_below_it(
    values: list[float], q: float
) -> None:
    found = percentile(values, q)
    assert found in values
    at_or_below = sum(v <= found for v in values)
    below = sum(v < found for v in values)
    assert at_or_below >= q / 100 * len(values)
    assert below < q / 100 * len(values)  # and it is the smallest such sample
