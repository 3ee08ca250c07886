#!/usr/bin/env bash
# Until the first release, the schema lives in one initial migration regenerated from the table declarations.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -f src/spotopt/adapters/persistence/migrations/versions/*.py
tmp=$(mktemp -d)
SPOTOPT_DATA_DIR="$tmp" .venv/bin/spotopt db revision -m "initial schema" >/dev/null
rm -rf "$tmp"
.venv/bin/ruff format --quiet src/spotopt/adapters/persistence/migrations/versions/
.venv/bin/ruff check --fix --quiet src/spotopt/adapters/persistence/migrations/versions/ || true
ls src/spotopt/adapters/persistence/migrations/versions/
