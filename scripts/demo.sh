#!/usr/bin/env bash
# Install clientbase and run the demo business on the embedded SQLite at http://127.0.0.1:8000.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/scripts/bootstrap.sh"
exec "${CLIENTBASE_VENV:-$root/.venv}/bin/clientbase" demo "$@"
