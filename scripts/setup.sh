#!/usr/bin/env bash
# Installs what building and testing bucketbridge needs on Debian 12:
# Debian packages (through sudo when not root) and the npm packages the
# tests and the benchmark use. Safe to run again: it installs only what is
# missing.
set -euo pipefail
cd "$(dirname "$0")/.."

PKGS=(build-essential cmake pkg-config
      libwebsockets-dev libcjson-dev libexpat1-dev libsqlite3-dev libssl-dev zlib1g-dev
      libturbojpeg0-dev libstb-dev libinotifytools0-dev libs3-dev libcmocka-dev
      libcurl4-openssl-dev sqlite3 curl libs3-2 chromium s3cmd rclone libjpeg-turbo-progs
      groff-base dpkg-dev jq valgrind strace)

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi

missing=()
for p in "${PKGS[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done
# Clients the integration tests drive: node/npm, and a Python with boto3 and
# the aws CLI (the pyenv one when present, else Debian's).
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    missing+=(nodejs npm)
fi
if ! python3 -c 'import boto3' >/dev/null 2>&1; then
    missing+=(python3-boto3)
fi
if ! command -v aws >/dev/null 2>&1; then
    missing+=(awscli)
fi
if [ "${#missing[@]}" -gt 0 ]; then
    echo "setup: installing Debian packages: ${missing[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm packages for the JavaScript SDK tests and the benchmark peers.
for dir in tests/integration/js tests/browser bench; do
    if [ -f "$dir/package.json" ] && [ ! -d "$dir/node_modules" ]; then
        echo "setup: npm install in $dir"
        (cd "$dir" && npm install --no-audit --no-fund --loglevel=error >/dev/null)
    fi
done
echo "setup: done"
