#!/usr/bin/env bash
# Install clientbase with its test extras and run the test suite.
# SQLite by default; set CLIENTBASE_DATABASE_URL=postgres://… to run the same suite on PostgreSQL.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/scripts/bootstrap.sh" test
cd "$root"
export CLIENTBASE_TESTING=1
export CLIENTBASE_HOME="${CLIENTBASE_HOME:-$(mktemp -d)}"
exec "${CLIENTBASE_VENV:-$root/.venv}/bin/python" -m pytest "$@"
