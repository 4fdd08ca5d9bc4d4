#!/usr/bin/env bash
# Set everything up (scripts/setup.sh) and run the whole test suite, GUI tests included, under Xvfb.
# Extra arguments go to pytest (e.g. scripts/test.sh -k boxes).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
./scripts/setup.sh
export NUMBA_CACHE_DIR="${NUMBA_CACHE_DIR:-$repo/.cache/numba}"
export MPLBACKEND=Agg
if [ -z "${DISPLAY:-}" ] && command -v xvfb-run >/dev/null 2>&1; then
  exec xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python -m pytest "$@"
fi
exec .venv/bin/python -m pytest "$@"
