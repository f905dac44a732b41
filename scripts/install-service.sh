#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs an installed bucketbridge (cmake --install) as the systemd service
# `bucketbridge` on this Debian host: creates the system user, the data dir
# /var/lib/bucketbridge and /etc/bucketbridge, installs the unit with
# ExecStart pointing at <prefix>/bin/bucketbridge, enables and (re)starts
# it, and waits for /_bucketbridge/health. Safe to run again: an existing
# /etc/bucketbridge/config.json is never overwritten.
#
#   sudo scripts/install-service.sh [--prefix /usr/local]
#        [--listen HOST:PORT] [--https-listen HOST:PORT] [--no-start]
#
# --listen / --https-listen write /etc/bucketbridge/config.json when it does
# not exist yet (the Vagrant box uses 0.0.0.0:4566 and 0.0.0.0:4567 so that
# forwarded ports reach the daemon). See docs/operations.md.
set -euo pipefail
cd "$(dirname "$0")/.."

PREFIX=/usr/local
LISTEN=""
HTTPS_LISTEN=""
START=1
while [ $# -gt 0 ]; do
    case "$1" in
    --prefix) PREFIX="$2"; shift 2 ;;
    --listen) LISTEN="$2"; shift 2 ;;
    --https-listen) HTTPS_LISTEN="$2"; shift 2 ;;
    --no-start) START=0; shift ;;
    -h | --help) sed -n '3,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "install-service: unknown argument $1" >&2; exit 2 ;;
    esac
done

if [ "$(id -u)" -ne 0 ]; then
    echo "install-service: run as root (sudo $0 ...)" >&2
    exit 1
fi
DAEMON="$PREFIX/bin/bucketbridge"
if [ ! -x "$DAEMON" ]; then
    echo "install-service: $DAEMON not found; run cmake --install <build> --prefix $PREFIX first" >&2
    exit 1
fi

# The dedicated user: no login, home = the data dir.
if ! getent passwd bucketbridge >/dev/null; then
    useradd --system --user-group --home-dir /var/lib/bucketbridge --no-create-home \
        --shell /usr/sbin/nologin --comment "bucketbridge daemon" bucketbridge
fi
install -d -m 0750 -o bucketbridge -g bucketbridge /var/lib/bucketbridge
install -d -m 0755 /etc/bucketbridge

if [ ! -e /etc/bucketbridge/config.json ] && { [ -n "$LISTEN" ] || [ -n "$HTTPS_LISTEN" ]; }; then
    {
        printf '{'
        [ -n "$LISTEN" ] && printf '\n  "listen": "%s"' "$LISTEN"
        [ -n "$LISTEN" ] && [ -n "$HTTPS_LISTEN" ] && printf ','
        [ -n "$HTTPS_LISTEN" ] && printf '\n  "https": {"listen": "%s"}' "$HTTPS_LISTEN"
        printf '\n}\n'
    } >/etc/bucketbridge/config.json
    chmod 0644 /etc/bucketbridge/config.json
    echo "install-service: wrote /etc/bucketbridge/config.json"
fi
if [ -e /etc/bucketbridge/config.json ]; then
    # a bad file would only show up as a restart loop: check it now
    "$DAEMON" --config /etc/bucketbridge/config.json --print-config >/dev/null
fi

# The unit: the installed copy names the installed binary already; the
# repository copy names /usr/local/bin.
UNIT="$PREFIX/share/bucketbridge/bucketbridge.service"
[ -f "$UNIT" ] || UNIT=scripts/bucketbridge.service
sed "s#/usr/local/bin/bucketbridge#$DAEMON#g" "$UNIT" >/etc/systemd/system/bucketbridge.service.new
chmod 0644 /etc/systemd/system/bucketbridge.service.new
mv /etc/systemd/system/bucketbridge.service.new /etc/systemd/system/bucketbridge.service
systemctl daemon-reload
systemctl enable bucketbridge.service
[ "$START" -eq 1 ] || exit 0
systemctl restart bucketbridge.service

# Wait for health on the configured port (4566 unless the config says else).
PORT=4566
if [ -e /etc/bucketbridge/config.json ]; then
    PORT=$("$DAEMON" --config /etc/bucketbridge/config.json --print-config |
        sed -n 's/.*"listen": "[^"]*:\([0-9]*\)".*/\1/p')
fi
for _ in $(seq 1 100); do
    if curl -fsS "http://127.0.0.1:$PORT/_bucketbridge/health" -o /dev/null 2>/dev/null; then
        echo "install-service: bucketbridge is up on port $PORT:"
        curl -fsS "http://127.0.0.1:$PORT/_bucketbridge/health"
        echo
        exit 0
    fi
    sleep 0.2
done
echo "install-service: bucketbridge did not become healthy; last log lines:" >&2
journalctl -u bucketbridge --no-pager -n 40 >&2 || true
exit 1
