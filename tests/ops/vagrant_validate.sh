#!/bin/sh
# SPDX-License-Identifier: MIT
# ops/vagrant_validate: `vagrant validate` on the top-level Vagrantfile.
# Exits 77 (ctest SKIP) when vagrant is not installed. Without a usable
# provider (VirtualBox, libvirt...) vagrant refuses to validate at all, so
# the provider blocks are then skipped (--ignore-provider). Vagrant's
# per-project state goes to a temporary dir, not .vagrant/ in the checkout.
# Usage: vagrant_validate.sh <source dir>
set -u
src=${1:?usage: vagrant_validate.sh <source dir>}
if ! command -v vagrant >/dev/null 2>&1; then
    echo "SKIP: vagrant is not installed (apt-get install vagrant)"
    exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export VAGRANT_DOTFILE_PATH="$tmp/dot"
export VAGRANT_CHECKPOINT_DISABLE=1
export VAGRANT_NO_COLOR=1
cd "$src" || exit 1
vagrant --version
if vagrant validate >"$tmp/out" 2>&1; then
    cat "$tmp/out"
    exit 0
fi
cat "$tmp/out"
if grep -q "No usable default provider" "$tmp/out"; then
    echo "(no usable provider here: validating without the provider blocks)"
    exec vagrant validate --ignore-provider
fi
exit 1
