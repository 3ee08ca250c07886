#!/usr/bin/env bash
# The replay tables of docs/benchmarks.md ("Replay"). Run from the repository root; the market data is read from
# $SPOTOPT_SHARED_DATA (default ../shared/data). Each command prints markdown.
set -euo pipefail
SPOTOPT=${SPOTOPT:-.venv/bin/spotopt}
POLICY=bench/replay/policy-p3.json

# Target 1: 10-minute cold start, notices on (own view, then the fleet view of every zone's drops), with the
# CatBoost engine rows (risk model trained on trace data strictly before the window; --start-day N adds the first
# N days of the replayed trace to the training data and replays the rest).
"$SPOTOPT" replay --cold-start 10 --policy "$POLICY" --standby-hours 6 --fleet-view --catboost
# Target 2: 2-minute cold start, acting on notices; no precautionary standby.
"$SPOTOPT" replay --cold-start 2 --policy "$POLICY" --standby-hours 0
# Sensitivity: the same market without notices, and the region-bound domain (us-west-2 only).
"$SPOTOPT" replay --cold-start 10 --no-notices --policy "$POLICY" --standby-hours 6
"$SPOTOPT" replay --cold-start 10 --region us-west-2 --policy "$POLICY" --standby-hours 6
