#!/usr/bin/env bash
# Until the first release, the schema lives in one initial migration regenerated from the declarative models.
# The new file is generated into a scratch copy first, so a failing import never leaves the project without one.
set -euo pipefail
cd "$(dirname "$0")/.."
versions=src/spotopt/adapters/persistence/migrations/versions
.venv/bin/python -c "import spotopt.adapters.persistence.models.metadata" # fail early, before touching anything
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/old"
mv "$versions"/*.py "$tmp/old/" 2>/dev/null || true
if ! SPOTOPT_DATA_DIR="$tmp/data" .venv/bin/spotopt db revision -m "initial schema" >/dev/null; then
  rm -f "$versions"/*.py
  mv "$tmp/old/"*.py "$versions/"
  echo "migration generation failed; previous migration restored" >&2
  exit 1
fi
.venv/bin/ruff format --quiet "$versions"
.venv/bin/ruff check --fix --quiet "$versions" || true
ls "$versions"
