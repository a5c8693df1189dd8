#!/usr/bin/env bash
# Create .venv with Python 3.12+ and install clientbase into it (with extras given as $1, e.g. "test").
# Sourced by demo.sh and test.sh; safe to run again (pip only installs what changed).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
pick_python() {
  for candidate in python3.13 python3.12 "$HOME/.pyenv/versions/3.12.1/bin/python" \
                   /root/.pyenv/versions/3.12.1/bin/python /root/.pyenv/versions/3.13.0/bin/python python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null; then
      command -v "$candidate"; return 0
    fi
  done
  # pyenv shims honour .python-version in this folder
  if command -v pyenv >/dev/null 2>&1 && pyenv which python >/dev/null 2>&1; then pyenv which python; return 0; fi
  echo "Python 3.12 or newer is needed" >&2; return 1
}
venv="${CLIENTBASE_VENV:-$root/.venv}"
if [ ! -x "$venv/bin/python" ]; then
  "$(pick_python)" -m venv "$venv"
  "$venv/bin/pip" install -q --upgrade pip
fi
extras="${1:-}"
spec="."
[ -n "$extras" ] && spec=".[${extras}]"
"$venv/bin/pip" install -q -e "$spec" 2>&1 | grep -v "^WARNING: Location" || true
"$venv/bin/python" -c "import clientbase" 
