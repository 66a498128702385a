#!/usr/bin/env bash
# Install what the test suite needs beyond the virtualenv. Each step is skipped
# when its tool is already there, so a warm machine pays nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    echo "error: '$*' needs root; install the package by hand or run as root" >&2; return 1
  fi
}

apt_updated=0
apt_install() {
  if [ "$apt_updated" -eq 0 ]; then
    echo "==> apt-get update"
    as_root apt-get update -qq
    apt_updated=1
  fi
  echo "==> apt-get install $*"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v docker-compose >/dev/null || missing+=(docker-compose)
if [ "${#missing[@]}" -gt 0 ]; then apt_install "${missing[@]}"; fi

if [ -f tests/browser/package.json ] && [ ! -f tests/browser/node_modules/axe-core/axe.min.js ]; then
  echo "==> npm install (tests/browser: axe-core)"
  (cd tests/browser && npm ci --no-audit --no-fund --silent)
fi

if [ ! -x .venv-checkov/bin/checkov ]; then
  echo "==> Creating .venv-checkov and installing checkov"
  python3 -m venv .venv-checkov
  .venv-checkov/bin/pip install --quiet --upgrade pip
  .venv-checkov/bin/pip install --quiet "checkov==3.3.30"
fi
