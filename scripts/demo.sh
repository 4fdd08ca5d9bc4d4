#!/usr/bin/env bash
# Set everything up (scripts/setup.sh) and run the main job on the bundled demo room: resolve its boxes
# (the shipped teacher when its checkpoint is present, else the smallest-box rule), write every export
# format to out/demo, and evaluate the masks against the room's ground truth.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
./scripts/setup.sh
export NUMBA_CACHE_DIR="${NUMBA_CACHE_DIR:-$repo/.cache/numba}"
.venv/bin/beep3d-annotate assets/demo/demo_room.ply --boxes assets/demo/demo_room.boxes.json --export out/demo "$@"
.venv/bin/beep3d-eval out/demo --gt assets/demo/demo_room.ply
echo "Open it in the window: .venv/bin/beep3d-annotate assets/demo/demo_room.ply"
