#!/usr/bin/env bash
# Set up BEEP3D annotate on a fresh machine: system packages (apt, as root, where available),
# a virtual environment at .venv in the repository root, and the project with its dev extras.
# Idempotent: a second run installs nothing new. Safe to call from CI.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"

# System packages: Xvfb and the X/GL libraries Qt and Open3D need (GUI tests run under Xvfb).
apt_pkgs=(xvfb xauth libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-render-util0 libxcb-xinerama0
          libxcb-randr0 libxcb-shape0 libxcb-xkb1 libxkbcommon-x11-0 libxcb-cursor0 libegl1 libgl1
          libglx-mesa0 libgl1-mesa-dri libusb-1.0-0 libgomp1 libfontconfig1 libdbus-1-3)
missing=()
if command -v dpkg-query >/dev/null 2>&1; then
  for p in "${apt_pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
fi
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing system packages: ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "setup: warning: missing system packages (${missing[*]}); install them with apt as root for the GUI and its tests" >&2
  fi
fi

python=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi
pip=(.venv/bin/python -m pip --disable-pip-version-check -q)

# torch: on a machine without an NVIDIA GPU take the CPU build pinned here (a local wheel on the
# project's machines); with a GPU, pip's default (CUDA) build. pyproject asks only for torch>=2.1.
if ! .venv/bin/python -c "import torch" >/dev/null 2>&1; then
  if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi >/dev/null 2>&1; then
    "${pip[@]}" install "torch>=2.1"
  else
    "${pip[@]}" install "torch==2.13.0" || "${pip[@]}" install "torch>=2.1" --index-url https://download.pytorch.org/whl/cpu
  fi
fi
"${pip[@]}" install -e ".[dev]"
echo "setup: done (.venv ready)"
