#!/usr/bin/env bash
# Installs everything the test suite needs on a fresh machine, then runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v redis-server >/dev/null || need+=(redis-server)
command -v docker-registry >/dev/null || need+=(docker-registry)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing system packages: ${need[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi
# The registry package starts a system service; tests start their own on free ports.
if command -v systemctl >/dev/null && systemctl is-active --quiet docker-registry 2>/dev/null; then systemctl stop docker-registry || true; fi

# `npm ci` rejects this lockfile: npm leaves out optional platform binaries that were never
# published (win32/musl builds of jco-node-fs), so install from the lockfile with `npm install`.
npm install --no-audit --no-fund
npx vitest run
