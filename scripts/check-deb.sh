#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs a bucketbridge .deb (cpack -G DEB, docs/operations.md) into a
# fresh Debian 12 root and runs it there: apt resolves its Depends from the
# Debian mirror, the postinst creates the system user, the installed daemon
# starts with the seed pipeline, bucketbridge-cli finds it healthy with its
# consumers running from /usr/bin, and a JPEG uploaded (with the host's curl)
# gets its thumbnail. Then apt-get remove takes the files away.
#
#   sudo scripts/check-deb.sh build-pkg/bucketbridge_0.1.0_amd64.deb
#
# Needs root, debootstrap (apt-get install debootstrap) and the Debian
# mirror (BB_DEBIAN_MIRROR, default http://deb.debian.org/debian); takes a
# few minutes, so ctest does not run it (ctest -R ops/package checks the
# package without installing it). The root is made under /var/tmp and
# removed at exit (BB_KEEP_ROOT=1 keeps it). Exit 0: installed and ran;
# 77: debootstrap missing; anything else: a failure.
set -euo pipefail
deb=${1:?usage: check-deb.sh PACKAGE.deb}
deb=$(realpath "$deb")
mirror=${BB_DEBIAN_MIRROR:-http://deb.debian.org/debian}
if [ "$(id -u)" -ne 0 ]; then
    echo "check-deb: run as root (debootstrap and chroot)" >&2
    exit 2
fi
if ! command -v debootstrap >/dev/null 2>&1; then
    echo "SKIP: debootstrap is not installed (apt-get install debootstrap)"
    exit 77
fi

root=$(mktemp -d /var/tmp/bb-deb-root.XXXXXX)
daemon_pid=""
cleanup() {
    if [ -n "$daemon_pid" ]; then
        kill "$daemon_pid" 2>/dev/null || true
    fi
    if mountpoint -q "$root/proc"; then
        umount "$root/proc"
    fi
    if [ "${BB_KEEP_ROOT:-0}" = 1 ]; then
        echo "check-deb: root kept in $root"
    else
        rm -rf "$root"
    fi
}
trap cleanup EXIT

echo "check-deb: debootstrap bookworm (minbase) into $root"
debootstrap --variant=minbase bookworm "$root" "$mirror" >"$root.log" 2>&1 || {
    tail -20 "$root.log"
    exit 1
}
rm -f "$root.log"
mount -t proc proc "$root/proc"
cp "$deb" "$root/tmp/"
pkg=/tmp/$(basename "$deb")

echo "check-deb: apt-get install $pkg"
chroot "$root" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$pkg"
chroot "$root" dpkg -s bucketbridge | grep -E '^(Status|Version|Depends):'
chroot "$root" getent passwd bucketbridge
chroot "$root" test -f /usr/lib/systemd/system/bucketbridge.service
chroot "$root" bucketbridge --version

echo "check-deb: the installed daemon with the seed pipeline"
chroot "$root" bucketbridge --ephemeral --auth none --ready-file /tmp/ready.json \
    >"$root/tmp/daemon.log" 2>&1 &
daemon_pid=$!
if ! chroot "$root" bucketbridge-cli --ready-file /tmp/ready.json status >"$root/tmp/status.json"; then
    cat "$root/tmp/daemon.log" "$root/tmp/status.json"
    exit 1
fi
# both seed consumers run from /usr/bin
for name in thumbnail logger; do
    if ! grep -q "\"command\":\"/usr/bin/bucketbridge-$name\"" "$root/tmp/status.json"; then
        echo "check-deb: consumer $name is not running from /usr/bin" >&2
        cat "$root/tmp/status.json" >&2
        exit 1
    fi
done
# the pipeline: an upload gets its thumbnail
port=$(sed -n 's/.*"port":\([0-9]*\).*/\1/p' "$root/tmp/ready.json")
src=$(cd "$(dirname "$0")/.." && pwd)
curl -fsS -T "$src/fixtures/images/photo-320x240.jpg" "http://127.0.0.1:$port/my-raw-images/check.jpg"
if ! chroot "$root" bucketbridge-cli --ready-file /tmp/ready.json events wait --timeout 60s \
    --pattern '{"detail-type":["Thumbnail Created"],"detail":{"key":["check.jpg"]}}' >/dev/null; then
    echo "check-deb: no thumbnail from the installed consumers" >&2
    cat "$root/tmp/daemon.log" >&2
    exit 1
fi
curl -fsS -o /dev/null "http://127.0.0.1:$port/my-thumbnails/check.jpg"
echo "check-deb: the installed pipeline made a thumbnail"
kill "$daemon_pid"
wait "$daemon_pid"
daemon_pid=""

echo "check-deb: apt-get remove"
chroot "$root" env DEBIAN_FRONTEND=noninteractive apt-get remove -y -q bucketbridge
if chroot "$root" test -e /usr/bin/bucketbridge; then
    echo "check-deb: /usr/bin/bucketbridge left after removal" >&2
    exit 1
fi
echo "check-deb: ok"
